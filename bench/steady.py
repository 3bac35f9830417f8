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


async def steady_hour(
    minutes: int = 60,
    *,
    developer: bool = True,
    keepalive: float | None = None,
    **sim_config: Any,
) -> dict[str, Any]:
    """Run ``minutes`` simulated minutes after start-up; count what went over the wire.

    ``keepalive`` overrides the idle timeout of the entry's connections (the entry's
    own session keeps them 90 s; Home Assistant's shared one, used before issue 21,
    15 s) to show what it saves; ``sim_config`` goes to ``SimConfig`` (e.g. short token
    lifetimes).
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
        runtime = entry.runtime_data
        if keepalive is not None:
            # The entry's session (issue 21; before it, Home Assistant's shared one).
            runtime.client.http_session().connector._keepalive_timeout = keepalive
        push = runtime.push
        flips = {"mqtt_disconnects": 0}
        last = [push.connected]

        def on_update() -> None:
            now = push.connected
            if last[0] and not now:
                flips["mqtt_disconnects"] += 1
            last[0] = now

        # Every station's push coordinator hears of the connection; one is enough.
        unsub = next(iter(runtime.stations.values())).push.async_add_listener(on_update)
        # The coordinators' timed refreshes run as background tasks, which
        # async_block_till_done does not wait for; the clock must not jump while a
        # request is in flight (its timeout would fire), so count the refreshes.
        in_flight = [0]
        originals: dict[Any, Any] = {}

        def counting(update: Any) -> Any:
            async def counted() -> Any:
                in_flight[0] += 1
                try:
                    return await update()
                finally:
                    in_flight[0] -= 1

            return counted

        for coordinator in runtime.coordinators():
            originals[coordinator] = coordinator._async_update_data
            coordinator._async_update_data = counting(coordinator._async_update_data)

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
        for coordinator, update in originals.items():
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
