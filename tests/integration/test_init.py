"""Setting up, unloading and reloading entries; the failure paths of set-up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import CONF_APP_SECRET, CONF_SERVER_URL, DOMAIN
from custom_components.sigen_cloud.data import SigenRuntimeData

from .conftest import account_data, account_id, developer_data
from .test_config_flow import closed_port_url


async def test_setup_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The entry loads with typed runtime data and unloads cleanly."""
    assert loaded_entry.state is ConfigEntryState.LOADED
    runtime = loaded_entry.runtime_data
    assert isinstance(runtime, SigenRuntimeData)
    assert runtime.mqtt is None
    assert runtime.push.task is None
    assert runtime.northbound is None
    stations = runtime.stations
    assert len(stations) == 1
    station = next(iter(stations.values())).view()
    assert station.energy_flow is not None
    assert station.settings.modes
    assert station.settings.current_mode is not None

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED


async def test_reload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Reloading builds everything anew."""
    first = loaded_entry.runtime_data.account
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert loaded_entry.runtime_data.account is not first


async def test_setup_with_mqtt(hass: HomeAssistant, mqtt_entry: MockConfigEntry) -> None:
    """With developer credentials the northbound client and the push listener run."""
    runtime = mqtt_entry.runtime_data
    assert runtime.northbound is not None
    assert runtime.mqtt is not None
    task = runtime.push.task
    assert task is not None
    assert not task.done()

    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
    await hass.async_block_till_done()
    assert task.done()
    assert runtime.push.task is None


async def test_setup_not_ready_when_unreachable(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """No server: retried later."""
    entry = MockConfigEntry(
        domain=DOMAIN, data={**account_data(sim), CONF_SERVER_URL: closed_port_url()}
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None


async def test_setup_not_ready_when_first_poll_fails(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """The login works but the energy flow does not: retried later."""
    sim.faults.server_error("energyflow", 500)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_not_ready_when_rate_limited(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """Rate limited before there is any data: retried later, with the cloud's delay."""
    sim.faults.rate_limit("energyflow", 1201)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "300 seconds" in entry.reason


async def test_setup_auth_failed(hass: HomeAssistant, entry: MockConfigEntry, sim: Any) -> None:
    """A changed password starts reauthentication (with Home Assistant's own repair)."""
    password = sim.password
    sim.change_password("changed-elsewhere")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert (
        ir.async_get(hass).async_get_issue(
            HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
        )
        is not None
    )

    # After the reauth the issue goes away.
    sim.change_password(password)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(
            HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
        )
        is None
    )
    await hass.config_entries.async_unload(entry.entry_id)


async def test_setup_refused_developer_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Refused developer credentials: the app API still works, a repair issue explains."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim), CONF_APP_SECRET: "revoked"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.mqtt is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, "developer_credentials_invalid") is not None
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_setup_northbound_unreachable(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The developer API not answering: retried later."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    sim.faults.server_error("/openapi/auth/login/key", 503)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_remove_config_entry_device(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """A live station's device cannot be deleted; a stale one can."""
    assert await async_setup_component(hass, "config", {})
    station_id = next(iter(loaded_entry.runtime_data.stations))
    live = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, station_id)}
    )
    stale = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, "20000000000000")}
    )
    from custom_components.sigen_cloud import async_remove_config_entry_device

    assert not await async_remove_config_entry_device(hass, loaded_entry, live)
    assert await async_remove_config_entry_device(hass, loaded_entry, stale)


def _mqtt_tasks(before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """New tasks of an MQTT client (aiomqtt's misc loop, a connect attempt, the listener)."""
    return [
        task
        for task in asyncio.all_tasks() - before
        if getattr(task.get_coro(), "__qualname__", "").split(".")[0]
        in {"Client", "HardenedClient", "SigenMQTT"}
        and not task.done()
    ]


@pytest.mark.parametrize("steps", [0, 1, 3, 10, 30, 100, 300])
async def test_unload_while_mqtt_connects(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None, steps: int
) -> None:
    """Unloading before the broker connection is up leaves no error, task or socket."""
    sim = sim_mqtt
    sim.mqtt.initial_push_delay = None
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    before = asyncio.all_tasks()  # (the simulator's own publisher client among them)
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        task = entry.runtime_data.push.task
        assert task is not None
        for _ in range(steps):
            await asyncio.sleep(0)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert task.done()
        assert not _mqtt_tasks(before)
        await sim.mqtt.drop_clients()  # a connection left behind would now call back
        for _ in range(20):
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert not errors, [context.get("message") for context in errors]
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_device_visit_link_follows_the_server(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """The station's "Visit" link opens the entry's own server, not always the EU app."""
    devices = dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    station = next(d for d in devices if d.model == "SigenStor station")
    server = loaded_entry.data[CONF_SERVER_URL].rstrip("/")
    assert station.configuration_url == server + "/"
