"""The entities that need developer credentials come and go with the credentials.

Removing the developer credentials (in reconfigure; in the options before) used to
leave about twenty entities behind, "unavailable" for good: the MQTT sensors, peak
shaving, storm watch, the system status, the alarms and the northbound mode select.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.binary_sensor import BINARY_SENSORS
from custom_components.sigen_cloud.const import (
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_REGION,
    CONF_SERVER_URL,
)
from custom_components.sigen_cloud.select import NORTHBOUND_MODE_KEY
from custom_components.sigen_cloud.sensor import SENSORS

from .conftest import account_data, developer_data, wait_for

DEVELOPER_ENTITIES = {
    *((Platform.SENSOR, d.key) for d in SENSORS if d.mqtt_only),
    *((Platform.BINARY_SENSOR, d.key) for d in BINARY_SENSORS),
    # (the alarm event stays without them: the app's alarm list feeds it, issue 18)
    (Platform.SELECT, NORTHBOUND_MODE_KEY),
}


def _developer_entities(
    entity_registry: er.EntityRegistry, entry: MockConfigEntry
) -> dict[tuple[str, str], str]:
    """(platform, key) → entity id of the entry's developer-only entities."""
    found = {}
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        key = (entity.domain, entity.unique_id.partition("_")[2])
        if key in DEVELOPER_ENTITIES:
            found[key] = entity.entity_id
    return found


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> None:
    """Save reconfigure's developer step as a user does; the entry reloads."""
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_REGION: entry.data[CONF_REGION],
            "advanced": {CONF_SERVER_URL: entry.data[CONF_SERVER_URL]},
        },
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_removing_and_adding_developer_credentials(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
) -> None:
    """Reconfigure without the app key: the developer entities leave the registry and the
    state machine; with the credentials back they return, fed by the running listener."""
    entry = mqtt_entry
    with_credentials = _developer_entities(entity_registry, entry)
    assert set(with_credentials) == DEVELOPER_ENTITIES
    assert len(with_credentials) >= 20

    await _reconfigure(hass, entry, {"advanced": {}})  # an empty app key removes them
    assert entry.runtime_data.mqtt is None
    assert _developer_entities(entity_registry, entry) == {}
    for entity_id in with_credentials.values():
        assert hass.states.get(entity_id) is None, entity_id
    # The app API's entities stay.
    assert er.async_entries_for_config_entry(entity_registry, entry.entry_id)

    developer = developer_data(sim_mqtt)
    advanced = {key: developer.pop(key) for key in (CONF_MQTT_HOST, CONF_MQTT_PORT)}
    await _reconfigure(hass, entry, {**developer, "advanced": advanced})
    assert entry.data == {**account_data(sim_mqtt), **developer_data(sim_mqtt)}
    assert set(_developer_entities(entity_registry, entry)) == DEVELOPER_ENTITIES
    push = entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    station = next(iter(entry.runtime_data.stations.values()))
    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: station.view().telemetry is not None, "telemetry")
    inverter = _developer_entities(entity_registry, entry)[
        (Platform.SENSOR, "inverter_active_power")
    ]
    state = hass.states.get(inverter)
    assert state is not None
    assert state.state not in ("unavailable", "unknown")


async def test_refused_credentials_keep_the_entities(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
) -> None:
    """Credentials the cloud refuses for now are still the entry's: their entities stay
    registered (unavailable; a repair issue explains) instead of losing their history."""
    entry = mqtt_entry
    before = _developer_entities(entity_registry, entry)
    sim_mqtt.app_secret = "revoked-secret"
    sim_mqtt.faults.expire_tokens("nb")  # its tokens with it (a restart starts from one)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.northbound is None
    assert _developer_entities(entity_registry, entry) == before
