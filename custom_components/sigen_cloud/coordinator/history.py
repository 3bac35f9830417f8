"""Per-station reading of today's energy counters from the cloud, every 5 minutes (issue 19).

``statistics/energy`` gives a day's 5-minute rows with six counters cumulative since
the station's local midnight. The energy sensors fed by it (:mod:`..energy_cloud`) show
these counters, guarded so that no spurious reset inflates a day:

* a row whose counters went down (the cloud's dropouts: one interval reading 0) is
  skipped (the library's dropout rule), and within one local day a counter never goes
  down: an answer that lacks the last rows keeps the value shown;
* the counters reset only when the station's local date changes. Before the new day's
  first value is shown, the day that ended is read once more and its final values
  shown, so the last minutes before midnight are counted (``total_increasing`` sees
  the reset from the drop to the new day's first value). The northbound lifetime
  totals, which dip for some minutes after midnight, are never used for them.

Each day read is handed to the station's statistics writer (``on_day``), which keeps
today's completed hours in the long-term statistics (:mod:`..history_import`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..helpers import station_zone
from ..sigen.models.history import COUNTERS
from .base import SigenCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..models import AccountStation
    from ..sigen import Sigen
    from ..sigen.models import DayEnergy

HISTORY_INTERVAL: Final = timedelta(minutes=5)

type Counters = dict[str, float | None]
type OnDay = Callable[["DayEnergy", bool], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HistoryData:
    """The history coordinator's data: a day's guarded counters (kWh) and its rows.

    ``counters`` maps each of :data:`COUNTERS` to kWh since local midnight (``None``
    when the cloud has no value yet); ``final`` is True for a day that ended.
    """

    day: date
    counters: dict[str, float | None]
    energy: DayEnergy
    final: bool = False


def day_counters(day: DayEnergy) -> Counters:
    """Each counter since midnight: the sum of the day's deltas (dropouts skipped).

    The cloud's day total, when it is larger (the last row was a dropout: the total
    holds its true counters), wins.
    """
    deltas = day.deltas()
    totals = day.counters()
    result: Counters = {}
    for kind in COUNTERS:
        values = [value for delta in deltas if (value := getattr(delta, kind)) is not None]
        summed = round(math.fsum(values), 3) if values else None
        total = totals.get(kind)
        result[kind] = total if summed is None or (total is not None and total > summed) else summed
    return result


def guarded(
    new: dict[str, float | None], shown: dict[str, float | None]
) -> dict[str, float | None]:
    """Within one day: never below what was shown, and a missing value keeps it."""
    result: dict[str, float | None] = {}
    for kind in COUNTERS:
        value, before = new.get(kind), shown.get(kind)
        result[kind] = before if value is None else value if before is None else max(value, before)
    return result


class SigenHistoryCoordinator(SigenCoordinator[HistoryData]):
    """Today's counters of one app API station, every 5 minutes."""

    interval = HISTORY_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station: AccountStation
    ) -> None:
        """Read the day of ``station``, in its own time zone."""
        super().__init__(hass, entry, client)
        self.station_id = station.station_id
        self.zone = station_zone(station, hass.config.time_zone)
        # The statistics writer of the station (set once the recorder is there).
        self.on_day: OnDay | None = None
        # The library checks dates against Home Assistant's clock (a simulated one too).
        client.history.today = lambda zone: dt_util.now(zone).date()

    def today(self) -> date:
        """The station's local date now."""
        return dt_util.now(self.zone).date()

    async def async_read_day(self, day: date) -> DayEnergy:
        """A day's energy of the station (one request)."""
        return await self.client.history.get_day(day, station_id=self.station_id, tz=self.zone)

    async def _async_fetch(self) -> HistoryData:
        """Today's counters; first the final values of the day that ended, if one did."""
        today = self.today()
        previous = self.data
        if previous is not None and previous.day < today and not previous.final:
            ended = await self.async_read_day(previous.day)
            final = HistoryData(
                previous.day,
                guarded(day_counters(ended), previous.counters),
                ended,
                final=True,
            )
            self.async_set_updated_data(final)
            await self._async_hand_over(ended, final=True)
            previous = final
        energy = await self.async_read_day(today)
        counters = day_counters(energy)
        if previous is not None and previous.day == today:
            counters = guarded(counters, previous.counters)
        await self._async_hand_over(energy, final=False)
        return HistoryData(today, counters, energy)

    async def _async_hand_over(self, energy: DayEnergy, *, final: bool) -> None:
        """Give the day to the statistics writer; its failure never fails the poll."""
        if self.on_day is None:
            return
        try:
            await self.on_day(energy, final)
        except Exception:  # a recorder error must not make the sensors unavailable
            LOGGER.exception("Writing the statistics of station %s failed", self.station_id)
