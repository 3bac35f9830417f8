"""Times of day and weekday lists of the app's schedules (TOU schedule, peak shaving).

Both schedules name a period by ``startTime``/``endTime`` (``"HH:MM"``, station local
time, the day's end written ``"24:00"``) and by ``whichDay``, a comma-separated list of
day numbers. Which weekday is 1 is not documented; the library takes ISO's numbering
(1 = Monday … 7 = Sunday), which is also Python's ``isoweekday()``. The cloud's own
spelling of ``whichDay`` is unknown beyond ``"1,2,3,4,5,6,7"``, so the readers also take
a JSON list of numbers, a single number and ``"1-5"`` ranges.

The readers never raise (``None`` for an unreadable value, like every parser of
:mod:`sigen._parse`); :func:`check_day_periods` is for what a caller asks to write and
raises :class:`~sigen.errors.SigenValidationError` naming the bad period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from ..errors import SigenValidationError

#: Minutes in a day: ``"24:00"``, the end of the last period.
DAY_MINUTES: Final = 24 * 60
#: Every day of the week, ISO numbering (1 = Monday).
ALL_DAYS: Final = frozenset(range(1, 8))

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::00)?\s*$")
_RANGE = re.compile(r"^\s*(\d)\s*-\s*(\d)\s*$")


def parse_hhmm(value: object) -> int | None:
    """Minutes since midnight of ``"HH:MM"`` (``"H:MM"``, ``"HH:MM:00"``); 0-1440.

    ``"24:00"`` is 1440, the end of the day; anything later or unreadable is ``None``.
    """
    if not isinstance(value, str):
        return None
    match = _HHMM.match(value)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours * 60 + minutes > DAY_MINUTES:
        return None
    return hours * 60 + minutes


def format_hhmm(minutes: int) -> str:
    """``"HH:MM"`` of minutes since midnight (1440 is ``"24:00"``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_of(part: object) -> set[int] | None:
    """The days of one item of a day list: a number, ``"3"`` or ``"1-5"``."""
    if isinstance(part, int) and not isinstance(part, bool):
        part = str(part)
    if not isinstance(part, str):
        return None
    text = part.strip()
    match = _RANGE.match(text)
    first, last = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if text.isdigit():
        first = last = int(text)
    if first not in ALL_DAYS or last not in ALL_DAYS or first > last:
        return None
    return set(range(first, last + 1))


def parse_days(value: object) -> frozenset[int] | None:
    """The weekdays (1 = Monday … 7) of ``"1,2,3"``, ``[1, 2]``, ``3`` or ``"1-5"``.

    ``None`` when any item is unreadable or the list is empty: a period whose days are
    not known is not guessed.
    """
    items: Iterable[object]
    if isinstance(value, str):
        items = [item for item in value.split(",") if item.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        items = [value]
    days: set[int] = set()
    for item in items:
        found = _days_of(item)
        if found is None:
            return None
        days |= found
    return frozenset(days) if days else None


def format_days(days: Iterable[int]) -> str:
    """The cloud's ``whichDay`` spelling: ``"1,2,3,4,5,6,7"`` (sorted, no spaces)."""
    return ",".join(str(day) for day in sorted(set(days)))


def check_days(days: object, where: str) -> frozenset[int]:
    """The weekdays asked for in ``where``, or a :class:`SigenValidationError`."""
    found = parse_days(days)
    if found is None:
        raise SigenValidationError(
            f"{where}: days must be weekday numbers from 1 (Monday) to 7 (Sunday), got {days!r}"
        )
    return found


def check_time(value: object, where: str, *, end: bool = False) -> int:
    """Minutes of an ``"HH:MM"`` asked for in ``where`` (``"24:00"`` only as an end)."""
    minutes = parse_hhmm(value)
    if minutes is None or (minutes == DAY_MINUTES and not end):
        last = "24:00" if end else "23:59"
        raise SigenValidationError(
            f"{where}: time must be HH:MM from 00:00 to {last}, got {value!r}"
        )
    return minutes


def check_day_periods(
    periods: Iterable[tuple[frozenset[int], int, int]], *, tile_day: bool = False
) -> None:
    """Raise when periods on the same weekday overlap, or one ends before it starts.

    Each period is ``(days, start, end)`` in minutes (end 1..1440, after start).
    ``tile_day``: the periods of each day they name must also cover 00:00-24:00 without
    a gap (the TOU schedule's rule, as the app's backend expects).
    """
    by_day: dict[int, list[tuple[int, int, int]]] = {}
    for number, (days, start, end) in enumerate(periods, start=1):
        if end <= start:
            raise SigenValidationError(
                f"Period {number}: the end {format_hhmm(end)} must be after "
                f"the start {format_hhmm(start)}"
            )
        for day in days:
            by_day.setdefault(day, []).append((start, end, number))
    for day, spans in sorted(by_day.items()):
        spans.sort()
        reach = 0
        for start, end, number in spans:
            if start < reach:
                raise SigenValidationError(
                    f"Period {number} ({format_hhmm(start)}-{format_hhmm(end)}) overlaps "
                    f"an earlier period on day {day}"
                )
            if tile_day and start > reach:
                raise SigenValidationError(
                    f"Day {day} has no period from {format_hhmm(reach)} to "
                    f"{format_hhmm(start)}: the periods must cover the whole day"
                )
            reach = end
        if tile_day and reach < DAY_MINUTES:
            raise SigenValidationError(
                f"Day {day} has no period from {format_hhmm(reach)} to 24:00: "
                "the periods must cover the whole day"
            )
