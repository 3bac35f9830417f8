"""A restart starts from the last run's tokens and stations (issue 21), and falls back."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.diagnostics import async_get_config_entry_diagnostics
from custom_components.sigen_cloud.session_store import storage_key

from .conftest import password_logins, wait_for


def _grants(sim: Any) -> list[str]:
    """The grant types of the app API's token requests, in order."""
    return [parse_qs(r.body)["grant_type"][0] for r in sim.requests("auth/oauth/token", "POST")]


async def _stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry, as Home Assistant does when it stops."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up again, as at Home Assistant's next start."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


def _stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """The entry's stored session."""
    data: dict[str, Any] = hass_storage[storage_key(entry.entry_id)]["data"]
    return data


def _flows(sim: Any) -> int:
    return int(sim.count("/energyflow"))


async def test_restart_logs_in_zero_times(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, hass_storage: dict[str, Any]
) -> None:
    await _stop(hass, loaded_entry)
    stored = _stored(hass_storage, loaded_entry)
    assert stored["app"]["access"]
    station_id = str(sim.stations[0].station_id)
    assert [{k: v for k, v in s.items() if k != "info"} for s in stored["stations"]] == [
        {"station_id": station_id, "system_id": sim.stations[0].system_id, "app": True}
    ]
    # The app station as last read: its coordinators start before the station read.
    assert str(stored["stations"][0]["info"]["stationId"]) == station_id
    sim.request_log.clear()
    await _start(hass, loaded_entry)
    assert _grants(sim) == []
    assert _flows(sim) == 1  # the early flow is the live coordinator's first data


async def test_restart_with_push_logs_in_zero_times(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any, hass_storage: dict[str, Any]
) -> None:
    sim = sim_mqtt
    await _stop(hass, mqtt_entry)
    assert _stored(hass_storage, mqtt_entry)["northbound"]["access"]
    sim.request_log.clear()
    await _start(hass, mqtt_entry)
    push = mqtt_entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    assert _grants(sim) == []
    assert sim.count("openapi/auth/login") == 0


async def test_revoked_token_falls_back(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, hass_storage: dict[str, Any]
) -> None:
    await _stop(hass, loaded_entry)
    sim.tokens.revoke(_stored(hass_storage, loaded_entry)["app"]["access"])
    sim.request_log.clear()
    await _start(hass, loaded_entry)
    assert _grants(sim) == ["refresh_token"]
    assert password_logins(sim) == 0
    assert not hass.config_entries.flow.async_progress()


async def test_refused_refresh_logs_in_once(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    await _stop(hass, loaded_entry)
    sim.faults.expire_tokens()  # the stored access and refresh tokens are worthless
    sim.request_log.clear()
    await _start(hass, loaded_entry)
    assert _grants(sim) == ["refresh_token", "password"]
    assert password_logins(sim) == 1
    assert not hass.config_entries.flow.async_progress()


@pytest.mark.sim_config(stations=2)
async def test_station_removed_while_off_is_reconciled(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = sim_mqtt
    device_registry = dr.async_get(hass)
    gone = sim.stations[1].system_id
    await _stop(hass, mqtt_entry)
    stored = _stored(hass_storage, mqtt_entry)
    assert gone in {s["station_id"] for s in stored["stations"]}
    # An app station of the last run that is gone too: its early reads fail quietly.
    info = {**stored["stations"][0]["info"], "stationId": 999999, "stationCode": None}
    stored["stations"].append(
        {"station_id": "999999", "system_id": None, "app": True, "info": info}
    )
    sim.remove_station(gone)
    await sim.mqtt.acl_synced()
    sim.reset_rate_limits()  # the system list may be read again at once
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await _start(hass, mqtt_entry)
    assert gone not in mqtt_entry.runtime_data.stations
    assert "999999" not in mqtt_entry.runtime_data.stations
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, gone), mqtt_entry.entry_id) is None
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await _stop(hass, mqtt_entry)
    assert {s["station_id"] for s in _stored(hass_storage, mqtt_entry)["stations"]} == {
        str(sim.stations[0].station_id)
    }


@pytest.mark.parametrize(
    "change",
    [{"format": 0}, {"account": "another account"}, {"app": {"access": 5}}],
    ids=["older-format", "other-account", "malformed-token"],
)
async def test_unusable_stored_state_is_ignored(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    sim: Any,
    hass_storage: dict[str, Any],
    change: dict[str, Any],
) -> None:
    await _stop(hass, loaded_entry)
    _stored(hass_storage, loaded_entry).update(change)
    sim.request_log.clear()
    await _start(hass, loaded_entry)
    assert password_logins(sim) == 1


async def test_unreadable_store_is_ignored(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, hass_storage: dict[str, Any]
) -> None:
    """A store of another version (a future one) is not migrated: a login instead."""
    await _stop(hass, loaded_entry)
    hass_storage[storage_key(loaded_entry.entry_id)]["version"] = 99
    sim.request_log.clear()
    await _start(hass, loaded_entry)
    assert password_logins(sim) == 1


async def test_nothing_stored_leaks(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stored tokens are in no log and not in the diagnostics; removed with the entry.

    The integration's and the library's loggers run at DEBUG (tests/conftest.py).
    """
    await _stop(hass, mqtt_entry)
    stored = _stored(hass_storage, mqtt_entry)
    await _start(hass, mqtt_entry)
    secrets = {stored["app"]["access"], stored["app"]["refresh"], stored["northbound"]["access"]}
    diagnostics = json.dumps(await async_get_config_entry_diagnostics(hass, mqtt_entry))
    for secret in secrets:
        assert secret
        assert secret not in caplog.text
        assert secret not in diagnostics
    await hass.config_entries.async_remove(mqtt_entry.entry_id)
    await hass.async_block_till_done()
    assert storage_key(mqtt_entry.entry_id) not in hass_storage


async def test_restart_with_refused_developer_credentials(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stored northbound token is checked beside the app reads; refused with the
    credentials, the entry runs on the app API alone (a repair issue), push off."""
    from homeassistant.helpers import issue_registry as ir

    await _stop(hass, mqtt_entry)
    sim_mqtt.app_secret = "revoked-secret"
    sim_mqtt.faults.expire_tokens("nb")
    sim_mqtt.reset_rate_limits()
    sim_mqtt.request_log.clear()
    with caplog.at_level(logging.WARNING):
        await _start(hass, mqtt_entry)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1  # the credentials were refused (and the repair issue)
    runtime = mqtt_entry.runtime_data
    assert runtime.northbound is None
    assert runtime.mqtt is None
    assert runtime.account.northbound is None
    assert all(station.settings.northbound is None for station in runtime.stations.values())
    assert ir.async_get(hass).async_get_issue(DOMAIN, "developer_credentials_invalid")
    assert _grants(sim_mqtt) == []  # the app API's stored token still serves
