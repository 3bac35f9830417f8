"""Fixtures of the integration tests: Home Assistant against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
)
from custom_components.sigen_cloud.sigen import Sigen
from sigen_sim import SimConfig


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sigen_cloud."""


@pytest.fixture(autouse=True)
def fast_reconnect() -> Iterator[None]:
    """Reconnect to the broker within a fraction of a second (the default is 30 s)."""
    with (
        patch("custom_components.sigen_cloud.client.MQTT_RECONNECT_INTERVAL", 0.2),
        patch("custom_components.sigen_cloud.client.MQTT_ERROR_RECONNECT_INTERVAL", 0.2),
    ):
        yield


async def wait_for(hass: HomeAssistant, condition: Callable[[], bool], what: str) -> None:
    """Wait (real time, bounded) for something the broker delivers."""
    for _ in range(200):
        await hass.async_block_till_done()
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> SimConfig:
    """Simulated time moves only when a test advances it (marker ``sim_config`` applies)."""
    kwargs: dict[str, Any] = {"time_scale": 0.0}
    marker = request.node.get_closest_marker("sim_config")
    if marker is not None:
        kwargs.update(marker.kwargs)
    return SimConfig(**kwargs)


def account_data(sim: Any) -> dict[str, Any]:
    """Entry data of the simulator's demo account (reached by the advanced server URL)."""
    return {
        CONF_USERNAME: sim.username,
        CONF_PASSWORD: sim.password,
        CONF_REGION: "eu",
        CONF_SERVER_URL: sim.api_url,
    }


def developer_data(sim: Any) -> dict[str, Any]:
    """Entry data of the simulator's developer application and its broker."""
    return {
        CONF_APP_KEY: sim.app_key,
        CONF_APP_SECRET: sim.app_secret,
        CONF_APP_IDENTIFIER: sim.app_identifier,
        CONF_CA_CERT: sim.certs.ca_pem,
        CONF_MQTT_HOST: sim.mqtt_host,
        CONF_MQTT_PORT: sim.mqtt_port,
    }


def password_logins(sim: Any, shard: str | None = None) -> int:
    """Password logins sent to ``shard`` (default: the one holding the account, where a
    refused one counts towards the account's lock)."""
    shard = sim.shard if shard is None else shard
    return sum(
        1
        for request in sim.requests("auth/oauth/token", "POST")
        if "grant_type=password" in request.body
        and request.headers.get("client-server", sim.shard) == shard
    )


async def account_id(sim: Any) -> str:
    """The account id the integration uses as unique id, as the library reports it."""
    async with Sigen(sim.username, sim.password, sim.shard, base_url=sim.api_url) as api:
        await api.async_initialize()
        return str(api.account_id)


@pytest.fixture
async def entry(hass: HomeAssistant, sim: Any, socket_enabled: None) -> MockConfigEntry:
    """A config entry of the demo account, not set up yet."""
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sigen Cloud",
        unique_id=await account_id(sim),
        data=account_data(sim),
    )
    config_entry.add_to_hass(hass)
    return config_entry


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """The demo account's entry, set up (polling only)."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> AsyncIterator[MockConfigEntry]:
    """A config entry with developer credentials (MQTT push), set up."""
    sim = sim_mqtt
    sim.mqtt.initial_push_delay = None  # tests publish telemetry themselves
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sigen Cloud",
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Let the listener finish connecting (the tests expect a live connection; an
    # unload during the connect is clean, see test_unload_while_mqtt_connects).
    push = config_entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
