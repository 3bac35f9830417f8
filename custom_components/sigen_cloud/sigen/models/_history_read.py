"""Reading the history answers, whatever their nesting and spelling (API notes §7.18).

The sources agree on the field names but not on where the day totals and the row list
sit inside ``data`` (one object with both, the totals under a key of their own, a list
holding that object), and numbers may come as strings. Row times are local wall-clock
labels (``"20260630 14:35"``; the northbound form ``"2026-06-30 14:35"`` too): on the
day the clocks go back a label comes twice, and its second coming is the second pass
through that hour (``fold=1``), whatever order the rows are in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

from .._parse import parse_energy_kwh, parse_epoch, parse_number, parse_str
from ..errors import SigenAPIError
from .history import DayEnergy, EnergyRow, PowerPoint, PowerSeries

_LOGGER = logging.getLogger(__name__)

_ROW_LIST_KEYS: Final = ("itemList", "items", "list", "dataList", "detailList", "rows", "records")
_TOTALS_KEYS: Final = ("totals", "total", "summary", "dayTotal", "statistics")
_TIME_KEYS: Final = ("dataTime", "time", "date")
_SERIES_KEYS: Final = ("dataSeries", "series", "seriesList")
_POINT_KEYS: Final = ("points", "data", "values")
_ID_KEYS: Final = ("id", "name", "seriesId", "nodeId")
#: ``YYYYMMDD`` or ``YYYY-MM-DD``, optionally with ``HH:MM`` or ``HH:MM:SS``.
_DATE_TIME_RE: Final = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_CLOCK_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
#: Digit strings longer than a ``YYYYMMDD`` date are epoch seconds or milliseconds.
_DATE_DIGITS: Final = 8
_LAST_MINUTE: Final = 59


def parse_wall_time(value: object, day: date | None = None) -> datetime | None:
    """A row's time: a naive local wall-clock time, or an aware one for an epoch value.

    ``"20260630 14:35"``, ``"2026-06-30 14:35:00"``, ``"20260630"`` (midnight), a bare
    ``"14:35"`` on ``day``; ``"24:00"`` is the next midnight. A number, or a digit string
    longer than a date, is epoch seconds or milliseconds (aware, UTC).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_epoch(value)
    text = parse_str(value)
    if text is None:
        return None
    text = text.strip()
    if text.isdigit() and len(text) > _DATE_DIGITS:
        return parse_epoch(text)
    return _wall_time(text, day)


def _wall_time(text: str, day: date | None) -> datetime | None:
    """A date-time text, or a bare clock time on ``day``, as a naive datetime."""
    match = _DATE_TIME_RE.match(text)
    if match is not None:
        year, month, mday, hour, minute, second = match.groups()
        base = (int(year), int(month), int(mday))
    elif day is not None and (match := _CLOCK_RE.match(text)) is not None:
        hour, minute, second = match.groups()
        base = (day.year, day.month, day.day)
    else:
        return None
    clock = (int(hour or 0), int(minute or 0), int(second or 0))
    if clock > (24, 0, 0) or clock[1] > _LAST_MINUTE or clock[2] > _LAST_MINUTE:
        return None
    try:
        return datetime(*base) + timedelta(hours=clock[0], minutes=clock[1], seconds=clock[2])
    except ValueError:
        return None


def parse_local_date(value: object, zone: tzinfo) -> date | None:
    """A local date from a text or an epoch value, else ``None``.

    ``YYYY-MM-DD`` or ``YYYYMMDD``, with a time or not; an epoch value gives its date
    in ``zone``.
    """
    moment = parse_wall_time(value)
    if moment is None:
        return None
    return moment.astimezone(zone).date() if moment.tzinfo is not None else moment.date()


def localize(times: list[datetime | None], zone: tzinfo) -> list[datetime | None]:
    """Aware times in ``zone``: a wall time's second coming gets ``fold=1``."""
    seen: dict[datetime, int] = {}
    result: list[datetime | None] = []
    for wall in times:
        if wall is None or wall.tzinfo is not None:
            result.append(None if wall is None else wall.astimezone(zone))
            continue
        count = seen.get(wall, 0)
        seen[wall] = count + 1
        result.append(wall.replace(tzinfo=zone, fold=1 if count else 0))
    return result


def _first_of(source: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` that ``source`` holds (not ``null``)."""
    return next((source[key] for key in keys if source.get(key) is not None), None)


def _list_under(source: Mapping[str, Any], keys: tuple[str, ...]) -> list[Any] | None:
    """The first list among ``keys`` of ``source``."""
    return next((source[key] for key in keys if isinstance(source.get(key), list)), None)


def _mappings(items: list[Any]) -> list[Mapping[str, Any]]:
    """The objects of a list (anything else is skipped)."""
    return [item for item in items if isinstance(item, Mapping)]


def _is_row(item: Mapping[str, Any]) -> bool:
    """Whether an object is a 5-minute row (it has a time) rather than day totals."""
    return any(item.get(key) is not None for key in _TIME_KEYS)


def _day_parts(data: object) -> tuple[dict[str, Any], list[Any]]:
    """The object holding a day's totals, and its row list, wherever ``data`` has them."""
    if data is None or data == "":
        return {}, []
    if isinstance(data, list):
        objects = _mappings(data)
        if objects and all(_is_row(item) for item in objects):
            return {}, objects  # a bare row list: no totals
        return _day_parts(objects[0]) if objects else ({}, [])
    if not isinstance(data, Mapping):
        raise SigenAPIError(
            f"Cannot read a day's energy: expected a JSON object or list, got {type(data).__name__}"
        )
    totals = next((data[key] for key in _TOTALS_KEYS if isinstance(data.get(key), Mapping)), data)
    rows = _list_under(data, _ROW_LIST_KEYS)
    if rows is None and totals is not data:
        rows = _list_under(totals, _ROW_LIST_KEYS)
    return dict(totals), rows or []


def read_rows(items: list[Any], day: date, zone: tzinfo) -> tuple[EnergyRow, ...]:
    """The rows of a day, in time order; a row without a readable time is skipped."""
    objects = _mappings(items)
    starts = localize([parse_wall_time(_first_of(item, _TIME_KEYS), day) for item in objects], zone)
    rows: dict[float, EnergyRow] = {}
    for item, start in zip(objects, starts, strict=True):
        if start is None:
            _LOGGER.debug("Skipping an energy row without a readable time: %s", item)
            continue
        rows.setdefault(start.timestamp(), EnergyRow.build(dict(item), start=start))
    return tuple(rows[key] for key in sorted(rows))


def read_day(data: object, day: date, zone: tzinfo) -> DayEnergy:
    """A :class:`DayEnergy` from the ``data`` of ``statistics/energy``, in any nesting."""
    totals, items = _day_parts(data)
    return DayEnergy.build(totals, day=day, zone=zone, rows=read_rows(items, day, zone))


def _points(series: Mapping[str, Any], day: date, zone: tzinfo) -> tuple[PowerPoint, ...]:
    """The readable points of one series, in time order."""
    objects = _mappings(_list_under(series, _POINT_KEYS) or [])
    starts = localize([parse_wall_time(_first_of(item, _TIME_KEYS), day) for item in objects], zone)
    points: dict[float, PowerPoint] = {}
    for item, start in zip(objects, starts, strict=True):
        value = parse_number(item.get("value"))
        if start is not None and value is not None:
            points.setdefault(start.timestamp(), PowerPoint(start, value))
    return tuple(points[key] for key in sorted(points))


def read_power_series(data: object, day: date, zone: tzinfo) -> PowerSeries:
    """A :class:`PowerSeries` from the ``data`` of ``statistics/v1/energy``."""
    raw: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {"data": data}
    if isinstance(data, Mapping):
        chart = data.get("chartData", data)
        listed = _first_of(chart, _SERIES_KEYS) if isinstance(chart, Mapping) else chart
    else:
        listed = data
    if listed is not None and not isinstance(listed, list):
        raise SigenAPIError(
            f"Cannot read a power series: expected a list of series, got {type(listed).__name__}"
        )
    series: dict[str, tuple[PowerPoint, ...]] = {}
    for item in _mappings(listed or []):
        series_id = parse_str(_first_of(item, _ID_KEYS))
        if series_id is not None:
            series[series_id] = _points(item, day, zone)
    return PowerSeries(day=day, zone=zone, series=series, raw=raw)


def read_lifetime_totals(data: object) -> dict[str, float]:
    """Node id → kWh from the ``data`` of northbound ``v1/history`` (``sankeyData.nodes``).

    A node without a readable id or value is left out (an answer can lack a node).
    """
    nodes: object = data
    if isinstance(data, Mapping):
        sankey = data.get("sankeyData", data)
        nodes = sankey.get("nodes") if isinstance(sankey, Mapping) else sankey
    if not isinstance(nodes, list):
        raise SigenAPIError(
            "Cannot read the lifetime totals: expected sankeyData.nodes, a list, "
            f"got {type(nodes).__name__}"
        )
    totals: dict[str, float] = {}
    for node in _mappings(nodes):
        node_id = parse_str(_first_of(node, _ID_KEYS))
        value = parse_energy_kwh(node.get("value"))
        if node_id is not None and value is not None:
            totals[node_id] = value
    return totals
