"""The stations' past: a deterministic history back to a commissioning date.

Any day can be asked for and always gives the same answer: a day is worked out from
the station's day curves (:mod:`.curves`, the live model's, whose noise is a hash of
the seed and the time) with a day's weather and season, and a battery that serves the
house (self-consumption), starting the day where the day before left it (seeded every
four weeks). Nothing here depends on when it is asked, except which rows exist yet.

:func:`generate_day` gives the true 5-minute intervals of a local day (276, 288 or 300
of them: the clocks go forward, stay, go back) with the six counters cumulative since
local midnight at each interval's end. :class:`HistoryArchive` is what the cloud has
of them: nothing before commissioning, no row for an interval that has not ended yet
or that fell in an offline stretch, now and then a dropout row whose counters read 0,
and the northbound lifetime totals with their dip after midnight. The JSON is made
beside the routes (:mod:`sigen_sim.app_api.history`, :mod:`sigen_sim.northbound_history`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from . import curves

if TYPE_CHECKING:
    from ..clock import SimClock
    from ..config import SimConfig
    from .station import SimStation

#: Seconds of one row.
ROW_SECONDS: Final = 300
#: The counters, in the order of :attr:`Interval.counters`, by their app-API keys.
COUNTER_KEYS: Final = (
    "powerGeneration",
    "powerUse",
    "powerToGrid",
    "powerFromGrid",
    "esCharging",
    "esDischarging",
)
#: The northbound Sankey node of each counter (same order), then the nodes always 0.
NODE_IDS: Final = ("FROM_SOLAR", "TO_LOAD", "TO_GRID", "FROM_GRID", "TO_BATTERY", "FROM_BATTERY")
ZERO_NODES: Final = ("FROM_THIRD_PARTY_INV", "TO_EVDC", "FROM_EVDC")
#: The node a lifetime answer lacks in the first minutes after midnight.
MISSING_NODE: Final = "TO_BATTERY"
MISSING_NODE_MINUTES: Final = 10.0
_MIN_SOC: Final = 5.0
#: How often (days) the battery's SOC at midnight is seeded rather than carried over.
SOC_ANCHOR_DAYS: Final = 28


@dataclass(frozen=True, slots=True)
class HistoryParams:
    """What a station's history depends on (a cache key)."""

    seed: int
    timezone: str
    pv_capacity: float
    battery_capacity: float
    base_load_kw: float
    max_charge_kw: float
    max_discharge_kw: float

    @classmethod
    def of(cls, station: SimStation) -> HistoryParams:
        """The parameters of ``station``."""
        return cls(
            station.seed,
            station.clock.timezone,
            station.pv_capacity,
            station.battery_capacity,
            station.base_load_kw,
            station.max_charge_kw,
            station.max_discharge_kw,
        )


@dataclass(frozen=True, slots=True)
class Interval:
    """One true 5-minute interval: average powers (kW, the app API's signs) and counters.

    ``battery`` + = charging, ``grid`` + = export; ``soc`` at the interval's end;
    ``counters`` (kWh, :data:`COUNTER_KEYS` order) cumulative since local midnight at
    the interval's end.
    """

    start: float
    pv: float
    load: float
    battery: float
    grid: float
    soc: float
    counters: tuple[float, ...]


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """Epoch seconds of the local midnight starting ``day`` and of the next one."""
    start = datetime.combine(day, time(), tzinfo=zone).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).timestamp()
    return start, end


def _sun_factor(seed: int, day: date) -> float:
    """The day's weather and season, scaling the clear-sky PV curve (0.2 … 1)."""
    weather = 0.35 + 0.65 * curves.noise(seed, "history-weather", day.toordinal())
    season = 0.6 + 0.4 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 172) / 365.25)
    return weather * season


def start_soc(params: HistoryParams, day: date) -> float:
    """The SOC at the start of ``day``: the day before's last, or a seeded one.

    Every :data:`SOC_ANCHOR_DAYS` days it is seeded afresh, so that a day needs at most
    that many days before it to be worked out.
    """
    if day.toordinal() % SOC_ANCHOR_DAYS == 0:
        return 15.0 + 70.0 * curves.noise(params.seed, "history-soc", day.toordinal())
    return generate_day(params, day - timedelta(days=1))[-1].soc


@functools.lru_cache(maxsize=4096)
def generate_day(params: HistoryParams, day: date) -> tuple[Interval, ...]:
    """The true intervals of a local day of a station, deterministic."""
    zone = ZoneInfo(params.timezone)
    first, last = day_bounds(day, zone)
    sun = _sun_factor(params.seed, day)
    soc = start_soc(params, day)
    per_hour = 3600 / ROW_SECONDS
    counters = [0.0] * len(COUNTER_KEYS)
    intervals = []
    for index in range(round((last - first) / ROW_SECONDS)):
        start = first + index * ROW_SECONDS
        middle = start + ROW_SECONDS / 2
        local = datetime.fromtimestamp(middle, zone)
        pv = round(curves.pv_kw(params.pv_capacity, params.seed, middle, local) * sun, 3)
        load = round(curves.household_kw(params.base_load_kw, params.seed, middle, local), 3)
        room = (100.0 - soc) / 100 * params.battery_capacity * per_hour
        available = max(0.0, soc - _MIN_SOC) / 100 * params.battery_capacity * per_hour
        if pv >= load:
            battery = round(min(pv - load, params.max_charge_kw, room), 3)
        else:
            battery = -round(min(load - pv, params.max_discharge_kw, available), 3)
        grid = round(pv - battery - load, 3)
        soc = min(100.0, max(0.0, soc + battery / per_hour / params.battery_capacity * 100))
        for position, kw in enumerate(
            (pv, load, max(grid, 0.0), max(-grid, 0.0), max(battery, 0.0), max(-battery, 0.0))
        ):
            counters[position] += kw / per_hour
        intervals.append(
            Interval(start, pv, load, battery + 0.0, grid + 0.0, round(soc, 1), tuple(counters))
        )
    return tuple(intervals)


@dataclass(frozen=True, slots=True)
class CloudDay:
    """A day as the cloud has it.

    ``rows`` are (interval, dropout) pairs; ``totals`` the last row's true counters
    (``None`` without rows); ``before`` is True for a day before commissioning.
    """

    day: date
    rows: tuple[tuple[Interval, bool], ...]
    totals: tuple[float, ...] | None
    before: bool = False


def _parse_local(text: str, zone: ZoneInfo) -> float:
    """A local ISO date-time (``2026-03-01T10:00``) as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


class HistoryArchive:
    """What the simulated cloud has of its stations' past, on the simulated clock.

    The commissioning date and the default offline stretch are fixed when it is made
    (from the clock's time then); the other switches are read at each call.
    """

    def __init__(self, clock: SimClock, config: SimConfig) -> None:
        """The archive of a simulator with ``clock`` and ``config``."""
        self.clock = clock
        self.config = config
        self.zone = ZoneInfo(clock.timezone)
        started = clock.local().date()
        self.commissioning: date = (
            date.fromisoformat(config.commissioning_date)
            if config.commissioning_date
            else started - timedelta(days=config.history_days)
        )
        self._default_offline = (
            datetime.combine(started - timedelta(days=20), time(10), tzinfo=self.zone).timestamp(),
            datetime.combine(started - timedelta(days=18), time(14), tzinfo=self.zone).timestamp(),
        )
        self._lifetime: dict[HistoryParams, tuple[date, tuple[float, ...]]] = {}
        self.offline_stretches()  # a malformed stretch fails now (ValueError), not later

    # ------------------------------------------------------------------ days
    def today(self) -> date:
        """The simulated local date now."""
        return self.clock.local().date()

    def offline_stretches(self) -> list[tuple[float, float]]:
        """The offline stretches as (start, end) epoch seconds: no rows inside them."""
        if self.config.history_offline is None:
            return [self._default_offline]
        return [
            (_parse_local(start, self.zone), _parse_local(end, self.zone))
            for start, end in self.config.history_offline
        ]

    def is_dropout(self, station: SimStation, interval: Interval) -> bool:
        """Whether the cloud's row of ``interval`` is a dropout (deterministic)."""
        rate = self.config.history_dropout_rate
        bucket = int(interval.start // ROW_SECONDS)
        return rate > 0 and curves.noise(station.seed, "history-dropout", bucket) < rate

    def true_day(self, station: SimStation, day: date) -> tuple[Interval, ...]:
        """The true intervals of ``day`` (whatever the cloud has of them)."""
        return generate_day(HistoryParams.of(station), day)

    def day(self, station: SimStation, day: date) -> CloudDay:
        """``day`` of ``station`` as the cloud has it now."""
        if day < self.commissioning:
            return CloudDay(day, (), None, before=True)
        now = self.clock.now()
        if day > self.clock.local(now).date():
            return CloudDay(day, (), None)
        stretches = self.offline_stretches()
        rows = tuple(
            (interval, self.is_dropout(station, interval))
            for interval in self.true_day(station, day)
            if interval.start + ROW_SECONDS <= now
            and not any(begin <= interval.start < end for begin, end in stretches)
        )
        return CloudDay(day, rows, rows[-1][0].counters if rows else None)

    # ------------------------------------------------------------------ totals
    def day_totals(self, station: SimStation, day: date) -> tuple[float, ...]:
        """The true counters of a whole past day, or of today so far.

        Zeros before commissioning and for a day to come.
        """
        now = self.clock.now()
        if day < self.commissioning or day > self.clock.local(now).date():
            return (0.0,) * len(COUNTER_KEYS)
        ended = [i for i in self.true_day(station, day) if i.start + ROW_SECONDS <= now]
        return ended[-1].counters if ended else (0.0,) * len(COUNTER_KEYS)

    def period_totals(self, station: SimStation, first: date, last: date) -> tuple[float, ...]:
        """The true counters summed over the days ``first`` … ``last``."""
        sums = [0.0] * len(COUNTER_KEYS)
        day = max(first, self.commissioning)
        while day <= last:
            for position, value in enumerate(self.day_totals(station, day)):
                sums[position] += value
            day += timedelta(days=1)
        return tuple(sums)

    def _before(self, station: SimStation, day: date) -> tuple[float, ...]:
        """The true counters of every day from commissioning up to ``day`` (excluded).

        Cached per station and grown a day at a time as the clock moves on.
        """
        params = HistoryParams.of(station)
        cached = self._lifetime.get(params)
        upto, sums = cached or (self.commissioning, (0.0,) * len(COUNTER_KEYS))
        if upto < day:
            added = self.period_totals(station, upto, day - timedelta(days=1))
            sums = tuple(a + b for a, b in zip(sums, added, strict=True))
        elif upto > day:
            taken = self.period_totals(station, day, upto - timedelta(days=1))
            sums = tuple(a - b for a, b in zip(sums, taken, strict=True))
        self._lifetime[params] = (day, sums)
        return sums

    def lifetime(self, station: SimStation) -> dict[str, float]:
        """The northbound lifetime totals per node, kWh, as the cloud answers them now.

        For ``nb_lifetime_dip_minutes`` after local midnight they lack yesterday (the
        dip), and for the first minutes of it the answer lacks :data:`MISSING_NODE`.
        """
        now = self.clock.local()
        today = now.date()
        since_midnight = (self.clock.now() - day_bounds(today, self.zone)[0]) / 60
        dip = since_midnight < self.config.nb_lifetime_dip_minutes
        before = self._before(station, today - timedelta(days=1) if dip else today)
        totals = [a + b for a, b in zip(before, self.day_totals(station, today), strict=True)]
        nodes = {node: round(value, 2) for node, value in zip(NODE_IDS, totals, strict=True)}
        nodes.update(dict.fromkeys(ZERO_NODES, 0.0))
        if dip and since_midnight < MISSING_NODE_MINUTES:
            del nodes[MISSING_NODE]
        return nodes
