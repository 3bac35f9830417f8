"""The peak-shaving schedule of the app API (§7.7 of the API notes).

``GET device/dischargesetting/peak/shaving/{stationId}`` answers ``{"controlMode": 1,
"shavingSOC": 10, "settingList": [{"whichDay": "1,2,3,4,5,6,7", "startTime": "00:00",
"endTime": "06:00", "peakPower": 9}]}``: on/off, the SOC the battery keeps for it, and
weekly periods in which the battery discharges to keep the grid import at or under
``peakPower`` kW. Days are ISO weekdays (1 = Monday, see :mod:`._periods`); times are
station local. A period the library cannot read is skipped and logged once, never
guessed; the other periods stay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._parse import parse_bool, parse_number, parse_rounded_int
from ._base import SigenModel, wire
from ._periods import DAY_MINUTES, format_hhmm, parse_days, parse_hhmm

_LOGGER = logging.getLogger(__name__)

#: Each wire field of a period, with the spellings other clients use.
_DAY_KEYS = ("whichDay", "whichDays", "days", "weekDays")
_START_KEYS = ("startTime", "start", "beginTime")
_END_KEYS = ("endTime", "end")
_POWER_KEYS = ("peakPower", "peakPowerKw", "power", "peak_power")


@dataclass(frozen=True, slots=True)
class PeakShavingPeriod:
    """One weekly period: on ``days`` (1 = Monday) from ``start`` to ``end`` (``"HH:MM"``).

    ``peak_power_kw`` is the grid import the battery keeps the station at or under.
    ``end`` may be ``"24:00"``, the end of the day.
    """

    days: tuple[int, ...]
    start: str
    end: str
    peak_power_kw: float

    @property
    def start_minute(self) -> int:
        """Minutes since midnight of ``start``."""
        return parse_hhmm(self.start) or 0

    @property
    def end_minute(self) -> int:
        """Minutes since midnight of ``end`` (1440 for ``"24:00"``)."""
        minute = parse_hhmm(self.end)
        return DAY_MINUTES if minute is None else minute

    def holds(self, weekday: int, minute: int) -> bool:
        """Whether the period is on at ISO ``weekday`` and ``minute`` of that day."""
        return weekday in self.days and self.start_minute <= minute < self.end_minute

    def to_payload(self) -> dict[str, Any]:
        """The cloud's ``settingList`` item."""
        return {
            "whichDay": ",".join(str(day) for day in self.days),
            "startTime": self.start,
            "endTime": self.end,
            "peakPower": round(self.peak_power_kw, 1),
        }


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first value among ``keys`` that is not missing or null."""
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def parse_period(item: object) -> PeakShavingPeriod | None:
    """One ``settingList`` item, or ``None`` when any of its four values is unreadable.

    An end of ``"00:00"`` after a later start is midnight, the end of the day.
    """
    if not isinstance(item, Mapping):
        return None
    days = parse_days(_first(item, _DAY_KEYS))
    start = parse_hhmm(_first(item, _START_KEYS))
    end = parse_hhmm(_first(item, _END_KEYS))
    power = parse_number(_first(item, _POWER_KEYS))
    if days is None or start is None or end is None or power is None or power < 0:
        return None
    if end == 0:
        end = DAY_MINUTES
    if end <= start:
        return None
    return PeakShavingPeriod(tuple(sorted(days)), format_hhmm(start), format_hhmm(end), power)


def parse_periods(value: object) -> tuple[PeakShavingPeriod, ...] | None:
    """Every readable period of a ``settingList`` (``None`` when it is not a list)."""
    if not isinstance(value, list | tuple):
        return None
    periods: list[PeakShavingPeriod] = []
    for item in value:
        period = parse_period(item)
        if period is None:
            _LOGGER.warning("Skipping an unreadable peak-shaving period: %r", item)
            continue
        periods.append(period)
    return tuple(periods)


@dataclass(frozen=True)
class PeakShaving(SigenModel):
    """The station's peak shaving: ``enabled``, its ``soc`` (whole %) and ``periods``.

    ``enabled`` from ``controlMode`` (1 on, 0 off); ``soc`` from ``shavingSOC`` (the
    SOC the battery keeps for peak shaving; ``None`` when not reported); ``periods``
    from ``settingList`` (empty when there are none). The periods the library could not
    read stay in ``raw``; a write that does not replace the periods sends those back.
    """

    WHAT = "the peak-shaving schedule"

    enabled: bool = wire("controlMode", parse_bool, "enable", "enabled", default=False)
    soc: int | None = wire("shavingSOC", parse_rounded_int, "shavingSoc", "peakShavingSOC")
    periods: tuple[PeakShavingPeriod, ...] = wire(
        "settingList", parse_periods, "settings", "periods", default=()
    )
    #: When the cloud's answer arrived (UTC; ``None`` for a setting built from a write):
    #: lets a caller reuse a recent read instead of asking again.
    read_at: datetime | None = field(default=None, compare=False, repr=False, kw_only=True)

    def period_at(self, weekday: int, minute: int) -> PeakShavingPeriod | None:
        """The period on at ISO ``weekday`` and ``minute`` of the day (enabled or not)."""
        for period in self.periods:
            if period.holds(weekday, minute):
                return period
        return None
