"""MQTT push: telemetry, system changes and alarms reach the data without a poll."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sigen_cloud.const import (
    DOMAIN,
    ENERGY_FLOW_INTERVAL,
    TELEMETRY_STALE_AFTER,
)
from custom_components.sigen_cloud.data import StationRuntime
from custom_components.sigen_cloud.push import SigenPushListener

from .conftest import wait_for


def only_station(entry: MockConfigEntry) -> StationRuntime:
    return next(iter(entry.runtime_data.stations.values()))


async def connected(hass: HomeAssistant, entry: MockConfigEntry) -> SigenPushListener:
    push = entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    return push


async def test_push_telemetry_without_poll(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """A period message updates the data and the listeners, no poll involved."""
    await connected(hass, mqtt_entry)
    station = only_station(mqtt_entry)
    assert station.system_id == sim_mqtt.stations[0].system_id
    updates: list[None] = []
    unsub = station.push.async_add_listener(callback(lambda: updates.append(None)))
    polls = sim_mqtt.count("energyflow")
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{station.station_id}_inverter_active_power"
    )
    assert entity_id is not None
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE

    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: station.view().telemetry is not None, "telemetry")
    telemetry = station.view().telemetry
    assert telemetry is not None
    assert telemetry.battery_soc is not None
    assert station.view().last_telemetry is not None
    assert station.push.telemetry_available
    assert updates
    assert sim_mqtt.count("energyflow") == polls
    state = hass.states.get(entity_id)
    assert state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    assert float(state.state) == pytest.approx(telemetry.inverter_active_power)
    unsub()


async def test_push_does_not_reset_the_poll_timer(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """Pushes leave the poll schedule alone (telemetry more often than the poll interval
    must not starve the polling, as ``async_set_updated_data`` would)."""
    await connected(hass, mqtt_entry)
    station = only_station(mqtt_entry)
    live = station.live
    assert live is not None
    scheduled = live._unsub_refresh
    assert scheduled is not None
    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: station.view().telemetry is not None, "telemetry")
    assert live._unsub_refresh is scheduled

    polls = sim_mqtt.count("energyflow")
    async_fire_time_changed(hass, dt_util.utcnow() + ENERGY_FLOW_INTERVAL)
    # (The MQTT listener is a background task too: wait for the poll, not for them all.)
    await wait_for(hass, lambda: sim_mqtt.count("energyflow") == polls + 1, "the poll")


async def test_push_change_and_alarm(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """System changes merge; alarms are tracked while active."""
    await connected(hass, mqtt_entry)
    station = only_station(mqtt_entry)
    system_id = sim_mqtt.stations[0].system_id
    assert sim_mqtt.mqtt is not None

    def pushed() -> Any:
        return station.push.data

    await sim_mqtt.mqtt.publish_change(system_id, {"backupCutOffSOC%": "20.0"})
    await wait_for(hass, lambda: pushed().system is not None, "a change message")
    await sim_mqtt.mqtt.publish_change(system_id, {"chargeCutOffSOC%": "95.0"})
    await wait_for(
        hass,
        lambda: pushed().system is not None and pushed().system.charge_cut_off_soc == 95.0,
        "a second change message",
    )
    assert pushed().system is not None
    assert pushed().system.backup_cut_off_soc == 20.0  # kept from the first message

    await sim_mqtt.mqtt.publish_alarm(system_id, "1001", "generation")
    await wait_for(hass, lambda: "1001" in pushed().active_alarms, "an alarm")
    assert pushed().last_alarm is not None
    assert pushed().last_alarm.active
    await sim_mqtt.mqtt.publish_alarm(system_id, "1001", "recovery")
    await wait_for(hass, lambda: not pushed().active_alarms, "the alarm's recovery")
    assert pushed().last_alarm is not None
    assert not pushed().last_alarm.active


async def test_connection_lost_and_restored_logged_once(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropped by the broker: one warning, then one line when it is back."""
    push = await connected(hass, mqtt_entry)
    with caplog.at_level(logging.INFO, logger="custom_components.sigen_cloud"):
        await sim_mqtt.faults.drop_mqtt_clients()
        await wait_for(hass, lambda: not push.connected, "the drop")
        await wait_for(hass, lambda: push.connected, "the reconnection")
    assert caplog.text.count("MQTT push connection to the Sigen cloud was lost") == 1
    assert caplog.text.count("MQTT push connection to the Sigen cloud is restored") == 1


async def test_stale_telemetry_logged_once_and_recovers(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No telemetry for too long: unavailable, logged once; back with the next message."""
    await connected(hass, mqtt_entry)
    station = only_station(mqtt_entry)
    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: station.view().telemetry is not None, "telemetry")
    assert station.push.telemetry_available

    with caplog.at_level(logging.INFO, logger="custom_components.sigen_cloud"):
        # The last message is older than the limit when the periodic check runs.
        station.push.data = replace(
            station.push.data,
            last_telemetry=dt_util.utcnow() - TELEMETRY_STALE_AFTER - timedelta(seconds=1),
        )
        assert not station.push.telemetry_available
        for minutes in (1, 2):
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=minutes))
            await hass.async_block_till_done()
        assert caplog.text.count("No telemetry from station") == 1

        await sim_mqtt.publish_telemetry()
        await wait_for(hass, lambda: station.push.telemetry_available, "fresh telemetry")
    assert caplog.text.count("is flowing again") == 1


async def test_unknown_system_ignored(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages for systems that are not on the account are ignored (with two stations)."""
    from custom_components.sigen_cloud.models import AccountStation
    from custom_components.sigen_cloud.sigen import AlarmEvent, SystemData, TelemetryData

    push = mqtt_entry.runtime_data.push
    stations = mqtt_entry.runtime_data.stations
    only = next(iter(stations.values()))
    stations["other"] = replace(only, station=AccountStation("other", system_id="OTHER"))
    (telemetry,) = TelemetryData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "NOPE", "value": {"storageSOC%": "50"}}]
    )
    (system,) = SystemData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "NOPE", "value": {"chargeCutOffSOC%": "90"}}]
    )
    (alarm,) = AlarmEvent.from_mqtt_payload(
        [{"systemId": "NOPE", "alarmCode": "1", "status": "generation", "changeTime": 1}]
    )
    push.async_handle_telemetry(telemetry)
    push.async_handle_system(system)
    push.async_handle_alarm(alarm)
    push.async_handle_telemetry(telemetry)
    assert caplog.text.count("not on the account") == 1
    assert only.view().telemetry is None
    del stations["other"]
