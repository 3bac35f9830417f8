"""Stations that join or leave the account at runtime: devices and entities follow."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.data import SigenRuntimeData
from sigen_sim.mqtt_payloads import telemetry_values

from .conftest import wait_for
from .platform_helpers import slow_refresh

TWO_STATIONS = pytest.mark.sim_config(stations=2)

# One entity of every platform a push-only station (MQTT) gets.
STATION_ENTITIES = (
    ("sensor", "battery_soc"),
    ("sensor", "pv_power"),
    ("sensor", "solar_energy"),
    ("binary_sensor", "mqtt_connected"),
    ("select", "operational_mode"),
    ("select", "northbound_mode"),
    ("event", "alarm"),
)


def runtime_of(entry: MockConfigEntry) -> SigenRuntimeData:
    return entry.runtime_data  # type: ignore[no-any-return]


def station_entities(
    entity_registry: er.EntityRegistry, device: dr.DeviceEntry
) -> list[er.RegistryEntry]:
    return er.async_entries_for_device(entity_registry, device.id, include_disabled_entities=True)


async def test_station_added_at_runtime_gets_entities(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """After the next poll the new station has its device and entities on every
    platform, with states; its pushed telemetry reaches its sensors."""
    sim = sim_mqtt
    runtime = runtime_of(mqtt_entry)
    entities_before = len(hass.states.async_all())

    later = sim.add_station()
    sim.approve_onboarding(later.system_id)
    await sim.mqtt.acl_synced()
    station_id = later.system_id  # not on station/home: a push-only station
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, station_id), mqtt_entry.entry_id)
        is None
    )

    sim.reset_rate_limits()
    await slow_refresh(hass, mqtt_entry)

    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, station_id), mqtt_entry.entry_id
    )
    assert device is not None
    assert device.config_entry_id == mqtt_entry.entry_id
    registered = {(e.domain, e.unique_id) for e in station_entities(entity_registry, device)}
    for platform, key in STATION_ENTITIES:
        assert (platform, f"{station_id}_{key}") in registered, (platform, key)
        entity_id = entity_registry.async_get_entity_id(platform, DOMAIN, f"{station_id}_{key}")
        assert entity_id is not None
        assert hass.states.get(entity_id) is not None, entity_id
    assert len(hass.states.async_all()) > entities_before
    # No reload happened: the entry stayed loaded all along.
    assert mqtt_entry.state is ConfigEntryState.LOADED

    # Its telemetry, once subscribed to, reaches its sensors without a poll.
    soc_entity = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{station_id}_battery_soc")
    assert soc_entity is not None
    await wait_for(hass, lambda: station_id in sim.mqtt.subscriptions["period"], "resubscribing")
    await wait_for(hass, lambda: runtime.push.connected, "the new connection")
    polls = sim.count("/energyflow")
    await sim.mqtt.publish_telemetry(station_id)
    expected = float(telemetry_values(later)["storageSOC%"])

    def soc_shown() -> bool:
        state = hass.states.get(soc_entity)
        return state is not None and state.state == str(expected)

    await wait_for(hass, soc_shown, "the pushed SOC of the new station")
    assert sim.count("/energyflow") == polls  # pushed, not polled


@TWO_STATIONS
async def test_removed_station_loses_device_and_entities(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A station that leaves the account: its device, registry entries and states go."""
    sim = sim_mqtt
    runtime = runtime_of(mqtt_entry)
    gone = sim.stations[1].system_id
    device = device_registry.async_get_device_by_identifier((DOMAIN, gone), mqtt_entry.entry_id)
    assert device is not None
    entries = station_entities(entity_registry, device)
    entity_ids = [e.entity_id for e in entries]
    assert len(entity_ids) > len(STATION_ENTITIES)
    enabled = [e.entity_id for e in entries if e.disabled_by is None]
    assert enabled
    assert all(hass.states.get(entity_id) is not None for entity_id in enabled)
    home = device_registry.async_get_device_by_identifier(
        (DOMAIN, str(sim.stations[0].station_id)), mqtt_entry.entry_id
    )
    assert home is not None
    home_entities = [e.entity_id for e in station_entities(entity_registry, home)]

    sim.remove_station(gone)
    await sim.mqtt.acl_synced()
    sim.reset_rate_limits()
    await slow_refresh(hass, mqtt_entry)

    assert gone not in runtime.stations
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, gone), mqtt_entry.entry_id) is None
    )
    for entity_id in entity_ids:
        assert entity_registry.async_get(entity_id) is None, entity_id
        assert hass.states.get(entity_id) is None, entity_id
    # The home station keeps everything.
    for entity_id in home_entities:
        assert entity_registry.async_get(entity_id) is not None
    soc = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{sim.stations[0].station_id}_battery_soc"
    )
    assert soc is not None
    state = hass.states.get(soc)
    assert state is not None
    assert state.state != STATE_UNAVAILABLE


async def test_station_gone_while_stopped_is_removed_at_setup(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A station device left over from a station that vanished while Home Assistant was
    not running is removed, with its entities, when the entry sets up."""
    stale = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "SIMSYS00000099")}
    )
    stale_entity = entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        "SIMSYS00000099_battery_soc",
        config_entry=entry,
        device_id=stale.id,
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert device_registry.async_get(stale.id) is None
    assert entity_registry.async_get(stale_entity.entity_id) is None
    (station_id,) = runtime_of(entry).stations
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, station_id), entry.entry_id)
        is not None
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_station_without_data_yet_reads_empty(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A station added while the cloud failed has coordinators without data (their first
    refresh failed): its view is empty, not an error, until the next poll succeeds."""
    station = next(iter(runtime_of(loaded_entry).stations.values()))
    saved = station.settings.data
    station.settings.data = None  # type: ignore[assignment]
    try:
        view = station.view()
        assert view.settings.modes == ()
        assert view.current_mode_label is None
        assert view.nb_mode is None
    finally:
        station.settings.data = saved
