"""Per-station alarm list and device tree of the app API (no developer credentials).

The alarm list (``sigen.alarms``) is read every 5 minutes: it feeds the alarm event
entity and the active-alarm count when MQTT does not push alarms (and is cheap when it
does; the event entity deduplicates). The device tree (``sigen.devices``) is read every
30 minutes, on every 6th poll: its inverters, battery packs, gateway and chargers are
devices of their own (``device_tree.py``).

A read that fails (an HTTP 5xx, an unknown error code, no connection) changes nothing:
the last list and tree stay and the part is read again at the next poll (the tree's
read time is not stamped). Only a clear "not offered" answer (HTTP 404 or 405, or code
1107 "only AIO systems and inverters are supported") makes a part ``None`` and marks
it in ``DevicesData.not_offered`` (logged once): then the station has no listed
alarms and no tree devices. A rate limit or a refused login fails the update as
everywhere. A part not read yet, or whose reads failed so far, is ``None`` and not
``not_offered``: unknown, and nothing is removed for it.

Alarm changes go to the subscribers of :meth:`SigenDevicesCoordinator.async_add_alarm_listener`
as :class:`ListedAlarm`: one that appears in the active list is ``generation``, one that
leaves it (or is listed recovered) ``recovery``, each at the record's own time (its
alarm time; for a recovery the listed record's recovery time) and at the time of the
read only when the record has none. The first read fires nothing: what is listed at
start-up is known, not new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..sigen import (
    AlarmRecord,
    DeviceNode,
    SigenAPIError,
    SigenConnectionError,
    SigenRateLimitError,
)
from ._listeners import Subscribers
from .base import SigenCoordinator

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import Sigen

ALARM_LIST_INTERVAL: Final = timedelta(minutes=5)
DEVICE_TREE_INTERVAL: Final = timedelta(minutes=30)
#: What says a part is not offered: HTTP statuses, and the cloud's error codes.
NOT_OFFERED_STATUSES: Final = frozenset({404, 405})
NOT_OFFERED_CODES: Final = frozenset({1107})
ALARMS: Final = "alarm list"
TREE: Final = "device tree"
NOT_OFFERED_LOG: Final = "Station %s does not offer its %s (%s); going on without it"
FAILED_LOG: Final = "Station %s: its %s could not be read (%s); the last one stays"
GENERATION: Final = "generation"
RECOVERY: Final = "recovery"

type AlarmKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class ListedAlarm:
    """An alarm the list raised or cleared: ``status``, the record, and when."""

    status: str
    record: AlarmRecord
    at: datetime


@dataclass(frozen=True, slots=True)
class DevicesData:
    """The station's active listed alarms and its device tree.

    ``alarms`` and ``tree`` are ``None`` while unknown (not read yet, or every read
    failed so far) and when the cloud does not offer them; ``not_offered`` names the
    parts (:data:`ALARMS`, :data:`TREE`) it said it does not offer. ``tree_read_at``
    is when the tree was last answered (read, or said not offered).
    """

    alarms: tuple[AlarmRecord, ...] | None = None
    tree: tuple[DeviceNode, ...] | None = None
    tree_read_at: datetime | None = None
    not_offered: tuple[str, ...] = ()

    @property
    def tree_known(self) -> bool:
        """Whether the tree is known: read, or not offered (then it has no devices)."""
        return self.tree is not None or TREE in self.not_offered

    @property
    def alarms_offered(self) -> bool:
        """Whether the alarm list may be there (read, or unknown yet; not refused)."""
        return ALARMS not in self.not_offered


class _Failed:
    """A read that failed (the last value stays)."""


class _NotOffered:
    """A read the cloud said it does not offer."""


FAILED: Final = _Failed()
NOT_OFFERED: Final = _NotOffered()


def not_offered(err: SigenAPIError) -> bool:
    """Whether the cloud's error clearly says it does not offer the endpoint."""
    return err.status_code in NOT_OFFERED_STATUSES or err.code in NOT_OFFERED_CODES


def alarm_key(record: AlarmRecord) -> AlarmKey:
    """An alarm of the list: its code and device."""
    return (record.code, record.device_serial)


class SigenDevicesCoordinator(SigenCoordinator[DevicesData]):
    """The alarm list (5 min) and the device tree (30 min) of one app API station."""

    interval = ALARM_LIST_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station_id: str
    ) -> None:
        """Poll ``station_id``'s alarm list and device tree."""
        super().__init__(hass, entry, client)
        self.station_id = station_id
        # The parts in trouble, and the message logged for it.
        self._missing: dict[str, str] = {}
        self._alarm_listeners = Subscribers[ListedAlarm]()

    async def _async_fetch(self) -> DevicesData:
        """The alarm list, and the tree when it is due; a failed part keeps its last value."""
        previous = self.data or DevicesData()
        now = dt_util.utcnow()
        tree_due = (
            self.data is None
            or previous.tree_read_at is None
            or now - previous.tree_read_at >= DEVICE_TREE_INTERVAL - timedelta(seconds=5)
        )
        sid = self.station_id
        alarms_api, devices_api = self.client.alarms, self.client.devices
        tree: list[DeviceNode] | _Failed | _NotOffered = FAILED
        if tree_due:
            records, tree = await self._async_both(
                lambda: self._read(ALARMS, alarms_api.get_records(station_id=sid)),
                lambda: self._read(TREE, devices_api.get_tree(station_id=sid)),
            )
        else:
            records = await self._read(ALARMS, alarms_api.get_records(station_id=sid))
        missing = set(previous.not_offered)
        alarms = previous.alarms
        if isinstance(records, list):
            alarms = tuple(record for record in records if record.active)
            missing.discard(ALARMS)
        elif records is NOT_OFFERED:
            alarms = None
            missing.add(ALARMS)
        nodes, tree_read_at = previous.tree, previous.tree_read_at
        if isinstance(tree, list):
            nodes, tree_read_at = tuple(tree), now
            missing.discard(TREE)
        elif tree is NOT_OFFERED:
            nodes, tree_read_at = None, now
            missing.add(TREE)
        data = DevicesData(alarms, nodes, tree_read_at, tuple(sorted(missing)))
        # Only a change between two lists read is news (not the first list read).
        if previous.alarms is not None and alarms is not None and isinstance(records, list):
            self._announce(previous.alarms, records, now)
        return data

    async def _read[T](self, what: str, call: Awaitable[T]) -> T | _Failed | _NotOffered:
        """One read: its answer, or what its failure means (each logged once)."""
        try:
            result = await call
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            if not_offered(err):
                self._log_once(what, NOT_OFFERED_LOG, err)
                return NOT_OFFERED
            self._log_once(what, FAILED_LOG, err)
            return FAILED
        except SigenConnectionError as err:
            self._log_once(what, FAILED_LOG, err)
            return FAILED
        if self._missing.pop(what, None) is not None:
            LOGGER.info("Station %s answers its %s again", self.station_id, what)
        return result

    def _log_once(self, what: str, message: str, err: Exception) -> None:
        """Log a part's trouble once (per kind of trouble), until it answers again."""
        if self._missing.get(what) != message:
            self._missing[what] = message
            LOGGER.info(message, self.station_id, what, err)

    def _announce(
        self, before: tuple[AlarmRecord, ...], records: list[AlarmRecord], now: datetime
    ) -> None:
        """Tell the listeners which alarms appeared and which left the active list.

        Each change carries the record's own time: its alarm time for a raise, the
        recovery time of its listed recovered record for a recovery; ``now`` only when
        the record has none.
        """
        old = {alarm_key(record): record for record in before}
        new = {alarm_key(record): record for record in records if record.active}
        recovered_at: dict[AlarmKey, datetime] = {}
        for record in records:
            if record.recovered_at is not None and not record.active:
                key = alarm_key(record)
                if key not in recovered_at or record.recovered_at > recovered_at[key]:
                    recovered_at[key] = record.recovered_at
        changes = [
            ListedAlarm(GENERATION, record, record.time or now)
            for key, record in new.items()
            if key not in old
        ]
        changes += [
            ListedAlarm(RECOVERY, record, recovered_at.get(key, now))
            for key, record in old.items()
            if key not in new
        ]
        for change in changes:
            self._alarm_listeners.async_call(change)

    @property
    def active_alarms(self) -> tuple[AlarmRecord, ...] | None:
        """The listed active alarms (``None``: no list, or not read yet)."""
        data: DevicesData | None = self.data
        return None if data is None else data.alarms

    @callback
    def async_add_alarm_listener(self, listener: Callable[[ListedAlarm], None]) -> CALLBACK_TYPE:
        """Call ``listener`` with every change of the alarm list from now on."""
        return self._alarm_listeners.async_add(listener)


__all__ = ["DevicesData", "ListedAlarm", "SigenDevicesCoordinator"]
