"""Start-up at the physical limit (issue 21): nothing waits for a read it does not need.

No timing here: a read held by the simulator (a ``timeout`` fault) shows what goes out
without waiting for it. And the entry's HTTP session keeps its connections longer
than the poll interval.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import (
    HomeAssistantTCPConnector,
    async_get_clientsession,
)
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import ENERGY_FLOW_INTERVAL
from custom_components.sigen_cloud.session_store import storage_key

from .conftest import developer_data, password_logins

# What a station's entities read (one of each kind of data), beside the station read.
ENTITY_READS = (
    "/energyflow",
    "mode/current",
    "mode/all",
    "battery/level",
    "grid/limitation/export",
    "instant/manunal",
    "systemDevice/card",
    "statistics/energy",
    "predictData",
)


async def _sent(sim: Any, path: str) -> None:
    """Wait (real time, bounded) until ``path`` was asked for; no ``block_till_done``,
    which would wait for the held set-up."""
    for _ in range(200):
        if sim.count(path):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} was not asked for")


async def _restart_holding(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any, held: str
) -> asyncio.Task[bool]:
    """Unload the entry, then start it again with the ``held`` request unanswered."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    sim.request_log.clear()
    sim.faults.timeout(held, count=1)
    task = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await sim.faults.wait_hanging()
    return task


async def test_restart_reads_do_not_wait_for_the_station(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    """With the last run's stations, every entity's read goes out beside the station read."""
    task = await _restart_holding(hass, loaded_entry, sim, "station/home")
    for path in ENTITY_READS:
        await _sent(sim, path)
    assert sim.count("auth/oauth/token") == 0
    sim.faults.clear()  # the held read fails: the set-up is tried again later
    assert not await task
    assert loaded_entry.state is ConfigEntryState.SETUP_RETRY


async def test_restart_from_an_older_stored_state_waits_for_the_station(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, hass_storage: dict[str, Any]
) -> None:
    """Stations stored without their app data (an earlier version): the reads follow it."""
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[storage_key(loaded_entry.entry_id)]["data"]
    for station in stored["stations"]:
        station.pop("info")
    sim.request_log.clear()
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert password_logins(sim) == 0
    first = [r.path for r in sim.request_log]
    assert any("station/home" in p for p in first[:1])
    assert sim.count("/energyflow") == 1


async def test_first_set_up_logs_in_to_both_apis_at_once(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The developer API's login does not wait for the app API's."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain="sigen_cloud",
        title="Sigen Cloud",
        unique_id="both-logins",
        data={
            "username": sim.username,
            "password": sim.password,
            "region": "eu",
            "server_url": sim.api_url,
            **developer_data(sim),
        },
    )
    entry.add_to_hass(hass)
    sim.faults.timeout("auth/oauth/token", count=1)
    task = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await sim.faults.wait_hanging()
    await _sent(sim, "openapi/auth/login")
    sim.faults.clear()
    assert not await task  # the held login failed: tried again later
    await hass.async_block_till_done()


async def test_smart_load_consumption_follows_the_first_data(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """The set-up does not wait for the consumption (its reads held here)."""
    sim.faults.timeout("real-time-consumption")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await sim.faults.wait_hanging()
    station = next(iter(entry.runtime_data.stations.values()))
    assert station.smart_loads is not None
    assert station.smart_loads.data.loads
    assert station.smart_loads.data.consumption == {}
    assert station.live is not None
    assert station.live.data is not None
    sim.faults.clear()
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_smart_load_consumption_read_right_after(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """The consumption comes right after the loads, which are not read again for it."""
    sim.request_log.clear()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    station = next(iter(entry.runtime_data.stations.values()))
    assert station.smart_loads is not None
    data = station.smart_loads.data
    assert data.loads
    assert set(data.consumption) == set(data.loads)
    assert sim.count("systemDevice/card") == 1
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_entry_session_keeps_connections_past_the_poll(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The entry's own session: Home Assistant's connector class and verified TLS, a
    keep-alive longer than the energy flow's poll, closed with the entry."""
    session = loaded_entry.runtime_data.client.http_session()
    assert session is not async_get_clientsession(hass)
    connector = session.connector
    assert isinstance(connector, HomeAssistantTCPConnector)
    assert connector._keepalive_timeout > ENERGY_FLOW_INTERVAL.total_seconds()
    assert connector._ssl.check_hostname  # TLS verified
    assert connector.limit_per_host == 1  # after the start-up, one connection a host
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert session.closed


async def test_mqtt_and_northbound_share_the_entry_session(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    """The developer API and the push listener use the entry's session too."""
    runtime = mqtt_entry.runtime_data
    session = runtime.client.http_session()
    assert runtime.northbound is not None
    assert runtime.northbound.http_session() is session
    assert runtime.push.session is session
