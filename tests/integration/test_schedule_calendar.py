"""The schedule calendar's events builder (issue 18 review A3): station local time, DST,
periods crossing midnight and ending "00:00", summaries of unknown modes.

Home Assistant checks each event in its own zone (start before end); these build events
for a Berlin station and read them in UTC, as an HA set to UTC would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.sigen_cloud.calendar import ENGLISH, events_between, occurrence, summary
from custom_components.sigen_cloud.sigen import SchedulePeriod

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = date(2027, 3, 28)  # a Sunday: Berlin's clocks jump from 02:00 to 03:00
AUTUMN = date(2027, 10, 31)  # a Sunday: back from 03:00 to 02:00


def period(start: str, end: str, kind: int | None = 3, days: str = "1,2,3,4,5,6,7") -> Any:
    item: dict[str, Any] = {"whichDay": days, "startTime": start, "endTime": end}
    if kind is not None:
        item["dischargeType"] = kind
    return SchedulePeriod.from_dict(item)


def utc_spans(events: list[Any]) -> list[tuple[str, str, str]]:
    return [
        (
            event.start.astimezone(UTC).strftime("%d %H:%M"),
            event.end.astimezone(UTC).strftime("%d %H:%M"),
            event.summary,
        )
        for event in events
    ]


def between(periods: list[Any], start: datetime, end: datetime) -> list[Any]:
    return events_between(tuple(periods), start, end, BERLIN, dict(ENGLISH))


def test_spring_forward_gap() -> None:
    """02:30-03:00 never happens; the period before it ends when the clock jumps."""
    periods = [
        period("00:00", "02:30", 0, days="7"),
        period("02:30", "03:00", 1, days="7"),
        period("03:00", "24:00", 3, days="7"),
    ]
    start = datetime(2027, 3, 27, 22, 0, tzinfo=UTC)
    events = between(periods, start, datetime(2027, 3, 28, 22, 0, tzinfo=UTC))
    assert utc_spans(events) == [
        ("27 23:00", "28 01:00", "Charge from grid"),
        ("28 01:00", "28 22:00", "Self-consumption"),
    ]
    for event in events:  # aware, in the station's zone, and lasting in every zone
        assert event.start.tzinfo is BERLIN
        assert event.end.astimezone(UTC) > event.start.astimezone(UTC)
    assert occurrence(periods[1], SPRING, BERLIN) is None


def test_fall_back_hour() -> None:
    """The repeated hour: 02:30 is its first pass; the period after it lasts 90 minutes."""
    periods = [period("00:00", "02:30", 0, days="7"), period("02:30", "03:00", 1, days="7")]
    events = between(
        periods,
        datetime(2027, 10, 30, 22, 0, tzinfo=UTC),
        datetime(2027, 10, 31, 3, 0, tzinfo=UTC),
    )
    assert utc_spans(events) == [
        ("30 22:00", "31 00:30", "Charge from grid"),
        ("31 00:30", "31 02:00", "Discharge"),
    ]
    assert occurrence(periods[0], AUTUMN, BERLIN) is not None


def test_period_crossing_midnight_rolls_into_the_next_day() -> None:
    night = period("22:00", "06:00", 0, days="1")  # Monday 22:00 to Tuesday 06:00
    events = between(
        [night], datetime(2027, 6, 7, tzinfo=BERLIN), datetime(2027, 6, 9, tzinfo=BERLIN)
    )
    assert [(e.start.isoformat(), e.end.isoformat()) for e in events] == [
        ("2027-06-07T22:00:00+02:00", "2027-06-08T06:00:00+02:00")
    ]
    # seen from Tuesday 03:00 (the Monday's occurrence is still running)
    now = datetime(2027, 6, 8, 3, 0, tzinfo=BERLIN)
    assert len(between([night], now, datetime(2027, 6, 8, 4, 0, tzinfo=BERLIN))) == 1


def test_an_end_of_midnight_is_the_days_end() -> None:
    periods = [period("00:00", "06:00", 0), period("06:00", "00:00", 3)]
    events = between(
        periods, datetime(2027, 6, 7, tzinfo=BERLIN), datetime(2027, 6, 8, tzinfo=BERLIN)
    )
    assert [(e.start.isoformat(), e.end.isoformat()) for e in events] == [
        ("2027-06-07T00:00:00+02:00", "2027-06-07T06:00:00+02:00"),
        ("2027-06-07T06:00:00+02:00", "2027-06-08T00:00:00+02:00"),
    ]


def test_periods_without_length_are_skipped() -> None:
    """A period ending as it starts (not "00:00") is no event, and no error."""
    empty = period("05:00", "05:00", 3)
    assert occurrence(empty, date(2027, 6, 7), BERLIN) is None
    assert (
        between([empty], datetime(2027, 6, 7, tzinfo=UTC), datetime(2027, 6, 9, tzinfo=UTC)) == []
    )


@pytest.mark.parametrize(
    ("kind", "text"), [(2, "Unknown mode 2"), (None, "Unknown mode"), (3, "Self-consumption")]
)
def test_summary_of_unknown_modes(kind: int | None, text: str) -> None:
    assert summary(period("00:00", "24:00", kind), dict(ENGLISH)) == text
