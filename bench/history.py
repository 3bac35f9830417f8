"""Issue 19: importing a year of history, and how right a day's energy counters are.

* **rate limit**: requests of ``statistics/energy`` sent without a pause, on the
  simulator's frozen clock, until it answers 429: what it allows per window.
* **import a year**: one station's 366 days through the library, paced as the
  integration paces them (:data:`REQUEST_PAUSE` between requests, Retry-After on a
  429), the waits spent on the simulator's clock (simulated seconds), each day turned
  into its hourly statistic rows (:func:`day_rows`); requests, 429s, simulated and real
  time, peak memory (tracemalloc), and the imported sums against the simulator's day
  totals.
* **accuracy of a day** with two restarts and a 30-minute outage: the integrated
  counters (:class:`EnergyIntegrator`, a 60-second poll of the day's true powers;
  a restart loses the interval around it, the outage is longer than the integrator's
  gap limit) and the cloud-fed counters (the day as the cloud answers it after the day,
  :func:`day_counters`), each against the simulator's ground truth (``true_day``).
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from typing import Any

from custom_components.sigen_cloud.coordinator.history import day_counters
from custom_components.sigen_cloud.energy import EnergyIntegrator
from custom_components.sigen_cloud.history_import import REQUEST_PAUSE
from custom_components.sigen_cloud.sigen import Sigen, SigenRateLimitError
from custom_components.sigen_cloud.sigen.models.history import COUNTERS
from custom_components.sigen_cloud.statistics import day_rows

from .harness import simulator

DAYS = 366
QUICK_DAYS = 10
# 2026-06-02 00:00 in Dublin plus a little: yesterday is the last day imported.
START = datetime(2026, 6, 2, 0, 5, tzinfo=UTC).timestamp()
#: A day of the accuracy run, its restarts (local hours) and its outage (start, minutes).
DAY = date(2026, 5, 20)
RESTARTS = (9.5, 15.25)
OUTAGE = (12.0, 30)


async def _allowed(sim: Any, client: Sigen) -> int:
    """How many requests the simulator answers before its first 429 (frozen clock)."""
    sid = sim.stations[0].station_id
    for count in range(1, 200):
        try:
            await client.history.get_day(date(2026, 5, 1), station_id=sid, tz=sim.clock.timezone)
        except SigenRateLimitError:
            return count - 1
    return -1


async def _import(sim: Any, client: Sigen, days: int) -> dict[str, Any]:
    """Import ``days`` days, paced as the integration does, on the simulated clock."""
    sid = sim.stations[0].station_id
    zone = sim.clock.timezone
    first = date(2026, 6, 1) - timedelta(days=days - 1)
    sums = dict.fromkeys(COUNTERS, 0.0)
    requests = limited = 0
    sim_start = sim.clock.now()
    tracemalloc.start()
    real = time.perf_counter()
    worst = 0.0
    for offset in range(days):
        day = first + timedelta(days=offset)
        while True:
            if requests:
                await sim.advance(REQUEST_PAUSE)
            requests += 1
            try:
                energy = await client.history.get_day(day, station_id=sid, tz=zone)
                break
            except SigenRateLimitError as err:
                limited += 1
                await sim.advance(err.retry_after or 30.0)
        rows = day_rows(energy, sums)
        sums = rows.sums
        truth = sim.history.day_totals(sim.stations[0], day)
        for kind, expected in zip(COUNTERS, truth, strict=True):
            state = rows.rows[kind][-1]["state"] if rows.rows[kind] else 0.0
            worst = max(worst, abs(state - expected))
    real = time.perf_counter() - real
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total = sim.history.period_totals(sim.stations[0], first, first + timedelta(days=days - 1))
    return {
        "days": days,
        "requests": requests,
        "rate_limited": limited,
        "simulated_seconds": round(sim.clock.now() - sim_start, 1),
        "real_seconds": round(real, 2),
        "peak_memory_bytes": peak,
        "worst_day_error_kwh": round(worst, 4),
        "sum_error_kwh": {
            kind: round(sums[kind] - expected, 4)
            for kind, expected in zip(COUNTERS, total, strict=True)
        },
    }


def _integrated(sim: Any) -> dict[str, float]:
    """The day integrated from 60-second samples of its true powers, restarts and outage."""
    intervals = sim.history.true_day(sim.stations[0], DAY)
    first = intervals[0].start
    outage = (first + OUTAGE[0] * 3600, first + OUTAGE[0] * 3600 + OUTAGE[1] * 60)
    restarts = [first + hour * 3600 for hour in RESTARTS]
    counters = {kind: EnergyIntegrator() for kind in COUNTERS}
    for interval in intervals:
        powers = {
            "pv": interval.pv,
            "consumption": interval.load,
            "grid_export": max(interval.grid, 0.0),
            "grid_import": max(-interval.grid, 0.0),
            "battery_charge": max(interval.battery, 0.0),
            "battery_discharge": max(-interval.battery, 0.0),
        }
        for second in range(0, 300, 60):
            moment = interval.start + second
            if outage[0] <= moment < outage[1]:
                continue
            for restart in restarts:
                if moment - 60 < restart <= moment:
                    for integrator in counters.values():
                        integrator.last = None  # a new process: the series starts again
            when = datetime.fromtimestamp(moment, UTC)
            for kind, integrator in counters.items():
                integrator.add(when, powers[kind])
    return {kind: integrator.total for kind, integrator in counters.items()}


async def _accuracy(sim: Any, client: Sigen) -> dict[str, Any]:
    """Integrated and cloud-fed counters of :data:`DAY` against the ground truth, in %."""
    sid = sim.stations[0].station_id
    truth = dict(
        zip(COUNTERS, sim.history.true_day(sim.stations[0], DAY)[-1].counters, strict=True)
    )
    cloud = day_counters(await client.history.get_day(DAY, station_id=sid, tz=sim.clock.timezone))
    integrated = _integrated(sim)

    def error(values: dict[str, float | None]) -> dict[str, float]:
        return {
            kind: round(100 * ((values[kind] or 0.0) - truth[kind]) / truth[kind], 3)
            for kind in COUNTERS
            if truth[kind]
        }

    return {
        "day": DAY.isoformat(),
        "truth_kwh": {kind: round(value, 3) for kind, value in truth.items()},
        "integrated_error_pct": error(dict(integrated)),
        "cloud_fed_error_pct": error(cloud),
    }


async def run(quick: bool) -> dict[str, Any]:
    """The three measurements (``quick``: a short import)."""
    out: dict[str, Any] = {}
    async with (
        simulator(start_time=START, history_days=DAYS + 5, history_offline=()) as (
            sim,
            proxy,
        ),
        Sigen(sim.username, sim.password, sim.shard, base_url=proxy.url) as client,
    ):
        await client.async_initialize()
        client.history.today = lambda zone: sim.clock.local().astimezone(zone).date()
        out["allowed_per_window"] = await _allowed(sim, client)
        out["window_seconds"] = sim.config.history_rate_window
        await sim.advance(sim.config.history_rate_window)
        out["import"] = await _import(sim, client, QUICK_DAYS if quick else DAYS)
        out["accuracy"] = await _accuracy(sim, client)
    return out
