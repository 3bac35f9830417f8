"""Alarm events of the Sigen Cloud integration (pushed over MQTT)."""

from __future__ import annotations

from typing import override

from homeassistant.components.event import EventEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenCoordinator
from .data import SigenConfigEntry
from .entity import SigenEntity, async_remove_developer_entities, async_track_stations
from .sigen import AlarmEvent

PARALLEL_UPDATES = 0

EVENT_GENERATION = "generation"
EVENT_RECOVERY = "recovery"
ATTR_ALARM_CODE = "alarm_code"
ATTR_CHANGE_TIME = "change_time"
ATTR_DESCRIPTION = "description"
ALARM_KEY = "alarm"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up an alarm event entity per station, now and as stations appear, when
    developer credentials give us MQTT.
    """
    async_remove_developer_entities(hass, entry, Platform.EVENT, [ALARM_KEY])
    if entry.runtime_data.mqtt is None:
        return
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_station(station_id: str) -> None:
        async_add_entities([SigenAlarmEvent(coordinator, station_id)])

    async_track_stations(entry, add_station)


class SigenAlarmEvent(SigenEntity, EventEntity):
    """Fires ``generation`` when an alarm is raised and ``recovery`` when it clears.

    One event per pushed alarm, in the order received, also when one message carries
    several (a raise and its recovery, several codes): the coordinator hands each
    update's new alarms over in ``StationData.new_alarms``. Alarms known when the
    entity is added are not replayed; statuses other than the two event types are
    ignored.
    """

    _attr_translation_key = "alarm"
    _attr_event_types = [EVENT_GENERATION, EVENT_RECOVERY]

    def __init__(self, coordinator: SigenCoordinator, station_id: str) -> None:
        super().__init__(coordinator, station_id, ALARM_KEY)

    def _pending(self) -> list[AlarmEvent]:
        """The alarms of the current update that make an event, in order."""
        station = self.station
        if station is None:
            return []
        return [alarm for alarm in station.new_alarms if alarm.status in self._attr_event_types]

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        for alarm in self._pending():
            attributes = {
                ATTR_ALARM_CODE: alarm.alarm_code,
                ATTR_CHANGE_TIME: alarm.change_time.isoformat(),
            }
            if alarm.description is not None:
                attributes[ATTR_DESCRIPTION] = alarm.description
            self._trigger_event(alarm.status, attributes)
            self.async_write_ha_state()  # one state (and state_changed event) per alarm
        super()._handle_coordinator_update()
