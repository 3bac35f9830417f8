"""The northbound API's rate limit: one call per interval per endpoint and station.

The cloud answers code 1201 ("access restriction") to a second call within
``SimConfig.nb_rate_limit_interval`` simulated seconds; the system list counts per
account.
"""

from __future__ import annotations

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

    def reset(self) -> None:
        """Forget the calls made so far (the next one of each is allowed)."""
        self._last.clear()
