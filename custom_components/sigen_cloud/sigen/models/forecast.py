"""Sigen's AI forecast of the app API: PV and load power and the battery's SOC ahead.

``prediction/predictData/get/predictData/{stationId}`` answers ``nowTime`` (when the
forecast was made) and the lists ``pvList``, ``loadList`` and ``socList`` of points
``{"time": "YYYY-MM-DD HH:MM", "timestamp": <epoch s>, "value": <number>}``, 15 minutes
apart; PV and load are power in kW, SOC in % (§7.12 of the API notes). ``time`` is the
station's local time. In the one sample the ``timestamp`` disagrees with ``time``, so a
point's time is its ``time`` in the station's zone when the zone is known, its
``timestamp`` otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

from .._parse import parse_epoch, parse_number, parse_str
from ._base import SigenModel, require_mapping

#: The lists of the answer, by the series' name.
SERIES_KEYS: Final = {"pv": "pvList", "load": "loadList", "soc": "socList"}
#: The spacing of the points when a series has only one.
DEFAULT_STEP: Final = timedelta(minutes=15)
_LOCAL_FORMATS: Final = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
)


def parse_local_time(value: object, zone: tzinfo | None) -> datetime | None:
    """A station-local ``"YYYY-MM-DD HH:MM"`` in ``zone`` (``None``: unreadable or no zone).

    An aware ISO text keeps its own offset.
    """
    text = parse_str(value)
    if text is None:
        return None
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for form in _LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        return parsed
    return None if zone is None else parsed.replace(tzinfo=zone)


def parse_epoch_only(value: object) -> datetime | None:
    """Epoch seconds or ms given as a number or digits (a date text is not one)."""
    if isinstance(value, str) and not value.strip().isdigit():
        return None
    return parse_epoch(value)


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """One point of a forecast series: an aware time and a value (kW or %)."""

    time: datetime
    value: float


def read_points(items: object, zone: tzinfo | None) -> tuple[ForecastPoint, ...]:
    """The readable points of a series in time order (one without value or time is left out)."""
    if not isinstance(items, list):
        return ()
    points: list[ForecastPoint] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        value = parse_number(item.get("value"))
        when = parse_local_time(item.get("time"), zone) or parse_epoch_only(item.get("timestamp"))
        if value is not None and when is not None:
            points.append(ForecastPoint(when, value))
    points.sort(key=lambda point: point.time)
    return tuple(points)


def _step(points: tuple[ForecastPoint, ...]) -> timedelta:
    """The spacing of a series (the smallest gap; 15 minutes for a single point)."""
    gaps = [b.time - a.time for a, b in itertools.pairwise(points) if b.time > a.time]
    return min(gaps, default=DEFAULT_STEP)


def energy_between(points: Iterable[ForecastPoint], start: datetime, end: datetime) -> float:
    """The energy (kWh) of a power series between ``start`` and ``end`` (aware).

    Each point's power holds for one step from its time; the part of a step inside the
    window counts.
    """
    series = tuple(points)
    step = _step(series)
    total = 0.0
    for point in series:
        begin, finish = max(point.time, start), min(point.time + step, end)
        if finish > begin:
            total += point.value * (finish - begin).total_seconds() / 3600.0
    return round(total, 6) + 0.0


def value_at(points: Iterable[ForecastPoint], when: datetime) -> float | None:
    """The value of the point whose step holds ``when`` (``None`` outside the series)."""
    series = tuple(points)
    step = _step(series)
    for point in series:
        if point.time <= when < point.time + step:
            return point.value
    return None


@dataclass(frozen=True)
class Forecast(SigenModel):
    """Sigen's AI forecast of one station.

    ``made_at`` is when it was made (``nowTime``, aware; ``None`` without one),
    ``pv`` and ``load`` power series (kW) and ``soc`` the battery's SOC (%), each a
    tuple of :class:`ForecastPoint` in time order.
    """

    WHAT = "the forecast"

    made_at: datetime | None = None
    pv: tuple[ForecastPoint, ...] = ()
    load: tuple[ForecastPoint, ...] = ()
    soc: tuple[ForecastPoint, ...] = ()
    time_zone: tzinfo | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, data: Mapping[str, Any], zone: tzinfo | None) -> Forecast:
        """Read the cloud's answer; local times are in ``zone`` (else the timestamps)."""
        source = require_mapping(cls.WHAT, data)
        now_time = source.get("nowTime")
        made = parse_local_time(now_time, zone) or parse_epoch_only(now_time)
        series = {name: read_points(source.get(key), zone) for name, key in SERIES_KEYS.items()}
        return cls(made_at=made, time_zone=zone, raw=source, **series)

    def pv_energy(self, start: datetime, end: datetime) -> float:
        """The PV energy forecast between ``start`` and ``end`` (kWh)."""
        return energy_between(self.pv, start, end)

    def pv_energy_remaining_today(self, now: datetime) -> float:
        """The PV energy forecast from ``now`` to the end of its day (kWh).

        The day is the station's (its zone), else ``now``'s own.
        """
        local = now.astimezone(self.time_zone or now.tzinfo or UTC)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return self.pv_energy(now, midnight)

    def at(self, series: str, when: datetime) -> float | None:
        """The value of ``series`` (``"pv"``, ``"load"`` or ``"soc"``) at ``when``."""
        return value_at(getattr(self, series), when)
