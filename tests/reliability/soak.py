"""The long reliability runs behind ``scripts/soak`` (not part of CI).

1. Broker outages: the simulator's mosquitto is stopped for each of ``--outages``
   seconds, ``--repeat`` times in a row, under one :class:`SigenMQTT` listener with the
   integration's reconnect intervals. Per outage: seconds from the broker's start to the
   listener's reconnection, telemetry published while the listener was still away
   (queued by the broker for its persistent session) and how much of it was lost,
   connections to the broker, pending tasks.
2. Load: ``--stations`` stations at ``--rate`` messages per second each for
   ``--load-minutes`` simulated minutes (see :mod:`tests.reliability.load`).

Everything is bounded by ``--max-hours``; the figures are printed as it goes and as a
summary at the end. Every process started (mosquitto) is stopped by the simulator.

    ../shared/bin/py314 scripts/soak                 # the full run (hours)
    ../shared/bin/py314 scripts/soak --quick         # a few minutes
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from sigen_sim import SimConfig, Simulator

from .helpers import (
    Listener,
    broker_connections,
    make_mqtt,
    no_new_tasks,
    task_names,
    wait_until,
)
from .load import run_load


@dataclass
class Outage:
    down_for: float
    reconnect_after_start: float
    queued: int
    lost: int
    connections: int
    tasks: int
    task_change: str = ""


def _ts(telemetry: Any) -> int | None:
    t = telemetry.statistics_time
    return None if t is None else int(t.timestamp())


def _task_change(before: list[str], after: list[str]) -> str:
    """`` (+name, -name)``: the tasks that are new or gone since ``before``; or nothing."""
    extra, gone = list(after), []
    for name in before:
        if name in extra:
            extra.remove(name)
        else:
            gone.append(name)
    names = [f"+{n}" for n in extra] + [f"-{n}" for n in gone]
    return f" ({', '.join(names)})" if names else ""


async def outages(args: argparse.Namespace, deadline: float) -> tuple[list[Outage], list[str]]:
    """The outage rounds' figures, and the problems seen (a dead listener, leaks)."""
    sim = Simulator(SimConfig(stations=1, mqtt=True, time_scale=0, telemetry_interval=0))
    await sim.start()
    results: list[Outage] = []
    problems: list[str] = []
    try:
        assert sim.mqtt is not None
        system_id = sim.stations[0].system_id
        baseline_connections = broker_connections(sim.mqtt_port)
        tasks_before = task_names()
        listener = Listener(
            make_mqtt(
                sim,
                reconnect_interval=args.reconnect,
                error_reconnect_interval=args.reconnect * 2,
                max_reconnect_interval=args.max_reconnect,
            )
        )
        task = listener.start()
        await listener.connected(limit=60)
        baseline_tasks = task_names()  # the listener's own (its task, aiomqtt's)
        plan = [d for _ in range(args.repeat) for d in args.outages]
        for index, down_for in enumerate(plan):
            if time.monotonic() + down_for + args.max_reconnect > deadline:
                print(f"outage {index + 1}: stopping, the time budget is spent", flush=True)
                break
            await sim.mqtt.stop_broker()
            await listener.disconnected(limit=120)
            await asyncio.sleep(down_for)
            await sim.mqtt.start_broker()
            started = time.monotonic()
            # The broker is back, the listener still waits out its backoff: what the
            # cloud publishes now is queued for the listener's persistent session.
            markers: list[int] = []
            while not listener.mqtt.connected and len(markers) < 5:
                await sim.advance(1)
                markers.append(int(sim.clock.now()))
                await sim.publish_telemetry(system_id)
            await listener.connected(limit=args.max_reconnect + 60)
            reconnect = time.monotonic() - started
            await sim.advance(1)
            marker = int(sim.clock.now())
            await sim.publish_telemetry(system_id)
            await wait_until(
                lambda m=marker: m in {_ts(t) for t in listener.telemetry},
                "telemetry after the outage",
                limit=60,
            )
            seen = {_ts(t) for t in listener.telemetry}
            now_tasks = task_names()
            outage = Outage(
                down_for=down_for,
                reconnect_after_start=reconnect,
                queued=len(markers),
                lost=len([m for m in markers if m not in seen]),
                connections=broker_connections(sim.mqtt_port) - baseline_connections,
                tasks=len(now_tasks) - len(baseline_tasks),
                task_change=_task_change(baseline_tasks, now_tasks),
            )
            results.append(outage)
            print(
                f"outage {index + 1}/{len(plan)}: down {down_for:.0f} s, reconnected "
                f"{reconnect:.1f} s after the broker's start, {outage.queued} queued, "
                f"{outage.lost} lost, connections {outage.connections}, extra tasks "
                f"{outage.tasks}{outage.task_change}, listener alive: {not task.done()}",
                flush=True,
            )
            if task.done():
                problems.append(f"the listener ended after outage {index + 1}")
                break
        await listener.stop()
        try:
            await no_new_tasks(tasks_before, limit=30)
            left = ""
        except AssertionError as err:
            left = f": {err}"
        connections = broker_connections(sim.mqtt_port) - baseline_connections
        print(
            f"after close: connections to the broker {connections}, "
            f"tasks left {len(task_names()) - len(tasks_before)}{left}",
            flush=True,
        )
        if connections:
            problems.append(f"{connections} connection(s) to the broker left after close")
        if left:
            problems.append(f"tasks left after close{left}")
    finally:
        await sim.stop()
    return results, problems


async def load(args: argparse.Namespace) -> str:
    sim = Simulator(
        SimConfig(
            stations=args.stations,
            mqtt=True,
            time_scale=0,
            telemetry_interval=0,
            nb_rate_limits=False,
        )
    )
    await sim.start()
    try:
        phases = 10
        result = await run_load(
            sim,
            seconds_per_phase=args.load_minutes * 60 / phases,
            phases=phases,
            rate=args.rate,
            progress=True,
            trace_memory=args.tracemalloc,
        )
    finally:
        await sim.stop()
    return result.report() + (
        f"\n  tasks before/after: {len(result.tasks_before)}/{len(result.tasks_after)}"
    )


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--outages",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[10.0, 60.0, 300.0],
        help="seconds down, comma separated",
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--reconnect",
        type=float,
        default=30.0,
        help="reconnect interval (the integration uses 30 s)",
    )
    parser.add_argument("--max-reconnect", type=float, default=600.0)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--rate", type=int, default=10, help="messages per second per station")
    parser.add_argument("--load-minutes", type=float, default=10.0)
    parser.add_argument("--max-hours", type=float, default=12.0)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace the library's allocations (4x slower) instead of RSS",
    )
    parser.add_argument("--skip-outages", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="outages of 2 and 5 s three times, 1 s reconnect, 1 minute of load",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.outages, args.repeat, args.reconnect, args.max_reconnect = [2.0, 5.0], 3, 1.0, 8.0
        args.load_minutes = 1.0
    return args


async def main(argv: list[str]) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    deadline = time.monotonic() + args.max_hours * 3600
    failures = 0
    if not args.skip_outages:
        print(
            f"== broker outages {args.outages} s x {args.repeat}, reconnect {args.reconnect} s",
            flush=True,
        )
        results, problems = await outages(args, deadline)
        for problem in problems:
            print(f"FAILURE: {problem}", flush=True)
        failures += len(problems)
        if results:
            delays = [o.reconnect_after_start for o in results]
            print(
                f"outages: {len(results)} done, reconnect after the broker's start "
                f"median {statistics.median(delays):.1f} s, max {max(delays):.1f} s; "
                f"queued {sum(o.queued for o in results)}, lost {sum(o.lost for o in results)}; "
                f"max extra connections {max(o.connections for o in results)}, "
                f"max extra tasks {max(o.tasks for o in results)}",
                flush=True,
            )
            failures += sum(o.lost for o in results) + sum(o.connections > 1 for o in results)
    if not args.skip_load and time.monotonic() < deadline:
        print(
            f"== load: {args.stations} stations x {args.rate}/s for {args.load_minutes} min",
            flush=True,
        )
        print(await load(args), flush=True)
    return 1 if failures else 0


async def _run(argv: list[str]) -> int:
    """``main`` that ends cleanly (simulator and broker stopped) on SIGTERM or SIGINT."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await main(argv)
    except asyncio.CancelledError:
        print("soak: stopped", flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(_run(sys.argv[1:])))
