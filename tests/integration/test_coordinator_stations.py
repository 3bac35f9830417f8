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
from custom_components.sigen_cloud.coordinator import SigenCoordinator
from custom_components.sigen_cloud.sigen import AlarmEvent, NBMode, TelemetryData
from sigen_sim.mqtt_payloads import telemetry_values

from .conftest import account_data, account_id, developer_data, wait_for

TWO_STATIONS = pytest.mark.sim_config(stations=2)


def coordinator_of(entry: MockConfigEntry) -> SigenCoordinator:
    return entry.runtime_data.coordinator


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
    coordinator = coordinator_of(mqtt_entry)
    first, second = sim_mqtt.stations
    stations = coordinator.data.stations
    assert set(stations) == {str(first.station_id), second.system_id}
    assert coordinator.station_ids == set(stations)
    app_station = stations[str(first.station_id)]
    push_station = stations[second.system_id]
    assert app_station.system_id == first.system_id
    assert app_station.nb_mode is not None
    assert isinstance(app_station.nb_mode, NBMode)
    assert push_station.info is None
    assert push_station.energy_flow is None

    await sim_mqtt.publish_telemetry(second.system_id)
    await wait_for(hass, lambda: push_station.telemetry is not None, "telemetry of system 2")
    assert app_station.telemetry is None or app_station.last_telemetry != (
        push_station.last_telemetry
    )


@TWO_STATIONS
async def test_nb_mode_respects_the_five_minute_limit(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The mode query runs at most every 5 minutes; a refusal keeps the last value."""
    coordinator = coordinator_of(mqtt_entry)
    queries = sim_mqtt.count("/settings")
    await coordinator.async_request_slow_refresh()
    await hass.async_block_till_done()
    assert sim_mqtt.count("/settings") == queries  # asked less than 5 minutes ago

    station = coordinator.data.stations[str(sim_mqtt.stations[0].station_id)]
    mode = station.nb_mode
    coordinator._nb_mode_checked.clear()
    await coordinator.async_refresh()  # refused by the 5-minute limit (1201)
    assert station.nb_mode == mode
    assert coordinator.last_update_success

    # The developer API failing does not fail the update, and is logged once.
    coordinator._nb_mode_checked.clear()
    sim_mqtt.faults.server_error("/openapi/", 500)
    with caplog.at_level(logging.INFO, logger="custom_components.sigen_cloud"):
        for _ in range(2):
            coordinator._nb_mode_checked.clear()
            coordinator._slow_due = True
            await coordinator.async_refresh()
            assert coordinator.last_update_success
        sim_mqtt.faults.clear()
        sim_mqtt.reset_rate_limits()
        coordinator._nb_mode_checked.clear()
        coordinator._slow_due = True
        await coordinator.async_refresh()
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
    coordinator = coordinator_of(mqtt_entry)
    gone = sim_mqtt.stations[1].system_id
    device_registry.async_get_or_create(
        config_entry_id=mqtt_entry.entry_id, identifiers={(DOMAIN, gone)}
    )
    sim_mqtt.stations.pop()
    sim_mqtt.reset_rate_limits()
    await coordinator.async_request_slow_refresh()
    await hass.async_block_till_done()
    assert gone not in coordinator.data.stations
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
    coordinator = coordinator_of(entry)
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the MQTT connection")

    later = sim.add_station()  # joins the account (and the broker's ACL) now
    sim.approve_onboarding(later.system_id)
    await sim.mqtt.acl_synced()
    assert later.system_id not in coordinator.data.stations
    sim.reset_rate_limits()
    await coordinator.async_request_slow_refresh()
    await hass.async_block_till_done()
    assert later.system_id in coordinator.data.stations
    await wait_for(hass, lambda: later.system_id in coordinator.mqtt_system_ids, "resubscribing")
    await wait_for(
        hass, lambda: later.system_id in sim.mqtt.subscriptions["period"], "the new request"
    )
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the new connection")
    await sim.publish_telemetry(later.system_id)
    station = coordinator.data.stations[later.system_id]
    await wait_for(hass, lambda: station.telemetry is not None, "telemetry of the new system")
    assert station.telemetry.battery_soc == float(telemetry_values(later)["storageSOC%"])
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_only_station_takes_unknown_system_ids(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """With a single station, messages are paired with it even by another id."""
    coordinator = coordinator_of(loaded_entry)
    station = next(iter(coordinator.data.stations.values()))
    telemetry = TelemetryData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "ELSEWHERE", "value": {"storageSOC%": "42"}}]
    )
    coordinator.async_handle_telemetry(telemetry)
    assert station.telemetry is not None
    assert station.telemetry.battery_soc == 42.0


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
    coordinator = coordinator_of(entry)
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the MQTT connection")

    sim.app_secret = "revoked-secret"
    mqtt = entry.runtime_data.mqtt
    assert mqtt is not None
    mqtt._force_login = True
    await sim.faults.drop_mqtt_clients()
    task = entry.runtime_data.mqtt_task
    assert task is not None
    await wait_for(hass, task.done, "the listener to stop")
    assert not coordinator.data.mqtt_connected
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
    coordinator = coordinator_of(mqtt_entry)
    first, second = sim_mqtt.stations
    key_a, key_b = str(first.station_id), second.system_id
    assert set(coordinator.data.stations) == {key_a, key_b}
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
    coordinator.async_handle_telemetry(telemetry)
    assert writes[key_a] > 0
    assert writes[key_b] == 0
    assert coordinator.data.stations[key_a].telemetry is not None

    writes.update({key_a: 0, key_b: 0})
    coordinator.async_handle_alarm(
        AlarmEvent.from_mqtt_payload(
            [{"systemId": second.system_id, "alarmCode": "1001", "status": "generation"}]
        )
    )
    assert writes[key_a] == 0
    assert writes[key_b] > 0

    writes.update({key_a: 0, key_b: 0})
    coordinator.async_update_listeners()  # what a poll does
    assert writes[key_a] > 0
    assert writes[key_b] > 0
