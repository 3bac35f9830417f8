"""BatteryCommand and validate_commands: every rule, each error message naming the problem."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigen import SigenValidationError
from sigen.models import BatteryCommand, validate_commands

NOW = 1_760_000_000


def cmd(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "systemId": "SYS1",
        "activeMode": "charge",
        "startTime": NOW + 60,
        "duration": 30,
        "chargingPower": 3.2,
    }
    base.update(overrides)
    return base


def test_valid_dataclass_and_mapping() -> None:
    commands = [
        BatteryCommand("SYS1", "charge", NOW, 30, charging_power=3.2, pv_power=1.8),
        cmd(startTime=NOW + 1800, activeMode="idle", maxSellPower=0, chargingPower=None),
        {
            "system_id": "SYS2",
            "active_mode": "self_consumption",
            "start_time": NOW,
            "duration": 60,
            "charge_priority_type": "pv",
        },
        cmd(systemId="SYS3", activeMode="self_consumption_grid", dischargePriorityType="BATTERY"),
    ]
    checked = validate_commands(commands, now=NOW)
    assert [c.active_mode for c in checked] == [
        "charge",
        "idle",
        "selfConsumption",
        "selfConsumption-grid",
    ]
    assert checked[0].to_payload() == {
        "systemId": "SYS1",
        "activeMode": "charge",
        "startTime": NOW,
        "duration": 30,
        "chargingPower": 3.2,
        "pvPower": 1.8,
    }
    assert checked[1].to_payload()["maxSellPower"] == 0.0
    assert "chargingPower" not in checked[1].to_payload()
    assert checked[2].charge_priority_type == "PV"


def test_datetime_start_accepted() -> None:
    start = datetime.fromtimestamp(NOW + 120, tz=UTC)
    (checked,) = validate_commands([cmd(startTime=start)], now=NOW)
    assert checked.start_time == NOW + 120


def test_24_per_system_allowed_25_refused() -> None:
    ok = [cmd(startTime=NOW + i * 1800) for i in range(24)]
    ok += [cmd(systemId="SYS2", startTime=NOW + i * 1800) for i in range(24)]
    assert len(validate_commands(ok, now=NOW)) == 48
    too_many = [cmd(startTime=NOW + i * 1800) for i in range(25)]
    with pytest.raises(SigenValidationError, match=r"SYS1 has 25 commands; at most 24"):
        validate_commands(too_many, now=NOW)


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        ([], r"no battery commands given"),
        ([cmd(activeMode="turbo")], r"commands\[0\]: active_mode 'turbo' is not one of charge"),
        ([cmd(), cmd(startTime=NOW + 3600, duration=0)], r"commands\[1\]: duration 0 min"),
        ([cmd(duration=1441)], r"commands\[0\]: duration 1441 min is out of range"),
        ([cmd(duration=2.5)], r"commands\[0\]: duration must be an integer"),
        (
            [cmd(startTime=(NOW + 60) * 1000)],
            r"commands\[0\]: start_time .* looks like milliseconds",
        ),
        ([cmd(startTime=float(NOW))], r"commands\[0\]: start_time must be an integer"),
        ([cmd(startTime="soon")], r"commands\[0\]: start_time must be an integer"),
        ([cmd(startTime=NOW - 301)], r"commands\[0\]: start_time .* 301 s in the past"),
        ([cmd(chargingPower=-1)], r"commands\[0\]: charging_power must not be negative"),
        ([cmd(pvPower=5000)], r"commands\[0\]: pv_power 5000 kW is absurd"),
        ([cmd(maxSellPower=float("nan"))], r"commands\[0\]: max_sell_power must be a finite"),
        ([cmd(maxPurchasePower="3")], r"commands\[0\]: max_purchase_power must be a number"),
        ([cmd(chargePriorityType="SUN")], r"commands\[0\]: charge_priority_type 'SUN'"),
        ([cmd(dischargePriorityType="GRID")], r"commands\[0\]: discharge_priority_type 'GRID'"),
        ([cmd(systemId="")], r"commands\[0\]: system_id must be a non-empty string"),
        ([cmd(bogus=1)], r"commands\[0\]: unknown battery command field 'bogus'"),
        ([{"systemId": "S"}], r"commands\[0\]: missing required field\(s\): active_mode"),
        ([42], r"commands\[0\]: is a int, not a BatteryCommand"),
        (
            [cmd(startTime=NOW + 3600), cmd(startTime=NOW + 60, duration=60)],
            r"commands\[0\] and commands\[1\] overlap for system SYS1",
        ),
    ],
)
def test_validation_errors_name_the_problem(commands: list[Any], message: str) -> None:
    with pytest.raises(SigenValidationError, match=message):
        validate_commands(commands, now=NOW)


def test_adjacent_windows_and_other_systems_do_not_overlap() -> None:
    commands = [
        cmd(startTime=NOW, duration=30),
        cmd(startTime=NOW + 1800, duration=30),
        cmd(systemId="SYS2", startTime=NOW, duration=60),
    ]
    assert len(validate_commands(commands, now=NOW)) == 3


def test_past_tolerance_and_default_now() -> None:
    assert validate_commands([cmd(startTime=NOW - 300)], now=NOW)
    now = int(datetime.now(UTC).timestamp())
    assert validate_commands([cmd(startTime=now)])
    with pytest.raises(SigenValidationError, match="in the past"):
        validate_commands([cmd(startTime=now - 3600)])


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="active_mode"):
        validate_commands([cmd(activeMode=None)], now=NOW)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "systemId",
                    "activeMode",
                    "startTime",
                    "duration",
                    "chargingPower",
                    "pvPower",
                    "chargePriorityType",
                    "x",
                ]
            ),
            st.none() | st.integers() | st.floats() | st.text(max_size=8) | st.booleans(),
        ),
        max_size=4,
    )
)
def test_fuzz_validation_raises_only_validation_errors(commands: list[dict[str, Any]]) -> None:
    error: SigenValidationError | None = None
    try:
        validate_commands(commands, now=NOW)
    except SigenValidationError as err:
        error = err
    assert error is None or str(error).startswith(("commands[", "no battery", "system "))
