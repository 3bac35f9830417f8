"""Several stations: northbound-only systems, dynamic stations, northbound mode."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.client import app_base_url, mqtt_broker, nb_base_url
from custom_components.sigen_cloud.const import (
    CONF_CLIENT_CERT,
    CONF_MQTT_HOST,
    CONF_NB_URL,
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
)
from custom_components.sigen_cloud.data import SigenRuntimeData
from custom_components.sigen_cloud.sigen import AlarmEvent, NBMode, TelemetryData
from sigen_sim.mqtt_payloads import telemetry_values

from .conftest import account_data, account_id, developer_data, wait_for
from .platform_helpers import slow_refresh

TWO_STATIONS = pytest.mark.sim_config(stations=2)


def runtime_of(entry: MockConfigEntry) -> SigenRuntimeData:
    return entry.runtime_data  # type: ignore[no-any-return]


def test_urls_follow_region_and_overrides() -> None:
    """Region defaults; a custom server serves both APIs; explicit overrides win."""
    assert app_base_url({CONF_REGION: "us"}) == "https://api-us.sigencloud.com/"
    assert nb_base_url({CONF_REGION: "apac"}) == "https://openapi-apac.sigencloud.com/"
    assert mqtt_broker({CONF_REGION: "cn"}) == ("mqtt-cn.sigencloud.com", 8883)
    custom = {CONF_REGION: "eu", CONF_SERVER_URL: "http://127.0.0.1:1/"}
    assert app_base_url(custom) == nb_base_url(custom) == "http://127.0.0.1:1/"
    assert nb_base_url({**custom, CONF_NB_URL: "http://127.0.0.1:2/"}) == "http://127.0.0.1:2/"
    assert mqtt_broker({CONF_MQTT_HOST: "broker", "mqtt_port": 18883}) == ("broker", 18883)


@TWO_STATIONS
async def test_northbound_only_station_and_mode(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """The second system (not on station/home) becomes a push-only station."""
    runtime = runtime_of(mqtt_entry)
    first, second = sim_mqtt.stations
    stations = runtime.stations
    assert set(stations) == {str(first.station_id), second.system_id}
    assert set(runtime.account.data.stations) == set(stations)
    app_station = stations[str(first.station_id)]
    push_station = stations[second.system_id]
    assert app_station.system_id == first.system_id
    assert app_station.settings.data.nb_mode is not None
    assert isinstance(app_station.settings.data.nb_mode, NBMode)
    assert push_station.info is None
    assert push_station.view().energy_flow is None

    await sim_mqtt.publish_telemetry(second.system_id)
    await wait_for(hass, lambda: push_station.view().telemetry is not None, "telemetry of system 2")
    assert app_station.view().telemetry is None or app_station.view().last_telemetry != (
        push_station.view().last_telemetry
    )


@TWO_STATIONS
async def test_nb_mode_respects_the_five_minute_limit(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The mode query runs at most every 5 minutes; a refusal keeps the last value."""
    runtime = runtime_of(mqtt_entry)
    queries = sim_mqtt.count("/settings")
    await slow_refresh(hass, mqtt_entry)
    assert sim_mqtt.count("/settings") == queries  # asked less than 5 minutes ago

    station = runtime.stations[str(sim_mqtt.stations[0].station_id)]
    mode = station.settings.data.nb_mode

    async def refresh_all() -> None:
        """Every slow refresh, the 5-minute limit of ours forgotten."""
        for each in runtime.stations.values():
            each.settings.nb_mode_checked_at = None
        await slow_refresh(hass, mqtt_entry)
        assert all(c.last_update_success for c in runtime.coordinators())

    await refresh_all()  # refused by the 5-minute limit (1201)
    assert station.settings.data.nb_mode == mode

    # The developer API failing does not fail the update, and is logged once.
    sim_mqtt.faults.server_error("/openapi/", 500)
    with caplog.at_level(logging.INFO, logger="custom_components.sigen_cloud"):
        for _ in range(2):
            await refresh_all()
        sim_mqtt.faults.clear()
        sim_mqtt.reset_rate_limits()
        await refresh_all()
    assert caplog.text.count("developer (northbound) API failed") == 1
    assert caplog.text.count("developer (northbound) API answers again") == 1


@TWO_STATIONS
async def test_vanished_station_is_removed_with_its_device(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A system that leaves the account loses its device; deleting stale devices works."""
    runtime = runtime_of(mqtt_entry)
    gone = sim_mqtt.stations[1].system_id
    device_registry.async_get_or_create(
        config_entry_id=mqtt_entry.entry_id, identifiers={(DOMAIN, gone)}
    )
    sim_mqtt.stations.pop()
    sim_mqtt.reset_rate_limits()
    await slow_refresh(hass, mqtt_entry)
    assert gone not in runtime.stations
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, gone), mqtt_entry.entry_id) is None
    )


async def test_new_station_appears(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """A system added to the account at runtime becomes a station; its push arrives."""
    sim = sim_mqtt
    sim.approve_onboarding(sim.stations[0].system_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    runtime = runtime_of(entry)
    push = runtime.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")

    later = sim.add_station()  # joins the account (and the broker's ACL) now
    sim.approve_onboarding(later.system_id)
    await sim.mqtt.acl_synced()
    assert later.system_id not in runtime.stations
    sim.reset_rate_limits()
    await slow_refresh(hass, entry)
    assert later.system_id in runtime.stations
    await wait_for(hass, lambda: later.system_id in push.system_ids, "resubscribing")
    await wait_for(
        hass, lambda: later.system_id in sim.mqtt.subscriptions["period"], "the new request"
    )
    await wait_for(hass, lambda: push.connected, "the new connection")
    await sim.publish_telemetry(later.system_id)
    station = runtime.stations[later.system_id]
    await wait_for(
        hass, lambda: station.view().telemetry is not None, "telemetry of the new system"
    )
    assert station.view().telemetry.battery_soc == float(telemetry_values(later)["storageSOC%"])
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_only_station_takes_unknown_system_ids(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """With a single station, messages are paired with it even by another id."""
    runtime = runtime_of(loaded_entry)
    station = next(iter(runtime.stations.values()))
    (telemetry,) = TelemetryData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "ELSEWHERE", "value": {"storageSOC%": "42"}}]
    )
    runtime.push.async_handle_telemetry(telemetry)
    assert station.view().telemetry is not None
    assert station.view().telemetry.battery_soc == 42.0


async def test_mqtt_refused_developer_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Credentials revoked while running: the listener stops, a repair issue explains."""
    sim = sim_mqtt
    sim.approve_onboarding(sim.stations[0].system_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    push = runtime_of(entry).push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")

    sim.app_secret = "revoked-secret"
    mqtt = entry.runtime_data.mqtt
    assert mqtt is not None
    mqtt._force_login = True
    await sim.faults.drop_mqtt_clients()
    task = push.task
    assert task is not None
    await wait_for(hass, task.done, "the listener to stop")
    assert not push.connected
    assert ir.async_get(hass).async_get_issue(DOMAIN, "developer_credentials_invalid")
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_mqtt_not_started_with_unusable_certificates(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """A client certificate without its key (only possible by editing storage)."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={
            **account_data(sim),
            **developer_data(sim),
            CONF_CLIENT_CERT: sim.certs.client_cert_pem,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.mqtt is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, "developer_credentials_invalid")
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@TWO_STATIONS
async def test_push_writes_only_its_stations_entities(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any, monkeypatch: Any
) -> None:
    """A pushed message makes only the entities of its station write their state; a poll
    still makes every entity write."""
    runtime = runtime_of(mqtt_entry)
    first, second = sim_mqtt.stations
    key_a, key_b = str(first.station_id), second.system_id
    assert set(runtime.stations) == {key_a, key_b}
    writes: dict[str, int] = {key_a: 0, key_b: 0}
    original = Entity.async_write_ha_state

    def counting(self: Entity) -> None:
        station_id = getattr(self, "station_id", None)
        if station_id in writes:
            writes[station_id] += 1
        original(self)

    monkeypatch.setattr(Entity, "async_write_ha_state", counting)
    (telemetry,) = TelemetryData.from_mqtt_payload(
        sim_mqtt.mqtt.publisher.telemetry_payload(first.system_id)
    )
    runtime.push.async_handle_telemetry(telemetry)
    assert writes[key_a] > 0
    assert writes[key_b] == 0
    assert runtime.stations[key_a].view().telemetry is not None

    writes.update({key_a: 0, key_b: 0})
    (alarm,) = AlarmEvent.from_mqtt_payload(
        [{"systemId": second.system_id, "alarmCode": "1001", "status": "generation"}]
    )
    runtime.push.async_handle_alarm(alarm)
    assert writes[key_a] == 0
    assert writes[key_b] > 0

    writes.update({key_a: 0, key_b: 0})
    for station in runtime.stations.values():  # what a poll of each station does
        station.settings.async_update_listeners()
        if station.live is not None:
            station.live.async_update_listeners()
    assert writes[key_a] > 0
    assert writes[key_b] > 0
