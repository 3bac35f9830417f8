"""Alarm events of the Sigen Cloud integration (pushed over MQTT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenPushCoordinator
from .entity import (
    SigenEntity,
    SigenEntityDescription,
    async_remove_developer_entities,
    async_track_stations,
)

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .sigen import AlarmEvent

PARALLEL_UPDATES = 0

EVENT_GENERATION = "generation"
EVENT_RECOVERY = "recovery"
ATTR_ALARM_CODE = "alarm_code"
ATTR_CHANGE_TIME = "change_time"
ATTR_DESCRIPTION = "description"
ALARM_KEY = "alarm"


@dataclass(frozen=True, kw_only=True)
class SigenEventEntityDescription(EventEntityDescription, SigenEntityDescription):
    """An event entity of a station."""


ALARM = SigenEventEntityDescription(
    key=ALARM_KEY,
    translation_key="alarm",
    event_types=[EVENT_GENERATION, EVENT_RECOVERY],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up an alarm event entity per station, now and as stations appear.

    Only with developer credentials: alarms come over MQTT.
    """
    async_remove_developer_entities(hass, entry, Platform.EVENT, [ALARM_KEY])
    if entry.runtime_data.mqtt is None:
        return

    @callback
    def add_station(station: StationRuntime) -> None:
        async_add_entities([SigenAlarmEvent(station.push, station, ALARM)])

    async_track_stations(entry, add_station)


class SigenAlarmEvent(SigenEntity[SigenPushCoordinator], EventEntity):
    """Fires ``generation`` when an alarm is raised and ``recovery`` when it clears.

    One event per pushed alarm, in the order received, also when one message carries
    several (a raise and its recovery, several codes): the push coordinator hands each
    alarm to the entity as it arrives. Alarms known when the entity is added are not
    replayed; statuses other than the two event types are ignored.
    """

    entity_description: SigenEventEntityDescription

    @override
    async def async_added_to_hass(self) -> None:
        """Receive the station's alarms from now on."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_alarm_listener(self._async_alarm))

    @callback
    def _async_alarm(self, alarm: AlarmEvent) -> None:
        """Fire the event of one alarm (one state, and state_changed event, each)."""
        if alarm.status not in self.event_types:
            return
        attributes = {
            ATTR_ALARM_CODE: alarm.alarm_code,
            ATTR_CHANGE_TIME: alarm.change_time.isoformat(),
        }
        if alarm.description is not None:
            attributes[ATTR_DESCRIPTION] = alarm.description
        self._trigger_event(alarm.status, attributes)
        self.async_write_ha_state()
