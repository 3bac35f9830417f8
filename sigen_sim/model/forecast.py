"""Sigen's AI forecast as the simulator makes it: the station's own day curves with noise.

The forecast is remade at the top of every hour and reaches 24 hours ahead in
15-minute points. PV and load are the curves the station then follows (PV within its
limit; the load with the smart loads on now), each point off by a deterministic
relative error of at most ``noise`` (a hash of the seed, the series and the point's
time), so a test can compare the forecast with what then happens. The SOC is the
battery self-consuming the forecast surplus within its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .curves import noise as hash_noise
from .decision import power_caps, reserve_soc

if TYPE_CHECKING:
    from .station import SimStation

STEP_S = 900
POINTS = 96


@dataclass(frozen=True)
class ForecastPoint:
    """One point: its time (epoch s) and PV/load power (kW) and SOC (%)."""

    t: float
    pv: float
    load: float
    soc: float


def made_at(now: float) -> float:
    """When the forecast in force at ``now`` was made: the hour's start."""
    return now - now % 3600


def off_by(station: SimStation, series: str, t: float, rel: float) -> float:
    """The forecast's factor for one point: 1 ± ``rel`` (deterministic)."""
    return 1.0 + rel * (
        2.0 * hash_noise(station.seed, f"forecast-{series}", int(t // STEP_S)) - 1.0
    )


def forecast(station: SimStation, now: float, rel: float) -> tuple[float, list[ForecastPoint]]:
    """The forecast in force at ``now``: when it was made, and its points."""
    made = made_at(now)
    charge, discharge = power_caps(station)
    soc = station.soc
    floor, ceiling = reserve_soc(station), station.charge_cutoff_soc
    limit = station.settings.pv_limit_kw
    points = []
    for index in range(POINTS):
        t = made + index * STEP_S
        pv = station.pv_kw(t)
        if limit is not None:
            pv = min(pv, limit)
        pv *= off_by(station, "pv", t, rel)
        load = station.load_kw(t) * off_by(station, "load", t, rel)
        points.append(ForecastPoint(t, round(pv, 2), round(load, 2), round(soc, 1)))
        battery = max(-discharge, min(charge, pv - load))
        soc += battery * STEP_S / 3600.0 / station.battery_capacity * 100.0
        soc = min(max(soc, min(floor, station.soc)), max(ceiling, station.soc))
    return made, points
