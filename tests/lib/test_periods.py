"""The schedules' times of day and weekday lists (``sigen.models._periods``)."""

from __future__ import annotations

import pytest

from sigen.errors import SigenValidationError
from sigen.models._periods import (
    ALL_DAYS,
    check_day_periods,
    check_days,
    check_time,
    format_days,
    format_hhmm,
    parse_days,
    parse_hhmm,
)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("00:00", 0), ("6:30", 390), ("23:59", 1439), ("24:00", 1440), ("07:15:00", 435)],
)
def test_times_of_day_are_read(text: str, minutes: int) -> None:
    assert parse_hhmm(text) == minutes
    if minutes % 60 or minutes >= 600:
        assert parse_hhmm(format_hhmm(minutes)) == minutes


@pytest.mark.parametrize("text", ["24:01", "12:60", "noon", "", None, 600, "1:2"])
def test_bad_times_are_none(text: object) -> None:
    assert parse_hhmm(text) is None


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("1,2,3,4,5,6,7", ALL_DAYS),
        ("1, 3", {1, 3}),
        ([6, 7], {6, 7}),
        (["1", "2"], {1, 2}),
        (5, {5}),
        ("1-5", {1, 2, 3, 4, 5}),
        ("1-3,6", {1, 2, 3, 6}),
    ],
)
def test_day_lists_in_every_spelling(value: object, days: set[int]) -> None:
    assert parse_days(value) == frozenset(days)


@pytest.mark.parametrize("value", ["", "0", "8", "1,x", [True], None, "5-2", [], 1.5])
def test_bad_day_lists_are_none(value: object) -> None:
    assert parse_days(value) is None


def test_days_are_written_sorted() -> None:
    assert format_days({7, 1, 3}) == "1,3,7"


def test_checks_name_what_is_wrong() -> None:
    assert check_days("1,2", "Period 1") == {1, 2}
    with pytest.raises(SigenValidationError, match=r"Period 2: days must be .* got 'x'"):
        check_days("x", "Period 2")
    assert check_time("24:00", "Period 1", end=True) == 1440
    with pytest.raises(SigenValidationError, match="from 00:00 to 23:59"):
        check_time("24:00", "Period 1")
    with pytest.raises(SigenValidationError, match="got '25:00'"):
        check_time("25:00", "Period 1", end=True)


def test_overlaps_and_gaps() -> None:
    week = frozenset(ALL_DAYS)
    check_day_periods([(week, 0, 360), (week, 360, 1440)], tile_day=True)
    check_day_periods([(frozenset({1}), 0, 60), (frozenset({2}), 30, 90)])
    with pytest.raises(SigenValidationError, match=r"Period 2 .* overlaps"):
        check_day_periods([(week, 0, 400), (week, 360, 1440)])
    with pytest.raises(SigenValidationError, match="no period from 06:00 to 07:00"):
        check_day_periods([(week, 0, 360), (week, 420, 1440)], tile_day=True)
    with pytest.raises(SigenValidationError, match="no period from 22:00 to 24:00"):
        check_day_periods([(week, 0, 1320)], tile_day=True)
    with pytest.raises(SigenValidationError, match="must be after"):
        check_day_periods([(week, 600, 600)])
