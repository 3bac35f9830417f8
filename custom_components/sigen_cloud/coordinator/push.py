"""The push coordinator of one station: what the MQTT listener brings, no polling.

Its ``update_interval`` is ``None``: Home Assistant then schedules no refresh, so
``async_set_updated_data`` (one call per pushed message) touches no timer, and only
this station's entities hear of it. Alarms also go to the subscribers of
:meth:`SigenPushCoordinator.async_add_alarm_listener` (the event entity), one call per
alarm, in the order received.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, LOGGER, TELEMETRY_STALE_AFTER
from ..models import PushData

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import AlarmEvent, SystemData, TelemetryData

type AlarmCallback = Callable[[AlarmEvent], None]


class SigenPushCoordinator(DataUpdateCoordinator[PushData]):
    """Telemetry, system data, alarms and the connection state of one station."""

    config_entry: SigenConfigEntry

    def __init__(self, hass: HomeAssistant, entry: SigenConfigEntry, station_id: str) -> None:
        """Start empty: nothing pushed yet, not connected."""
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None)
        self.station_id = station_id
        self.data = PushData()
        self._stale = False
        self._alarm_listeners: dict[int, AlarmCallback] = {}
        self._last_alarm_listener = 0

    @property
    def telemetry_available(self) -> bool:
        """Whether the push is connected and this station's telemetry is fresh."""
        data = self.data
        if data.last_telemetry is None or not data.connected:
            return False
        return dt_util.utcnow() - data.last_telemetry <= TELEMETRY_STALE_AFTER

    @callback
    def async_push_telemetry(self, telemetry: TelemetryData, *, whole: bool = False) -> None:
        """Merge a ``period`` message (possibly a delta).

        ``whole``: the message holds everything known (the MQTT client merged it with
        all it handed before, and all this station holds came from it): taken as it is,
        without a second merge.
        """
        now = dt_util.utcnow()
        data = self.data
        if self._stale:
            self._stale = False
            LOGGER.info("Telemetry of station %s is flowing again", self.station_id)
        merged = telemetry if whole or data.telemetry is None else data.telemetry.merge(telemetry)
        self.async_set_updated_data(
            replace(
                data,
                telemetry=merged,
                last_telemetry=now,
                operational_mode_at=(
                    now if telemetry.operational_mode is not None else data.operational_mode_at
                ),
            )
        )

    @callback
    def async_push_system(self, system: SystemData) -> None:
        """Merge a ``change`` message."""
        data = self.data
        merged = data.system.merge(system) if data.system else system
        self.async_set_updated_data(replace(data, system=merged))

    @callback
    def async_push_alarm(self, alarm: AlarmEvent) -> None:
        """Record an alarm (raised or cleared), then hand it to the alarm listeners."""
        active = dict(self.data.active_alarms)
        if alarm.active:
            active[alarm.alarm_code] = alarm
        else:
            active.pop(alarm.alarm_code, None)
        self.async_set_updated_data(replace(self.data, active_alarms=active, last_alarm=alarm))
        for listener in list(self._alarm_listeners.values()):
            listener(alarm)

    @callback
    def async_add_alarm_listener(self, listener: AlarmCallback) -> CALLBACK_TYPE:
        """Call ``listener`` with every alarm pushed from now on; returns the remover."""
        self._last_alarm_listener += 1
        key = self._last_alarm_listener
        self._alarm_listeners[key] = listener

        @callback
        def remove() -> None:
            self._alarm_listeners.pop(key, None)

        return remove

    @callback
    def async_set_connected(self, connected: bool) -> None:
        """The MQTT connection came up or went down (push entities follow)."""
        if self.data.connected != connected:
            self.async_set_updated_data(replace(self.data, connected=connected))

    @callback
    def async_check_stale(self, now: datetime) -> None:
        """Log once when the telemetry goes stale, and update availability."""
        last = self.data.last_telemetry
        if last is None or self._stale or now - last <= TELEMETRY_STALE_AFTER:
            return
        self._stale = True
        LOGGER.warning(
            "No telemetry from station %s for %s; its push sensors are unavailable",
            self.station_id,
            TELEMETRY_STALE_AFTER,
        )
        self.async_update_listeners()
