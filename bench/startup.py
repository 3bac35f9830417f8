"""Start-up benchmarks: ours in Home Assistant, our library alone, the PyPI peer."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import tracemalloc
from typing import Any

from . import peer
from .harness import (
    LATENCY,
    add_entry,
    collect,
    home_assistant,
    login_counts,
    requests_by_endpoint,
    simulator,
    wait_until,
)

# Real HTTPS to the cloud costs a TCP and a TLS 1.3 handshake (2 round trips) per new
# connection; loopback HTTP costs none. The "+handshakes" figures add them in the proxy.
HANDSHAKE_RTTS = 2


def _entity_ids(hass: Any, entry: Any) -> list[str]:
    from homeassistant.helpers import entity_registry as er

    registry = er.async_get(hass)
    return [
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.disabled_by is None
    ]


# The simulator, its aiohttp server and the proxy run in this process too: allocations
# with any of their frames on the stack (of the innermost FRAMES) are not the
# integration's.
FRAMES = 16
NOT_OURS = ("*/sigen_sim/*", "*/aiohttp/web*", "*/bench/harness.py", "*/asyncio/streams.py")


def _ours_only(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces(
        [tracemalloc.Filter(False, pattern, all_frames=True) for pattern in NOT_OURS]
    )


def _record_arrivals(sim: Any) -> list[tuple[float, str]]:
    """Stamp every request the simulator logs with the real time it arrived."""
    arrivals: list[tuple[float, str]] = []
    log = sim.request_log
    append = log.append

    def stamped(entry: Any) -> None:
        arrivals.append((time.perf_counter(), f"{entry.method} {entry.path}"))
        append(entry)

    log.append = stamped
    return arrivals


def _connected(entry: Any) -> bool:
    runtime = getattr(entry, "runtime_data", None)
    return runtime is not None and bool(runtime.push.connected)


def _ready(hass: Any, entry: Any, developer: bool) -> bool:
    """Every enabled entity has a state; with push, every station's telemetry arrived.

    Telemetry reaches all of an entry's entities in the same callback, so once every
    station has telemetry every push entity holds its value. Entities fed only by the
    ``change`` topic stay unavailable until the station changes something (the cloud
    sends no snapshot): they are counted, not waited for.
    """
    runtime = getattr(entry, "runtime_data", None)
    if runtime is None:
        return False
    # The cheap test first: this runs every millisecond, on the loop it measures (with
    # 2,000 entities the registry walk took ~15 % of the 50-station start-up).
    if developer:
        stations = runtime.stations.values()
        if not stations or any(st.push.data.last_telemetry is None for st in stations):
            return False
    ids = _entity_ids(hass, entry)
    return bool(ids) and all(hass.states.get(i) is not None for i in ids)


async def setup_and_wait(hass: Any, sim: Any, entry: Any, *, developer: bool, limit: float) -> bool:
    """Set the entry up and wait until every entity has a state (see ``_ready``).

    With push, the simulator's first telemetry is published the moment the client is
    subscribed (the real cloud pushes on its own 5-minute schedule; the simulator's own
    first push waits 1 s).
    """
    if not await hass.config_entries.async_setup(entry.entry_id):
        return False
    pushed = False

    def ready() -> bool:
        nonlocal pushed
        if developer and not pushed and _connected(entry):
            pushed = True
            hass.async_create_background_task(sim.publish_telemetry(), "bench first push")
        return _ready(hass, entry, developer)

    return await wait_until(ready, limit)


async def ours_once(
    stations: int = 1,
    *,
    developer: bool = False,
    latency: float = LATENCY,
    handshakes: bool = False,
    mqtt_rtt: float = 0.0,
    memory: bool = False,
    memory_frames: int = FRAMES,
    limit: float = 60.0,
    restart: bool = False,
) -> dict[str, Any]:
    """One start-up of the integration: ``async_setup_entry`` → all entities have a state.

    With ``restart``, a first Home Assistant instance sets the entry up and stops (its
    stored session and registries are written), and a second one on the same config
    dir is measured: a restart with the last run's tokens and stations, on new
    connections (the first instance's connection pools are closed with it).
    """
    delay = HANDSHAKE_RTTS * latency if handshakes else 0.0
    config_dir = tempfile.mkdtemp(prefix="sigen-bench-ha-")
    try:
        async with simulator(
            stations, mqtt=developer, latency=latency, connect_delay=delay, mqtt_rtt=mqtt_rtt
        ) as (sim, proxy):
            entry_id = None
            if restart:
                async with home_assistant(config_dir) as hass:
                    entry = add_entry(hass, sim, proxy.url, developer=developer)
                    await hass.async_block_till_done()
                    if not await setup_and_wait(hass, sim, entry, developer=developer, limit=limit):
                        raise RuntimeError("the first set-up did not complete")
                    await hass.async_block_till_done()
                    entry_id = entry.entry_id
                sim.request_log.clear()
            async with home_assistant(config_dir) as hass:
                return await _measured(
                    hass,
                    sim,
                    proxy,
                    add_entry(hass, sim, proxy.url, developer=developer, entry_id=entry_id),
                    developer=developer,
                    memory=memory,
                    memory_frames=memory_frames,
                    limit=limit,
                )
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


async def _measured(
    hass: Any,
    sim: Any,
    proxy: Any,
    entry: Any,
    *,
    developer: bool,
    memory: bool,
    memory_frames: int,
    limit: float,
) -> dict[str, Any]:
    """Set ``entry`` up in ``hass`` and measure it (see :func:`ours_once`)."""
    await hass.async_block_till_done()
    connections0 = proxy.connections
    timeline = _record_arrivals(sim)
    if memory:
        collect()
        tracemalloc.start(memory_frames)
        before = _ours_only(tracemalloc.take_snapshot())
    t0 = time.perf_counter()
    complete = await setup_and_wait(hass, sim, entry, developer=developer, limit=limit)
    elapsed = time.perf_counter() - t0
    await hass.async_block_till_done()
    result: dict[str, Any] = {
        "seconds": elapsed,
        "complete": bool(complete),
        "requests": len(sim.request_log),
        "connections": proxy.connections - connections0,
        "entities": len(_entity_ids(hass, entry)),
        "unavailable": sorted(
            i for i in _entity_ids(hass, entry) if hass.states.get(i).state == "unavailable"
        )
        if complete
        else [],
        "by_endpoint": requests_by_endpoint(sim),
        "logins": login_counts(sim),
        # (ms after setup started, request) as the simulator received them
        "timeline": [(round((t - t0) * 1000), what) for t, what in timeline],
    }
    if memory:
        collect()
        after = _ours_only(tracemalloc.take_snapshot())
        tracemalloc.stop()
        diff = after.compare_to(before, "filename")
        result["memory_bytes"] = sum(d.size_diff for d in diff)
        result["memory_top"] = [
            (str(d.traceback[0].filename).rsplit("site-packages/", 1)[-1], d.size_diff)
            for d in sorted(diff, key=lambda d: -d.size_diff)[:8]
        ]
    return result


async def ours_library_once(latency: float = LATENCY, handshakes: bool = False) -> dict[str, Any]:
    """Our library's ``Sigen.async_initialize()`` alone (the peer's equivalent)."""
    from sigen import Sigen

    delay = HANDSHAKE_RTTS * latency if handshakes else 0.0
    async with simulator(1, latency=latency, connect_delay=delay) as (sim, proxy):
        t0 = time.perf_counter()
        async with Sigen(sim.username, sim.password, base_url=proxy.url) as api:
            await api.async_initialize()
            elapsed = time.perf_counter() - t0
        return {
            "seconds": elapsed,
            "requests": len(sim.request_log),
            "connections": proxy.connections,
            "by_endpoint": requests_by_endpoint(sim),
        }


async def peer_once(
    latency: float = LATENCY, *, handshakes: bool = False, same_data: bool = False
) -> dict[str, Any]:
    """The PyPI peer's ``async_initialize()`` (plus, with ``same_data``, the energy flow
    and the current mode, which our start-up also reads), pointed at the simulator."""
    module = peer.load()
    delay = HANDSHAKE_RTTS * latency if handshakes else 0.0
    async with simulator(1, latency=latency, connect_delay=delay) as (sim, proxy):
        client = peer.client(module, sim.username, sim.password, proxy.url)
        t0 = time.perf_counter()
        await client.async_initialize()
        if same_data:
            await client.get_energy_flow()
            await client.get_operational_mode()
        elapsed = time.perf_counter() - t0
        await asyncio.sleep(0)  # let the peer's closed sessions finish closing
        return {
            "seconds": elapsed,
            "requests": len(sim.request_log),
            "connections": proxy.connections,
            "by_endpoint": requests_by_endpoint(sim),
        }
