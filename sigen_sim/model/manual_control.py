"""Instant manual control (§7.9 of the API notes): the app's override of the battery.

A session charges, discharges, holds the battery or consumes the PV itself for its
duration, then ends by itself on the simulated clock and the station's operating mode
takes over again. A stopped or ended session keeps its mode and planned end, as the
cloud's read-back does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from .commands import Limits, directed_battery, self_consume

#: The session modes; the index is the cloud's ``mode`` number ("0" = charge, ...).
MANUAL_MODES = ("charge", "discharge", "hold", "self_consumption")


@dataclass(frozen=True)
class ManualControl:
    """One manual-control session (times in epoch seconds)."""

    enabled: bool = False
    mode: str | None = None  # None: never started
    start: float = 0.0
    end: float | None = None
    power_kw: float | None = None  # None: the battery's own (rated, owner-limited) power

    def active_at(self, t: float) -> bool:
        """Whether the session drives the battery at ``t``."""
        return self.enabled and self.end is not None and self.start <= t < self.end

    def stopped(self) -> ManualControl:
        """The session stopped by the owner (mode and planned end kept)."""
        return dataclasses.replace(self, enabled=False)


def start_control(
    mode: str, now: float, duration_min: float, power_kw: float | None = None
) -> ManualControl:
    """A session of ``mode`` starting at ``now`` (ValueError for a bad argument)."""
    if mode not in MANUAL_MODES:
        raise ValueError(f"unknown manual-control mode {mode!r} ({', '.join(MANUAL_MODES)})")
    if isinstance(duration_min, bool) or not isinstance(duration_min, int | float):
        raise TypeError(f"the duration must be a number of minutes, not {duration_min!r}")
    if not math.isfinite(duration_min) or duration_min <= 0:
        raise ValueError(f"the duration must be a positive number of minutes, not {duration_min}")
    if power_kw is not None and (
        isinstance(power_kw, bool) or not math.isfinite(power_kw) or power_kw < 0
    ):
        raise ValueError(f"the power must be a finite number >= 0 kW, not {power_kw!r}")
    if mode in ("hold", "self_consumption"):
        power_kw = None
    return ManualControl(True, mode, now, now + duration_min * 60.0, power_kw)


def manual_battery(control: ManualControl, limits: Limits) -> float:
    """The battery's power (+ = charging) under an active session."""
    directed = directed_battery(control.mode, control.power_kw, limits)
    if directed is not None:
        return directed
    if control.mode == "hold":
        return 0.0
    return self_consume(limits)
