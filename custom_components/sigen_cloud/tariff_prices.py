"""Prices for the cloud's tariff: read from price integrations, turned into 48 half-hours.

The cloud's tariff is one day of 30-minute slots in station-local time, in cents per
kWh (§7.14 of the API notes). Dynamic prices become a rolling plan: each half-hour of
the day carries the price of its next occurrence from the current slot on (the slots
before now carry tomorrow's price when it is known, else today's). Finer prices
(Amber's 5 minutes, Nord Pool's 15) are averaged over the half-hour, weighted by time;
coarser ones (hourly) are split. A half-hour only partly covered is refused: the cloud
takes no shorter slot.

The price integrations' attributes read here:

* Nord Pool: ``raw_today``/``raw_tomorrow``: ``{"start", "end", "value"}``;
* Tibber: ``today``/``tomorrow`` or ``prices``: ``{"startsAt", "total"}`` (an item ends
  where the next starts);
* Amber: ``forecasts``: ``{"start_time", "end_time", "per_kwh"}``;
* Octopus Energy: ``rates``: ``{"start", "end", "value_inc_vat"}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

from homeassistant.util import dt as dt_util

from .services_fields import validation_error

SLOT: Final = timedelta(minutes=30)
SLOTS_PER_DAY: Final = 48
#: Seconds of a half-hour no price may cover (Amber's intervals start a second late).
GAP_TOLERATED_S: Final = 60.0
#: A price above this (cents per kWh: 10 of the currency) is taken for a wrong unit.
MAX_PLAUSIBLE_CENTS: Final = 1000.0
#: The units a price may be given in, and their factor to cents per kWh.
UNITS: Final = {"currency/kWh": 100.0, "cent/kWh": 1.0, "currency/MWh": 0.1}
_CENT_NAMES: Final = ("c", "ct", "cent", "cents", "¢", "p", "pence", "öre", "øre", "ore", "rappen")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::00)?\s*$")


@dataclass(frozen=True, slots=True)
class Interval:
    """A price from ``start`` to ``end`` (aware), in cents per kWh."""

    start: datetime
    end: datetime
    cents: float


def unit_factor(unit: str | None) -> float | None:
    """The factor from a unit of measurement to cents per kWh (``None``: not a price unit).

    ``EUR/kWh``, ``$/kWh``: 100; ``c/kWh``, ``öre/kWh``, ``p/kWh``: 1; ``EUR/MWh``: 0.1.
    """
    if unit is None:
        return None
    if unit in UNITS:
        return UNITS[unit]
    money, sep, energy = unit.replace(" ", "").rpartition("/")
    if not sep or not money or energy.lower() not in ("kwh", "mwh"):
        return None
    factor = 1.0 if money.lower() in _CENT_NAMES else 100.0
    return factor / 1000.0 if energy.lower() == "mwh" else factor


def _time(value: Any, zone: tzinfo) -> datetime | None:
    """A datetime or ISO text (naive: in ``zone``)."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = dt_util.parse_datetime(value.strip())
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _number(value: Any) -> float | None:
    """A finite number (from a number or its text); booleans are not."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _items(attributes: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    """The mappings of the lists under ``keys`` (missing or ``None`` lists are empty)."""
    found: list[Mapping[str, Any]] = []
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, list):
            found.extend(item for item in value if isinstance(item, Mapping))
    return found


def _spans(
    items: Sequence[Mapping[str, Any]],
    keys: tuple[str, str | None, str],
    zone: tzinfo,
    factor: float,
) -> list[Interval]:
    """Intervals of items with a start, an end (or the next item's start) and a price."""
    start_key, end_key, value_key = keys
    rows: list[tuple[datetime, datetime | None, float]] = []
    for item in items:
        start = _time(item.get(start_key), zone)
        value = _number(item.get(value_key))
        if start is None or value is None:
            continue
        end = _time(item.get(end_key), zone) if end_key else None
        rows.append((start, end, value))
    rows.sort(key=lambda row: row[0])
    intervals = []
    for index, (start, given_end, value) in enumerate(rows):
        end = given_end
        if end is None:
            following = rows[index + 1][0] if index + 1 < len(rows) else None
            step = (following - start) if following else None
            if step is None and index:
                step = start - rows[index - 1][0]
            end = start + (step or timedelta(hours=1))
        if end > start:
            intervals.append(Interval(start, end, value * factor))
    return intervals


def _nord_pool(attrs: Mapping[str, Any], zone: tzinfo, factor: float) -> list[Interval]:
    items = _items(attrs, "raw_today", "raw_tomorrow")
    return _spans(items, ("start", "end", "value"), zone, factor)


def _tibber(attrs: Mapping[str, Any], zone: tzinfo, factor: float) -> list[Interval]:
    items = _items(attrs, "today", "tomorrow", "prices")
    return _spans(items, ("startsAt", None, "total"), zone, factor)


def _amber(attrs: Mapping[str, Any], zone: tzinfo, factor: float) -> list[Interval]:
    items = _items(attrs, "forecasts")
    return _spans(items, ("start_time", "end_time", "per_kwh"), zone, factor)


def _octopus(attrs: Mapping[str, Any], zone: tzinfo, factor: float) -> list[Interval]:
    items = _items(attrs, "rates")
    return _spans(items, ("start", "end", "value_inc_vat"), zone, factor)


type Reader = Callable[[Mapping[str, Any], tzinfo, float], list[Interval]]

#: Each format: how to tell it (an attribute and a key of its items), how to read it.
FORMATS: Final[dict[str, tuple[tuple[str, ...], str, Reader]]] = {
    "nord_pool": (("raw_today", "raw_tomorrow"), "value", _nord_pool),
    "tibber": (("today", "tomorrow", "prices"), "startsAt", _tibber),
    "amber": (("forecasts",), "per_kwh", _amber),
    "octopus_energy": (("rates",), "value_inc_vat", _octopus),
}


def price_format(attributes: Mapping[str, Any]) -> str | None:
    """Which integration's format the attributes are in (``None``: none known)."""
    for name, (keys, marker, _reader) in FORMATS.items():
        if any(marker in item for item in _items(attributes, *keys)):
            return name
    return None


def entity_factor(fmt: str, unit: str | None, attributes: Mapping[str, Any]) -> float | None:
    """The factor to cents of an entity's prices (its unit; the format's own default).

    Nord Pool tells its unit in ``price_in_cents`` and ``unit``; an entity without a
    unit of measurement (Octopus Energy's rate events) gives the currency per kWh.
    """
    if fmt == "nord_pool" and "price_in_cents" in attributes:
        factor = 1.0 if attributes.get("price_in_cents") else 100.0
        per = str(attributes.get("unit") or "kWh")
        return factor / 1000.0 if per.lower() == "mwh" else factor
    if unit:
        return unit_factor(unit)
    return UNITS["currency/kWh"]


def read_entity(
    entity_id: str, attributes: Mapping[str, Any], unit: str | None, zone: tzinfo
) -> list[Interval]:
    """The prices of a price entity's attributes (cents per kWh)."""
    fmt = price_format(attributes)
    if fmt is None:
        raise validation_error(
            "price_format_unknown", entity=entity_id, formats=", ".join(sorted(FORMATS))
        )
    factor = entity_factor(fmt, unit, attributes)
    if factor is None:
        raise validation_error("price_unit_unknown", entity=entity_id, unit=str(unit))
    intervals = FORMATS[fmt][2](attributes, zone, factor)
    if not intervals:
        raise validation_error(
            "price_format_unknown", entity=entity_id, formats=", ".join(sorted(FORMATS))
        )
    return intervals


def clock_minutes(text: Any) -> int | None:
    """``"HH:MM"`` as minutes of the day (``"24:00"``: 1440), else ``None``."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    total = int(match.group(1)) * 60 + int(match.group(2))
    return total if int(match.group(2)) < 60 and total <= 1440 else None


def _average(intervals: Sequence[Interval], start: datetime, end: datetime) -> float | None:
    """The time-weighted price of ``start``-``end``; ``None`` unless covered (to a minute)."""
    covered, total = 0.0, 0.0
    for interval in intervals:
        begin, finish = max(interval.start, start), min(interval.end, end)
        if finish > begin:
            seconds = (finish - begin).total_seconds()
            covered += seconds
            total += interval.cents * seconds
    if covered + GAP_TOLERATED_S < (end - start).total_seconds():
        return None
    return round(total / covered, 4)


def _partly(intervals: Sequence[Interval], start: datetime, end: datetime) -> int:
    """Minutes of ``start``-``end`` some price covers (overlaps counted once at most)."""
    seconds = sum(
        max(0.0, (min(i.end, end) - max(i.start, start)).total_seconds()) for i in intervals
    )
    return int(min(seconds, (end - start).total_seconds()) // 60)


def _label(index: int) -> str:
    start = index * 30
    end = start + 30
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def half_hours(intervals: Sequence[Interval], now: datetime, zone: tzinfo) -> list[float]:
    """48 prices (cents/kWh) from 00:00 station-local, as a rolling plan from ``now``.

    Each half-hour takes its next occurrence from the current slot on, else the one a
    day before; a half-hour only partly covered, or not at all, is refused.
    """
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    current = (local.hour * 60 + local.minute) // 30
    prices: list[float] = []
    missing: list[str] = []
    for index in range(SLOTS_PER_DAY):
        day = midnight if index >= current else midnight + timedelta(days=1)
        price, part = None, 0
        for base in (day, day - timedelta(days=1)):
            start = _slot_start(base, index, zone)
            price = _average(intervals, start, start + SLOT)
            if price is not None:
                break
            part = max(part, _partly(intervals, start, start + SLOT))
        if price is not None:
            prices.append(price)
        elif part:
            raise validation_error("tariff_slot_too_short", slot=_label(index), minutes=str(part))
        else:
            missing.append(_label(index))
    if missing:
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        raise validation_error("tariff_prices_missing", count=str(len(missing)), slots=shown)
    return prices


def _slot_start(midnight: datetime, index: int, zone: tzinfo) -> datetime:
    """The start of half-hour ``index`` of a local day (wall time; DST by the zone)."""
    naive = midnight.replace(tzinfo=None) + timedelta(minutes=30 * index)
    return naive.replace(tzinfo=zone)


def clock_slots(items: Sequence[tuple[int, int, float]], zone: tzinfo) -> list[Interval]:
    """Slots of minutes of the day as intervals of a fixed day (for :func:`half_hours`)."""
    base = datetime(2000, 1, 1, tzinfo=zone)
    return [
        Interval(base + timedelta(minutes=a), base + timedelta(minutes=b), cents)
        for a, b, cents in items
    ]


def day_prices(items: Sequence[tuple[int, int, float]], zone: tzinfo) -> list[float]:
    """48 prices from clock slots ``(start min, end min, cents)`` covering the day."""
    intervals = clock_slots(items, zone)
    return half_hours(intervals, datetime(2000, 1, 1, tzinfo=zone), zone)


def check_plausible(prices: Sequence[float], unit: str) -> None:
    """Refuse prices whose size says they are in another unit than the one named."""
    worst = max((abs(price) for price in prices), default=0.0)
    if worst > MAX_PLAUSIBLE_CENTS:
        raise validation_error(
            "price_unit_mismatch",
            unit=unit,
            value=f"{worst / 100:g}",
            max=f"{MAX_PLAUSIBLE_CENTS / 100:g}",
        )
