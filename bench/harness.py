"""Shared pieces of the benchmarks: Home Assistant in-process, a connection-counting TCP
proxy, the simulator, a virtual clock for simulated hours, statistics helpers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sigen_sim import SimConfig, Simulator

LATENCY = 0.100  # seconds the simulator adds before every answer (a cloud round trip)


# --------------------------------------------------------------------------- statistics


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# --------------------------------------------------------------------------- TCP proxy


class CountingProxy:
    """A loopback TCP proxy in front of the simulator that counts accepted connections.

    Independent of the simulator and of the client: it sees every new TCP connection.
    ``connect_delay`` holds each new connection's first bytes back, standing in for the
    TCP and TLS handshakes a real HTTPS connection to the cloud costs (loopback HTTP has
    none). ``one_way_delay`` delivers every chunk that much later in each direction (in
    order, pipelined): a network round trip of twice that, TLS handshakes included; it
    is used in front of the MQTT broker.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        connect_delay: float = 0.0,
        one_way_delay: float = 0.0,
    ):
        self.upstream = (upstream_host, upstream_port)
        self.connect_delay = connect_delay
        self.one_way_delay = one_way_delay
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            if self.connect_delay:
                await asyncio.sleep(self.connect_delay)
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        pump = self._delayed_pump if self.one_way_delay else self._pump
        pumps = [
            asyncio.create_task(pump(reader, up_writer)),
            asyncio.create_task(pump(up_reader, writer)),
        ]
        for task in pumps:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _delayed_pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while True:
                    due, data = await queue.get()
                    if not data:
                        return
                    if (wait := due - loop.time()) > 0:
                        await asyncio.sleep(wait)
                    writer.write(data)
                    await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(65536):
                    queue.put_nowait((loop.time() + self.one_way_delay, data))
            queue.put_nowait((0.0, b""))
            await sender
        finally:
            sender.cancel()


# --------------------------------------------------------------------------- simulator


@contextlib.asynccontextmanager
async def simulator(
    stations: int = 1,
    *,
    mqtt: bool = False,
    latency: float = 0.0,
    connect_delay: float = 0.0,
    mqtt_rtt: float = 0.0,
    **config: Any,
) -> AsyncIterator[tuple[Simulator, CountingProxy]]:
    """A simulator (frozen clock) with every system approved, behind a counting proxy.

    With ``mqtt_rtt``, clients reach the broker through a proxy that adds that round
    trip (``sim.bench_mqtt_port``; the simulator's own publisher connects directly).
    """
    sim = Simulator(SimConfig(stations=stations, mqtt=mqtt, time_scale=0.0, **config))
    await sim.start()
    proxy = CountingProxy(sim.host, sim.port, connect_delay)
    mqtt_proxy: CountingProxy | None = None
    try:
        await proxy.start()
        if mqtt:
            sim.bench_mqtt_port = sim.mqtt_port  # type: ignore[attr-defined]
            if mqtt_rtt:
                mqtt_proxy = CountingProxy(sim.mqtt_host, sim.mqtt_port, 0.0, mqtt_rtt / 2)
                await mqtt_proxy.start()
                sim.bench_mqtt_port = mqtt_proxy.port  # type: ignore[attr-defined]
        for station in sim.stations:
            sim.approve_onboarding(station.system_id)
        if sim.mqtt is not None:
            # The simulator pushes 1 s (real time) after a subscription request; the
            # benchmarks push themselves the moment the client is subscribed instead
            # (see push_when_connected), so that wait is not counted as ours.
            sim.mqtt.initial_push_delay = None
        sim.faults.set_latency(latency)
        yield sim, proxy
    finally:
        if mqtt_proxy is not None:
            await mqtt_proxy.stop()
        await proxy.stop()
        await sim.stop()


def requests_by_endpoint(sim: Simulator) -> dict[str, int]:
    """Request counts keyed by ``METHOD path`` with ids replaced by ``{id}``."""
    counts: dict[str, int] = {}
    for entry in sim.request_log:
        parts = [
            "{id}" if (p.isdigit() or p.startswith("SIMSYS")) else p for p in entry.path.split("/")
        ]
        key = f"{entry.method} {'/'.join(parts)}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def login_counts(sim: Simulator) -> dict[str, int]:
    """App logins, app token refreshes and northbound logins in the request log."""
    out = {"app_login": 0, "app_refresh": 0, "nb_login": 0}
    for entry in sim.request_log:
        if entry.path == "/auth/oauth/token":
            if "grant_type=refresh_token" in entry.body:
                out["app_refresh"] += 1
            else:
                out["app_login"] += 1
        elif entry.path.startswith("/openapi/auth/login"):
            out["nb_login"] += 1
    return out


# --------------------------------------------------------------------------- Home Assistant


@contextlib.asynccontextmanager
async def home_assistant(config_dir: str | None = None) -> AsyncIterator[Any]:
    """A Home Assistant instance in a temporary config dir, with custom integrations on.

    Built with pytest-homeassistant-custom-component's ``async_test_home_assistant`` (as
    the ``hass`` fixture does), stopped and removed on exit.
    """
    from unittest.mock import patch

    import aiohttp
    from homeassistant import loader
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.core import DOMAIN as HA_DOMAIN
    from homeassistant.helpers import frame
    from homeassistant.helpers import translation as translation_helper
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    import custom_components  # noqa: F401  (lets Home Assistant find sigen_cloud)

    # A given config dir is kept (a restart runs a second instance on it).
    keep = config_dir is not None
    config_dir = config_dir or tempfile.mkdtemp(prefix="sigen-bench-ha-")
    # As the test harness does: no zeroconf-backed resolver (no network integration is
    # loaded); the hosts are IP literals anyway.
    threaded = aiohttp.ThreadedResolver()
    threaded.real_close = threaded.close  # type: ignore[attr-defined]
    resolver = patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver", return_value=threaded
    )
    try:
        with resolver:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
                frame.async_setup(hass)
                await translation_helper.async_load_integrations(hass, {HA_DOMAIN})
                try:
                    yield hass
                finally:
                    for entry in hass.config_entries.async_entries():
                        if entry.state is ConfigEntryState.LOADED:
                            await hass.config_entries.async_unload(entry.entry_id)
                    await hass.async_block_till_done()
                    await hass.async_stop(force=True)
    finally:
        if not keep:
            shutil.rmtree(config_dir, ignore_errors=True)


def entry_data(sim: Simulator, api_url: str, *, developer: bool) -> dict[str, Any]:
    """Config entry data for the simulator's account (through ``api_url``, the proxy)."""
    from homeassistant.const import CONF_PASSWORD, CONF_USERNAME

    from custom_components.sigen_cloud import const

    data: dict[str, Any] = {
        CONF_USERNAME: sim.username,
        CONF_PASSWORD: sim.password,
        const.CONF_REGION: "eu",
        const.CONF_SERVER_URL: api_url,
    }
    if developer:
        data.update(
            {
                const.CONF_APP_KEY: sim.app_key,
                const.CONF_APP_SECRET: sim.app_secret,
                const.CONF_APP_IDENTIFIER: sim.app_identifier,
                const.CONF_CA_CERT: sim.certs.ca_pem,
                const.CONF_MQTT_HOST: sim.mqtt_host,
                const.CONF_MQTT_PORT: getattr(sim, "bench_mqtt_port", sim.mqtt_port),
            }
        )
    return data


_entry_counter = 0


def add_entry(
    hass: Any, sim: Simulator, api_url: str, *, developer: bool, entry_id: str | None = None
) -> Any:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    global _entry_counter  # noqa: PLW0603
    _entry_counter += 1
    entry = MockConfigEntry(
        domain="sigen_cloud",
        title="bench account",  # not the e-mail: task names end up in logs
        unique_id=f"bench-{_entry_counter}",
        data=entry_data(sim, api_url, developer=developer),
        **({"entry_id": entry_id} if entry_id else {}),
    )
    entry.add_to_hass(hass)
    return entry


async def wait_until(condition: Callable[[], bool], limit: float, step: float = 0.001) -> bool:
    """Check ``condition`` every ``step`` seconds for at most ``limit`` seconds."""
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


# --------------------------------------------------------------------------- virtual time


class VirtualClock:
    """Moves the event loop's clock and Home Assistant's ``utcnow`` forward on demand.

    ``advance(s)`` makes every loop timer due within ``s`` seconds fire (coordinator
    polls, ``async_track_time_interval``, aiohttp's keep-alive expiry of idle pooled
    connections) as if ``s`` seconds had passed, and moves ``dt_util.utcnow`` and
    aiohttp's pool clock with it. (``async_fire_time_changed`` alone runs due HA timers
    but leaves idle connections young, hiding keep-alive expiry.)
    Only call it while nothing is in flight (after ``hass.async_block_till_done()``):
    request timeouts are loop timers too.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.offset = 0.0
        self._orig_time = loop.time
        self._orig_utcnow: Callable[[], datetime] | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[VirtualClock]:
        import aiohttp.connector
        from homeassistant.util import dt as dt_util

        orig_time = self._orig_time
        orig_utcnow = dt_util.utcnow
        orig_monotonic = aiohttp.connector.monotonic
        self._orig_utcnow = orig_utcnow
        self.loop.time = lambda: orig_time() + self.offset  # type: ignore[method-assign]
        dt_util.utcnow = lambda: orig_utcnow() + timedelta(seconds=self.offset)
        # aiohttp's connection pool stamps idle connections with time.monotonic.
        aiohttp.connector.monotonic = lambda: orig_monotonic() + self.offset  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            del self.loop.time  # type: ignore[method-assign]
            dt_util.utcnow = orig_utcnow
            aiohttp.connector.monotonic = orig_monotonic  # type: ignore[attr-defined]

    def now(self) -> datetime:
        assert self._orig_utcnow is not None
        return self._orig_utcnow() + timedelta(seconds=self.offset)

    async def advance(self, seconds: float) -> None:
        self.offset += seconds
        # Let the loop run the timers that are due now.
        for _ in range(3):
            await asyncio.sleep(0)


def collect() -> None:
    for _ in range(3):
        gc.collect()
