"""Peak shaving (§7.7 of the API notes): state, checks and what it does to the battery.

While peak shaving is on and one of its weekly periods holds the station's local time,
the battery keeps the grid import at or under the period's peak power: it first charges
less from the grid, then discharges for the load, as far as its power and the shaving
SOC allow (the floor is the shaving SOC, never below the discharge cut-off). Only the
operating mode's decision is shaved; a northbound command or manual control is obeyed
as it is.

Two unknowns of the cloud are :class:`~sigen_sim.config.SimConfig` variants:

* whether the endpoint's ``shavingSOC`` is the SOC levels' ``peakShavingSOC`` (§7.1):
  ``"linked"`` (one value, ``station.peak_shaving_cutoff_soc``; writing either changes
  both) or ``"separate"`` (a value of its own here);
* which weekday ``whichDay`` 1 is: ``"monday"`` (ISO, what the library assumes) or
  ``"sunday"``; and whether the days read as ``"1,2,3"`` or as ``[1, 2, 3]``.

``peakShavingStatus`` of the MQTT ``change`` message is :attr:`PeakShavingState.enabled`
(``SimStation.peak_shaving_status`` reads and writes it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from datetime import datetime

    from .commands import Limits
    from .station import SimStation

type SocLink = Literal["linked", "separate"]
type FirstDay = Literal["monday", "sunday"]

#: The most a period's peak power may be (kW), as the app offers it.
MAX_PEAK_KW = 100.0
DAY_MINUTES = 24 * 60
_HHMM = re.compile(r"^(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Period:
    """One weekly period: ISO ``days`` (1 = Monday), minutes ``start``-``end``, kW.

    An end before the start spans midnight (``"22:00"``-``"02:00"``: to 02:00 of the
    next day). Whether the cloud takes such periods is unknown; the simulator keeps and
    serves them so that a client that cannot read them is seen to leave them alone.
    """

    days: frozenset[int]
    start: int
    end: int
    peak_kw: float

    def segments(self) -> list[tuple[frozenset[int], int, int]]:
        """The period as same-day pieces: (ISO days, start minute, end minute)."""
        if self.start < self.end:
            return [(self.days, self.start, self.end)]
        next_days = frozenset(day % 7 + 1 for day in self.days)
        return [(self.days, self.start, DAY_MINUTES), (next_days, 0, self.end)]

    def holds(self, weekday: int, minute: int) -> bool:
        """Whether the period is on at ISO ``weekday`` and ``minute`` of the day."""
        return any(
            weekday in days and start <= minute < end for days, start, end in self.segments()
        )


@dataclass
class PeakShavingState:
    """A station's peak-shaving setting (``soc`` is used only when not linked)."""

    enabled: bool = False
    soc: float = 10.0
    link: SocLink = "linked"
    first_day: FirstDay = "monday"
    periods: list[Period] = field(default_factory=list)

    def wire_day(self, iso_day: int) -> int:
        """The cloud's day number of an ISO weekday."""
        return iso_day if self.first_day == "monday" else iso_day % 7 + 1

    def iso_day(self, wire_day: int) -> int:
        """The ISO weekday of the cloud's day number."""
        return wire_day if self.first_day == "monday" else (wire_day - 2) % 7 + 1

    def peak_at(self, local: datetime) -> float | None:
        """The peak power in force at station-local ``local`` (``None``: not shaving)."""
        if not self.enabled:
            return None
        minute = local.hour * 60 + local.minute
        for period in self.periods:
            if period.holds(local.isoweekday(), minute):
                return period.peak_kw
        return None


class PeakShavingStatus:
    """``SimStation.peak_shaving_status`` (MQTT ``peakShavingStatus``): its peak shaving's on/off.

    One value for the app's ``controlMode`` and the push, so writing either changes both.
    """

    def __get__(self, station: SimStation, owner: type | None = None) -> bool:
        """Whether the station's peak shaving is on."""
        return station.peak_shaving.enabled

    def __set__(self, station: SimStation, on: bool) -> None:
        """Switch the station's peak shaving (the control API's ``change`` fields)."""
        station.peak_shaving.enabled = on


def shaving_soc(station: SimStation) -> float:
    """The SOC peak shaving keeps (the SOC levels' one when linked)."""
    state = station.peak_shaving
    return station.peak_shaving_cutoff_soc if state.link == "linked" else state.soc


def hhmm(text: object, key: str, *, end: bool = False) -> int:
    """Minutes of a ``"HH:MM"`` (``"24:00"`` only as an end; ValueError otherwise)."""
    match = _HHMM.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(2)) >= 60:
        raise ValueError(f"{key} must be HH:MM, not {text!r}")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > DAY_MINUTES or (minutes == DAY_MINUTES and not end):
        raise ValueError(f"{key} must be 00:00-{'24:00' if end else '23:59'}, not {text!r}")
    return minutes


def check_periods(periods: list[Period]) -> None:
    """ValueError for a period without length, or two on one day that overlap.

    A period whose end is before its start spans midnight (see :class:`Period`).
    """
    for number, period in enumerate(periods, start=1):
        if period.end == period.start:
            raise ValueError(f"period {number} ends where it starts")
        if not period.days or not period.days <= set(range(1, 8)):
            raise ValueError(f"period {number}: days must be 1-7")
        if not 0.0 <= period.peak_kw <= MAX_PEAK_KW:
            raise ValueError(f"period {number}: peakPower must be 0-{MAX_PEAK_KW:g} kW")
        for other in periods[: number - 1]:
            if any(
                days & other_days and other_start < end and start < other_end
                for days, start, end in period.segments()
                for other_days, other_start, other_end in other.segments()
            ):
                raise ValueError(f"period {number} overlaps another on the same day")


def set_peak_shaving(
    station: SimStation,
    *,
    enabled: bool | None = None,
    soc: float | None = None,
    periods: list[Period] | None = None,
) -> None:
    """Change what is given (checked first: ValueError, nothing changed).

    The model is integrated up to now under the old setting; a linked SOC is the SOC
    levels' peak-shaving SOC.
    """
    if soc is not None and not 0.0 <= soc <= 100.0:
        raise ValueError(f"shavingSOC must be 0-100, not {soc:g}")
    if periods is not None:
        check_periods(periods)
    station.sync()
    state = station.peak_shaving
    if enabled is not None:
        state.enabled = enabled
    if soc is not None:
        if state.link == "linked":
            station.peak_shaving_cutoff_soc = soc
        else:
            state.soc = soc
    if periods is not None:
        state.periods = list(periods)


def shave_peak(
    station: SimStation, t: float, battery: float, limits: Limits, max_discharge: float
) -> float:
    """The battery power (+ = charging) after peak shaving at ``t``.

    ``max_discharge`` is the battery's discharge power (rated, lowered by the owner);
    ``limits.load`` includes the chargers.
    """
    peak = station.peak_shaving.peak_at(station.local(t))
    if peak is None:
        return battery
    excess = limits.load + battery - limits.pv - peak  # import above the peak
    if excess <= 0.0:
        return battery
    if battery > 0.0:
        less = min(excess, battery)
        battery -= less
        excess -= less
    floor = max(shaving_soc(station), station.discharge_cutoff_soc)
    avail_kw = max(0.0, (station.soc - floor) / 100 * station.battery_capacity) * 60
    more = max(0.0, min(excess, min(max_discharge, avail_kw) + battery))
    return battery - more
