"""A station's energy history: day totals, 5-minute rows, power series, lifetime totals.

The app API's ``statistics/energy`` gives a day's totals and one row per 5 minutes
whose six energy counters are **cumulative since local midnight**; each row is stamped
with the local wall-clock **start** of its interval (API notes §7.18). The models here
hold them as read; the functions turn the rows into what a consumer of energy wants:

* :func:`interval_deltas`: the energy of each interval, applying the dropout rule (a
  counter that decreases within a day is a dropout: that row is skipped, only local
  midnight resets the counters);
* :func:`hourly_sums`: those deltas summed per hour, right on 23- and 25-hour days;
  an hour without rows is missing (a gap), never a zero;
* :func:`merge_lifetime_totals`: the northbound lifetime totals, guarded against their
  dip after midnight (per node the larger of the previous and the new value, the last
  value kept for a node the answer lacks).

Energies are kWh, powers kW, SOC %. Every time is an aware datetime in the station's
zone; arithmetic on them goes through epoch seconds, since Python compares and
subtracts two datetimes of one zone by wall clock, ignoring ``fold``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any, Final, NamedTuple

from .._parse import parse_energy_kwh, parse_number, parse_power_kw, parse_str, plus_zero
from ._base import SigenModel, wire

_LOGGER = logging.getLogger(__name__)

#: The six energy counters of a day and of each row, by the library's names.
COUNTERS: Final = (
    "pv",
    "consumption",
    "grid_export",
    "grid_import",
    "battery_charge",
    "battery_discharge",
)
#: Length of one row's interval, seconds.
ROW_SECONDS: Final = 300
#: How far a counter may go down before the row counts as a dropout (rounding), kWh.
DROPOUT_TOLERANCE_KWH: Final = 1e-6
_HOUR: Final = 3600


@dataclass(frozen=True)
class EnergyTotals(SigenModel):
    """The six energy counters, kWh, with the app API's names.

    ``pv`` (``powerGeneration``), ``consumption`` (``powerUse``: the household's
    use, **EV included**), ``grid_export`` (``powerToGrid``), ``grid_import``
    (``powerFromGrid``), ``battery_charge`` (``esCharging``), ``battery_discharge``
    (``esDischarging``). A value the answer lacks is ``None``, never 0.
    """

    WHAT = "energy totals"

    pv: float | None = wire("powerGeneration", parse_energy_kwh, "pvGeneration")
    consumption: float | None = wire("powerUse", parse_energy_kwh, "powerConsumption")
    grid_export: float | None = wire("powerToGrid", parse_energy_kwh, "toGrid")
    grid_import: float | None = wire("powerFromGrid", parse_energy_kwh, "fromGrid")
    battery_charge: float | None = wire("esCharging", parse_energy_kwh, "esCharge")
    battery_discharge: float | None = wire("esDischarging", parse_energy_kwh, "esDischarge")

    def counters(self) -> dict[str, float | None]:
        """The six counters by name (:data:`COUNTERS`)."""
        return {name: getattr(self, name) for name in COUNTERS}


@dataclass(frozen=True)
class EnergyRow(EnergyTotals):
    """One 5-minute row: counters cumulative since local midnight, and the interval's power.

    ``start`` is the interval's start, aware, in the station's zone (on the day the
    clocks go back, the repeated hour's second pass has ``fold=1``); ``label`` is the
    cloud's ``dataTime`` as sent. ``pv_power`` (``pvTotalPower``) and ``load_power``
    (``loadPower``: the site's whole load, EV included) in kW, ``soc`` (``batSoc``)
    in %; the grid and battery powers are there when the cloud sends them. Rows are
    built by :func:`~._history_read.read_day`, which works out ``start``.
    """

    WHAT = "a 5-minute energy row"

    label: str | None = wire("dataTime", parse_str, "time")
    pv_power: float | None = wire("pvTotalPower", parse_power_kw, "pvPower")
    load_power: float | None = wire("loadPower", parse_power_kw)
    soc: float | None = wire("batSoc", parse_number, "batterySoc", "batterySOC")
    grid_export_power: float | None = wire("toGridPower", parse_power_kw)
    grid_import_power: float | None = wire("fromGridPower", parse_power_kw)
    battery_charge_power: float | None = wire("esChargePower", parse_power_kw)
    battery_discharge_power: float | None = wire("esDischargePower", parse_power_kw)
    start: datetime = field(kw_only=True)


@dataclass(frozen=True)
class DayEnergy(EnergyTotals):
    """A day of a station (``statistics/energy``): its totals and its 5-minute rows.

    The totals are the cloud's (``None`` when the answer has none, e.g. a day still to
    come or before the station was commissioned); ``rows`` are in time order. ``day``
    is the local date asked for and ``zone`` the station's time zone the rows were
    read in. :meth:`deltas` and :meth:`hourly` give the energy per interval and hour.
    """

    WHAT = "a day's energy"

    day: date = field(kw_only=True)
    zone: tzinfo = field(kw_only=True, repr=False)
    rows: tuple[EnergyRow, ...] = field(kw_only=True, default=())

    def deltas(self) -> list[EnergyDelta]:
        """Energy per interval (see :func:`interval_deltas`)."""
        return interval_deltas(self.rows)

    def hourly(self) -> list[HourEnergy]:
        """Energy per hour (see :func:`hourly_sums`)."""
        return hourly_sums(self.deltas())


class PowerPoint(NamedTuple):
    """One point of a power series: an aware time in the station's zone and kW."""

    time: datetime
    kw: float


@dataclass(frozen=True)
class PowerSeries:
    """A day's 5-minute power series (``statistics/v1/energy``), by series id.

    Ids as the cloud names them (``FROM_SOLAR``, ``FROM_THIRD_PARTY_INV``,
    ``TO_LOAD``, ``BATTERY``, ``GRID``, ``TO_EVDC``, ``FROM_EVDC``); values are the
    interval's average power in kW **with the cloud's signs**, which the sources do
    not settle (``BATTERY`` + = discharge, ``TO_LOAD`` seemingly negative). A point
    without a value is left out. Whether ``time`` stamps the interval's start or end
    is not known either (the simulator stamps the start).
    """

    day: date
    zone: tzinfo = field(repr=False)
    series: dict[str, tuple[PowerPoint, ...]]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, series_id: str) -> tuple[PowerPoint, ...]:
        """The points of one series (``KeyError`` for an id the answer lacks)."""
        return self.series[series_id]


@dataclass(frozen=True, slots=True)
class EnergyAmounts:
    """Amounts of energy per counter, kWh; ``None`` where the cloud gave no value."""

    pv: float | None = None
    consumption: float | None = None
    grid_export: float | None = None
    grid_import: float | None = None
    battery_charge: float | None = None
    battery_discharge: float | None = None


@dataclass(frozen=True, slots=True)
class EnergyDelta(EnergyAmounts):
    """The energy of one row's interval, ``start`` to ``end``.

    ``since`` is where the previous counted row ended (local midnight for the day's
    first): after a dropout or a gap, the energy since then is in this delta, so the
    deltas of a day always add up to its last counters.
    """

    start: datetime = field(kw_only=True)
    end: datetime = field(kw_only=True)
    since: datetime = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class HourEnergy(EnergyAmounts):
    """The energy of one hour (``start`` to ``end``, aware, in the station's zone).

    ``intervals`` is how many rows it holds: 12 for a full hour; fewer when rows are
    missing (their energy is in the next row's delta).
    """

    start: datetime = field(kw_only=True)
    end: datetime = field(kw_only=True)
    intervals: int = field(kw_only=True)


def _at(instant: float, zone: tzinfo | None) -> datetime:
    """Epoch seconds as an aware datetime in ``zone`` (``fold`` set right)."""
    return datetime.fromtimestamp(instant, zone)


def _counter_values(row: EnergyRow) -> dict[str, float | None]:
    """The row's six counters by name."""
    return {name: getattr(row, name) for name in COUNTERS}


def interval_deltas(
    rows: Iterable[EnergyRow], *, interval: float = ROW_SECONDS
) -> list[EnergyDelta]:
    """The energy of each row's interval, from counters cumulative since local midnight.

    Rows are taken in time order. A row whose counters are all missing is skipped (no
    data is a gap, not a zero). A row in which a counter is lower than the last
    counted value is a **dropout** (the cloud sends 0 for one interval now and then):
    it is skipped, and the next good row's delta holds the energy since the last
    counted one. The counters start from 0 at each local midnight, the only reset. A
    counter missing from a row is ``None`` in its delta and keeps its last value.
    """
    deltas: list[EnergyDelta] = []
    base: dict[str, float] = {}
    day: date | None = None
    since = 0.0
    for row in sorted(rows, key=lambda item: item.start.timestamp()):
        values = _counter_values(row)
        zone = row.start.tzinfo
        if row.start.date() != day:
            day = row.start.date()
            base = dict.fromkeys(COUNTERS, 0.0)
            since = datetime.combine(day, time(), tzinfo=zone).timestamp()
        if all(value is None for value in values.values()):
            continue
        if any(
            value is not None and value < base[name] - DROPOUT_TOLERANCE_KWH
            for name, value in values.items()
        ):
            _LOGGER.debug("Skipping the dropout row %s (a counter went down)", row.label)
            continue
        amounts = {
            name: None if value is None else plus_zero(round(max(0.0, value - base[name]), 6))
            for name, value in values.items()
        }
        base.update({name: value for name, value in values.items() if value is not None})
        end = row.start.timestamp() + interval
        deltas.append(
            EnergyDelta(start=row.start, end=_at(end, zone), since=_at(since, zone), **amounts)
        )
        since = end
    return deltas


def _sum(values: Iterable[float | None]) -> float | None:
    """The sum of the values given, ``None`` when none is."""
    present = [value for value in values if value is not None]
    return plus_zero(round(math.fsum(present), 6)) if present else None


def hourly_sums(deltas: Iterable[EnergyDelta]) -> list[HourEnergy]:
    """The deltas summed per hour, in time order; an hour without a delta is left out.

    Hours are whole hours of UTC, which are the local hours of every zone whose offset
    is a whole number of hours; so a day has 23 of them when the clocks go forward and
    25 when they go back. An hour holds a delta by the delta's start.
    """
    buckets: dict[int, list[EnergyDelta]] = {}
    for delta in deltas:
        key = math.floor(delta.start.timestamp() / _HOUR) * _HOUR
        buckets.setdefault(key, []).append(delta)
    hours = []
    for key in sorted(buckets):
        items = buckets[key]
        zone = items[0].start.tzinfo
        sums = {name: _sum(getattr(item, name) for item in items) for name in COUNTERS}
        hours.append(
            HourEnergy(
                start=_at(key, zone), end=_at(key + _HOUR, zone), intervals=len(items), **sums
            )
        )
    return hours


def merge_lifetime_totals(
    previous: Mapping[str, float], new: Mapping[str, float]
) -> dict[str, float]:
    """The northbound lifetime totals to publish, given the last ones and a new answer.

    The cloud's lifetime totals dip by some kWh for about 30 minutes after local
    midnight and an answer can lack a node (§7.18(d)): per node, the larger of the
    previous and the new value; a node the answer lacks keeps its previous value.
    """
    merged = dict(previous)
    for node, value in new.items():
        old = merged.get(node)
        merged[node] = value if old is None else max(old, value)
    return merged
