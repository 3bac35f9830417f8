"""Helpers of the reliability suite: bounded waits, leak counters, a collecting listener."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from custom_components.sigen_cloud.sigen import (
    AlarmEvent,
    SigenMQTT,
    SystemData,
    TelemetryData,
)

# Reconnect intervals of the CI runs (the defaults are 30 s / 60 s / 600 s).
FAST = {"reconnect_interval": 0.2, "error_reconnect_interval": 0.2, "max_reconnect_interval": 1.0}


async def wait_until(
    predicate: Callable[[], bool], what: str, *, limit: float = 15.0, step: float = 0.02
) -> float:
    """Poll ``predicate`` (real time) until it holds; returns the seconds it took.

    The bound only turns a hang into a readable failure; no test asserts on the time.
    """
    start = time.monotonic()
    deadline = start + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        await asyncio.sleep(step)
    return time.monotonic() - start


def broker_connections(port: int) -> int:
    """Established TCP connections of this process to the broker's port."""
    return sum(
        1
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    )


def open_sockets() -> int:
    """Every inet socket this process holds (any state)."""
    return len(psutil.Process().net_connections(kind="inet"))


def task_names(*, include_simulator: bool = False) -> list[str]:
    """The names of the pending tasks of the running loop (minus the current one).

    The simulator's own tasks (``sigen-sim-*``: its publisher, one-shot pushes; and its
    aiohttp server's ``RequestHandler.start``, one per open keep-alive connection, which
    ends when the client side closes an idle connection) come and go by themselves and
    are left out unless asked for.
    """
    current = asyncio.current_task()
    names = (_describe(t) for t in asyncio.all_tasks() if t is not current and not t.done())
    return sorted(
        name
        for name in names
        if include_simulator or not (name.startswith("sigen-sim") or name in _SERVER_TASKS)
    )


_SERVER_TASKS = frozenset({"RequestHandler.start"})


def _describe(task: asyncio.Task[Any]) -> str:
    """A task's name, or its coroutine's for the numbered default names."""
    name = task.get_name()
    if name.startswith("Task-"):
        coro = task.get_coro()
        return str(getattr(coro, "__qualname__", None) or type(coro).__name__)
    return name


async def no_new_tasks(baseline: list[str], *, limit: float = 10.0) -> None:
    """Wait until the pending tasks are back to ``baseline``; fail listing the extra ones."""
    try:
        await wait_until(lambda: task_names() == baseline, "tasks to end", limit=limit)
    except AssertionError:
        raise AssertionError(
            f"tasks left behind: {sorted(set(task_names()) - set(baseline))} "
            f"(before: {baseline}, now: {task_names()})"
        ) from None


def make_mqtt(sim: Any, **kwargs: Any) -> SigenMQTT:
    """A :class:`SigenMQTT` for the simulator's broker (onboarding approved first)."""
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    options: dict[str, Any] = {
        "broker": sim.mqtt_host,
        "port": sim.mqtt_port,
        "base_url": sim.nb_url,
        "ca_cert_pem": sim.certs.ca_pem,
        **FAST,
    }
    options.update(kwargs)
    system_ids = options.pop("system_ids", [s.system_id for s in sim.stations])
    return SigenMQTT(sim.app_key, sim.app_secret, sim.app_identifier, system_ids, **options)


@dataclass
class Listener:
    """Collects everything a :meth:`SigenMQTT.listen` delivers, and runs it as a task."""

    mqtt: SigenMQTT
    telemetry: list[TelemetryData] = field(default_factory=list)
    systems: list[SystemData] = field(default_factory=list)
    alarms: list[AlarmEvent] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(
            self.mqtt.listen(
                self.telemetry.append,
                on_system=self.systems.append,
                on_alarm=self.alarms.append,
                on_connection_change=self.connection.append,
            ),
            name="reliability-listener",
        )
        return self.task

    async def connected(self, *, limit: float = 15.0) -> float:
        return await wait_until(lambda: self.mqtt.connected, "the MQTT connection", limit=limit)

    async def disconnected(self, *, limit: float = 15.0) -> float:
        return await wait_until(lambda: not self.mqtt.connected, "the disconnection", limit=limit)

    def times(self) -> set[Any]:
        """The statisticsTime of every telemetry message received."""
        return {t.statistics_time for t in self.telemetry}

    async def stop(self) -> None:
        await self.mqtt.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        assert self.task is None or self.task.cancelled() or self.task.exception() is None


class LoopErrors:
    """Collects what reaches the event loop's exception handler (callbacks that raised,
    futures whose exception was never retrieved) while active; Home Assistant logs
    these as errors. ``check()`` collects garbage first so unretrieved futures show."""

    def __init__(self) -> None:
        self.contexts: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def __enter__(self) -> LoopErrors:
        self._loop = asyncio.get_running_loop()
        self._previous = self._loop.get_exception_handler()
        self._loop.set_exception_handler(lambda _loop, context: self.contexts.append(context))
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.set_exception_handler(self._previous)

    def messages(self) -> list[str]:
        return [f"{c.get('message')}: {c.get('exception')!r}" for c in self.contexts]

    async def check(self) -> None:
        for _ in range(3):
            gc.collect()
            await asyncio.sleep(0.05)
        assert self.messages() == [], "errors reached the event loop"
