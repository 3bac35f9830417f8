"""An offline station (issue 14): its energy flow has ``stationStatus`` 4, every power
``null`` and no ``greenSourceInfos``. Its readings are unavailable in Home Assistant,
never 0; its station status reads "disconnected"; it comes back by itself. Against the
simulator, switched offline and online through its control API."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.energy import ENERGY_SENSORS
from custom_components.sigen_cloud.sensor import SENSORS

from .platform_helpers import (
    FROZEN_SIM,
    STATION_ID,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
    unload,
    view_of,
    wait_for,
    wait_for_push,
)

# Live readings of the polled energy flow, and one of the push (MQTT) readings.
POLLED = [d.key for d in SENSORS if d.live and not d.mqtt_only] + [d.key for d in ENERGY_SENSORS]
PUSHED = "inverter_active_power"


def readings(hass: HomeAssistant) -> list[str]:
    """The keys of the station's polled readings that exist (no EV on the station)."""
    registry = er.async_get(hass)
    keys = [
        key
        for key in POLLED
        if registry.async_get_entity_id("sensor", DOMAIN, f"{STATION_ID}_{key}") is not None
    ]
    assert len(keys) >= 15
    return keys


def entity_id(hass: HomeAssistant, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{STATION_ID}_{key}")
    assert found is not None, key
    return found


def state_of(hass: HomeAssistant, key: str) -> str:
    state = hass.states.get(entity_id(hass, key))
    assert state is not None, key
    return state.state


async def set_offline(sim: Any, offline: bool) -> None:
    """The station goes offline or comes back (the simulator's control API)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{sim.control_url}stations/{SYSTEM_ID}/offline", json={"offline": offline}
        ) as resp,
    ):
        assert resp.status == 200
        assert (await resp.json())["data"]["offline"] is offline


async def poll(hass: HomeAssistant, entry: Any) -> None:
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()


@pytest.mark.sim_config(**FROZEN_SIM, offline_stations=(0,))
async def test_offline_station_readings_are_unavailable(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Set up while offline: every reading unavailable (no 0, not even a new energy
    counter's); logged once; all back with the first poll after it is online."""
    with caplog.at_level(logging.INFO, logger="custom_components.sigen_cloud"):
        entry = await setup_entry(hass, sim, Platform.SENSOR, enable_all=True)
        assert view_of(entry).energy_flow.is_offline
        for key in readings(hass):
            assert state_of(hass, key) == STATE_UNAVAILABLE, key
        assert state_of(hass, "station_status") == "disconnected"
        assert state_of(hass, "grid_status") == "on_grid"
        await poll(hass, entry)  # still offline: no second warning
        assert caplog.text.count(f"reports station {STATION_ID} offline") == 1

        await set_offline(sim, False)
        await poll(hass, entry)
        assert caplog.text.count(f"Station {STATION_ID} is online again") == 1
    for key in readings(hass):
        assert state_of(hass, key) != STATE_UNAVAILABLE, key
    assert float(state_of(hass, "pv_power")) > 0  # noon
    assert state_of(hass, "station_status") == "running"
    await unload(hass, entry)


@pytest.mark.sim_config(**FROZEN_SIM)
async def test_station_going_offline_with_push(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """With MQTT: the poll that finds the station offline makes the readings, pushed ones
    too, unavailable (the offline station pushes nothing); telemetry newer than that
    poll, or a poll that finds it online, brings them back."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True, enable_all=True)
    await wait_for_push(hass, sim_mqtt, entry)
    assert state_of(hass, PUSHED) != STATE_UNAVAILABLE

    await set_offline(sim_mqtt, True)
    await poll(hass, entry)
    for key in (*readings(hass), PUSHED):
        assert state_of(hass, key) == STATE_UNAVAILABLE, key
    assert state_of(hass, "station_status") == "disconnected"
    before = view_of(entry).telemetry
    published = sim_mqtt.mqtt.published_count
    await sim_mqtt.publish_telemetry()
    assert sim_mqtt.mqtt.published_count == published  # nothing to send
    assert view_of(entry).telemetry is before

    # Back: its first push is newer than the offline poll and shows it.
    await set_offline(sim_mqtt, False)
    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: view_of(entry).telemetry is not before)
    for key in ("pv_power", "battery_power", PUSHED):
        assert state_of(hass, key) != STATE_UNAVAILABLE, key
    telemetry = view_of(entry).telemetry
    assert telemetry is not None
    assert float(state_of(hass, "pv_power")) == pytest.approx(telemetry.pv_power)
    assert state_of(hass, "station_status") == "disconnected"  # the poll's word, until...

    await set_offline(sim_mqtt, True)
    await poll(hass, entry)
    assert state_of(hass, "pv_power") == STATE_UNAVAILABLE
    await set_offline(sim_mqtt, False)
    await poll(hass, entry)  # ...the next poll
    for key in (*readings(hass), PUSHED):
        assert state_of(hass, key) != STATE_UNAVAILABLE, key
    assert state_of(hass, "station_status") == "running"
    await unload(hass, entry)
