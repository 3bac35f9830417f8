"""The rate limits: one call per interval, or a few per window, per endpoint and key.

The northbound API answers code 1201 ("access restriction") to a second call within
``SimConfig.nb_rate_limit_interval`` simulated seconds; the system list counts per
account. The app API's statistics allow ``SimConfig.history_rate_limit`` calls per
``history_rate_window`` (:meth:`RateLimits.allow_burst`).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .clock import SimClock
    from .config import SimConfig


class RateLimits:
    """When each (bucket, key) was last allowed, on the simulated clock."""

    def __init__(self, clock: SimClock, config: SimConfig) -> None:
        """Limits as ``config`` says (``nb_rate_limits``, ``nb_rate_limit_interval``)."""
        self.clock = clock
        self.config = config  # read at each call, as the configuration may change
        self._last: dict[tuple[str, str], float] = {}
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def allow(self, bucket: str, key: str) -> bool:
        """Whether a call may go through now (and count it when it may)."""
        if not self.config.nb_rate_limits:
            return True
        now = self.clock.now()
        last = self._last.get((bucket, key))
        if last is not None and now - last < self.config.nb_rate_limit_interval:
            return False
        self._last[(bucket, key)] = now
        return True

    def allow_burst(self, bucket: str, key: str, count: int, window: float) -> float:
        """``count`` calls per ``window`` simulated seconds per (bucket, key).

        0.0 when this call may go through (and it is counted), else the seconds until
        one may; ``count`` 0 means no limit.
        """
        if count <= 0:
            return 0.0
        now = self.clock.now()
        calls = self._calls.setdefault((bucket, key), deque())
        while calls and now - calls[0] >= window:
            calls.popleft()
        if len(calls) >= count:
            return calls[0] + window - now
        calls.append(now)
        return 0.0

    def reset(self) -> None:
        """Forget the calls made so far (the next one of each is allowed)."""
        self._last.clear()
        self._calls.clear()
