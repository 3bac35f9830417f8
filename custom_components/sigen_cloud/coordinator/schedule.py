"""Per-station TOU charge/discharge schedule: read every 10 minutes, written safely.

The schedule changes only when the owner edits it (in the app or through
``sigen_cloud.set_schedule``), so the controls' cadence is plenty. A write replaces the
whole schedule; it goes through the station's write lock (the controls coordinator's:
one write at a time per station, whatever it changes) and is read back. A write the
cloud acknowledged but did not apply is a translated error, and the calendar shows
what the cloud holds, not what was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..const import CONTROLS_INTERVAL, DOMAIN, LOGGER, READ_REUSE_WINDOW
from ..sigen import SigenError
from ._station import StationWriteCoordinator
from .controls import not_reported

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ..sigen import SchedulePeriod


@dataclass(frozen=True, slots=True)
class ScheduleData:
    """The schedule coordinator's data: the periods (``None``: the station has none to offer)."""

    periods: tuple[SchedulePeriod, ...] | None = None


def period_key(period: SchedulePeriod) -> tuple[Any, ...]:
    """What a period means (days, times, action, limits): how a read-back is compared."""
    return (
        tuple(sorted(period.days)),
        period.start,
        period.end,
        period.discharge_type,
        period.max_buy,
        period.max_sell,
        period.max_charge,
        period.max_discharge,
        period.max_pack_charge,
        period.max_pack_discharge,
        period.charge_cut_off_soc,
        period.discharge_cut_off_soc,
    )


def same_schedule(first: Sequence[SchedulePeriod], second: Sequence[SchedulePeriod]) -> bool:
    """Whether two schedules hold the same periods (in any order)."""
    return sorted(map(period_key, first)) == sorted(map(period_key, second))


class SigenScheduleCoordinator(StationWriteCoordinator[ScheduleData]):
    """The TOU charge/discharge schedule of one app API station."""

    interval = CONTROLS_INTERVAL

    _read_at: datetime | None = None

    async def _async_fetch(self) -> ScheduleData:
        """The periods; a station whose cloud refuses the read has none (not a failure).

        Read under the station's write lock: a poll that began before a write would
        otherwise replace the write's read-back with the schedule from before it.
        """
        async with self._write_lock:
            try:
                periods = await self.client.schedule.get_schedule(station_id=self.station_id)
            except SigenError as err:
                if not not_reported(err):
                    raise
                LOGGER.debug("Station %s does not report a TOU schedule: %s", self.station_id, err)
                return ScheduleData()
            self._read_at = dt_util.utcnow()
        return ScheduleData(tuple(periods))

    async def async_get_schedule(self) -> tuple[SchedulePeriod, ...]:
        """The schedule: the one read within ``READ_REUSE_WINDOW`` (5 min), else read now.

        The cloud asks for about one request per endpoint per 5 minutes (§7.0), so an
        automation asking every minute is answered from the last read or write.
        """
        read_at, data = self._read_at, self.data
        fresh = read_at is not None and dt_util.utcnow() - read_at < READ_REUSE_WINDOW
        if fresh and data is not None and data.periods is not None:
            return data.periods
        async with self._write_lock:
            periods = tuple(await self.client.schedule.get_schedule(station_id=self.station_id))
            self._read_at = dt_util.utcnow()
            self.async_set_updated_data(ScheduleData(periods))
        return periods

    @property
    def periods(self) -> tuple[SchedulePeriod, ...]:
        """The periods known now (none before the first read or without a schedule)."""
        data: ScheduleData | None = self.data
        return () if data is None or data.periods is None else data.periods

    async def async_set_schedule(
        self, periods: Sequence[SchedulePeriod | Mapping[str, Any]]
    ) -> tuple[SchedulePeriod, ...]:
        """Replace the schedule with ``periods`` and return the schedule read back.

        The library checks everything first (its errors pass through: nothing was
        sent). A read-back that fails or differs from what was written raises a
        translated :class:`HomeAssistantError`; the data then shows what the cloud
        holds (or stays as it was, when the read-back failed) and a refresh follows.
        """
        sid = self.station_id
        async with self._write_lock:
            written = await self.client.schedule.set_schedule(periods, station_id=sid)
            try:
                read = await self.client.schedule.get_schedule(station_id=sid)
            except SigenError as err:
                LOGGER.debug("Reading back the schedule of station %s failed: %s", sid, err)
                self._refresh_later()
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="schedule_unconfirmed",
                    translation_placeholders={"station": sid, "error": str(err)},
                ) from err
            self._read_at = dt_util.utcnow()
            self.async_set_updated_data(ScheduleData(tuple(read)))
            if not same_schedule(written, read):
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="schedule_not_applied",
                    translation_placeholders={"station": sid},
                )
        return tuple(read)

    def _refresh_later(self) -> None:
        """Ask for the schedule again soon (after the write lock is released)."""
        self.config_entry.async_create_background_task(
            self.hass, self.async_request_refresh(), f"{DOMAIN} schedule refresh {self.station_id}"
        )
