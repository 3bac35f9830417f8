"""Per-station battery and grid settings and manual control: read together, written safely.

The controls coordinator reads every setting an owner may change in the app (SOC
levels, battery power limits, battery export, grid export/import limitation, grid
connection current, PV limit, peak shaving) and the manual control together, every
10 minutes.

Writes go through :meth:`SigenControlsCoordinator.async_write`, one at a time per
station: the library writes the SOC levels and the power limits whole (read, change,
write), so two changes at once could undo each other. Each write is read back (the
part it changed) and the read-back is what the entities show; a value the cloud
accepted but did not apply is logged once, as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import fields, replace
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.core import CALLBACK_TYPE
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import (
    CONTROLS_INTERVAL,
    DEFAULT_MANUAL_DURATION_MIN,
    DEFAULT_MANUAL_POWER_KW,
    LOGGER,
    MANUAL_CONTROL_END_GRACE,
)
from ..models import ControlsData
from ..sigen import SigenAPIError, SigenError, SigenRateLimitError
from .base import SigenCoordinator
from .control_writes import ControlWrite, manual_start, manual_stop

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import ManualControl, Sigen

type Reader = Callable[[Sigen, str], Awaitable[Any]]

# How each part of ControlsData is read (the station id is the app API's).
_READERS: Final[Mapping[str, Reader]] = MappingProxyType(
    {
        "soc_levels": lambda c, sid: c.battery.get_soc_levels(station_id=sid),
        "power_limits": lambda c, sid: c.battery.get_power_limits(station_id=sid),
        "export_allowed": lambda c, sid: c.battery.get_export_allowed(station_id=sid),
        "export_limit": lambda c, sid: c.grid.get_limit("export", station_id=sid),
        "import_limit": lambda c, sid: c.grid.get_limit("import", station_id=sid),
        "current_limit": lambda c, sid: c.grid.get_current_limit(station_id=sid),
        "pv_limit": lambda c, sid: c.grid.get_pv_limit(station_id=sid),
        "manual": lambda c, sid: c.control.get_manual_control(station_id=sid),
        "peak_shaving": lambda c, sid: c.grid.get_peak_shaving(station_id=sid),
    }
)
PARTS: Final = tuple(field.name for field in fields(ControlsData))
assert set(PARTS) == set(_READERS)


def not_reported(err: BaseException) -> bool:
    """Whether a read's failure means the station does not offer that setting.

    The cloud refusing the request (an HTTP 4xx or an error code) says so; a rate
    limit, a 5xx, a failed connection or login is a failure of the cloud instead.
    """
    return (
        isinstance(err, SigenAPIError)
        and not isinstance(err, SigenRateLimitError)
        and (err.status_code is None or err.status_code < 500)
    )


class SigenControlsCoordinator(SigenCoordinator[ControlsData]):
    """The battery and grid settings and the manual control of one app API station.

    ``manual_duration`` (minutes) and ``manual_power`` (kW, 0 = the battery's own) are
    what the manual-control select starts a session with; the numbers beside it set
    them (and restore them after a restart).
    """

    interval = CONTROLS_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station_id: str
    ) -> None:
        """Poll the settings of ``station_id``."""
        super().__init__(hass, entry, client)
        self.station_id = station_id
        self.manual_duration: int = DEFAULT_MANUAL_DURATION_MIN
        self.manual_power: float = DEFAULT_MANUAL_POWER_KW
        self._lock = asyncio.Lock()
        self._missing: frozenset[str] = frozenset()
        self._unsub_end: CALLBACK_TYPE | None = None

    @property
    def write_lock(self) -> asyncio.Lock:
        """The station's write lock: its polls and writes, the EV chargers' and the tariff's too."""
        return self._lock

    async def _async_fetch(self) -> ControlsData:
        """Every part (at once for the first data); one the station does not offer is ``None``.

        A failure of the cloud fails the update, unless the station offers none of the
        settings at all (then there is nothing to show, and nothing is unavailable).
        """
        sid = self.station_id
        # The first data needs no lock: no write can come before it (no entity, no
        # device yet), and the station's other readers under it need not wait (issue 21).
        async with contextlib.nullcontext() if self.data is None else self._lock:
            results = await self._async_each_settled(
                [partial(read, self.client, sid) for read in _READERS.values()], not_reported
            )
        parts: dict[str, Any] = {}
        refused: dict[str, BaseException] = {}
        for name, result in zip(_READERS, results, strict=True):
            if not isinstance(result, BaseException):
                parts[name] = result
            elif not_reported(result):
                refused[name] = result
            else:
                raise result
        if refused and not parts and self.data is not None and _any_part(self.data):
            raise next(iter(refused.values()))
        self._note_missing(refused)
        data = ControlsData(**parts)
        self._schedule_end_refresh(data.manual)
        return data

    def _note_missing(self, refused: Mapping[str, BaseException]) -> None:
        """Log the settings the station stops (or starts again) offering, once each."""
        missing = frozenset(refused)
        for name in sorted(missing - self._missing):
            LOGGER.debug(
                "Station %s does not report its %s: %s", self.station_id, name, refused[name]
            )
        if back := sorted(self._missing - missing):
            LOGGER.debug("Station %s reports its %s again", self.station_id, ", ".join(back))
        self._missing = missing

    async def async_write(self, write: ControlWrite) -> None:
        """Write one setting, then read it back; one write at a time per station.

        The library's errors pass through (nothing changed in the data then). When the
        read-back fails, the part shows as written and a refresh follows.
        """
        read_back_failed = False
        async with self._lock:
            known = self.data or ControlsData()
            written = await write.send(self.client, self.station_id, known)
            try:
                value = await _READERS[write.part](self.client, self.station_id)
                also = await self._read_also(write, known)
            except SigenError as err:
                LOGGER.debug(
                    "Reading back %s of station %s failed: %s", write.what, self.station_id, err
                )
                read_back_failed = True
                value = written if written is not None else getattr(known, write.part)
                also = {}
            data = replace(self.data or ControlsData(), **also, **{write.part: value})
            self._schedule_end_refresh(data.manual)
            self.async_set_updated_data(data)
            if not read_back_failed and not write.applied(data):
                LOGGER.warning(
                    "The Sigen cloud accepted %s for station %s but did not apply it; it "
                    "reports %r, which is shown",
                    write.what,
                    self.station_id,
                    value,
                )
        if read_back_failed:
            await self.async_request_refresh()

    async def _read_also(self, write: ControlWrite, known: ControlsData) -> dict[str, Any]:
        """The other parts ``write`` may have changed, read back (those the station reports)."""
        return {
            name: await _READERS[name](self.client, self.station_id)
            for name in write.also
            if getattr(known, name) is not None
        }

    async def async_start_manual_control(
        self, mode: str, duration: int, power: float | None = None
    ) -> None:
        """Start manual control now (the library checks the arguments), read back safely.

        ``power`` in kW, ``None`` for the battery's own; for the actions as well as the
        select. The library's errors pass through.
        """
        await self.async_write(manual_start(mode, duration, power))

    async def async_stop_manual_control(self) -> None:
        """Stop manual control, read back safely; the library's errors pass through."""
        await self.async_write(manual_stop())

    def _schedule_end_refresh(self, manual: ManualControl | None) -> None:
        """Read the manual control again just after it ends by itself.

        Only an end still to come is waited for: with a clock that disagrees with the
        cloud's, the regular poll tells.
        """
        if self._unsub_end is not None:
            self._unsub_end()
            self._unsub_end = None
        if manual is None or not manual.active or manual.ends_at is None:
            return
        when = manual.ends_at + MANUAL_CONTROL_END_GRACE
        if when > dt_util.utcnow():
            self._unsub_end = async_track_point_in_utc_time(self.hass, self._async_ended, when)

    async def _async_ended(self, _now: datetime) -> None:
        """Manual control's end time passed: read the settings again."""
        self._unsub_end = None
        await self.async_request_refresh()

    @override
    async def async_shutdown(self) -> None:
        """Stop waiting for manual control's end, and stop polling."""
        if self._unsub_end is not None:
            self._unsub_end()
            self._unsub_end = None
        await super().async_shutdown()


def _any_part(data: ControlsData) -> bool:
    """Whether the station reported any of the settings."""
    return any(getattr(data, name) is not None for name in PARTS)
