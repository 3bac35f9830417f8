"""Smart-load switches of the Sigen Cloud integration, added and removed with the loads."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DOMAIN
from sigen_sim.model import SmartLoad as SimSmartLoad

from .platform_helpers import (
    FROZEN_SIM,
    STATION_ID,
    setup_entry,
    slow_refresh,
    snapshot_entities,
    unload,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


IMMERSION = "switch.immersion"
POOL_PUMP = "switch.pool_pump"


def _load_device(
    device_registry: dr.DeviceRegistry, entry_id: str, path: int
) -> dr.DeviceEntry | None:
    return device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_smart_load_{path}"), entry_id
    )


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


async def test_smart_load_switches(
    hass: HomeAssistant,
    sim: Any,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One switch per smart load, on the load's own device via the station's."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_smart_load_1"), entry.entry_id
    )
    station_device = device_registry.async_get_device_by_identifier(
        (DOMAIN, STATION_ID), entry.entry_id
    )
    assert device is not None
    assert station_device is not None
    assert device.via_device_id == station_device.id
    assert device.name == "Immersion"

    load = sim.stations[0].smart_load(1)
    await _switch(hass, SERVICE_TURN_ON, IMMERSION)
    assert load.on
    state = hass.states.get(IMMERSION)
    assert state is not None
    assert state.state == STATE_ON

    await _switch(hass, SERVICE_TURN_OFF, IMMERSION)
    assert not load.on
    state = hass.states.get(IMMERSION)
    assert state is not None
    assert state.state == STATE_OFF
    await unload(hass, entry)


async def test_switch_errors(hass: HomeAssistant, sim: Any) -> None:
    """A refusal of the cloud is a translated error; the load does not change."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    sim.faults.http_error("smart-loads/control-mode/manual/switch", 503)
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_ON, POOL_PUMP)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key in {"cloud_refused", "cannot_connect"}
    assert not sim.stations[0].smart_load(2).on
    await unload(hass, entry)


async def test_smart_loads_added_and_removed(
    hass: HomeAssistant,
    sim: Any,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A load that appears gets its entities; one that disappears loses them and its device."""
    entry = await setup_entry(hass, sim, Platform.SWITCH, Platform.SENSOR)
    station = sim.stations[0]

    station.smart_loads.append(SimSmartLoad("Heat pump", 3, 2.0, 7003))
    await slow_refresh(hass, entry)
    assert hass.states.get("switch.heat_pump") is not None
    assert hass.states.get("sensor.heat_pump_energy_today") is not None

    station.smart_loads = [load for load in station.smart_loads if load.path != 1]
    await slow_refresh(hass, entry)
    assert entity_registry.async_get(IMMERSION) is None
    assert entity_registry.async_get("sensor.immersion_energy_today") is None
    assert hass.states.get(IMMERSION) is None
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{STATION_ID}_smart_load_1"), entry.entry_id
        )
        is None
    )
    assert hass.states.get(POOL_PUMP) is not None
    await unload(hass, entry)


async def test_stale_load_devices_removed_at_start(
    hass: HomeAssistant,
    sim: Any,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A load that vanished while Home Assistant was stopped loses its device at start-up."""
    entry = await setup_entry(hass, sim, Platform.SWITCH)
    await unload(hass, entry)
    sim.stations[0].smart_loads = [load for load in sim.stations[0].smart_loads if load.path != 2]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{STATION_ID}_smart_load_2"), entry.entry_id
        )
        is None
    )
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{STATION_ID}_smart_load_1"), entry.entry_id
        )
        is not None
    )
    await unload(hass, entry)
