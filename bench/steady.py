"""Steady state: one simulated hour of polling and push, on a virtual clock."""

from __future__ import annotations

import asyncio
from typing import Any

from .harness import (
    VirtualClock,
    add_entry,
    home_assistant,
    login_counts,
    requests_by_endpoint,
    simulator,
)
from .startup import setup_and_wait

STEP = 2  # simulated seconds per step (a poll runs at most this late)


def _connectors(hass: Any) -> list[Any]:
    from homeassistant.helpers.aiohttp_client import DATA_CONNECTOR

    return list(hass.data.get(DATA_CONNECTOR, {}).values())


async def steady_hour(
    minutes: int = 60,
    *,
    developer: bool = True,
    keepalive: float | None = None,
    **sim_config: Any,
) -> dict[str, Any]:
    """Run ``minutes`` simulated minutes after start-up; count what went over the wire.

    ``keepalive`` overrides the idle timeout of Home Assistant's shared aiohttp
    connector (15 s by default) to show what a longer one would save; ``sim_config``
    goes to ``SimConfig`` (e.g. short token lifetimes).
    """
    async with (
        simulator(1, mqtt=developer, **sim_config) as (sim, proxy),
        home_assistant() as hass,
    ):
        entry = add_entry(hass, sim, proxy.url, developer=developer)
        await hass.async_block_till_done()
        if not await setup_and_wait(hass, sim, entry, developer=developer, limit=60):
            raise RuntimeError("the integration did not start")
        await hass.async_block_till_done()
        if keepalive is not None:
            for connector in _connectors(hass):
                connector._keepalive_timeout = keepalive
        coordinator = entry.runtime_data.coordinator
        flips = {"mqtt_disconnects": 0}
        last = [coordinator.data.mqtt_connected]

        def on_update() -> None:
            now = coordinator.data.mqtt_connected
            if last[0] and not now:
                flips["mqtt_disconnects"] += 1
            last[0] = now

        unsub = coordinator.async_add_listener(on_update)
        # The coordinator's timed refreshes run as background tasks, which
        # async_block_till_done does not wait for; the clock must not jump while a
        # request is in flight (its timeout would fire), so count the refreshes.
        in_flight = [0]
        update = coordinator._async_update_data

        async def counted() -> Any:
            in_flight[0] += 1
            try:
                return await update()
            finally:
                in_flight[0] -= 1

        coordinator._async_update_data = counted

        async def settle() -> None:
            await hass.async_block_till_done()
            while True:
                seen = len(sim.request_log)
                await asyncio.sleep(0.002)  # pushed messages, stray requests
                await hass.async_block_till_done()
                if not in_flight[0] and len(sim.request_log) == seen:
                    return

        sim.request_log.clear()
        connections0 = proxy.connections
        published0 = len(sim.mqtt.published) if sim.mqtt is not None else 0
        clock = VirtualClock(asyncio.get_running_loop())
        with clock.installed():
            # Small steps: a poll due between two steps runs at most STEP s late.
            for _ in range(minutes * 60 // STEP):
                await sim.advance(STEP)
                await settle()
                await clock.advance(STEP)
                await settle()
        unsub()
        coordinator._async_update_data = update
        pushed = (len(sim.mqtt.published) - published0) if sim.mqtt is not None else 0
        return {
            "simulated_minutes": minutes,
            "requests": len(sim.request_log),
            "by_endpoint": requests_by_endpoint(sim),
            "logins": login_counts(sim),
            "new_connections": proxy.connections - connections0,
            "telemetry_pushed": pushed,
            **flips,
        }
