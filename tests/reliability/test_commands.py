"""Battery commands under faults: a clear error when the broker is down and nothing fired
later, never sent twice while the broker flaps, every accepted command acknowledged and
recorded; bad schedules refused with a message that names the problem (library and
Home Assistant actions)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections import Counter
from typing import Any

import probatio as vol
import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.sigen import (
    BatteryCommand,
    SigenMQTTError,
    SigenValidationError,
)
from custom_components.sigen_cloud.sigen import mqtt as mqtt_module
from custom_components.sigen_cloud.sigen.models import validate_commands
from sigen_sim import Simulator
from tests import conftest as guard
from tests.integration.platform_helpers import STATION_ID, setup_entry, unload

from .helpers import Listener, LoopErrors, make_mqtt, wait_until

pytestmark = pytest.mark.sim_config(time_scale=0, telemetry_interval=0)

COMMAND_TOPIC = "openapi/instruction/command"


def command(system_id: str, index: int, **overrides: Any) -> BatteryCommand:
    """A valid command that starts ``index`` hours from now (so each one is unique)."""
    fields: dict[str, Any] = {
        "system_id": system_id,
        "active_mode": "charge",
        "start_time": int(time.time()) + 60 + index * 3600,
        "duration": 30,
        "charging_power": 2.5,
    }
    fields.update(overrides)
    return BatteryCommand(**fields)


def received_commands(sim: Simulator) -> list[dict[str, Any]]:
    """Every command item the simulator's cloud side received (duplicates included)."""
    return [
        item
        for topic, payload in sim.mqtt_received
        if topic == COMMAND_TOPIC and isinstance(payload, dict)
        for item in payload.get("commands", [])
    ]


# --------------------------------------------------------------------- broker down


async def test_broker_down_raises_and_nothing_fires_later(sim_mqtt: Simulator) -> None:
    """No listener: the short-lived connection fails; the command never arrives later."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    mqtt = make_mqtt(sim, connect_timeout=2.0, publish_timeout=2.0)
    try:
        first = command(system_id, 0)
        await mqtt.send_battery_commands([first])  # works, and logs in
        await wait_until(lambda: len(received_commands(sim)) == 1, "the first command")
        await sim.mqtt.stop_broker()
        with pytest.raises(SigenMQTTError, match="cannot reach the MQTT broker"):
            await mqtt.send_battery_commands([command(system_id, 1)])
        await sim.mqtt.start_broker()
        await asyncio.sleep(1.5)  # time for anything queued to surface (it must not)
        assert [c["startTime"] for c in received_commands(sim)] == [first.start_time]
    finally:
        await mqtt.close()


async def test_broker_dies_under_a_connected_listener(sim_mqtt: Simulator) -> None:
    """The listener still believes it is connected when the broker dies: the command
    fails (within the publish timeout) and is not re-sent when the listener reconnects."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    listener = Listener(make_mqtt(sim, publish_timeout=2.0, connect_timeout=2.0))
    listener.start()
    await listener.connected()
    await sim.mqtt.stop_broker()
    with pytest.raises(SigenMQTTError):
        await listener.mqtt.send_battery_commands([command(system_id, 0)])
    await sim.mqtt.start_broker()
    await listener.connected()
    await asyncio.sleep(1.5)
    assert received_commands(sim) == []
    # The same client works again afterwards.
    await listener.mqtt.send_battery_commands([command(system_id, 1)])
    await wait_until(lambda: len(received_commands(sim)) == 1, "the command after the outage")
    await listener.stop()


# ------------------------------------------------------------------------ flapping


class _SentPublishes(logging.Handler):
    """paho's "Sending PUBLISH (d0, q1, …), 'b'<topic>''" debug lines of our client."""

    def __init__(self, topic: str) -> None:
        super().__init__(logging.DEBUG)
        self.topic = topic
        self.flags: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.errors.append(text)
        if text.startswith("Sending PUBLISH") and f"'b'{self.topic}''" in text:
            self.flags.append(text.split("(", 1)[1].split(",", 1)[0])


async def test_flapping_broker_never_duplicates_a_command(sim_mqtt: Simulator) -> None:
    """Clients kicked and the broker restarted while commands go out: our client sends
    each command once and never re-sends it (no DUP publish), the cloud applies each at
    most once, and every acknowledged one is recorded by the cloud.

    The broker itself may deliver a command to the cloud twice (QoS 1 is at least once
    on that leg too: after its restart mosquitto re-sends what it had not seen
    acknowledged); the simulator, like a careful cloud, skips the redelivery and counts
    it in ``redelivered``.
    """
    sim = sim_mqtt
    assert sim.mqtt is not None
    side = sim.mqtt
    system_id = sim.stations[0].system_id
    listener = Listener(make_mqtt(sim, publish_timeout=3.0, connect_timeout=3.0))
    rng = random.Random(7)
    stop = asyncio.Event()

    async def flap() -> None:
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            if rng.random() < 0.25:
                await side.restart_broker(rng.uniform(0.0, 0.3))
            else:
                with contextlib.suppress(Exception):
                    await side.drop_clients()

    acknowledged: list[int] = []
    failed: list[int] = []
    sent = _SentPublishes(COMMAND_TOPIC)
    paho_logger = logging.getLogger(f"{mqtt_module.__name__}.paho")
    paho_logger.addHandler(sent)
    with LoopErrors() as errors:
        listener.start()
        await listener.connected()
        flapper = asyncio.create_task(flap())
        try:
            for index in range(20):
                item = command(system_id, index)
                try:
                    await listener.mqtt.send_battery_commands([item])
                except SigenMQTTError:
                    failed.append(item.start_time)
                else:
                    acknowledged.append(item.start_time)
                await asyncio.sleep(rng.uniform(0.0, 0.15))
        finally:
            stop.set()
            await flapper
            paho_logger.removeHandler(sent)
        # One PUBLISH per call (a call refused before the publish sends none), none a
        # re-send: a connection that died under a publish is never replayed.
        assert len(sent.flags) <= len(acknowledged) + len(failed)
        assert len(sent.flags) >= len(acknowledged)
        assert set(sent.flags) == {"d0"}
        # Dropped connections are the listener's warnings, not paho errors.
        assert sent.errors == []
        try:
            await listener.connected()
            # Everything the broker acknowledged reaches the cloud (queued for it).
            await wait_until(
                lambda: set(acknowledged) <= {c["startTime"] for c in received_commands(sim)},
                "every acknowledged command at the cloud",
            )
            await asyncio.sleep(1.0)
        finally:
            await listener.stop()
        counts = Counter(c["startTime"] for c in received_commands(sim))
        assert [t for t, n in counts.items() if n > 1] == [], "a command arrived twice"
        assert set(counts) <= set(acknowledged) | set(failed)
        applied = [r for t, ok, r in side.instructions if t == COMMAND_TOPIC and ok]
        assert len(applied) == sum(counts.values())
        assert acknowledged, "at least some commands got through the flapping"
        print(
            f"flapping: {len(acknowledged)} acknowledged, {len(failed)} refused with an "
            f"error, {len(sent.flags)} published, {side.redelivered} redelivered by the "
            "broker and skipped by the cloud"
        )
        await errors.check()


async def test_every_accepted_command_is_acknowledged_and_recorded(sim_mqtt: Simulator) -> None:
    """A stable broker: each call returns after the PUBACK and the cloud applied it."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    listener = Listener(make_mqtt(sim))
    listener.start()
    await listener.connected()
    batches = [[command(system_id, 2 * i), command(system_id, 2 * i + 1)] for i in range(5)]
    for batch in batches:
        await listener.mqtt.send_battery_commands(batch)
    await wait_until(lambda: len(received_commands(sim)) == 10, "ten commands at the cloud")
    applied = [r for t, ok, r in sim.mqtt.instructions if t == COMMAND_TOPIC and ok]
    assert len(applied) == 5
    assert sorted(c["startTime"] for c in received_commands(sim)) == sorted(
        c.start_time for batch in batches for c in batch
    )
    await listener.stop()


# ---------------------------------------------------------------------- validation

SYSTEM = "SIMSYS00000001"


def _bad_schedules() -> list[tuple[str, list[Any], str]]:
    now = int(time.time())
    ok = command(SYSTEM, 0)
    return [
        ("25 commands", [command(SYSTEM, i) for i in range(25)], r"25 commands.*at most 24"),
        (
            "overlap",
            [ok, command(SYSTEM, 0, start_time=ok.start_time + 600)],
            r"overlap",
        ),
        ("past", [command(SYSTEM, 0, start_time=now - 3600)], r"in the past"),
        ("negative power", [command(SYSTEM, 0, charging_power=-1)], r"charging_power.*negative"),
        ("absurd power", [command(SYSTEM, 0, charging_power=1e9)], r"charging_power.*absurd"),
        ("nan power", [command(SYSTEM, 0, pv_power=float("nan"))], r"pv_power.*finite"),
        ("unknown mode", [command(SYSTEM, 0, active_mode="turbo")], r"active_mode 'turbo'"),
        ("zero duration", [command(SYSTEM, 0, duration=0)], r"duration 0 min"),
        ("milliseconds", [command(SYSTEM, 0, start_time=now * 1000)], r"milliseconds"),
        ("none", [], r"no battery commands"),
        ("not a command", ["charge"], r"commands\[0\].*str"),
    ]


@pytest.mark.parametrize(
    "problem",
    [pytest.param(case[0], id=case[0]) for case in _bad_schedules()],
)
def test_validation_names_the_problem(problem: str) -> None:
    # The schedules are built when the test runs, not at collection: a command meant to
    # start in a minute would otherwise be minutes in the past once a long suite gets here.
    _, commands, message = next(case for case in _bad_schedules() if case[0] == problem)
    with pytest.raises(SigenValidationError, match=message):
        validate_commands(commands)


async def test_bad_schedule_is_not_sent(sim_mqtt: Simulator) -> None:
    """Refused before any connection: nothing reaches the broker."""
    sim = sim_mqtt
    mqtt = make_mqtt(sim)
    try:
        for _, commands, message in _bad_schedules():
            with pytest.raises(SigenValidationError, match=message):
                await mqtt.send_battery_commands(commands)
    finally:
        await mqtt.close()
    assert received_commands(sim) == []


# -------------------------------------------------------------- through the actions


def _device(hass: HomeAssistant, entry_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry_id)
    assert device is not None
    return device.id


def _text(err: BaseException) -> str:
    """The message a user sees (translated for Home Assistant errors)."""
    if isinstance(err, HomeAssistantError) and err.translation_placeholders:
        return f"{err} {err.translation_placeholders}"
    return str(err)


@pytest.mark.parametrize(
    ("service", "data", "message"),
    [
        ("battery_command", {"mode": "turbo", "duration": 30}, r"mode"),
        ("battery_command", {"mode": "charge", "duration": 30, "charging_power": -1}, r"power"),
        ("battery_command", {"mode": "charge", "duration": 30, "charging_power": 1e9}, r"power"),
        ("battery_command", {"mode": "charge", "duration": 0}, r"duration"),
        (
            "battery_command",
            {"mode": "charge", "duration": 30, "start_time": "2020-01-01T00:00:00+00:00"},
            r"past",
        ),
        (
            "battery_schedule",
            {"commands": [{"mode": "charge", "duration": 30}] * 25},
            r"25|24|too many",
        ),
        (
            "battery_schedule",
            {"commands": [{"mode": "charge", "duration": 60}, {"mode": "idle", "duration": 30}]},
            r"overlap",
        ),
        ("battery_schedule", {"commands": []}, r"commands"),
    ],
)
async def test_actions_refuse_bad_schedules(
    hass: HomeAssistant, sim_mqtt: Simulator, service: str, data: dict[str, Any], message: str
) -> None:
    """The actions refuse with a message naming the problem; nothing is sent."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device_id = _device(hass, entry.entry_id)
    with pytest.raises((ServiceValidationError, vol.Invalid)) as err:
        await hass.services.async_call(
            DOMAIN, service, {"device_id": device_id, **data}, blocking=True
        )
    assert re.search(message, _text(err.value), flags=re.IGNORECASE), _text(err.value)
    assert received_commands(sim_mqtt) == []
    await unload(hass, entry)


async def test_action_with_broker_down_is_a_clear_error(
    hass: HomeAssistant, sim_mqtt: Simulator, fast_ha_reconnect: None
) -> None:
    """Broker down: the action fails with an error (not silently), nothing fires later."""
    sim = sim_mqtt
    assert sim.mqtt is not None
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    device_id = _device(hass, entry.entry_id)
    await sim.mqtt.stop_broker()
    push = entry.runtime_data.push
    await wait_until(lambda: not push.connected, "the push to drop")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "battery_command",
            {"device_id": device_id, "mode": "charge", "duration": 30},
            blocking=True,
        )
    message = _text(err.value)
    assert "broker" in message.lower() or "mqtt" in message.lower()
    secrets = [sim.password, sim.app_secret, sim.username, *guard._issued_tokens(sim)]
    assert [s for s in secrets if s in message] == [], "a secret in the error shown"
    await sim.mqtt.start_broker()
    await wait_until(lambda: push.connected, "the push to come back")
    await asyncio.sleep(1.0)
    assert received_commands(sim) == []
    await unload(hass, entry)
