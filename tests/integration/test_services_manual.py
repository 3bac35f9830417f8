"""Manual control as actions, and battery commands for now without developer credentials.

Against the simulator through Home Assistant: the action changes the simulated
station's manual control, and after the simulated clock moves the battery sensors show
the effect; what manual control cannot express says that it needs developer
credentials; bad input fails with messages naming the allowed range (issue 17).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from custom_components.sigen_cloud.const import DOMAIN

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    coordinator_of,
    setup_entry,
    station_of,
    unload,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

BATTERY_POWER = f"sensor.{PREFIX}_battery_power"
BATTERY_SOC = f"sensor.{PREFIX}_battery"
MANUAL_PATH = "instant/manunal"
MANUAL_SELECT = f"select.{PREFIX}_manual_control"
MANUAL_END = f"sensor.{PREFIX}_manual_control_end"


def _device(hass: HomeAssistant, entry_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry_id)
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _number(hass: HomeAssistant, entity_id: str) -> float:
    return float(_state(hass, entity_id))


async def _advance(hass: HomeAssistant, sim: Any, entry: Any, seconds: float) -> None:
    """Move the simulated clock, then poll the energy flow as the minute timer would."""
    await sim.advance(seconds)
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()


def _writes(sim: Any) -> int:
    """Manual-control writes the simulator received."""
    return sim.count(MANUAL_PATH, method="PUT")


async def test_start_and_stop(hass: HomeAssistant, sim: Any) -> None:
    """Start charges at the power asked for until stopped; the sensors show it."""
    entry = await setup_entry(hass, sim, Platform.SENSOR, Platform.SELECT)
    device_id = _device(hass, entry.entry_id)
    station = sim.stations[0]
    soc_before = _number(hass, BATTERY_SOC)

    await _call(
        hass,
        "start_manual_control",
        {"device_id": device_id, "mode": "charge", "duration": 60, "power": 3},
    )
    session = station.manual
    assert station.manual_control_active()
    assert session.mode == "charge"
    assert session.power_kw == pytest.approx(3.0)
    assert session.end - session.start == pytest.approx(3600)
    # Written through the station's controls coordinator and read back: the manual
    # control entities follow at once, without waiting for the 10-minute poll.
    assert _state(hass, MANUAL_SELECT) == "charge"
    ends = dt_util.parse_datetime(_state(hass, MANUAL_END))
    assert ends is not None
    assert ends.timestamp() == pytest.approx(session.end)

    # Ten simulated minutes at 3 kW into a 10 kWh battery: 5 % more, and Home
    # Assistant's battery power is negative while charging.
    await _advance(hass, sim, entry, 600)
    assert _number(hass, BATTERY_POWER) == pytest.approx(-3.0)
    assert _number(hass, BATTERY_SOC) == pytest.approx(soc_before + 5.0, abs=0.2)

    await _call(hass, "stop_manual_control", {"device_id": device_id})
    assert not station.manual_control_active()
    assert _state(hass, MANUAL_SELECT) == "off"
    assert _state(hass, MANUAL_END) == "unknown"
    await _advance(hass, sim, entry, 600)
    assert _number(hass, BATTERY_POWER) != pytest.approx(-3.0)
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("data", "expected_power"),
    [
        ({"mode": "discharge", "duration": 30, "power": "2.5"}, 2.5),
        ({"mode": "hold", "duration": 30}, 0.0),
    ],
)
async def test_discharge_and_hold(
    hass: HomeAssistant, sim: Any, data: dict[str, Any], expected_power: float
) -> None:
    """Discharge gives the power asked for (numbers as text too); hold keeps the battery still."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    await _call(hass, "start_manual_control", {"device_id": _device(hass, entry.entry_id), **data})
    assert sim.stations[0].manual.mode == data["mode"]
    await _advance(hass, sim, entry, 300)
    assert _number(hass, BATTERY_POWER) == pytest.approx(expected_power)
    await unload(hass, entry)


async def test_session_ends_by_itself(hass: HomeAssistant, sim: Any) -> None:
    """A session ends at its duration on the simulated clock."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    await _call(
        hass,
        "start_manual_control",
        {"device_id": _device(hass, entry.entry_id), "mode": "discharge", "duration": 5},
    )
    await _advance(hass, sim, entry, 120)
    assert sim.stations[0].manual_control_active()
    assert _number(hass, BATTERY_POWER) > 0
    await _advance(hass, sim, entry, 300)
    assert not sim.stations[0].manual_control_active()
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("data", "mode", "power"),
    [
        ({"mode": "charge", "duration": 45, "charging_power": 3}, "charge", 3.0),
        ({"mode": "discharge", "duration": 20, "charging_power": 1.5}, "discharge", 1.5),
        ({"mode": "idle", "duration": 30}, "hold", None),
        (
            {"mode": "self_consumption", "duration": 30, "charge_priority": None},
            "self_consumption",
            None,
        ),
        ({"mode": "CHARGE", "duration": "15"}, "charge", None),
    ],
)
async def test_battery_command_now_without_developer_credentials(
    hass: HomeAssistant, sim: Any, data: dict[str, Any], mode: str, power: float | None
) -> None:
    """A battery command for now runs through manual control with the password alone."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    assert entry.runtime_data.mqtt is None
    await _call(hass, "battery_command", {"device_id": _device(hass, entry.entry_id), **data})
    session = sim.stations[0].manual
    assert sim.stations[0].manual_control_active()
    assert session.mode == mode
    assert session.power_kw == power
    assert session.end - session.start == pytest.approx(int(data["duration"]) * 60)
    await unload(hass, entry)


async def test_battery_command_start_within_the_tolerance(hass: HomeAssistant, sim: Any) -> None:
    """A start a little before or after now (clocks differ) counts as now."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    device_id = _device(hass, entry.entry_id)
    for minutes in (-4, 4):
        start = dt_util.now() + timedelta(minutes=minutes)
        await _call(
            hass,
            "battery_command",
            {"device_id": device_id, "mode": "charge", "duration": 30, "start_time": start},
        )
        assert sim.stations[0].manual_control_active()
        await _call(hass, "stop_manual_control", {"device_id": device_id})
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("data", "key", "text"),
    [
        (
            {"start_time_in": timedelta(hours=2)},
            "later_start_needs_developer_credentials",
            "needs developer credentials",
        ),
        (
            {"start_time_in": timedelta(hours=-2)},
            "start_in_past",
            "in the past",
        ),
        (
            {"mode": "self_consumption_grid"},
            "option_needs_developer_credentials",
            "mode self_consumption_grid needs developer credentials",
        ),
        (
            {"pv_power": 2},
            "option_needs_developer_credentials",
            "pv_power 2 needs developer credentials",
        ),
        (
            {"max_sell_power": 0},
            "option_needs_developer_credentials",
            "max_sell_power 0 needs",
        ),
        ({"max_purchase_power": 4}, "option_needs_developer_credentials", "max_purchase_power"),
        ({"charge_priority": "grid"}, "option_needs_developer_credentials", "charge_priority"),
        (
            {"discharge_priority": "pv"},
            "option_needs_developer_credentials",
            "discharge_priority",
        ),
        (
            {"mode": "idle", "charging_power": 2},
            "option_needs_developer_credentials",
            "charging_power 2 (mode idle) needs developer credentials",
        ),
        (
            {"charging_power": 150},
            "invalid_manual_power",
            "charging_power must be a power in kW above 0 and at most 100 (got 150)",
        ),
        ({"charging_power": 0}, "invalid_manual_power", "above 0 and at most 100 (got 0)"),
    ],
)
async def test_battery_command_needing_mqtt_without_developer_credentials(
    hass: HomeAssistant, sim: Any, data: dict[str, Any], key: str, text: str
) -> None:
    """What only the MQTT channel can do says it needs developer credentials; nothing is sent."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    call = {"device_id": _device(hass, entry.entry_id), "mode": "charge", "duration": 30}
    if (offset := data.pop("start_time_in", None)) is not None:
        call["start_time"] = (dt_util.now() + offset).isoformat()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "battery_command", call | data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert text in str(err.value)
    assert _writes(sim) == 0
    assert not sim.stations[0].manual_control_active()
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("data", "key", "text"),
    [
        (
            {"mode": "boost", "duration": 30},
            "invalid_choice",
            "mode must be one of: charge, discharge, hold, self_consumption (got boost)",
        ),
        ({"mode": "idle", "duration": 30}, "invalid_choice", "(got idle)"),
        (
            {"mode": "charge", "duration": 0},
            "invalid_duration",
            "duration must be a whole number of minutes from 1 to 1440 (got 0)",
        ),
        ({"mode": "charge", "duration": 1441}, "invalid_duration", "from 1 to 1440 (got 1441)"),
        ({"mode": "charge", "duration": 2.5}, "invalid_duration", "(got 2.5)"),
        (
            {"mode": "charge", "duration": 30, "power": 101},
            "invalid_manual_power",
            "power must be a power in kW above 0 and at most 100 (got 101)",
        ),
        ({"mode": "discharge", "duration": 30, "power": 0}, "invalid_manual_power", "(got 0)"),
        ({"mode": "charge", "duration": 30, "power": "fast"}, "invalid_manual_power", "fast"),
        (
            {"mode": "hold", "duration": 30, "power": 2},
            "manual_power_not_taken",
            "power is taken by manual control charge, discharge only, not by hold (got 2)",
        ),
    ],
)
async def test_bad_input_names_the_range(
    hass: HomeAssistant, sim: Any, data: dict[str, Any], key: str, text: str
) -> None:
    """Each bad field of start_manual_control is a translated error naming what is allowed."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, "start_manual_control", {"device_id": _device(hass, entry.entry_id), **data}
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert text in str(err.value)
    assert _writes(sim) == 0
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("start_manual_control", {"mode": "charge", "duration": 30}),
        ("stop_manual_control", {}),
        ("battery_command", {"mode": "idle", "duration": 30}),
    ],
)
async def test_cloud_error_is_translated(
    hass: HomeAssistant, sim: Any, service: str, data: dict[str, Any]
) -> None:
    """A 500 from the cloud is a translated error, never a silent success."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    sim.faults.http_error(MANUAL_PATH, 500)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, service, {"device_id": _device(hass, entry.entry_id), **data})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key in {"cloud_refused", "cannot_connect"}
    assert not sim.stations[0].manual_control_active()
    sim.faults.clear()
    await unload(hass, entry)


async def test_targets(hass: HomeAssistant, sim: Any) -> None:
    """A device that is no station, and a station without the app API, are refused."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    for service, data in (
        ("start_manual_control", {"mode": "charge", "duration": 30}),
        ("stop_manual_control", {}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, {"device_id": "not-a-device", **data})
        assert err.value.translation_key == "device_not_found"

    runtime = station_of(entry)
    controls = runtime.controls
    runtime.controls = None  # as a push-only station, which has no app API settings
    try:
        for service, data in (
            ("start_manual_control", {"mode": "charge", "duration": 30}),
            ("stop_manual_control", {}),
            ("battery_command", {"mode": "charge", "duration": 30}),
        ):
            with pytest.raises(ServiceValidationError) as err:
                await _call(hass, service, {"device_id": _device(hass, entry.entry_id), **data})
            assert err.value.translation_key == "no_manual_control"
            assert STATION_ID in str(err.value)
    finally:
        runtime.controls = controls
    await unload(hass, entry)


async def test_with_developer_credentials(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """With developer credentials manual control works too; battery_command stays MQTT."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device_id = _device(hass, entry.entry_id)
    await _call(
        hass,
        "start_manual_control",
        {"device_id": device_id, "mode": "self_consumption", "duration": 90},
    )
    assert sim_mqtt.stations[0].manual.mode == "self_consumption"
    await _call(hass, "battery_command", {"device_id": device_id, "mode": "idle", "duration": 5})
    assert _writes(sim_mqtt) == 1  # the start above only
    await unload(hass, entry)


async def test_action_and_entity_write_one_at_a_time(hass: HomeAssistant, sim: Any) -> None:
    """An action and a number changed at the same moment queue on the station's controls
    coordinator: each write is read back before the next one is sent, and both hold."""
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SELECT)
    sim.clear_requests()
    await asyncio.gather(
        _call(
            hass,
            "start_manual_control",
            {"device_id": _device(hass, entry.entry_id), "mode": "discharge", "duration": 30},
        ),
        hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": f"number.{PREFIX}_grid_export_limit", "value": 4},
            blocking=True,
        ),
    )
    await hass.async_block_till_done()
    assert sim.stations[0].manual_control_active()
    controls = station_of(entry).controls
    assert controls is not None
    assert controls.data.export_limit is not None
    assert controls.data.export_limit.limit == pytest.approx(4.0)
    assert controls.data.manual is not None
    assert controls.data.manual.active

    areas = (MANUAL_PATH, "limitation/export")
    log = [
        (request.method, next(area for area in areas if area in request.path))
        for request in sim.requests()
        if any(area in request.path for area in areas)
    ]
    writes = [index for index, (method, _) in enumerate(log) if method != "GET"]
    assert len(writes) == 2, log
    for index in writes:
        assert log[index + 1] == ("GET", log[index][1]), log  # read back before anything else
    assert _state(hass, MANUAL_SELECT) == "discharge"
    await unload(hass, entry)
