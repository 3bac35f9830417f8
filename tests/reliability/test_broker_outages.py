"""Broker outages against the simulator's real mosquitto: ``SigenMQTT.listen`` reconnects
every time, nothing raises, nothing leaks, and queued telemetry is not lost.

The CI version: a few outages of about a second with reconnect intervals of 0.2 s
(backoff capped at 1 s). ``scripts/soak`` runs the long version (10 s, 60 s, 5 min).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.sigen import SigenMQTTError
from sigen_sim import Simulator
from tests.integration.platform_helpers import (
    PREFIX,
    setup_entry,
    unload,
    wait_for,
    wait_for_push,
)

from .helpers import (
    FAST,
    Listener,
    LoopErrors,
    broker_connections,
    make_mqtt,
    no_new_tasks,
    open_sockets,
    task_names,
    wait_until,
)

pytestmark = pytest.mark.sim_config(time_scale=0, telemetry_interval=0)

OUTAGES = (0.5, 1.5, 1.0)  # seconds the broker stays down (CI)


async def _publish_marked(sim: Simulator, system_id: str) -> Any:
    """Publish one telemetry message with a new statisticsTime; return that time."""
    await sim.advance(1)
    before = sim.clock.now()
    await sim.publish_telemetry(system_id)
    return int(before)


async def test_listener_reconnects_after_every_outage(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Broker down and up again, several times: every outage is survived, logged once."""
    sim = sim_mqtt
    system_id = sim.stations[0].system_id
    baseline_tasks = task_names()
    baseline_connections = broker_connections(sim.mqtt_port)  # the simulator's publisher
    baseline_sockets = open_sockets()
    listener = Listener(make_mqtt(sim))
    task = listener.start()
    await listener.connected()
    assert broker_connections(sim.mqtt_port) == baseline_connections + 1

    reconnect_seconds: list[float] = []
    for down_for in OUTAGES:
        assert sim.mqtt is not None
        await sim.mqtt.stop_broker()
        await listener.disconnected()
        await asyncio.sleep(down_for)
        await sim.mqtt.start_broker()
        # Within its backoff: at most max_reconnect_interval plus a connection.
        reconnect_seconds.append(
            await listener.connected(limit=FAST["max_reconnect_interval"] + 10)
        )
        assert not task.done(), "the listener must not end on an outage"
        marker = await _publish_marked(sim, system_id)
        await wait_until(lambda m=marker: m in {_ts(t) for t in listener.telemetry}, "telemetry")
        assert broker_connections(sim.mqtt_port) == baseline_connections + 1

    assert listener.connection == [True, False] * len(OUTAGES) + [True]
    # One warning per outage (the first failure), one info when it is back.
    lost = [r for r in caplog.records if "lost or refused" in r.getMessage()]
    restored = [r for r in caplog.records if "restored" in r.getMessage()]
    assert len(lost) == len(OUTAGES)
    assert all(r.levelno == logging.WARNING for r in lost)
    assert len(restored) == len(OUTAGES)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    await listener.stop()
    gc.collect()
    await wait_until(
        lambda: broker_connections(sim.mqtt_port) == baseline_connections,
        "the listener's connection to close",
    )
    await no_new_tasks(baseline_tasks)
    await wait_until(lambda: open_sockets() <= baseline_sockets, "every socket of ours to close")
    print(f"reconnect after broker start (s): {[round(s, 2) for s in reconnect_seconds]}")


def _ts(telemetry: Any) -> int | None:
    t = telemetry.statistics_time
    return None if t is None else int(t.timestamp())


async def test_queued_telemetry_survives_a_disconnect(sim_mqtt: Simulator) -> None:
    """Persistent session: what the broker queued while we were away arrives, none lost."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    # Reconnect only after 2 s, so the messages below are published while we are away.
    listener = Listener(make_mqtt(sim, reconnect_interval=2.0, max_reconnect_interval=2.0))
    listener.start()
    await listener.connected()
    # The broker's log: a stable client id, clean session off ("c0"), QoS 1 subscriptions.
    log = sim.mqtt.broker.log_tail(500)
    client_id = re.escape(listener.mqtt.client_id)
    assert re.search(rf"as {client_id} \(p\d, c0,", log), log
    assert re.search(rf"{client_id} 1 openapi/period/{sim.app_key}/{system_id}", log), log
    first = await _publish_marked(sim, system_id)
    await wait_until(lambda: first in {_ts(t) for t in listener.telemetry}, "live telemetry")

    await sim.mqtt.drop_clients()
    await listener.disconnected()
    published = [await _publish_marked(sim, system_id) for _ in range(5)]
    assert not listener.mqtt.connected, "published while the listener was away"
    await listener.connected()
    await wait_until(
        lambda: set(published) <= {_ts(t) for t in listener.telemetry},
        "the queued telemetry",
    )
    lost = set(published) - {_ts(t) for t in listener.telemetry}
    assert lost == set()
    await listener.stop()


async def test_queued_telemetry_survives_a_broker_restart(sim_mqtt: Simulator) -> None:
    """Messages queued for our session are kept by the broker's persistence across a restart."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    listener = Listener(make_mqtt(sim, reconnect_interval=3.0, max_reconnect_interval=3.0))
    listener.start()
    await listener.connected()
    await sim.mqtt.drop_clients()
    await listener.disconnected()
    published = [await _publish_marked(sim, system_id) for _ in range(3)]
    await sim.mqtt.restart_broker(0.2)
    await listener.connected()
    await wait_until(
        lambda: set(published) <= {_ts(t) for t in listener.telemetry},
        "the telemetry queued before the restart",
    )
    await listener.stop()


async def test_no_duplicate_connections_when_flapping(sim_mqtt: Simulator) -> None:
    """Kicked off the broker many times in a row: always exactly one connection of ours."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    baseline = broker_connections(sim.mqtt_port)
    listener = Listener(make_mqtt(sim))
    task = listener.start()
    await listener.connected()
    for _ in range(5):
        await sim.mqtt.drop_clients()
        await listener.disconnected()
        await listener.connected()
        assert broker_connections(sim.mqtt_port) <= baseline + 1
    assert not task.done()
    await listener.stop()
    await wait_until(lambda: broker_connections(sim.mqtt_port) == baseline, "connections to close")


async def test_integration_push_survives_outages(
    hass: HomeAssistant,
    sim_mqtt: Simulator,
    fast_ha_reconnect: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through Home Assistant: push entities go unavailable during an outage and come
    back, the entry stays loaded, nothing reaches the event loop, nothing leaks."""
    await _push_survives(hass, sim_mqtt, caplog, OUTAGES, reconnect_within=5.0)


SOAK_OUTAGES = os.environ.get("SIGEN_SOAK_HA_OUTAGES", "")
SOAK_REPEAT = int(os.environ.get("SIGEN_SOAK_HA_REPEAT", "20"))


@pytest.mark.skipif(
    not SOAK_OUTAGES, reason="a soak run of hours: scripts/soak --ha OUTAGES [REPEAT] runs it"
)
@pytest.mark.timeout(12 * 3600)
async def test_integration_push_survives_long_outages(
    hass: HomeAssistant, sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The long version through Home Assistant, with the integration's own reconnect
    interval (30 s, doubling to 10 min): ``scripts/soak --ha`` sets the outages
    (seconds, comma-separated) and the number of rounds; not run in CI."""
    outages = [float(x) for x in SOAK_OUTAGES.split(",")] * SOAK_REPEAT
    await _push_survives(hass, sim_mqtt, caplog, outages, reconnect_within=MQTT_MAX_WAIT)


MQTT_MAX_WAIT = 700.0  # seconds: the listener's longest backoff step (600 s) and margin


async def _push_survives(
    hass: HomeAssistant,
    sim: Simulator,
    caplog: pytest.LogCaptureFixture,
    outages: Sequence[float],
    *,
    reconnect_within: float,
) -> None:
    """Stop the broker for each of ``outages`` seconds under a running entry; check
    every round and report it on stdout (``-s``) for the soak."""
    assert sim.mqtt is not None
    baseline_connections = broker_connections(sim.mqtt_port)
    with LoopErrors() as errors:
        entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
        await wait_for_push(hass, sim, entry)
        push = entry.runtime_data.push
        runtime = entry.runtime_data
        assert runtime.push.task is not None
        assert _state(hass) != STATE_UNAVAILABLE
        assert broker_connections(sim.mqtt_port) == baseline_connections + 1
        baseline_tasks = task_names()
        start = len(caplog.records)
        loop = asyncio.get_running_loop()
        for number, down_for in enumerate(outages, 1):
            await sim.mqtt.stop_broker()
            await wait_for(hass, lambda: _state(hass) == STATE_UNAVAILABLE)
            assert _state(hass, POLLED) != STATE_UNAVAILABLE, "polled data is not affected"
            await asyncio.sleep(down_for)
            await sim.mqtt.start_broker()
            back = loop.time()
            await _wait_seconds(hass, lambda: push.connected, reconnect_within)
            reconnected = loop.time() - back
            await sim.publish_telemetry()
            await wait_for(hass, lambda: _state(hass) != STATE_UNAVAILABLE)
            assert not runtime.push.task.done()
            assert entry.state is ConfigEntryState.LOADED
            connections = broker_connections(sim.mqtt_port) - baseline_connections
            assert connections == 1
            extra = sorted(set(task_names()) ^ set(baseline_tasks))
            print(  # the soak's report
                f"HA outage {number}/{len(outages)}: down {down_for:g} s, reconnected "
                f"{reconnected:.1f} s after the broker's start, entities back, "
                f"connections {connections}, tasks changed {extra or 'none'}",
                flush=True,
            )
        lost = [
            r
            for r in caplog.records[start:]
            if r.name.startswith("custom_components.sigen_cloud") and r.levelno >= logging.WARNING
        ]
        # Per outage: the library's "lost or refused" and the integration's "was lost".
        assert len(lost) == 2 * len(outages), [r.getMessage() for r in lost]
        assert not [r for r in caplog.records[start:] if r.levelno >= logging.ERROR]
        await unload(hass, entry)
        await wait_until(
            lambda: broker_connections(sim.mqtt_port) == baseline_connections,
            "the integration's broker connection to close",
        )
        await errors.check()


async def _wait_seconds(hass: HomeAssistant, predicate: Callable[[], bool], limit: float) -> None:
    """Let Home Assistant run until ``predicate()`` holds, at most ``limit`` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reconnected within {limit} s")
        await hass.async_block_till_done()
        await asyncio.sleep(0.1)


POLLED = f"sensor.{PREFIX}_pv_power"
PUSHED = f"sensor.{PREFIX}_inverter_active_power"


def _state(hass: HomeAssistant, entity_id: str = PUSHED) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_unload_during_an_outage_leaves_nothing(
    hass: HomeAssistant, sim_mqtt: Simulator, fast_ha_reconnect: None
) -> None:
    """The entry unloads while the listener waits to reconnect: no task, no connection
    (Home Assistant's own checks fail the test on a lingering task or timer)."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    baseline_connections = broker_connections(sim.mqtt_port)
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    push = entry.runtime_data.push
    await sim.mqtt.stop_broker()
    await wait_for(hass, lambda: not push.connected)
    task = push.task
    assert task is not None
    await unload(hass, entry)
    assert task.done()
    await sim.mqtt.start_broker()
    await asyncio.sleep(1.0)  # a leaked listener would reconnect now
    assert broker_connections(sim.mqtt_port) == baseline_connections


async def test_check_connection_with_the_broker_down(sim_mqtt: Simulator) -> None:
    """The configuration check says clearly that the broker cannot be reached."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    mqtt = make_mqtt(sim, connect_timeout=2.0)
    try:
        await sim.mqtt.stop_broker()
        with pytest.raises(SigenMQTTError, match=r"Cannot connect to the MQTT broker 127\.0\.0\.1"):
            await mqtt.check_connection()
    finally:
        await mqtt.close()


async def test_broker_refuses_the_token_listener_logs_in_again(sim_mqtt: Simulator) -> None:
    """The broker stops accepting our token (another login replaced it): the listener
    gets a new token at once and reconnects; a handful of logins, not a storm."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    listener = Listener(make_mqtt(sim))
    task = listener.start()
    await listener.connected()
    logins = sim.count("/openapi/auth/login")
    await sim.mqtt.set_password(sim.app_key, "someone-elses-token")
    await sim.mqtt.drop_clients()
    await listener.disconnected()
    await listener.connected()
    assert 1 <= sim.count("/openapi/auth/login") - logins <= 2
    assert not task.done()
    await listener.stop()


async def test_revoked_app_secret_raises_a_repair(
    hass: HomeAssistant,
    sim_mqtt: Simulator,
    fast_ha_reconnect: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The developer app secret stops working while the push runs: the push stops (retrying
    cannot help), a repair issue says why, polling goes on, the entry stays loaded."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    push = entry.runtime_data.push
    sim.app_secret = "rotated-app-secret"
    sim.tokens.expire("nb")
    await sim.mqtt.set_password(sim.app_key, "no-longer-valid")
    await sim.mqtt.drop_clients()
    task = push.task
    assert task is not None
    await wait_for(hass, task.done)
    assert not push.connected
    assert entry.state is ConfigEntryState.LOADED
    assert _state(hass, POLLED) != STATE_UNAVAILABLE
    assert _state(hass) == STATE_UNAVAILABLE
    issues = [i for (domain, i) in ir.async_get(hass).issues if domain == DOMAIN]
    assert "developer_credentials_invalid" in issues, issues
    await unload(hass, entry)


async def test_cloud_401_while_onboarding_does_not_stop_the_push(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Onboarding answers 401 although the login works: logged, retried, and the push
    starts once the cloud behaves."""
    sim = sim_mqtt
    rule = sim.faults.unauthorized("/openapi/board/onboard")
    listener = Listener(make_mqtt(sim))
    task = listener.start()
    try:
        await wait_until(lambda: rule.hits >= 2 or task.done(), "the onboarding attempts")
        await asyncio.sleep(0.5)
        assert not task.done(), "the listener gave up"
        sim.faults.clear()
        await listener.connected()
    finally:
        with contextlib.suppress(Exception):
            await listener.stop()


async def test_integration_receives_what_was_queued_while_away(
    hass: HomeAssistant, sim_mqtt: Simulator
) -> None:
    """Through Home Assistant: telemetry the broker queued while the integration's
    listener was disconnected reaches the station's data after the reconnection."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    with (
        patch("custom_components.sigen_cloud.client.MQTT_RECONNECT_INTERVAL", 2.0),
        patch("custom_components.sigen_cloud.client.MQTT_ERROR_RECONNECT_INTERVAL", 2.0),
    ):
        entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    push = entry.runtime_data.push
    station = next(iter(entry.runtime_data.stations.values()))
    seen: set[int | None] = set()

    def record() -> None:
        if (telemetry := station.view().telemetry) is not None:
            seen.add(_ts(telemetry))

    unsubscribe = station.push.async_add_listener(record)
    await sim.mqtt.drop_clients()
    await wait_for(hass, lambda: not push.connected)
    markers = [await _publish_marked(sim, station.system_id or "") for _ in range(3)]
    assert not push.connected, "published while the listener was away"
    await wait_for(hass, lambda: set(markers) <= seen)
    unsubscribe()
    await unload(hass, entry)
