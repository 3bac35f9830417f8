"""Config flows beside a running entry: checking the developer credentials does not cut
its MQTT push (issue 15.2)."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import (
    CONF_APP_SECRET,
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
)

from .conftest import account_data, developer_data, wait_for
from .flow_checks import check_flow_translations
from .test_config_flow import developer_input, user_input

__all__ = ["check_flow_translations"]  # autouse: every flow step is checked

KEY_LOGIN = "/openapi/auth/login/key"


async def _push_arrives(hass: HomeAssistant, sim: Any, entry: MockConfigEntry) -> None:
    """A telemetry message published now reaches the entry's coordinator."""
    station = next(iter(entry.runtime_data.stations.values()))
    before = station.view().last_telemetry
    await sim.publish_telemetry(station.system_id)
    await wait_for(hass, lambda: station.view().last_telemetry != before, "the pushed telemetry")


async def test_reconfigure_keeps_the_push_running(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """Reconfigure with unchanged developer credentials: the check reuses the entry's
    northbound session (no key login, so the broker password stays), and nothing
    changed, so the entry is not reloaded: the live listener keeps its connection."""
    sim = sim_mqtt
    runtime = mqtt_entry.runtime_data
    await _push_arrives(hass, sim, mqtt_entry)
    key_logins = sim.count(KEY_LOGIN)
    drops: list[bool] = []
    original = runtime.push.async_handle_connection_change

    def connection_change(connected: bool) -> None:
        drops.append(connected)
        original(connected)

    with patch.object(runtime.push, "async_handle_connection_change", connection_change):
        result = await mqtt_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
        )
        assert result["step_id"] == "developer_edit"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
        )
        assert result["reason"] == "reconfigure_successful"
        assert sim.count(KEY_LOGIN) == key_logins  # the check logged in with nothing new
        await _push_arrives(hass, sim, mqtt_entry)
    assert mqtt_entry.state is ConfigEntryState.LOADED
    assert mqtt_entry.runtime_data is runtime  # not reloaded
    assert drops == []  # the listener was never disconnected
    assert runtime.push.connected


async def test_reconfigure_with_changes_reloads(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """Changed settings reload the entry, whose push then runs again."""
    sim = sim_mqtt
    runtime = mqtt_entry.runtime_data
    sim.move_account("apac")  # the cloud moved the account to another shard
    result = await mqtt_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "apac", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert mqtt_entry.data[CONF_REGION] == "apac"
    assert mqtt_entry.state is ConfigEntryState.LOADED
    assert mqtt_entry.runtime_data is not runtime
    push = mqtt_entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the new connection")
    await _push_arrives(hass, sim, mqtt_entry)


async def test_add_flow_reuses_a_running_entrys_session(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Adding an account with the app key of a running entry: the check uses that
    entry's northbound session, and the running push goes on."""
    sim = sim_mqtt
    sim.mqtt.initial_push_delay = None
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    running = MockConfigEntry(
        domain=DOMAIN,
        unique_id="another-account",
        data={**account_data(sim), **developer_data(sim)},
    )
    running.add_to_hass(hass)
    assert await hass.config_entries.async_setup(running.entry_id)
    push = running.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    key_logins = sim.count(KEY_LOGIN)

    with (
        patch("custom_components.sigen_cloud.async_setup_entry", return_value=True),
        patch("custom_components.sigen_cloud.async_unload_entry", return_value=True),
    ):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], developer_input(sim)
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert sim.count(KEY_LOGIN) == key_logins
        await hass.config_entries.async_unload(result["result"].entry_id)
    await _push_arrives(hass, sim, running)
    await hass.config_entries.async_unload(running.entry_id)
    await hass.async_block_till_done()
