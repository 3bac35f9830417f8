"""Alarm events of the Sigen Cloud integration (pushed over MQTT)."""

from __future__ import annotations

from datetime import datetime
from typing import override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenCoordinator
from .data import SigenConfigEntry
from .entity import SigenEntity
from .sigen import AlarmEvent

PARALLEL_UPDATES = 0

EVENT_GENERATION = "generation"
EVENT_RECOVERY = "recovery"
ATTR_ALARM_CODE = "alarm_code"
ATTR_CHANGE_TIME = "change_time"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up an alarm event entity per station, when developer credentials give us MQTT."""
    if entry.runtime_data.mqtt is None:
        return
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        SigenAlarmEvent(coordinator, station_id) for station_id in coordinator.data.stations
    )


def _alarm_key(alarm: AlarmEvent) -> tuple[str, str, datetime]:
    return (alarm.alarm_code, alarm.status, alarm.change_time)


class SigenAlarmEvent(SigenEntity, EventEntity):
    """Fires ``generation`` when an alarm is raised and ``recovery`` when it clears.

    Events are derived from the station's active alarms (codes that appear or go) and
    its last alarm message, so alarms pushed between two state writes are not lost.
    Alarms known when the entity is added are not replayed.
    """

    _attr_translation_key = "alarm"
    _attr_event_types = [EVENT_GENERATION, EVENT_RECOVERY]

    def __init__(self, coordinator: SigenCoordinator, station_id: str) -> None:
        super().__init__(coordinator, station_id, "alarm")
        station = self.station
        self._active: set[str] = set(station.active_alarms) if station else set()
        self._fired: set[tuple[str, str, datetime]] = set()
        if station is not None and station.last_alarm is not None:
            self._fired.add(_alarm_key(station.last_alarm))

    def _pending(self) -> list[tuple[str, str, datetime | None]]:
        """New (status, code, time) events since the last state write."""
        station = self.station
        if station is None:
            return []
        events: list[tuple[str, str, datetime | None]] = []
        last = station.last_alarm
        for code, alarm in station.active_alarms.items():
            if code not in self._active:
                events.append((EVENT_GENERATION, code, alarm.change_time))
                self._fired.add((code, EVENT_GENERATION, alarm.change_time))
        for code in sorted(self._active - set(station.active_alarms)):
            if last is not None and last.alarm_code == code and not last.active:
                events.append((EVENT_RECOVERY, code, last.change_time))
                self._fired.add(_alarm_key(last))
            else:
                events.append((EVENT_RECOVERY, code, None))
        if last is not None and _alarm_key(last) not in self._fired:
            # E.g. an alarm raised and cleared between two updates, or a recovery of an
            # alarm we never saw raised.
            events.append((last.status, last.alarm_code, last.change_time))
            self._fired.add(_alarm_key(last))
        self._active = set(station.active_alarms)
        # Only the last alarm can come back unchanged in a later update.
        self._fired = {_alarm_key(last)} if last is not None else set()
        return events

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        for status, code, when in self._pending():
            if status not in self._attr_event_types:
                continue
            self._trigger_event(
                status,
                {
                    ATTR_ALARM_CODE: code,
                    ATTR_CHANGE_TIME: when.isoformat() if when is not None else None,
                },
            )
            self.async_write_ha_state()
        super()._handle_coordinator_update()
