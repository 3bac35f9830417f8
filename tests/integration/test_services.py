"""Actions of the Sigen Cloud integration: battery commands and the northbound mode."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import probatio
import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.entity import sigen_errors
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
    STATION_ID,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
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

    # Overlapping commands: the library's validation, translated.
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
    assert err.value.translation_key == "invalid_request"

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

    # Bad input is refused by the schema.
    with pytest.raises(probatio.Invalid):
        await _call(
            hass,
            "battery_command",
            {"device_id": _station_device(hass, entry.entry_id), "mode": "boost", "duration": 10},
        )
    with pytest.raises(probatio.Invalid):
        await _call(
            hass,
            "battery_command",
            {"device_id": _station_device(hass, entry.entry_id), "mode": "idle", "duration": 0},
        )
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
    station = coordinator_of(entry).data.stations[STATION_ID]
    await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "FFG"})
    assert sim_mqtt.stations[0].mode == 5
    assert station.nb_mode == 5

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
    assert station.nb_mode == 8

    # Without a northbound client of its own, the app client's northbound access is used.
    northbound = entry.runtime_data.northbound
    entry.runtime_data.northbound = None
    try:
        await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "msc"})
    finally:
        entry.runtime_data.northbound = northbound
    assert sim_mqtt.stations[0].mode == 0

    # Without the MQTT client, VPP and NBI cannot be set.
    mqtt = entry.runtime_data.mqtt
    entry.runtime_data.mqtt = None
    try:
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "set_northbound_mode", {"device_id": device_id, "mode": "vpp"})
        assert err.value.translation_key == "mqtt_required"
    finally:
        entry.runtime_data.mqtt = mqtt

    # A station whose system id is not known.
    station.system_id = None
    try:
        for service, data in (
            ("set_northbound_mode", {"mode": "msc"}),
            ("battery_command", {"mode": "idle", "duration": 5}),
        ):
            with pytest.raises(ServiceValidationError) as err:
                await _call(hass, service, {"device_id": device_id, **data})
            assert err.value.translation_key == "no_system_id"
    finally:
        station.system_id = SYSTEM_ID
    await unload(hass, entry)


async def test_errors_without_developer_credentials(hass: HomeAssistant, sim: Any) -> None:
    """Bad targets and a missing developer set-up come back as translated validation errors."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    device_registry = dr.async_get(hass)
    device_id = _station_device(hass, entry.entry_id)

    for service, data in (
        ("battery_command", {"mode": "idle", "duration": 5}),
        ("battery_schedule", {"commands": [{"mode": "idle", "duration": 5}]}),
        ("set_northbound_mode", {"mode": "msc"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, {"device_id": device_id, **data})
        assert err.value.translation_key == "no_developer_credentials"
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
    }
    assert descriptions[DOMAIN]["battery_command"]["fields"]["mode"]["required"] is True

    root = Path(__file__).parents[2] / "custom_components" / "sigen_cloud"
    translations = json.loads((root / "translations" / "en.json").read_text())
    source = "".join(
        (root / f"{name}.py").read_text()
        for name in ("entity", "sensor", "binary_sensor", "select", "switch", "event", "services")
    )
    raised = set(re.findall(r'translation_key="([a-z_]+)"', source))
    raised |= set(re.findall(r'_validation_error\(\s*"([a-z_]+)"', source))
    entity_keys = {key for platform in translations["entity"].values() for key in platform}
    assert raised - entity_keys <= set(translations["exceptions"])
    for service, body in translations["services"].items():
        assert set(body["fields"]) == set(descriptions[DOMAIN][service]["fields"]), service
    await unload(hass, entry)
