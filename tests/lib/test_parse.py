"""The one set of value parsers (``sigen._parse``) and the declarative model helper."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigen._parse import (
    parse_bool,
    parse_epoch,
    parse_grid_status,
    parse_id,
    parse_int,
    parse_int_list,
    parse_milli,
    parse_number,
    parse_reason_code,
    parse_status,
    parse_timestamp_text,
)
from sigen.errors import SigenAPIError
from sigen.models import SigenModel, wire
from sigen.models._base import first_parsed, negated


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1740.0 W", 1740.0),
        ("4.79kWh", 4.79),
        ("1,234.5", 1234.5),
        ("1_000", 1000.0),
        (" -0.0 ", 0.0),
        ("12 34", 12.0),
        ("1e400", None),
        ("-Infinity", None),
        (10**400, None),
    ],
)
def test_number_accepts_every_family_spelling(value: object, expected: float | None) -> None:
    assert parse_number(value) == expected


def test_number_limit_and_plus_zero() -> None:
    assert parse_number("1e30") == 1e30
    assert parse_number("1e30", limit=1e9) is None
    assert parse_number(-1e9, limit=1e9) == -1e9
    zero = parse_number("-0")
    assert zero == 0.0
    assert math.copysign(1.0, zero or 1.0) == 1.0
    assert parse_int("7 min") == 7
    assert parse_int("2e9", limit=1e9) is None


@pytest.mark.parametrize(
    "word", ["true", "on", "yes", "y", "enable", "enabled", " ON ", "Enabled", "1", "1.0", 1]
)
def test_true_words_of_both_families(word: object) -> None:
    assert parse_bool(word) is True


@pytest.mark.parametrize(
    "word", ["false", "off", "no", "n", "disable", "disabled", "N", "0", "0.0", 0, 0.0]
)
def test_false_words_of_both_families(word: object) -> None:
    assert parse_bool(word) is False


@pytest.mark.parametrize("word", ["maybe", "2", 2, -1, "", None, [], "nan"])
def test_other_values_are_no_bool(word: object) -> None:
    assert parse_bool(word) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1"),
        (1.0, "1"),
        ("1.0", "1"),
        ("2 running", "2"),
        ("1.5", "1.5"),
        (1.5, None),
        ("  standby ", "standby"),
        ("x" * 100, "x" * 64),
        ("", None),
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_status(value: object, expected: str | None) -> None:
    assert parse_status(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("onGrid", 0), ("OFF_GRID", 1), (" offgrid ", 1), ("1", 1), (0, 0), ("grid", None)],
)
def test_grid_status(value: object, expected: int | None) -> None:
    assert parse_grid_status(value) == expected


class _ReasonCode:
    def __init__(self, value: int) -> None:
        self.value = value


def test_reason_code() -> None:
    assert parse_reason_code(_ReasonCode(135)) == 135
    assert parse_reason_code(128) == 128
    assert parse_reason_code(None) == -1
    assert parse_reason_code(_ReasonCode("x")) == -1  # type: ignore[arg-type]


def test_epoch_seconds_and_milliseconds() -> None:
    moment = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert parse_epoch(1709283600) == moment
    assert parse_epoch("1709283600000") == moment
    assert parse_epoch(0) is None
    assert parse_epoch(-5) is None
    assert parse_epoch(10**14) is None  # past the year 3000 even as milliseconds
    assert parse_epoch("soon") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1709283600, "1709283600"), (1.5, "1.5"), (2.0, "2"), (" 12:00 ", "12:00"), ("", None)],
)
def test_timestamp_text(value: object, expected: str | None) -> None:
    assert parse_timestamp_text(value) == expected


def test_small_parsers() -> None:
    assert parse_id(" SYS1 ") == "SYS1"
    assert parse_id(12) == "12"
    assert parse_id("  ") is None
    assert parse_int_list([1, "2", "x", None]) == [1, 2]
    assert parse_int_list("1116") == [1116]
    assert parse_int_list(None) is None
    assert parse_milli("1500") == 1.5
    assert parse_milli("-0") == 0.0
    assert parse_milli(2e9, limit=1e9) is None


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary()))
def test_parsers_never_raise(value: Any) -> None:
    for parse in (
        parse_number,
        parse_int,
        parse_bool,
        parse_status,
        parse_grid_status,
        parse_reason_code,
        parse_epoch,
        parse_timestamp_text,
        parse_id,
        parse_int_list,
        parse_milli,
    ):
        parse(value)


# --------------------------------------------------------------------------- wire()


@dataclass(frozen=True)
class _Meter(SigenModel):
    WHAT = "a test meter"

    meter_id: str = wire("meterId", parse_id, "id", required=True)
    power: float | None = wire("powerKw", parse_number, "power")
    export: float | None = wire("importKw", negated(parse_number))
    on: bool = wire("switch", parse_bool, default=False)
    codes: list[int] = wire("codes", parse_int_list, default_factory=list)
    note: str | None = None


def test_wire_reads_declared_keys_and_keeps_raw() -> None:
    data = {"meterId": " M1 ", "power": "2.5 kW", "importKw": 1.5, "switch": "on", "x": 1}
    meter = _Meter.from_dict(data)
    assert meter == _Meter("M1", power=2.5, export=-1.5, on=True)
    assert meter.raw == data
    assert meter.codes == []


def test_wire_first_readable_alias_wins_and_bad_values_keep_the_default() -> None:
    meter = _Meter.from_dict({"meterId": None, "id": 7, "powerKw": "--", "power": 3, "switch": 5})
    assert (meter.meter_id, meter.power, meter.on, meter.export) == ("7", 3.0, False, None)


def test_wire_required_field_names_the_key() -> None:
    with pytest.raises(SigenAPIError, match=r"Cannot read a test meter: .*no meterId.*: power"):
        _Meter.from_dict({"power": 1})
    with pytest.raises(SigenAPIError, match="expected a JSON object, got list"):
        _Meter.from_dict([])  # type: ignore[arg-type]


def test_build_takes_given_values_as_they_are() -> None:
    meter = _Meter.build({"meterId": "M1", "power": 1}, power=None, note="n", raw={"r": 1})
    assert (meter.power, meter.note, meter.raw) == (None, "n", {"r": 1})


def test_first_parsed() -> None:
    source = {"a": "x", "b": "2", "c": "3"}
    assert first_parsed(source, ("a", "b", "c"), parse_int) == 2
    assert first_parsed(source, ("z",), parse_int) is None
