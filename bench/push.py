"""Push: latency broker → sensor state, throughput of telemetry into states, CPU per message."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .harness import add_entry, home_assistant, percentile, simulator
from .startup import setup_and_wait

PROBE_KEY = "inverter_active_power"  # a push-only sensor (MQTT telemetry)
PROBE_FIELD = "inverterActivePowerW"


def _entity_for(hass: Any, platform_domain: str, unique_id: str) -> str:
    from homeassistant.helpers import entity_registry as er

    entity_id = er.async_get(hass).async_get_entity_id(platform_domain, "sigen_cloud", unique_id)
    if entity_id is None:
        raise RuntimeError(f"no entity with unique id {unique_id}")
    return entity_id


def _probe_entities(hass: Any, entry: Any) -> dict[str, str]:
    """system id → entity id of its push-only probe sensor."""
    out = {}
    for station in entry.runtime_data.stations.values():
        assert station.system_id is not None
        out[station.system_id] = _entity_for(hass, "sensor", f"{station.station_id}_{PROBE_KEY}")
    return out


def _payloads(sim: Any, system_id: str, values: range) -> list[bytes]:
    """Period messages of one system, each with a different probe value (W)."""
    base = sim.mqtt.publisher.telemetry_payload(system_id)
    out = []
    for value in values:
        base[0]["value"][PROBE_FIELD] = f"{value:.1f}"
        out.append(json.dumps(base).encode())
    return out


async def _publish(sim: Any, topic: str, body: bytes) -> None:
    """Publish as the cloud does (QoS 1) on the simulator's own publisher connection."""
    client = sim.mqtt._client
    if client is None:
        raise RuntimeError("the simulator's publisher is not connected")
    await client.publish(topic, body, qos=1)


async def push_latency(messages: int = 10_000) -> dict[str, Any]:
    """Publish → the probe sensor's new state, one message at a time."""
    from homeassistant.const import EVENT_STATE_CHANGED
    from homeassistant.core import callback

    async with simulator(1, mqtt=True) as (sim, proxy), home_assistant() as hass:
        entry = add_entry(hass, sim, proxy.url, developer=True)
        if not await setup_and_wait(hass, sim, entry, developer=True, limit=60):
            raise RuntimeError("the integration did not start")
        await hass.async_block_till_done()
        system_id = sim.stations[0].system_id
        entity_id = _probe_entities(hass, entry)[system_id]
        topic = f"openapi/period/{sim.app_key}/{system_id}"
        bodies = _payloads(sim, system_id, range(10_000, 10_000 + messages))
        loop = asyncio.get_running_loop()
        waiter: list[asyncio.Future[float]] = []

        @callback
        def on_change(event: Any) -> None:
            if event.data["entity_id"] == entity_id and waiter and not waiter[0].done():
                waiter[0].set_result(time.perf_counter())

        unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
        latencies: list[float] = []
        lost = 0
        cpu0 = time.process_time()
        for body in bodies:
            waiter[:] = [loop.create_future()]
            t0 = time.perf_counter()
            await _publish(sim, topic, body)
            try:
                t1 = await asyncio.wait_for(waiter[0], 5)
            except TimeoutError:
                lost += 1
                continue
            latencies.append(t1 - t0)
        cpu = time.process_time() - cpu0
        unsub()
        return {
            "messages": messages,
            "lost": lost,
            "p50_ms": percentile(latencies, 50) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000,
            "max_ms": max(latencies) * 1000 if latencies else float("nan"),
            "cpu_ms_per_message_incl_publisher": cpu / max(1, messages) * 1000,
        }


def parse_throughput(stations: int, messages: int = 20_000) -> dict[str, Any]:
    """The library's parser alone: ``TelemetryData.from_mqtt_payload`` on raw bytes."""
    from sigen import TelemetryData
    from sigen_sim import SimConfig, Simulator
    from sigen_sim.mqtt_payloads import telemetry_values

    sim = Simulator(SimConfig(stations=stations, mqtt=False, time_scale=0.0))
    bodies = []
    for station in sim.stations:
        payload = [
            {
                "deviceType": "system",
                "systemId": station.system_id,
                "snCode": station.system_id,
                "statisticsTime": int(sim.clock.now()),
                "value": telemetry_values(station),
            }
        ]
        bodies.append(json.dumps(payload).encode())
    parse = TelemetryData.from_mqtt_payload
    n = len(bodies)
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(messages):
        parse(bodies[i % n])
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "messages": messages,
        "per_second": messages / elapsed,
        "cpu_us_per_message": cpu / messages * 1e6,
        "bytes_per_message": sum(len(b) for b in bodies) / n,
    }


async def ha_throughput(
    stations: int, *, budget: float = 3.0, max_messages: int = 20_000
) -> dict[str, Any]:
    """Telemetry messages into Home Assistant states, for an account of ``stations``.

    ``in_process``: raw payloads handed to the library's MQTT dispatch (parse, merge,
    coordinator, entity states) back to back, no broker. ``via_broker``: the same
    messages published to mosquitto by the simulator's publisher (QoS 1, 50 in flight)
    until the last one of every system is a sensor state: the publisher shares the loop.
    """
    from homeassistant.const import EVENT_STATE_CHANGED
    from homeassistant.core import callback

    async with simulator(stations, mqtt=True) as (sim, proxy), home_assistant() as hass:
        entry = add_entry(hass, sim, proxy.url, developer=True)
        if not await setup_and_wait(hass, sim, entry, developer=True, limit=120):
            raise RuntimeError("the integration did not start")
        await hass.async_block_till_done()
        runtime = entry.runtime_data
        push, mqtt = runtime.push, runtime.mqtt
        probes = _probe_entities(hass, entry)
        system_ids = [s.system_id for s in sim.stations]
        per_system = max(2, max_messages // len(system_ids))
        bodies = {
            sid: _payloads(sim, sid, range(20_000, 20_000 + per_system)) for sid in system_ids
        }
        state_changes = [0]

        @callback
        def on_change(_event: Any) -> None:
            state_changes[0] += 1

        unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)

        # -- in process: the library's dispatch → coordinator → states
        dispatch = mqtt._dispatch_telemetry
        handle = push.async_handle_telemetry
        done = 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        deadline = t0 + budget
        for i in range(per_system):
            for sid in system_ids:
                await dispatch(bodies[sid][i], handle)
                done += 1
            if time.perf_counter() > deadline:
                break
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        changes = state_changes[0]
        in_process = {
            "messages": done,
            "per_second": done / elapsed,
            "cpu_ms_per_message": cpu / done * 1000,
            "state_changes_per_message": changes / done,
        }
        await hass.async_block_till_done()

        # -- via the broker: as many messages as the in-process path did in ~1 s
        rounds = max(2, min(per_system, int(in_process["per_second"] / len(system_ids))))
        total = rounds * len(system_ids)
        final = (20_000 + rounds - 1) / 1000  # kW
        # Start from another value so that the last message is a change of state.
        for sid in system_ids:
            reset = _payloads(sim, sid, range(1, 2))[0]
            await _publish(sim, f"openapi/period/{sim.app_key}/{sid}", reset)
        await asyncio.sleep(0.2)
        await hass.async_block_till_done()

        def arrived() -> bool:
            for entity_id in probes.values():
                state = hass.states.get(entity_id)
                try:
                    if state is None or abs(float(state.state) - final) > 1e-6:
                        return False
                except ValueError:
                    return False
            return True

        cpu0, t0 = time.process_time(), time.perf_counter()
        in_flight: set[asyncio.Task[None]] = set()
        for i in range(rounds):
            for sid in system_ids:
                task = asyncio.create_task(
                    _publish(sim, f"openapi/period/{sim.app_key}/{sid}", bodies[sid][i])
                )
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                if len(in_flight) >= 50:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        if in_flight:
            await asyncio.wait(in_flight)
        ok = True
        end = time.perf_counter() + 30
        while not arrived():
            if time.perf_counter() > end:
                ok = False
                break
            await asyncio.sleep(0.001)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        unsub()
        via_broker = {
            "messages": total,
            "complete": ok,
            "per_second": total / elapsed,
            "cpu_ms_per_message_incl_publisher": cpu / total * 1000,
        }
        return {
            "stations": stations,
            "entities": len(hass.states.async_entity_ids()),
            "in_process": in_process,
            "via_broker": via_broker,
        }


def _group(filename: str) -> str:
    if "custom_components/sigen_cloud/sigen/" in filename:
        return "library (parse, merge, dispatch)"
    if "custom_components/sigen_cloud/" in filename:
        return "integration (coordinator, entities)"
    if "/homeassistant/" in filename:
        return "Home Assistant (state writes)"
    if "/ulid_transform/" in filename:
        return "ulid_transform (pure-Python fallback here)"
    return "other (stdlib, builtins)"


async def cpu_profile(messages: int = 2000) -> dict[str, Any]:
    """Where the CPU of one telemetry message goes (1 station, in-process dispatch):
    ``cProfile`` own time by file group, as shares (profiling inflates the total)."""
    import cProfile
    import pstats

    async with simulator(1, mqtt=True) as (sim, proxy), home_assistant() as hass:
        entry = add_entry(hass, sim, proxy.url, developer=True)
        if not await setup_and_wait(hass, sim, entry, developer=True, limit=60):
            raise RuntimeError("the integration did not start")
        await hass.async_block_till_done()
        runtime = entry.runtime_data
        dispatch = runtime.mqtt._dispatch_telemetry
        handle = runtime.push.async_handle_telemetry
        bodies = _payloads(sim, sim.stations[0].system_id, range(30_000, 30_000 + messages))
        profile = cProfile.Profile()
        profile.enable()
        for body in bodies:
            await dispatch(body, handle)
        profile.disable()
        stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        groups: dict[str, float] = {}
        for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.items():
            key = _group(filename)
            groups[key] = groups.get(key, 0.0) + own
        total = sum(groups.values()) or 1.0
        return {
            "messages": messages,
            "share": {k: round(v / total, 3) for k, v in sorted(groups.items())},
        }
