"""The app's TOU charge/discharge schedule (§7.8 of the API notes): state and rule, no JSON.

A station's schedule is the list of periods the last ``batch/save`` stored (the save
replaces the whole list). In TOU mode the period holding the station's local weekday
and time drives the battery (:func:`schedule_battery`). Which weekday ``whichDay`` 1
is, is unknown: Monday (ISO, ``first_day = "monday"``) or Sunday (``"sunday"``, then 2
is Monday); an end ``"00:00"`` is the day's end, like ``"24:00"``.

* ``dischargeType`` 0, charge: from PV and the grid, the grid's part up to
  ``maxChargePower`` and the battery's up to ``maxPackChargePower``, until the SOC
  reaches ``gridChargeCutOffSoc`` (then the battery only stores PV surplus);
* 1, discharge: up to ``maxPackDischargePower``, the part beyond the house's load (to
  the grid) up to ``maxDischargePower``, down to ``gridDischargeCutOffSoc`` (then it
  only serves the house);
* 3 (and any other code), self-consumption, the battery's powers capped by the pack
  limits.

Then the period's ``maxBuyPower``/``maxSellPower`` cap the grid: less charging (or more
discharging) against an import beyond the cap, less discharging, more charging and
last curtailed PV against an export beyond it. A limit left out is the system's own.
The state lives beside the station (:func:`schedule_of`), not in it.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .commands import Limits, self_consume

if TYPE_CHECKING:
    from .station import SimStation

#: The power limits (kW) and cut-off SOCs (%) of a period, null = the system's own.
POWER_KEYS = (
    "maxBuyPower",
    "maxSellPower",
    "maxChargePower",
    "maxDischargePower",
    "maxPackChargePower",
    "maxPackDischargePower",
)
SOC_KEYS = ("gridChargeCutOffSoc", "gridDischargeCutOffSoc")
#: Every field of a period, in the app's order.
PERIOD_KEYS = ("currType", "dischargeType", "startTime", "endTime", "stationId", "whichDay")
ALL_KEYS = (*PERIOD_KEYS, *POWER_KEYS, *SOC_KEYS)
MAX_PERIODS = 24
CHARGE, DISCHARGE, SELF_CONSUMPTION = 0, 1, 3
DISCHARGE_TYPES = (0, 1, 2, 3)  # 2 was never seen; taken, and run as self-consumption


def clock(text: object, *, end: bool = False) -> int:
    """``"HH:MM"`` as minutes (``"24:00"`` only as an end; ValueError)."""
    if not isinstance(text, str):
        raise TypeError(f"a time must be 'HH:MM', not {text!r}")
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"a time must be 'HH:MM', not {text!r}")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > 1440 or (total == 1440 and not end):
        raise ValueError(f"a time must be 00:00-{'24:00' if end else '23:59'}, not {text!r}")
    return total


def days_of(value: object) -> frozenset[int]:
    """``whichDay`` as weekdays: ``"1,2,3"`` or ``[1, 2, 3]`` (ValueError/TypeError)."""
    items: list[object]
    if isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = list(value)
    else:
        raise TypeError(f"whichDay must be '1,2,3' or a list, not {value!r}")
    days: set[int] = set()
    for item in items:
        text = str(item).strip() if not isinstance(item, bool) else ""
        if not text.isdigit() or not 1 <= int(text) <= 7:
            raise ValueError(f"whichDay holds {item!r}, not a day 1-7")
        days.add(int(text))
    if not days:
        raise ValueError("whichDay names no day")
    return frozenset(days)


def _optional(item: dict[str, Any], key: str, high: float, *, strict: bool) -> float | None:
    """A limit: null, or a number 0..``high`` (a numeric string unless ``strict``)."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{key} must be a number or null, not {value!r}")
    if strict and isinstance(value, str):
        raise TypeError(f"{key} must be a JSON number, not {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= high:
        raise ValueError(f"{key} must be 0-{high:g}, not {value!r}")
    return number


@dataclass(frozen=True)
class Period:
    """One stored period, read (minutes of the day, weekdays, limits)."""

    days: frozenset[int]
    start: int
    end: int
    kind: int
    limits: dict[str, float | None] = field(default_factory=dict)

    def holds(self, weekday: int, minute: int) -> bool:
        """Whether the period applies at ``minute`` of ``weekday`` (a ``whichDay`` number)."""
        return weekday in self.days and self.start <= minute < self.end

    def limit(self, key: str) -> float | None:
        """A power limit (kW) or cut-off SOC (%), None = the system's own."""
        return self.limits.get(key)


def parse_period(item: object, *, strict: bool = False) -> Period:
    """A saved period object as a :class:`Period` (ValueError/TypeError)."""
    if not isinstance(item, dict):
        raise TypeError(f"a period must be an object, not {item!r}")
    kind = item.get("dischargeType")
    if isinstance(kind, bool) or kind not in DISCHARGE_TYPES:
        raise ValueError(f"dischargeType must be 0, 1 or 3, not {kind!r}")
    start, end = clock(item.get("startTime")), clock(item.get("endTime"), end=True)
    end = end or 1440  # "00:00" as an end: the day's end
    if end <= start:
        raise ValueError(f"the period {item.get('startTime')}-{item.get('endTime')} ends first")
    limits = {key: _optional(item, key, 100.0, strict=strict) for key in (*POWER_KEYS, *SOC_KEYS)}
    return Period(days_of(item.get("whichDay")), start, end, int(kind), limits)


def tiling_problem(periods: list[Period]) -> str | None:
    """Why the periods do not tile every day they name (None: they do)."""
    if len(periods) > MAX_PERIODS:
        return f"at most {MAX_PERIODS} periods, not {len(periods)}"
    by_day: dict[int, list[tuple[int, int]]] = {}
    for period in periods:
        for day in period.days:
            by_day.setdefault(day, []).append((period.start, period.end))
    for day, spans in sorted(by_day.items()):
        reach = 0
        for start, end in sorted(spans):
            if start != reach:
                return f"day {day}: a gap or overlap at {start // 60:02d}:{start % 60:02d}"
            reach = end
        if reach != 1440:
            return f"day {day} is not covered to 24:00"
    return None


@dataclass
class Schedule:
    """A station's stored schedule: the items as saved and the periods read from them."""

    items: list[dict[str, Any]] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    saved: bool = False  # whether a save ever happened (a fresh station reads "unset")
    first_day: str = "monday"  # which weekday whichDay 1 is: "monday" (ISO) or "sunday"

    def store(self, items: list[dict[str, Any]], periods: list[Period]) -> None:
        """Replace the whole schedule (already checked)."""
        self.items, self.periods, self.saved = items, periods, True

    def wire_day(self, iso_day: int) -> int:
        """The ``whichDay`` number of an ISO weekday (1 = Monday), per ``first_day``."""
        return iso_day if self.first_day == "monday" else iso_day % 7 + 1

    def active(self, weekday: int, minute: int) -> Period | None:
        """The first period holding that moment of ISO ``weekday`` (None: no period)."""
        day = self.wire_day(weekday)
        return next((p for p in self.periods if p.holds(day, minute)), None)


_SCHEDULES: weakref.WeakKeyDictionary[SimStation, Schedule] = weakref.WeakKeyDictionary()


def schedule_of(station: SimStation) -> Schedule:
    """The station's schedule (an empty one until the first save)."""
    schedule = _SCHEDULES.get(station)
    if schedule is None:
        schedule = _SCHEDULES[station] = Schedule()
    return schedule


def active_period(station: SimStation, t: float) -> Period | None:
    """The stored period that holds the station's local time ``t`` (None without one)."""
    schedule = _SCHEDULES.get(station)
    if schedule is None or not schedule.periods:
        return None
    local = station.local(t)
    return schedule.active(local.isoweekday(), local.hour * 60 + local.minute)


def _cap(value: float, limit: float | None) -> float:
    return value if limit is None else min(value, limit)


def _taper(soc: float, target: float, capacity: float) -> float:
    """The power (kW) that would move the SOC to ``target`` within one minute."""
    return max(0.0, abs(target - soc) / 100 * capacity * 60)


def schedule_battery(
    period: Period, limits: Limits, soc: float, capacity: float
) -> tuple[float, float]:
    """The battery's power (+ = charging) in ``period``, and the PV after curtailment."""
    pack_charge = _cap(limits.max_charge, period.limit("maxPackChargePower"))
    pack_discharge = _cap(limits.max_discharge, period.limit("maxPackDischargePower"))
    surplus = limits.pv - limits.load
    if period.kind == CHARGE:
        cut_off = period.limit("gridChargeCutOffSoc")
        from_grid = _cap(math.inf, period.limit("maxChargePower"))
        if cut_off is not None:
            from_grid = min(from_grid, _taper(soc, cut_off, capacity) if soc < cut_off else 0.0)
        battery = min(pack_charge, max(0.0, surplus) + from_grid)
        if battery <= 0.0:
            battery = self_consume(Limits(limits.pv, limits.load, pack_charge, pack_discharge))
    elif period.kind == DISCHARGE:
        cut_off = period.limit("gridDischargeCutOffSoc")
        to_grid = _cap(math.inf, period.limit("maxDischargePower"))
        if cut_off is not None:
            to_grid = min(to_grid, _taper(soc, cut_off, capacity) if soc > cut_off else 0.0)
        battery = -min(pack_discharge, max(0.0, -surplus) + to_grid)
        if battery >= 0.0:
            battery = self_consume(Limits(limits.pv, limits.load, pack_charge, pack_discharge))
    else:
        battery = self_consume(Limits(limits.pv, limits.load, pack_charge, pack_discharge))
    return grid_caps(period, battery, limits.pv, limits.load, (pack_charge, pack_discharge))


def grid_caps(
    period: Period, battery: float, pv: float, load: float, packs: tuple[float, float]
) -> tuple[float, float]:
    """The period's ``maxBuyPower``/``maxSellPower`` applied to the battery (and PV)."""
    pack_charge, pack_discharge = packs
    buy, sell = period.limit("maxBuyPower"), period.limit("maxSellPower")
    if buy is not None and load + battery - pv > buy:
        excess = load + battery - pv - buy
        battery = max(battery - excess, -pack_discharge)
    if sell is not None and pv - battery - load > sell:
        excess = pv - battery - load - sell
        battery = min(battery + excess, pack_charge)
        excess = pv - battery - load - sell
        if excess > 0.0:
            pv = max(0.0, pv - excess)
    return battery, pv
