"""The station's inputs over the day: PV and household load, with deterministic noise.

Noise is a hash of (seed, key, time bucket), so the same seed and simulated time always
give the same values, whatever the order of the calls.
"""

from __future__ import annotations

import functools
import hashlib
import math
from datetime import datetime

SUNRISE, SUNSET = 6.0, 20.0  # local hours


@functools.lru_cache(maxsize=8192)
def noise(seed: int, key: str, bucket: int) -> float:
    """Deterministic pseudo-random number in [0, 1) for (seed, key, time bucket)."""
    digest = hashlib.blake2b(f"{seed}:{key}:{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def smooth_noise(seed: int, key: str, t: float, period: float) -> float:
    """Noise in [0, 1) that varies smoothly over ``period`` seconds (linear interpolation)."""
    pos = t / period
    bucket = math.floor(pos)
    frac = pos - bucket
    a = noise(seed, key, bucket)
    b = noise(seed, key, bucket + 1)
    return a + (b - a) * frac


def pv_kw(capacity: float, seed: int, t: float, local: datetime) -> float:
    """PV power following a day curve (sunrise 06:00, sunset 20:00 local) with clouds."""
    hour = local.hour + local.minute / 60 + local.second / 3600
    if hour <= SUNRISE or hour >= SUNSET:
        return 0.0
    elevation = math.sin(math.pi * (hour - SUNRISE) / (SUNSET - SUNRISE))
    clouds = 0.75 + 0.25 * smooth_noise(seed, "cloud", t, 900.0)
    return max(0.0, capacity * 0.85 * math.pow(elevation, 1.3) * clouds)


def household_kw(base_kw: float, seed: int, t: float, local: datetime) -> float:
    """Base household load with morning/evening peaks and noise (no smart loads)."""
    hour = local.hour + local.minute / 60
    morning = 0.8 * math.exp(-(((hour - 7.5) / 1.0) ** 2))
    evening = 1.5 * math.exp(-(((hour - 19.0) / 1.5) ** 2))
    return base_kw + morning + evening + 0.3 * smooth_noise(seed, "load", t, 120.0)
