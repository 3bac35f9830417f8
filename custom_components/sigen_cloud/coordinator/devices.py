"""Per-station alarm list and device tree of the app API (no developer credentials).

The alarm list (``sigen.alarms``) is read every 5 minutes: it feeds the alarm event
entity and the active-alarm count when MQTT does not push alarms (and is cheap when it
does; the event entity deduplicates). The device tree (``sigen.devices``) is read every
30 minutes, on every 6th poll: its inverters, battery packs, gateway and chargers are
devices of their own (``device_tree.py``).

A cloud that does not offer one of the two endpoints (an API error other than a rate
limit) is logged once; that part stays ``None`` and no entity fails for it.

Alarm changes go to the subscribers of :meth:`SigenDevicesCoordinator.async_add_alarm_listener`
as :class:`ListedAlarm`: one that appears in the active list is ``generation``, one that
leaves it (or is listed recovered) ``recovery``. The first read fires nothing: what is
listed at start-up is known, not new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..sigen import AlarmRecord, DeviceNode, SigenAPIError, SigenRateLimitError
from ._listeners import Subscribers
from .base import SigenCoordinator

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import Sigen

ALARM_LIST_INTERVAL: Final = timedelta(minutes=5)
DEVICE_TREE_INTERVAL: Final = timedelta(minutes=30)
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

    ``alarms`` is ``None`` when the cloud offers no alarm list, ``tree`` when it offers
    no device tree (or it was not read yet); ``tree_read_at`` is when it was read.
    """

    alarms: tuple[AlarmRecord, ...] | None = None
    tree: tuple[DeviceNode, ...] | None = None
    tree_read_at: datetime | None = None


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
        self._missing: set[str] = set()
        self._alarm_listeners = Subscribers[ListedAlarm]()

    async def _async_fetch(self) -> DevicesData:
        """The active alarms, and the tree when it is due; an endpoint not offered is None."""
        previous = self.data
        now = dt_util.utcnow()
        tree_due = (
            previous is None
            or previous.tree_read_at is None
            or now - previous.tree_read_at >= DEVICE_TREE_INTERVAL - timedelta(seconds=5)
        )
        sid = self.station_id
        alarms_api, devices_api = self.client.alarms, self.client.devices
        if tree_due or previous is None:
            alarms, tree = await self._async_both(
                lambda: self._read("alarm list", alarms_api.get_active(station_id=sid)),
                lambda: self._read("device tree", devices_api.get_tree(station_id=sid)),
            )
            nodes = None if tree is None else tuple(tree)
            tree_read_at: datetime | None = now
        else:
            alarms = await self._read("alarm list", alarms_api.get_active(station_id=sid))
            nodes, tree_read_at = previous.tree, previous.tree_read_at
        data = DevicesData(
            alarms=None if alarms is None else tuple(alarms), tree=nodes, tree_read_at=tree_read_at
        )
        # Only a change between two lists read is news (not the first list read).
        if previous is not None and previous.alarms is not None and data.alarms is not None:
            self._announce(previous.alarms, data.alarms, now)
        return data

    async def _read[T](self, what: str, call: Awaitable[T]) -> T | None:
        """One read; ``None`` (logged once) when the cloud does not offer it."""
        try:
            result = await call
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            if what not in self._missing:
                self._missing.add(what)
                LOGGER.info(
                    "Station %s does not offer its %s (%s); going on without it",
                    self.station_id,
                    what,
                    err,
                )
            return None
        self._missing.discard(what)
        return result

    def _announce(
        self, before: tuple[AlarmRecord, ...], after: tuple[AlarmRecord, ...], now: datetime
    ) -> None:
        """Tell the listeners which alarms appeared and which left the active list."""
        old = {alarm_key(record): record for record in before}
        new = {alarm_key(record): record for record in after}
        changes = [
            ListedAlarm(GENERATION, record, record.time or now)
            for key, record in new.items()
            if key not in old
        ]
        changes += [
            ListedAlarm(RECOVERY, record, now) for key, record in old.items() if key not in new
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
