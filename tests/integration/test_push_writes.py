"""A pushed message writes only the entities whose state it changed (issue 21)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.data import StationRuntime

from .conftest import wait_for


def _station(entry: MockConfigEntry) -> StationRuntime:
    return next(iter(entry.runtime_data.stations.values()))


class _Writes:
    """Every state write of the entry's entities: changed or only reported again."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry) -> None:
        registry = er.async_get(hass)
        self.ours = {
            e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        }
        self.written: list[str] = []
        self.changed: list[str] = []
        self._unsubs = [
            hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed),
            hass.bus.async_listen(EVENT_STATE_REPORTED, self._reported, event_filter=self._ours),
        ]

    @callback
    def _ours(self, data: Any) -> bool:
        return data["entity_id"] in self.ours

    @callback
    def _changed(self, event: Event[Any]) -> None:
        if event.data["entity_id"] in self.ours:
            self.written.append(event.data["entity_id"])
            self.changed.append(event.data["entity_id"])

    @callback
    def _reported(self, event: Event[Any]) -> None:
        if event.data["entity_id"] in self.ours:
            self.written.append(event.data["entity_id"])

    def clear(self) -> None:
        self.written.clear()
        self.changed.clear()

    def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()


async def _flowing(hass: HomeAssistant, entry: MockConfigEntry, sim: Any) -> StationRuntime:
    """The station once its telemetry flows, and every push entity shows it."""
    push = entry.runtime_data.push
    await wait_for(hass, lambda: push.connected, "the MQTT connection")
    station = _station(entry)
    await sim.publish_telemetry(full=True)
    await wait_for(hass, lambda: station.push.telemetry_available, "telemetry")
    return station


def _sensor(hass: HomeAssistant, station: StationRuntime, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{station.station_id}_{key}"
    )
    assert entity_id is not None
    return entity_id


async def test_unchanged_message_writes_nothing(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    station = await _flowing(hass, mqtt_entry, sim_mqtt)
    telemetry = station.push.data.telemetry
    assert telemetry is not None
    station.push.async_push_telemetry(telemetry)  # after the polls' writes: compared from now
    await hass.async_block_till_done()
    writes = _Writes(hass, mqtt_entry)
    for _ in range(3):
        station.push.async_push_telemetry(telemetry)
        await hass.async_block_till_done()
    writes.stop()
    assert writes.written == []


async def test_one_changed_value_writes_one_entity(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    station = await _flowing(hass, mqtt_entry, sim_mqtt)
    telemetry = station.push.data.telemetry
    assert telemetry is not None
    assert telemetry.battery_soc is not None
    station.push.async_push_telemetry(telemetry)
    await hass.async_block_till_done()
    soc = _sensor(hass, station, "battery_soc")
    writes = _Writes(hass, mqtt_entry)
    new_soc = 42.5 if telemetry.battery_soc != 42.5 else 43.5
    station.push.async_push_telemetry(replace(telemetry, battery_soc=new_soc))
    await hass.async_block_till_done()
    writes.stop()
    assert writes.written == [soc]
    assert float(hass.states.get(soc).state) == new_soc  # type: ignore[union-attr]


async def test_availability_changes_still_write(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    station = await _flowing(hass, mqtt_entry, sim_mqtt)
    telemetry = station.push.data.telemetry
    assert telemetry is not None
    station.push.async_push_telemetry(telemetry)
    await hass.async_block_till_done()
    # Pushed only (the battery's soc is polled too, and stays available).
    power = _sensor(hass, station, "inverter_active_power")
    writes = _Writes(hass, mqtt_entry)
    station.push.async_set_connected(False)
    await hass.async_block_till_done()
    assert power in writes.changed
    assert hass.states.get(power).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    writes.clear()
    station.push.async_set_connected(True)
    station.push.async_push_telemetry(telemetry)
    await hass.async_block_till_done()
    writes.stop()
    assert power in writes.changed
    assert hass.states.get(power).state != STATE_UNAVAILABLE  # type: ignore[union-attr]


def _entity(hass: HomeAssistant, station: StationRuntime, domain: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"{station.station_id}_{key}"
    )
    assert entity_id is not None
    return entity_id


async def test_system_message_writes_what_it_changed(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, sim_mqtt: Any
) -> None:
    """Each entity compares what it shows from its own inputs (a sensor its value, a
    number its value and range, a binary sensor on/off): a rated power that changes
    rewrites its sensor and the range of the number it bounds (an attribute only), and
    a storm watch that starts or ends turns its binary sensor on or off; nothing else is written."""
    station = await _flowing(hass, mqtt_entry, sim_mqtt)
    assert station.system_id is not None
    await sim_mqtt.publish_change(station.system_id)
    await wait_for(hass, lambda: station.push.data.system is not None, "system data")
    system = station.push.data.system
    assert system is not None
    telemetry = station.push.data.telemetry
    assert telemetry is not None
    station.push.async_push_telemetry(telemetry)
    await hass.async_block_till_done()
    rated = _entity(hass, station, "sensor", "battery_rated_charge_power")
    number = _entity(hass, station, "number", "battery_max_charge_power")
    storm = _entity(hass, station, "binary_sensor", "storm_watch")
    storm_on = hass.states.get(storm).state == "on"  # type: ignore[union-attr]
    old_max = hass.states.get(number).attributes["max"]  # type: ignore[union-attr]
    new_rated = old_max + 7.0
    writes = _Writes(hass, mqtt_entry)
    station.push.async_push_system(
        replace(system, battery_rated_charge_power=new_rated, storm_watch_status=not storm_on)
    )
    await hass.async_block_till_done()
    writes.stop()
    # The number's new range also updates its registry entry (its capabilities), and
    # Home Assistant writes it again for that: the same entities, no other.
    assert set(writes.written) == {rated, number, storm}
    assert float(hass.states.get(rated).state) == new_rated  # type: ignore[union-attr]
    assert hass.states.get(number).attributes["max"] == new_rated  # type: ignore[union-attr]
    assert (hass.states.get(storm).state == "on") is not storm_on  # type: ignore[union-attr]
