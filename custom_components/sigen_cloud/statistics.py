"""A station's energy history as external long-term statistics (issue 19).

Each of the cloud's six counters is one external statistic of the integration,
``sigen_cloud:<station>_<kind>`` (``kind`` as :data:`~.sigen.models.history.COUNTERS`),
hourly, kWh, with ``sum`` (kWh since the first hour imported) and ``state`` (the day's
counter since local midnight at the hour's end, as the app shows it). The Energy
dashboard can select them.

How the sums stay right:

* an hour's energy is the sum of its 5-minute deltas (the library's dropout rule: a
  counter that goes down within a day is skipped, only local midnight resets), so a
  day's hours add up to the cloud's day total;
* hours are whole hours of UTC: a day has 23 or 25 of them when the clocks change;
* an hour the cloud has no rows for is not written (a gap, never a zero); its energy,
  when the counters show it later, is in the next hour that has a row;
* a day's sums continue from the last sum stored before its local midnight, so writing
  the same days again writes the same rows (idempotent), and the series written live
  (today's hours, see :mod:`.history_import`) continues the imported one without a jump.

These are separate series from the sensors' own statistics: the Energy dashboard
takes one or the other for a flow, never both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN
from .sigen.models.history import COUNTERS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .sigen.models import DayEnergy

#: What each counter is called in the statistic's name.
KIND_NAMES: Final = {
    "pv": "PV production",
    "consumption": "home consumption",
    "grid_export": "grid export",
    "grid_import": "grid import",
    "battery_charge": "battery charge",
    "battery_discharge": "battery discharge",
}
#: How far back a day's starting sum is looked for before the whole past is read.
_RECENT: Final = timedelta(days=7)
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)

type Sums = dict[str, float]


def statistic_id(station_id: str, kind: str) -> str:
    """The external statistic of a station's counter (lower case, as Home Assistant wants)."""
    return f"{DOMAIN}:{station_id.lower()}_{kind}"


def recorder_loaded(hass: HomeAssistant) -> bool:
    """Whether long-term statistics can be written (the recorder is set up)."""
    return "recorder" in hass.config.components


def midnight(day: date, zone: tzinfo) -> datetime:
    """The local midnight starting ``day``, aware."""
    return datetime.combine(day, time(), tzinfo=zone)


@dataclass(frozen=True, slots=True)
class DayRows:
    """The statistic rows of one day per counter, and the sums at its end."""

    rows: dict[str, list[StatisticData]]
    sums: Sums
    hours: int


def day_rows(day: DayEnergy, base: Sums, *, complete_only: bool = False) -> DayRows:
    """The hourly rows of ``day`` continuing the sums ``base`` (kWh per counter).

    With ``complete_only`` an hour is written only once its last row is in (today's
    hours as they complete); a missing counter value adds nothing to its sum.
    """
    sums = dict(base)
    running = dict.fromkeys(COUNTERS, 0.0)
    rows: dict[str, list[StatisticData]] = {kind: [] for kind in COUNTERS}
    last_end = max((row.start.timestamp() for row in day.rows), default=0.0) + 300
    hours = 0
    for hour in day.hourly():
        if complete_only and hour.end.timestamp() > last_end:
            break
        hours += 1
        start = hour.start.astimezone(UTC)
        for kind in COUNTERS:
            amount = getattr(hour, kind)
            if amount is not None and math.isfinite(amount):
                running[kind] += amount
                sums[kind] = sums.get(kind, 0.0) + amount
            rows[kind].append(
                StatisticData(
                    start=start, state=round(running[kind], 6), sum=round(sums.get(kind, 0.0), 6)
                )
            )
    if not complete_only and hours:
        _top_up(day, running, sums, rows)
    return DayRows(rows, sums, hours)


def _top_up(
    day: DayEnergy, running: Sums, sums: Sums, rows: dict[str, list[StatisticData]]
) -> None:
    """A whole day ends at the cloud's day total: a last row lost to a dropout counts.

    The day totals are the last interval's counters even when that row read 0; what
    the rows lack of them goes to the day's last hour.
    """
    for kind, total in day.counters().items():
        missing = round((total or 0.0) - running[kind], 6)
        if missing > 0 and rows[kind]:
            running[kind] += missing
            sums[kind] = sums.get(kind, 0.0) + missing
            last = rows[kind][-1]
            last["state"] = round(running[kind], 6)
            last["sum"] = round(sums[kind], 6)


class StationStatistics:
    """Reads and writes one station's external statistics."""

    def __init__(self, hass: HomeAssistant, station_id: str, name: str) -> None:
        """The statistics of ``station_id``, named after the station (``name``)."""
        self.hass = hass
        self.station_id = station_id
        self.ids = {kind: statistic_id(station_id, kind) for kind in COUNTERS}
        self.metadata = {
            kind: StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=f"{name} {KIND_NAMES[kind]}",
                source=DOMAIN,
                statistic_id=self.ids[kind],
                unit_class=EnergyConverter.UNIT_CLASS,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            )
            for kind in COUNTERS
        }

    async def async_flush(self) -> None:
        """Wait until what was queued for the recorder is written (reads see it)."""
        await get_instance(self.hass).async_block_till_done()

    async def async_sums_before(self, moment: datetime) -> Sums:
        """Each counter's last sum stored for an hour starting before ``moment`` (else 0).

        The week before is read first; only when it lacks a counter is the whole past
        read (a gap of more than a week, or nothing stored yet).
        """
        await self.async_flush()
        found: Sums = {}
        for start in (moment - _RECENT, _EPOCH):
            stats = await get_instance(self.hass).async_add_executor_job(
                statistics_during_period,
                self.hass,
                start.astimezone(UTC),
                moment.astimezone(UTC),
                set(self.ids.values()),
                "hour",
                None,
                {"sum"},
            )
            for kind, stat_id in self.ids.items():
                rows = stats.get(stat_id) or []
                value = rows[-1].get("sum") if rows else None
                if kind not in found and value is not None:
                    found[kind] = float(value)
            if len(found) == len(self.ids):
                break
        return {kind: found.get(kind, 0.0) for kind in COUNTERS}

    def write(self, rows: DayRows) -> None:
        """Queue a day's rows for the recorder (an hour written before is replaced)."""
        if rows.hours == 0:
            return
        for kind in COUNTERS:
            async_add_external_statistics(self.hass, self.metadata[kind], rows.rows[kind])

    def adjust_after(self, moment: datetime, old: Sums, new: Sums) -> None:
        """Shift the sums of every hour from ``moment`` on by what an import changed.

        An import over days that later hours were already stored after changes the sum
        those later hours continue from; they move by the difference, so the series
        stays continuous (nothing happens when the import changed nothing).
        """
        recorder = get_instance(self.hass)
        for kind, stat_id in self.ids.items():
            delta = round(new.get(kind, 0.0) - old.get(kind, 0.0), 6)
            if delta:
                recorder.async_adjust_statistics(
                    stat_id, moment.astimezone(UTC), delta, UnitOfEnergy.KILO_WATT_HOUR
                )
