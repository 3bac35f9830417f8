"""Actions of the Sigen Cloud integration: battery commands and the northbound mode."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import (
    DEVICE_MODEL_DC_CHARGER,
    DEVICE_MODEL_STATION,
    DOMAIN,
)
from custom_components.sigen_cloud.helpers import sigen_errors
from custom_components.sigen_cloud.sigen import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenRateLimitError,
    SigenValidationError,
)

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    SYSTEM_ID,
    setup_entry,
    station_of,
    unload,
    wait_for,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


def _station_device(hass: HomeAssistant, entry_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry_id)
    assert device is not None
    return device.id


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await hass.async_block_till_done()


def _commands(sim: Any) -> list[dict[str, Any]]:
    return [
        command
        for topic, payload in sim.mqtt_received
        if topic == "openapi/instruction/command"
        for command in payload.get("commands", [])
    ]


async def test_battery_command(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """One command reaches the broker with the cloud's names, start time now by default."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device_id = _station_device(hass, entry.entry_id)
    before = int(dt_util.utcnow().timestamp())
    await _call(
        hass,
        "battery_command",
        {
            "device_id": device_id,
            "mode": "self_consumption_grid",
            "duration": 30,
            "charging_power": 3.5,
            "pv_power": 2,
            "max_sell_power": 0,
            "max_purchase_power": 4,
            "charge_priority": "grid",
            "discharge_priority": "battery",
        },
    )
    await wait_for(hass, lambda: bool(_commands(sim_mqtt)))
    (command,) = _commands(sim_mqtt)
    assert command["systemId"] == SYSTEM_ID
    assert command["activeMode"] == "selfConsumption-grid"
    assert command["duration"] == 30
    assert command["startTime"] >= before
    assert command["chargingPower"] == 3.5
    assert command["pvPower"] == 2.0
    assert command["maxSellPower"] == 0.0
    assert command["maxPurchasePower"] == 4.0
    assert command["chargePriorityType"] == "GRID"
    assert command["dischargePriorityType"] == "BATTERY"
    await unload(hass, entry)


async def test_battery_schedule(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Several commands go out in one batch."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    start = dt_util.utcnow() + timedelta(hours=1)
    await _call(
        hass,
        "battery_schedule",
        {
            "device_id": _station_device(hass, entry.entry_id),
            "commands": [
                {"mode": "charge", "start_time": start.isoformat(), "duration": 60},
                {
                    "mode": "self_consumption",
                    "start_time": (start + timedelta(hours=1)).isoformat(),
                    "duration": 60,
                },
            ],
        },
    )
    await wait_for(hass, lambda: len(_commands(sim_mqtt)) == 2)
    modes = [command["activeMode"] for command in _commands(sim_mqtt)]
    assert modes == ["charge", "selfConsumption"]
    assert _commands(sim_mqtt)[0]["startTime"] == int(start.timestamp())

    # Overlapping commands: refused before the library, numbered from 1 in local time
    # (issue 15 item 8: no longer the library's English text about commands[0]).
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_schedule",
            {
                "device_id": _station_device(hass, entry.entry_id),
                "commands": [
                    {"mode": "charge", "start_time": start.isoformat(), "duration": 60},
                    {"mode": "idle", "start_time": start.isoformat(), "duration": 60},
                ],
            },
        )
    assert err.value.translation_key == "commands_overlap"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["first"] == "1"
    assert err.value.translation_placeholders["second"] == "2"
    assert "commands[" not in str(err.value)

    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_schedule",
            {
                "device_id": _station_device(hass, entry.entry_id),
                "commands": [
                    {
                        "mode": "idle",
                        "start_time": (start + timedelta(hours=i)).isoformat(),
                        "duration": 60,
                    }
                    for i in range(25)
                ],
            },
        )
    assert err.value.translation_key == "too_many_commands"

    # Bad input is refused by the schema, with a translated message per field
    # (issue 15 item 9: no longer probatio's generic text).
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_command",
            {"device_id": _station_device(hass, entry.entry_id), "mode": "boost", "duration": 10},
        )
    assert err.value.translation_key == "invalid_choice"
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_command",
            {"device_id": _station_device(hass, entry.entry_id), "mode": "idle", "duration": 0},
        )
    assert err.value.translation_key == "invalid_duration"
    await unload(hass, entry)


async def test_start_in_past_in_local_time(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """A start in the past is told in Home Assistant's time zone, without an index for one
    command and numbered from 1 in a schedule; nothing reaches the broker."""
    await hass.config.async_set_time_zone("Pacific/Auckland")
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device_id = _station_device(hass, entry.entry_id)
    start = dt_util.now().replace(microsecond=0) - timedelta(hours=2)
    local = start.strftime("%Y-%m-%d %H:%M:%S %Z")
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_command",
            {
                "device_id": device_id,
                "mode": "charge",
                "start_time": start.replace(tzinfo=None).isoformat(),
                "duration": 30,
            },
        )
    assert err.value.translation_key == "start_in_past"
    message = str(err.value)
    assert local in message
    assert "NZ" in local  # the configured zone, not UTC
    assert "commands[" not in message
    assert str(int(start.timestamp())) not in message

    future = dt_util.now() + timedelta(hours=1)
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_schedule",
            {
                "device_id": device_id,
                "commands": [
                    {"mode": "charge", "start_time": future.isoformat(), "duration": 30},
                    {"mode": "idle", "start_time": start.isoformat(), "duration": 30},
                ],
            },
        )
    assert err.value.translation_key == "schedule_start_in_past"
    assert "Command 2 " in str(err.value)
    assert local in str(err.value)
    assert not _commands(sim_mqtt)
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("service", "data", "key", "text"),
    [
        (
            "battery_command",
            {"mode": "boost", "duration": 10},
            "invalid_choice",
            "mode must be one of: charge, discharge, idle, self_consumption, "
            "self_consumption_grid (got boost)",
        ),
        ("battery_command", {"mode": None, "duration": 10}, "invalid_choice", "(got nothing)"),
        (
            "battery_command",
            {"mode": "idle", "duration": 1441},
            "invalid_duration",
            "duration must be a whole number of minutes from 1 to 1440 (got 1441)",
        ),
        ("battery_command", {"mode": "idle", "duration": "soon"}, "invalid_duration", "got soon"),
        ("battery_command", {"mode": "idle", "duration": True}, "invalid_duration", "got True"),
        ("battery_command", {"mode": "idle", "duration": 2.5}, "invalid_duration", "got 2.5"),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "charging_power": 1001},
            "invalid_power",
            "charging_power must be a power in kW from 0 to 1000 (got 1001)",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "pv_power": -1},
            "invalid_power",
            "pv_power must be",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "max_sell_power": "lots"},
            "invalid_power",
            "max_sell_power must be",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "max_purchase_power": False},
            "invalid_power",
            "max_purchase_power must be",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "charge_priority": "sun"},
            "invalid_choice",
            "charge_priority must be one of: pv, grid (got sun)",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "discharge_priority": "grid"},
            "invalid_choice",
            "discharge_priority must be one of: pv, battery (got grid)",
        ),
        (
            "battery_command",
            {"mode": "idle", "duration": 10, "start_time": "tomorrow"},
            "invalid_start_time",
            "start_time must be a date and time",
        ),
        (
            "battery_schedule",
            {"commands": [{"mode": "idle", "duration": 0}]},
            "invalid_duration",
            "duration must be",
        ),
        (
            "set_northbound_mode",
            {"mode": "eco"},
            "invalid_choice",
            "mode must be one of: msc, ffg, vpp, nbi (got eco)",
        ),
    ],
)
async def test_bad_fields_are_translated(  # noqa: PLR0917 - parametrized
    hass: HomeAssistant,
    sim_mqtt: Any,
    service: str,
    data: dict[str, Any],
    key: str,
    text: str,
) -> None:
    """Each bad field gets its own translated message with the allowed range or values."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, {"device_id": _station_device(hass, entry.entry_id), **data})
    assert err.value.translation_key == key
    assert text in str(err.value)
    assert "Got None" not in str(err.value)
    await unload(hass, entry)


async def test_optional_fields_may_be_empty(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Optional fields the UI sends empty count as not given."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    await _call(
        hass,
        "battery_command",
        {
            "device_id": _station_device(hass, entry.entry_id),
            "mode": "IDLE",
            "duration": "30",
            "start_time": None,
            "charging_power": None,
            "charge_priority": None,
        },
    )
    await wait_for(hass, lambda: bool(_commands(sim_mqtt)))
    (command,) = _commands(sim_mqtt)
    assert command["activeMode"] == "idle"
    assert command["duration"] == 30
    assert "chargingPower" not in command or command["chargingPower"] is None
    await unload(hass, entry)


async def test_broker_failure(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """A publish the broker does not acknowledge is a translated error, not a success."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    with (
        patch.object(
            entry.runtime_data.mqtt,
            "send_battery_commands",
            side_effect=SigenMQTTError("the broker did not acknowledge the publish"),
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await _call(
            hass,
            "battery_command",
            {"device_id": _station_device(hass, entry.entry_id), "mode": "idle", "duration": 10},
        )
    assert err.value.translation_key == "mqtt_error"
    assert "acknowledge" in str(err.value)
    await unload(hass, entry)


async def test_set_northbound_mode(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """MSC/FFG through the northbound API (errors translated), VPP over MQTT."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device_id = _station_device(hass, entry.entry_id)
    station = station_of(entry)
    await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "FFG"})
    assert sim_mqtt.stations[0].mode == 5
    assert station.settings.data.nb_mode == 5

    sim_mqtt.faults.http_error("/openapi/instruction", 500)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "msc"})
    assert err.value.translation_key in {"cloud_refused", "cannot_connect"}
    sim_mqtt.faults.clear()

    await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "nbi"})
    await wait_for(
        hass,
        lambda: any(topic == "openapi/instruction/mode" for topic, _ in sim_mqtt.mqtt_received),
    )
    assert station.settings.data.nb_mode == 8

    # Without a northbound client of its own, the app client's northbound access is used.
    northbound = entry.runtime_data.northbound
    entry.runtime_data.northbound = None
    try:
        await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "msc"})
    finally:
        entry.runtime_data.northbound = northbound
    assert sim_mqtt.stations[0].mode == 0

    # Without the MQTT client, VPP and NBI cannot be set.
    mqtt = entry.runtime_data.push.mqtt
    entry.runtime_data.push.mqtt = None
    try:
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "vpp"})
        assert err.value.translation_key == "mqtt_required"
    finally:
        entry.runtime_data.push.mqtt = mqtt

    # A station whose system id is not known.
    known = station.station
    station.station = replace(known, system_id=None)
    try:
        for service, data in (
            ("set_northbound_mode", {"mode": "msc"}),
            ("battery_command", {"mode": "idle", "duration": 5}),
        ):
            with pytest.raises(ServiceValidationError) as err:
                await _call(hass, service, {"device_id": device_id, **data})
            assert err.value.translation_key == "no_system_id"
    finally:
        station.station = known
    await unload(hass, entry)


async def test_errors_without_developer_credentials(hass: HomeAssistant, sim: Any) -> None:
    """Bad targets and a missing developer set-up come back as translated validation errors."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    device_registry = dr.async_get(hass)
    device_id = _station_device(hass, entry.entry_id)

    for service, data in (
        ("battery_schedule", {"commands": [{"mode": "idle", "duration": 5}]}),
        ("set_northbound_mode", {"mode": "msc"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, {"device_id": device_id, **data})
        assert err.value.translation_key == "no_developer_credentials"
        assert err.value.translation_domain == DOMAIN
    # Issue 17: a battery command for now runs through manual control without them
    # (tests/integration/test_services_manual.py); one that starts later needs them.
    later = (dt_util.now() + timedelta(hours=2)).isoformat()
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "battery_command",
            {"device_id": device_id, "mode": "idle", "duration": 5, "start_time": later},
        )
    assert err.value.translation_key == "later_start_needs_developer_credentials"
    assert err.value.translation_domain == DOMAIN

    cases: list[tuple[str, str]] = [("not-a-device", "device_not_found")]
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}
    )
    cases.append((foreign.id, "device_not_found"))
    load = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_smart_load_1"), entry.entry_id
    )
    assert load is not None
    cases.append((load.id, "not_a_station"))
    for target, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await _call(
                hass, "battery_command", {"device_id": target, "mode": "idle", "duration": 5}
            )
        assert err.value.translation_key == key

    await unload(hass, entry)
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, "battery_command", {"device_id": device_id, "mode": "idle", "duration": 5}
        )
    assert err.value.translation_key == "entry_not_loaded"


@pytest.mark.parametrize(
    ("error", "exception", "key"),
    [
        (SigenValidationError("bad"), ServiceValidationError, "invalid_request"),
        (SigenAccountLockedError("locked"), HomeAssistantError, "auth_failed"),
        (SigenRateLimitError("slow down", retry_after=60), HomeAssistantError, "rate_limited"),
        (SigenAPIError("refused", code=1501), HomeAssistantError, "cloud_refused"),
        (SigenConnectionError("timeout"), HomeAssistantError, "cannot_connect"),
        (SigenMQTTError("no ack"), HomeAssistantError, "mqtt_error"),
        (SigenError("odd"), HomeAssistantError, "unknown_error"),
    ],
)
async def test_error_translation(
    hass: HomeAssistant,
    sim: Any,
    error: Exception,
    exception: type[Exception],
    key: str,
) -> None:
    """Every library error becomes a translated Home Assistant error."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    with pytest.raises(exception) as err:
        async with sigen_errors(hass, entry):
            raise error
    assert isinstance(err.value, HomeAssistantError)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    if key == "auth_failed":
        await hass.async_block_till_done()
        assert any(
            flow["context"]["source"] == "reauth"
            for flow in entry.async_get_active_flows(hass, {"reauth"})
        )
    await unload(hass, entry)


async def test_action_descriptions_and_translations(hass: HomeAssistant, sim: Any) -> None:
    """services.yaml loads, and every exception raised by the platforms is translated."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    descriptions = await async_get_all_descriptions(hass)
    assert set(descriptions[DOMAIN]) == {
        "battery_command",
        "battery_schedule",
        "set_northbound_mode",
        "start_manual_control",
        "stop_manual_control",
        "release_control",
        "start_v2x_discharge",
        "stop_v2x_discharge",
        "set_tariff",
        "add_spike_load",
        "list_spike_loads",
        "remove_spike_load",
        "import_history",
        "cancel_history_import",
        "get_schedule",
        "set_schedule",
        "get_peak_shaving",
        "set_peak_shaving",
    }
    assert descriptions[DOMAIN]["battery_command"]["fields"]["mode"]["required"] is True

    root = Path(__file__).parents[2] / "custom_components" / "sigen_cloud"
    translations = json.loads((root / "translations" / "en.json").read_text())
    source = "".join(
        (root / f"{name}.py").read_text()
        for name in (
            "entity",
            "sensor",
            "binary_sensor",
            "select",
            "switch",
            "event",
            "services",
            "services_fields",
            "services_commands",
            "services_manual",
            "services_ev",
            "services_tariff",
            "tariff_prices",
            "services_history",
            "services_schedule",
            "coordinator/schedule",
            "services_peak_shaving",
        )
    )
    raised = set(re.findall(r'translation_key="([a-z_]+)"', source))
    raised |= set(re.findall(r'(?:validation|field)_error\(\s*"([a-z_]+)"', source))
    entity_keys = {key for platform in translations["entity"].values() for key in platform}
    assert raised - entity_keys <= set(translations["exceptions"])
    for service, body in translations["services"].items():
        assert set(body["fields"]) == set(descriptions[DOMAIN][service]["fields"]), service
    await unload(hass, entry)


async def test_device_filter_matches_the_station_model(hass: HomeAssistant, sim: Any) -> None:
    """Every action offers the devices of the station model, the model a station's
    device has (const.DEVICE_MODEL_STATION; a smart load's device is not offered); the
    V2X actions (issue 20) offer DC chargers (const.DEVICE_MODEL_DC_CHARGER)."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    descriptions = await async_get_all_descriptions(hass)
    for service, description in descriptions[DOMAIN].items():
        selector = description["fields"]["device_id"]["selector"]["device"]
        model = DEVICE_MODEL_DC_CHARGER if "v2x" in service else DEVICE_MODEL_STATION
        assert selector["filter"] == [{"integration": DOMAIN, "model": model}], service
    device = dr.async_get(hass).async_get(_station_device(hass, entry.entry_id))
    assert device is not None
    assert device.model == DEVICE_MODEL_STATION
    await unload(hass, entry)


async def test_northbound_switch_moves_operational_mode(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """The northbound mode and the operational mode are one EMS work mode on the real
    system: after set_northbound_mode the operational mode select shows it at once,
    before the refresh that confirms it (issue 15 item 10)."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SELECT, developer=True)
    device_id = _station_device(hass, entry.entry_id)
    mode_entity = f"select.{PREFIX}_operational_mode"
    # Hold the refresh back to see what is shown before it.
    with patch.object(station_of(entry).settings, "async_request_refresh") as refresh:
        await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "ffg"})
        state = hass.states.get(mode_entity)
        assert state is not None
        assert state.state == "Fully Fed to Grid"
        refresh.assert_awaited_once()

        await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "msc"})
        state = hass.states.get(mode_entity)
        assert state is not None
        assert state.state == "Maximum Self-Powered"
    assert sim_mqtt.stations[0].mode == 0
    await unload(hass, entry)
