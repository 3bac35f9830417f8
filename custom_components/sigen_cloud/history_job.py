"""An import's plan and progress: the newest month first, then older months backwards.

The Energy dashboard opens on the recent past, so an import of a long range (the
first set-up's year or more, at one request every few seconds) does the last
:data:`CHUNK_DAYS` days first, then the month before, and so on back to its start.
Each chunk is imported oldest day first, continuing the sums stored before it; when
it ends, every later hour (the chunks done before, the live hours) moves by what the
chunk changed (:meth:`~.statistics.StationStatistics.adjust_after`).

:class:`ImportJob` is what is stored after each day: the range, the chunk under way
and how far it got, and the sums the hours after the chunk continued from when it
began. A job stored by the earlier, oldest-first import (no chunk) resumes as one
chunk of its whole range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from .statistics import Sums

#: The days of a chunk: the first one is the month the Energy dashboard shows first.
CHUNK_DAYS: Final = 31
_DAY: Final = timedelta(days=1)

type Span = tuple[date, date]


def _spans_text(spans: list[Span]) -> str:
    """``first to last`` for each span, ``nothing`` when there is none."""
    if not spans:
        return "nothing"
    return ", ".join(
        first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        for first, last in spans
    )


def _days(spans: list[Span]) -> int:
    """How many days the spans hold."""
    return sum((last - first).days + 1 for first, last in spans)


@dataclass(slots=True)
class ImportJob:
    """An import of the days ``start`` … ``end``, chunk ``first`` … ``last`` under way.

    The chunk is done up to ``next`` (excluded); the days after ``last`` are done, the
    days before ``first`` still to do. ``old_end`` are the sums stored before the day
    after ``last`` when the chunk began: the hours after it move by what it changed.
    """

    start: date
    end: date
    first: date
    last: date
    next: date
    old_end: Sums | None = None

    @classmethod
    def new(cls, start: date, end: date) -> ImportJob:
        """An import of ``start`` … ``end``, its newest month first."""
        first = max(start, end - timedelta(days=CHUNK_DAYS - 1))
        return cls(start, end, first, end, first)

    def next_chunk(self) -> bool:
        """Move on to the month before the chunk done; whether one is left."""
        if self.first <= self.start:
            return False
        self.last = self.first - _DAY
        self.first = max(self.start, self.last - timedelta(days=CHUNK_DAYS - 1))
        self.next = self.first
        self.old_end = None
        return True

    @property
    def done(self) -> list[Span]:
        """The days imported, as spans (oldest first)."""
        spans: list[Span] = []
        if self.next > self.first:
            spans.append((self.first, self.next - _DAY))
        if self.last < self.end:
            if spans and self.next > self.last:
                spans[-1] = (self.first, self.end)
            else:
                spans.append((self.last + _DAY, self.end))
        return spans

    @property
    def to_do(self) -> list[Span]:
        """The days left, as spans in the order they come (the chunk's rest first)."""
        if self.next == self.first:  # the chunk not begun: all of it and before, in one
            return [(self.start, self.last)]
        spans: list[Span] = []
        if self.next <= self.last:
            spans.append((self.next, self.last))
        if self.first > self.start:
            spans.append((self.start, self.first - _DAY))
        return spans

    def progress(self) -> str:
        """The dates done and to do, for the progress notification."""
        done, to_do = self.done, self.to_do
        return (
            f"Done: {_spans_text(done)} ({_days(done)} days).\n\n"
            f"To do: {_spans_text(to_do)} ({_days(to_do)} days)."
        )

    def as_json(self) -> dict[str, Any]:
        """The job as stored."""
        days = ("start", "end", "first", "last", "next")
        return {
            **{name: getattr(self, name).isoformat() for name in days},
            "old_end": self.old_end,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportJob:
        """A stored job (one stored without a chunk is one chunk: its whole range)."""
        start = date.fromisoformat(data["start"])
        end = date.fromisoformat(data["end"])
        return cls(
            start,
            end,
            date.fromisoformat(data.get("first") or data["start"]),
            date.fromisoformat(data.get("last") or data["end"]),
            date.fromisoformat(data["next"]),
            data.get("old_end"),
        )
