"""Binary sensors of the Sigen Cloud integration (MQTT connection, peak shaving, storm watch)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    SYSTEM_ID,
    setup_entry,
    snapshot_entities,
    station_of,
    unload,
    wait_for,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


async def test_binary_sensors(
    hass: HomeAssistant,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """States from the system data, and the MQTT connection."""
    entry = await setup_entry(hass, sim_mqtt, Platform.BINARY_SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)

    # Storm watch switches on: pushed at once.
    await sim_mqtt.mqtt.publish_change(SYSTEM_ID, {"stormWatchStatus": "on"})
    await wait_for(
        hass,
        lambda: (
            (state := hass.states.get(f"binary_sensor.{PREFIX}_storm_watch")) is not None
            and state.state == STATE_ON
        ),
    )

    entry.runtime_data.push.async_handle_connection_change(False)
    await hass.async_block_till_done()
    state = hass.states.get(f"binary_sensor.{PREFIX}_mqtt_connection")
    assert state is not None
    assert state.state == STATE_OFF
    await unload(hass, entry)


async def test_no_binary_sensors_without_developer_credentials(
    hass: HomeAssistant, sim: Any, entity_registry: er.EntityRegistry
) -> None:
    """Without MQTT there is nothing to show."""
    entry = await setup_entry(hass, sim, Platform.BINARY_SENSOR)
    assert not er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    await unload(hass, entry)


async def test_unavailable_without_system_data(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Peak shaving is unavailable until the change topic said something."""
    entry = await setup_entry(hass, sim_mqtt, Platform.BINARY_SENSOR, developer=True)
    push = station_of(entry).push
    push.async_set_updated_data(replace(push.data, system=None))
    await hass.async_block_till_done()
    state = hass.states.get(f"binary_sensor.{PREFIX}_peak_shaving")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    entity = hass.data["entity_components"]["binary_sensor"].get_entity(
        f"binary_sensor.{PREFIX}_peak_shaving"
    )
    assert entity is not None
    station_of(entry).removed = True  # gone from the account
    assert entity.is_on is None
    station_of(entry).removed = False
    await unload(hass, entry)
