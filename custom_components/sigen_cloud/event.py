"""Alarm events of the Sigen Cloud integration: pushed over MQTT, or from the app's list.

With developer credentials alarms are pushed (MQTT); without them, and beside them,
the app API's alarm list is polled (``coordinator/devices.py``). One alarm seen both
ways fires one event: :class:`AlarmTracker` remembers what each source reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import SigenPushCoordinator
from .coordinator.devices import GENERATION, RECOVERY, ListedAlarm, SigenDevicesCoordinator
from .device_tree import async_track_tree_devices
from .entity import SigenEntity, SigenEntityDescription, async_track_stations

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .sigen import AlarmEvent

PARALLEL_UPDATES = 0

EVENT_GENERATION = GENERATION
EVENT_RECOVERY = RECOVERY
ATTR_ALARM_CODE = "alarm_code"
ATTR_CHANGE_TIME = "change_time"
ATTR_DESCRIPTION = "description"
ATTR_DEVICE_SERIAL = "device_serial"
ALARM_KEY = "alarm"
#: A recovery reported by one source this close to the other's is the same recovery
#: (the list is polled every 5 minutes, and may be read late).
SAME_RECOVERY: Final = timedelta(minutes=15)

type AlarmKey = tuple[str, str | None]


@dataclass(frozen=True, kw_only=True)
class SigenEventEntityDescription(EventEntityDescription, SigenEntityDescription):
    """An event entity of a station."""


ALARM = SigenEventEntityDescription(
    key=ALARM_KEY,
    translation_key="alarm",
    event_types=[EVENT_GENERATION, EVENT_RECOVERY],
)


@dataclass
class AlarmTracker:
    """Which alarms are raised, so that one reported twice fires once.

    An alarm is its code and device; a pushed alarm names no device and matches the
    code on any device. A raise of an alarm already raised is the same raise; a raise
    from no later than the alarm's last recovery (the cloud's times) is a late report
    of it (the list read after the push cleared it); a recovery of an alarm not
    raised, heard within :data:`SAME_RECOVERY` of the last one of its code, is the
    same recovery. Each report comes with its record's own time (the cloud's: the
    pushed change time, the listed alarm or recovery time), Home Assistant's clock
    only where the record has none (``coordinator/devices.py``). A recovery never
    seen raised still fires (MQTT may have been down when it was raised).
    """

    raised: dict[AlarmKey, datetime | None] = field(default_factory=dict)
    # code -> (the cloud's time of its last recovery, when we heard of it)
    recovered: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def _find(self, code: str, device: str | None) -> AlarmKey | None:
        for key in self.raised:
            if key[0] == code and (device is None or key[1] in (None, device)):
                return key
        return None

    def known(self, code: str, device: str | None, when: datetime | None) -> None:
        """An alarm raised before we listened: known, not announced."""
        if self._find(code, device) is None:
            self.raised[(code, device)] = when

    def accept(self, status: str, code: str, device: str | None, when: datetime) -> bool:
        """Whether this report is news (and so fires an event)."""
        key = self._find(code, device)
        last = self.recovered.get(code)
        now = dt_util.utcnow()
        if status == EVENT_GENERATION:
            if key is not None or (last is not None and when <= last[0]):
                return False
            self.raised[(code, device)] = when
            return True
        if key is None and last is not None and now - last[1] <= SAME_RECOVERY:
            return False
        if key is not None:
            del self.raised[key]
        self.recovered[code] = (when, now)
        return True


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up an alarm event entity per station, now and as stations appear.

    A station gets one when its alarms come over MQTT or from the app's alarm list.
    The station's device tree is followed here too (it has no entities of its own).
    """
    with_mqtt = entry.runtime_data.mqtt is not None

    @callback
    def add_station(station: StationRuntime) -> None:
        if with_mqtt or station.devices is not None:
            async_add_entities([SigenAlarmEvent(station, ALARM, with_mqtt=with_mqtt)])

    await async_track_stations(entry, add_station)
    async_track_tree_devices(hass, entry)


class SigenAlarmEvent(SigenEntity[SigenPushCoordinator | SigenDevicesCoordinator], EventEntity):
    """Fires ``generation`` when an alarm is raised and ``recovery`` when it clears.

    One event per alarm, in the order received, also when one pushed message carries
    several (a raise and its recovery, several codes). Alarms known when the entity is
    added are not replayed; statuses other than the two event types are ignored.
    """

    entity_description: SigenEventEntityDescription
    # The device's serial (an identifier of the owner's hardware) and the cloud's time
    # (a new value with every event: a new attributes row each) stay out of the
    # recorder's history; the code and description are few and worth keeping.
    _unrecorded_attributes = frozenset({ATTR_DEVICE_SERIAL, ATTR_CHANGE_TIME})

    def __init__(
        self,
        station: StationRuntime,
        description: SigenEventEntityDescription,
        *,
        with_mqtt: bool,
    ) -> None:
        """Listen to the push with MQTT, else to the alarm list (and to both when both run)."""
        source: SigenPushCoordinator | SigenDevicesCoordinator = station.push
        if not with_mqtt and station.devices is not None:
            source = station.devices
        super().__init__(source, station, description)
        self._tracker = AlarmTracker()

    @override
    async def async_added_to_hass(self) -> None:
        """Receive the station's alarms from now on; what is known now is not news."""
        await super().async_added_to_hass()
        for code, pushed in self.station.push.data.active_alarms.items():
            self._tracker.known(code, None, pushed.change_time)
        self.async_on_remove(self.station.push.async_add_alarm_listener(self._async_pushed))
        devices = self.station.devices
        if devices is not None:
            for record in devices.active_alarms or ():
                self._tracker.known(record.code, record.device_serial, record.time)
            self.async_on_remove(devices.async_add_alarm_listener(self._async_listed))

    @callback
    def _async_pushed(self, alarm: AlarmEvent) -> None:
        """An alarm pushed over MQTT."""
        if alarm.status not in self.event_types or not self._tracker.accept(
            alarm.status, alarm.alarm_code, None, alarm.change_time
        ):
            return
        self._fire(alarm.status, alarm.alarm_code, alarm.change_time, alarm.description, None)

    @callback
    def _async_listed(self, alarm: ListedAlarm) -> None:
        """An alarm that appeared in or left the app's alarm list."""
        record = alarm.record
        if not self._tracker.accept(alarm.status, record.code, record.device_serial, alarm.at):
            return
        self._fire(alarm.status, record.code, alarm.at, record.name, record.device_serial)

    def _fire(
        self,
        status: str,
        code: str,
        when: datetime,
        description: str | None,
        device: str | None,
    ) -> None:
        """Fire one event (one state, and state_changed event, each)."""
        attributes = {ATTR_ALARM_CODE: code, ATTR_CHANGE_TIME: when.isoformat()}
        if description is not None:
            attributes[ATTR_DESCRIPTION] = description
        if device is not None:
            attributes[ATTR_DEVICE_SERIAL] = device
        self._trigger_event(status, attributes)
        self.async_write_ha_state()
