"""``sigen.control`` (ControlApi) on a fake transport: instant manual control.

Answers and bodies are those of §7.9 of the API notes (``fixtures/control_*``): the
misspelt path ``instant/manunal``, the mode as a code string, ``endTime`` as epoch
seconds in a string, the "no limit" sentinel for an unlimited charge, ``""`` for the
power of hold and self-consumption, and a stop that keeps the last mode and end time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sigen import ManualControl, Sigen
from sigen.app import ControlApi
from sigen.errors import SigenValidationError

from .settings_fakes import HOME, envelope, fixture, make, sent

PATH = "device/energy-profile/instant/manunal"


async def test_manual_control() -> None:
    control, transport = make(ControlApi, fixture("control_manual"))
    state = await control.get_manual_control()
    assert state == ManualControl(
        active=True, mode="charge", ends_at=datetime.fromtimestamp(1776471497, UTC)
    )
    assert state.ends_at is not None
    assert state.ends_at.tzinfo is not None
    assert sent(transport) == [("GET", f"{PATH}/{HOME}", None)]


async def test_stopped_keeps_the_last_mode() -> None:
    state = await make(ControlApi, fixture("control_manual_stopped"))[0].get_manual_control()
    assert state.active is False  # enable alone says whether it runs
    assert state.mode == "hold"
    assert state.ends_at == datetime.fromtimestamp(1790590201, UTC)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"enable": "true", "mode": 1, "endTime": 1776471497000}, ("discharge", True)),
        ({"enable": 1, "mode": "3.0", "endTime": "1776471497"}, ("self_consumption", True)),
        ({"enable": False, "mode": "", "endTime": ""}, (None, False)),
        ({"enable": False, "mode": "7"}, (None, False)),  # a code we do not know
        ({"enable": True, "mode": "Self-Consumption"}, ("self_consumption", True)),
        ({}, (None, False)),
    ],
)
async def test_manual_control_variants(data: dict[str, Any], expected: tuple[Any, bool]) -> None:
    state = await make(ControlApi, envelope(data))[0].get_manual_control()
    assert (state.mode, state.active) == expected
    if data.get("endTime"):
        assert state.ends_at == datetime.fromtimestamp(1776471497, UTC)  # ms or s
    else:
        assert state.ends_at is None


async def test_never_used() -> None:
    state = await make(ControlApi, envelope(None))[0].get_manual_control()
    assert state == ManualControl(active=False, mode=None, ends_at=None)


async def test_start_charging_unlimited() -> None:
    control, transport = make(ControlApi, "ok")
    await control.start_manual_control("charge", 120)
    assert sent(transport) == [
        (
            "PUT",
            PATH,
            {
                "stationId": int(HOME),
                "enable": True,
                "mode": "0",
                "duration": "120",
                "powerLimitation": "4294967.295",
            },
        )
    ]


async def test_start_discharging_at_a_power() -> None:
    control, transport = make(ControlApi, "ok")
    await control.start_manual_control("Discharge", 30, 6.5, station_id="42")
    body = sent(transport)[0][2]
    assert (body["stationId"], body["mode"], body["duration"], body["powerLimitation"]) == (
        42,
        "1",
        "30",
        "6.500",
    )


@pytest.mark.parametrize(
    ("mode", "code"), [("hold", "2"), ("self_consumption", "3"), ("self-consumption", "3")]
)
async def test_modes_without_power(mode: str, code: str) -> None:
    control, transport = make(ControlApi, "ok")
    await control.start_manual_control(mode, 1440)
    body = sent(transport)[0][2]
    assert (body["mode"], body["powerLimitation"], body["duration"]) == (code, "", "1440")


async def test_stop() -> None:
    control, transport = make(ControlApi, "ok")
    await control.stop_manual_control()
    assert sent(transport) == [
        (
            "PUT",
            PATH,
            {
                "stationId": int(HOME),
                "enable": False,
                "mode": "",
                "duration": "",
                "powerLimitation": "",
            },
        )
    ]


async def test_unknown_mode() -> None:
    control, transport = make(ControlApi)
    with pytest.raises(
        SigenValidationError,
        match="mode 'boost'; allowed: charge, discharge, hold, self_consumption",
    ):
        await control.start_manual_control("boost", 60)
    with pytest.raises(SigenValidationError, match="Unknown manual control mode 0"):
        await control.start_manual_control(0, 60)  # type: ignore[arg-type]
    assert transport.calls == []


@pytest.mark.parametrize("duration", [0, 1441, 30.5, "60", True])
async def test_duration_outside_what_the_cloud_takes(duration: Any) -> None:
    control, transport = make(ControlApi)
    with pytest.raises(
        SigenValidationError, match=r"duration must be a whole number from 1 to 1440 minutes"
    ):
        await control.start_manual_control("charge", duration)
    assert transport.calls == []


@pytest.mark.parametrize("power", [0, -1, 100.5, float("inf")])
async def test_power_out_of_range(power: float) -> None:
    control, transport = make(ControlApi)
    with pytest.raises(SigenValidationError, match=r"power must be a number above 0 to 100 kW"):
        await control.start_manual_control("discharge", 60, power)
    assert transport.calls == []


async def test_power_for_a_mode_without_power() -> None:
    control, transport = make(ControlApi)
    with pytest.raises(SigenValidationError, match="'hold' takes no power"):
        await control.start_manual_control("hold", 60, 3)
    assert transport.calls == []


def test_reachable_from_sigen() -> None:
    assert isinstance(
        Sigen("owner@example.invalid", "pw", base_url="http://127.0.0.1:1/").control, ControlApi
    )
