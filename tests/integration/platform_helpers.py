"""Helpers of the entity platform tests: set up one platform against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.coordinator import SigenLiveCoordinator
from custom_components.sigen_cloud.data import StationRuntime
from custom_components.sigen_cloud.view import StationView
from sigen_sim.mqtt_payloads import system_values

from ..snapshot_report import assert_snapshot
from .conftest import account_data, account_id, developer_data

# 2026-06-01 12:00 in Dublin (the simulator's time zone): the sun is up.
NOON = 1780311600.0
# The simulator's clock only moves on sim.advance(): every value is reproducible.
FROZEN_SIM = {"time_scale": 0, "start_time": NOON, "nb_rate_limits": False}

STATION_ID = "20240523012345"
SYSTEM_ID = "SIMSYS00000001"
# The device is named after the station's name in the app ("Sim Station 1").
PREFIX = "sim_station_1"


@contextmanager
def only_platforms(*platforms: Platform) -> Iterator[None]:
    """Set up only these platforms of the integration."""
    with patch("custom_components.sigen_cloud.PLATFORMS", list(platforms)):
        yield


@contextmanager
def all_entities_enabled() -> Iterator[None]:
    """Create every entity enabled, also those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


async def add_entry(hass: HomeAssistant, sim: Any, *, developer: bool) -> MockConfigEntry:
    """A config entry of the simulator's demo account (not set up)."""
    data = account_data(sim)
    if developer:
        for station in sim.stations:
            sim.approve_onboarding(station.system_id)
        data |= developer_data(sim)
    entry = MockConfigEntry(
        domain=DOMAIN, title="Sigen demo account", unique_id=await account_id(sim), data=data
    )
    entry.add_to_hass(hass)
    return entry


async def setup_entry(
    hass: HomeAssistant,
    sim: Any,
    *platforms: Platform,
    developer: bool = False,
    enable_all: bool = False,
) -> MockConfigEntry:
    """Add and set up an entry with only ``platforms``."""
    entry = await add_entry(hass, sim, developer=developer)
    with only_platforms(*platforms):
        if enable_all:
            with all_entities_enabled():
                assert await hass.config_entries.async_setup(entry.entry_id)
        else:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    if developer:
        # Let the MQTT listener finish connecting: the tests start from a connected
        # push stream, and unloading never cancels a connection attempt half-way.
        await wait_for(hass, lambda: entry.runtime_data.push.connected)
    return entry


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload an entry (stops the MQTT listener)."""
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def coordinator_of(entry: MockConfigEntry) -> SigenLiveCoordinator:
    """The home station's live coordinator (the energy flow, polled every minute)."""
    live = station_of(entry).live
    assert live is not None
    return live


def station_of(entry: MockConfigEntry, station_id: str = STATION_ID) -> StationRuntime:
    """A station's runtime (its coordinators)."""
    return entry.runtime_data.stations[station_id]  # type: ignore[no-any-return]


def station_device_id(hass: HomeAssistant, entry_id: str, station_id: str = STATION_ID) -> str:
    """The registry id of a station's device (an action's ``device_id``)."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, station_id), entry_id)
    assert device is not None
    return device.id


def view_of(entry: MockConfigEntry, station_id: str = STATION_ID) -> StationView:
    """A station's current data, as its entities read it."""
    return station_of(entry, station_id).view()


async def slow_refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Refresh what the 10-minute tier polls: the station list, modes and smart loads."""
    runtime = entry.runtime_data
    await runtime.account.async_refresh()
    for station in list(runtime.stations.values()):
        for coordinator in (station.settings, station.smart_loads):
            if coordinator is not None:
                await coordinator.async_refresh()
    await hass.async_block_till_done()


async def wait_for(
    hass: HomeAssistant, predicate: Callable[[], bool], *, attempts: int = 400
) -> None:
    """Let the event loop run until ``predicate()`` holds (MQTT round trips)."""
    for _ in range(attempts):
        await hass.async_block_till_done()
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not reached")


async def wait_for_push(hass: HomeAssistant, sim: Any, entry: MockConfigEntry) -> None:
    """Wait for the MQTT connection, then for a telemetry and a system data message.

    The simulator publishes only to subscribed systems, and the subscription request
    may still be on its way: publish until something arrives.
    """
    await wait_for(hass, lambda: entry.runtime_data.push.connected)
    for _ in range(40):
        await sim.publish_telemetry()
        await sim.mqtt.publish_change(SYSTEM_ID, system_values(sim.stations[0]))
        try:
            await wait_for(
                hass,
                lambda: view_of(entry).telemetry is not None and view_of(entry).system is not None,
                attempts=10,
            )
        except AssertionError:
            continue
        return
    raise AssertionError("no push data arrived")


def snapshot_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    entry_id: str,
    *,
    volatile: Iterable[str] = (),
) -> None:
    """Snapshot every entity of the entry (registry entry and state).

    The states of ``volatile`` entities (timestamps of now) are replaced by a marker.
    """
    volatile = set(volatile)
    entries = er.async_entries_for_config_entry(entity_registry, entry_id)
    assert entries
    for entity_entry in sorted(entries, key=lambda e: e.entity_id):
        entity_id = entity_entry.entity_id
        assert_snapshot(
            entity_entry,
            snapshot,
            name=f"{entity_id}-entry",
            what=f"{entity_id}: its entity registry entry",
        )
        state = hass.states.get(entity_id)
        assert state, f"State not found for {entity_id}"
        if entity_id in volatile:
            assert state.state not in ("unknown", "unavailable")
            assert_snapshot(
                {"state": "<volatile>", "attributes": dict(state.attributes)},
                snapshot,
                name=f"{entity_id}-state",
                what=f"{entity_id}: its state",
            )
        else:
            assert_snapshot(
                state, snapshot, name=f"{entity_id}-state", what=f"{entity_id}: its state"
            )
