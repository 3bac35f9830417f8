"""How long the listener waits before it reconnects (pure: no clock, no I/O).

After an MQTT or cloud error it starts from ``reconnect_interval`` (30 s), after a
locked account or anything unexpected from ``error_reconnect_interval`` (60 s); the
delay doubles with every further failure in a row, up to ``max_reconnect_interval``,
and starts again after a connection that worked. A reconnect that is expected (a new
token to use, a fallback client id) happens at once and does not count as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aiomqtt

from ..errors import SigenAccountLockedError, SigenError

# Doubling stops counting here: 2**1024 no longer converts to a float (OverflowError,
# after about a week of failures at a 10-minute cap), and 2**1000 times any interval is
# past every cap already.
_MAX_DOUBLINGS: Final = 1000


@dataclass(frozen=True, slots=True)
class Retry:
    """What to do after a session ended with a failure."""

    base: float  # the delay of a first failure of this kind, in seconds
    what: str  # the reason, for the log (no credentials)
    now: bool = False  # reconnect at once, not counted as a failure
    quiet: bool = False  # an expected reconnect, not an outage: no warning


def base_interval(
    err: BaseException, *, reconnect_interval: float, error_reconnect_interval: float
) -> float:
    """The first delay after ``err``: the short one for MQTT and cloud errors."""
    if isinstance(err, SigenAccountLockedError):
        return error_reconnect_interval
    if isinstance(err, aiomqtt.MqttError | SigenError):
        return reconnect_interval
    return error_reconnect_interval


class ReconnectBackoff:
    """The failures in a row, and the delay they lead to."""

    def __init__(self) -> None:
        """Start with no failure."""
        self.failures = 0

    def reset(self) -> None:
        """A connection worked (or ended as planned): start again from the base delay."""
        self.failures = 0

    def next_delay(self, retry: Retry, cap: float) -> float:
        """Seconds to wait before the next attempt; counts the failure."""
        if retry.now:
            return 0.0
        delay = min(retry.base * 2.0 ** min(self.failures, _MAX_DOUBLINGS), cap)
        self.failures += 1
        return delay
