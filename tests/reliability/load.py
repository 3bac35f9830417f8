"""The load run shared by ``test_load.py`` (short, in CI) and ``scripts/soak`` (long).

Many stations publish telemetry through the simulator's real broker to one
:class:`SigenMQTT` listener. Time is the simulator's clock: a "second" of the run is ten
rounds (10 messages per station per second), each round publishing one message for
every station at once and advancing the clock by 0.1 s; the next round starts when the
listener has received the whole round. Figures per phase: messages, throughput, round
latency (publish of the round until its last message is delivered), memory allocated
by the library, aiomqtt and paho that is still held (tracemalloc), pending tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil

from .helpers import Listener, make_mqtt, task_names, wait_until

# Allocation sites that belong to the code under test (the simulator, the test and the
# logging records kept by pytest's capture are left out).
TRACED = ("*/sigen_cloud/sigen/*", "*/aiomqtt/*", "*/paho/*")
TRACE_DEPTH = 1  # frames kept per allocation (deeper ones slow the run down a lot)
# paho's per-packet debug lines: pytest keeps every record of a test, which a load run
# would count as growth. Everything else stays at DEBUG (and under the secrets guard).
PAHO_LOGGERS = ("custom_components.sigen_cloud.sigen.mqtt.paho", "sigen.mqtt.paho")


@dataclass
class Phase:
    messages: int
    seconds: float
    round_latency_ms: list[float]
    traced_bytes: int
    tasks: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        lat = sorted(self.round_latency_ms)
        p50 = statistics.median(lat) if lat else 0.0
        p95 = lat[int(0.95 * (len(lat) - 1))] if lat else 0.0
        return (
            f"{self.messages} msgs in {self.seconds:.1f} s ({self.rate:.0f}/s), round latency "
            f"p50 {p50:.1f} ms p95 {p95:.1f} ms max {max(lat, default=0):.1f} ms, "
            f"memory {self.traced_bytes / 1024:.0f} KiB, {self.tasks} tasks"
        )


@dataclass
class LoadResult:
    stations: int
    sent: int = 0
    received: int = 0
    phases: list[Phase] = field(default_factory=list)
    tasks_before: list[str] = field(default_factory=list)
    tasks_after: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.sent - self.received

    def memory_growth(self) -> int:
        """Traced bytes held after the last phase minus after the first."""
        return self.phases[-1].traced_bytes - self.phases[0].traced_bytes

    def report(self) -> str:
        lines = [
            f"load: {self.stations} stations, {self.sent} messages sent, "
            f"{self.received} received, {self.lost} lost"
        ]
        lines += [f"  phase {i + 1}: {p.summary()}" for i, p in enumerate(self.phases)]
        lines.append(f"  memory growth first->last phase: {self.memory_growth() / 1024:.1f} KiB")
        return "\n".join(lines)


def _traced_bytes(sim: Any) -> int:
    # The simulator keeps every message it published (a test aid): not ours to count.
    if sim.mqtt is not None:
        sim.mqtt.published.clear()
    gc.collect()
    if not tracemalloc.is_tracing():  # the soak: the process's resident memory instead
        return int(psutil.Process().memory_info().rss)
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, pattern) for pattern in TRACED]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


@contextlib.contextmanager
def quiet_paho() -> Iterator[None]:
    saved = [(name, logging.getLogger(name).level) for name in PAHO_LOGGERS]
    for name, _ in saved:
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield
    finally:
        for name, level in saved:
            logging.getLogger(name).setLevel(level)


async def run_load(
    sim: Any,
    *,
    seconds_per_phase: float,
    phases: int = 3,
    rate: int = 10,
    warmup_rounds: int = 5,
    progress: bool = False,
    trace_memory: bool = True,
) -> LoadResult:
    """Run ``phases`` phases of ``seconds_per_phase`` simulated seconds each.

    ``trace_memory``: count the library's allocations with tracemalloc (slows the run
    about fourfold); without it the figure is the process's resident memory.
    """
    system_ids = [s.system_id for s in sim.stations]
    listener = Listener(make_mqtt(sim))
    received = 0

    def on_telemetry(_data: Any) -> None:
        nonlocal received
        received += 1

    result = LoadResult(stations=len(system_ids), tasks_before=task_names())
    task = asyncio.create_task(listener.mqtt.listen(on_telemetry), name="load-listener")
    listener.task = task
    with quiet_paho():
        try:
            await listener.connected()

            async def one_round() -> float:
                start_count = received
                start = time.monotonic()
                # Ten at a time: aiomqtt warns above ten pending publishes.
                for chunk in range(0, len(system_ids), 10):
                    await asyncio.gather(
                        *(sim.publish_telemetry(sid) for sid in system_ids[chunk : chunk + 10])
                    )
                result.sent += len(system_ids)
                await wait_until(
                    lambda: received - start_count >= len(system_ids),
                    "a round of telemetry",
                    limit=60,
                    step=0.001,
                )
                await sim.advance(1 / rate)
                return (time.monotonic() - start) * 1000

            # The first messages for each system: subscriptions settle, caches fill.
            await wait_until(lambda: received >= len(system_ids), "the initial push", limit=30)
            received = 0
            for _ in range(warmup_rounds):
                await one_round()
            if trace_memory:
                tracemalloc.start(TRACE_DEPTH)
            try:
                rounds = max(1, round(seconds_per_phase * rate))
                for index in range(phases):
                    began, before = time.monotonic(), result.sent
                    latencies = [await one_round() for _ in range(rounds)]
                    phase = Phase(
                        messages=result.sent - before,
                        seconds=time.monotonic() - began,
                        round_latency_ms=latencies,
                        traced_bytes=_traced_bytes(sim),
                        tasks=len(task_names()),
                    )
                    result.phases.append(phase)
                    if progress:
                        print(f"  phase {index + 1}/{phases}: {phase.summary()}", flush=True)
            finally:
                tracemalloc.stop()
        finally:
            await listener.stop()
    result.received = min(received, result.sent)
    result.tasks_after = task_names()
    return result
