"""The simulator's clock: simulated epoch seconds, optionally faster than real time."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo


class SimClock:
    """Simulated wall clock.

    ``now()`` = ``start`` + (real seconds since creation) * ``time_scale`` + manual offset.
    ``time_scale=0`` freezes time so only :meth:`advance` moves it (fully deterministic).
    """

    def __init__(
        self,
        *,
        start: float | None = None,
        time_scale: float = 1.0,
        timezone: str = "Europe/Dublin",
    ) -> None:
        """A clock starting at ``start`` (default: now) in ``timezone``."""
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {time_scale}")
        self._start = time.time() if start is None else float(start)
        self._real_start = time.monotonic()
        self._offset = 0.0
        self.time_scale = float(time_scale)
        self.tz: tzinfo = ZoneInfo(timezone)
        self.timezone = timezone

    def now(self) -> float:
        """Simulated epoch seconds."""
        elapsed = (time.monotonic() - self._real_start) * self.time_scale
        return self._start + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        """Jump the clock forward by ``seconds`` simulated seconds."""
        if seconds < 0:
            raise ValueError(f"The simulated clock cannot go back ({seconds} s)")
        self._offset += float(seconds)

    def local(self, ts: float | None = None) -> datetime:
        """The simulated time (or ``ts``) as an aware datetime in the station's time zone."""
        return datetime.fromtimestamp(self.now() if ts is None else ts, tz=self.tz)
