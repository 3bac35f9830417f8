"""The simulator's MQTT side (MqttSide) seen by a plain MQTT client over TLS."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt
import pytest

from sigen import NorthboundClient
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)


async def wait_until(predicate: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def tls(sim: Simulator, *, client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=sim.certs.ca_pem)
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if client_cert:
        context.load_cert_chain(sim.certs.client_cert_path, sim.certs.client_key_path)
    return context


async def login(sim: Simulator, *, onboard: bool = True) -> str:
    """A northbound key login (which sets the broker password) and onboarding."""
    nb = await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    )
    try:
        if onboard:
            await nb.onboard([s.system_id for s in sim.stations])
        token = nb.access_token
        assert token is not None
        return token
    finally:
        await nb.close()


class App:
    """A raw MQTT client of the app, collecting what it receives."""

    def __init__(self, sim: Simulator, token: str) -> None:
        self.sim = sim
        self.token = token
        self.messages: list[tuple[str, Any]] = []
        self.client = aiomqtt.Client(
            sim.mqtt_host,
            sim.mqtt_port,
            username=sim.app_key,
            password=token,
            tls_context=tls(sim, client_cert=sim.config.require_client_cert),
        )
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> App:
        await self.client.__aenter__()
        for station in self.sim.stations:
            for kind in ("period", "change", "alarm"):
                await self.client.subscribe(
                    f"openapi/{kind}/{self.sim.app_key}/{station.system_id}", 1
                )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self.client.messages:
            payload = message.payload
            assert isinstance(payload, bytes)
            try:
                data: Any = json.loads(payload)
            except ValueError:
                data = payload
            self.messages.append((str(message.topic), data))

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.client.__aexit__(None, None, None)

    async def request(self, kind: str, token: str | None = None) -> None:
        ids = [s.system_id for s in self.sim.stations]
        body = {"accessToken": token or self.token, "systemIdList": ids}
        await self.client.publish(f"openapi/subscription/{kind}", json.dumps(body), qos=1)

    async def instruct(self, what: str, body: dict[str, Any]) -> None:
        await self.client.publish(
            f"openapi/instruction/{what}", json.dumps({"accessToken": self.token, **body}), qos=1
        )

    def of(self, kind: str) -> list[Any]:
        return [data for topic, data in self.messages if topic.split("/")[1] == kind]


@pytest.fixture
async def app(sim_mqtt: Simulator) -> AsyncIterator[App]:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    token = await login(sim_mqtt)
    async with App(sim_mqtt, token) as running:
        yield running


def notes(sim: Simulator, topic: str) -> list[tuple[bool, str]]:
    assert sim.mqtt is not None
    return [(ok, reason) for t, ok, reason in sim.mqtt.instructions if t == topic]


async def test_start_and_stop(sim_mqtt: Simulator) -> None:
    side = sim_mqtt.mqtt
    assert side is not None
    assert side.broker.running
    pid = side.broker.pid
    assert pid is not None
    directory = side.certs.directory
    assert directory.exists()
    await sim_mqtt.stop()
    assert not side.broker.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not directory.exists()


@pytest.mark.sim_config(telemetry_shape="official")
async def test_subscription_and_period_payload(sim_mqtt: Simulator, app: App) -> None:
    """The documented payload: every field, ``pvPowerW`` (the captured shape:
    test_telemetry_shape.py)."""
    station = sim_mqtt.stations[0]
    await app.request("period")
    await wait_until(lambda: notes(sim_mqtt, "openapi/subscription/period"), "the request")
    assert notes(sim_mqtt, "openapi/subscription/period")[0][0] is True
    assert sim_mqtt.mqtt_received[-1] == (
        "openapi/subscription/period",
        {"accessToken": app.token, "systemIdList": [station.system_id]},
    )
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: app.of("period"), "telemetry")
    (item,) = app.of("period")[0]
    assert item["deviceType"] == "system"
    assert item["systemId"] == item["snCode"] == station.system_id
    assert item["statisticsTime"] == int(sim_mqtt.clock.now())
    values = item["value"]
    assert all(isinstance(v, str) for v in values.values())
    for key in (
        "pvPowerW",
        "gridActivePowerW",
        "gridPhaseAActivePowerW",
        "gridPhaseBActivePowerW",
        "gridPhaseCActivePowerW",
        "inverterActivePowerW",
        "inverterMaxChargePowerW",
        "inverterMaxDischargePowerW",
        "storageChargeCapacityWh",
        "storageDischargeCapacityWh",
        "storageChargeDischargePowerW",
        "storageSOC%",
        "operationalMode",
        "systemStatus",
    ):
        assert key in values, key


async def test_bad_token_and_unknown_requests_ignored(sim_mqtt: Simulator, app: App) -> None:
    await app.request("period", token="forged")
    await app.client.publish("openapi/subscription/period", b"not json", qos=1)
    await app.instruct("command", {"accessToken": "forged", "commands": []})
    await wait_until(lambda: len(sim_mqtt.mqtt_received) == 3, "three messages")
    assert sim_mqtt.mqtt is not None
    assert [ok for _, ok, _ in sim_mqtt.mqtt.instructions] == [False, False, False]
    assert not sim_mqtt.mqtt.subscriptions["period"]


async def test_periodic_and_initial_push(sim_mqtt: Simulator, app: App) -> None:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.0
    await app.request("period")
    await wait_until(lambda: len(app.of("period")) == 1, "the initial push")
    await sim_mqtt.advance(sim_mqtt.config.telemetry_interval - 1)
    await sim_mqtt.advance(1)
    await wait_until(lambda: len(app.of("period")) == 2, "the periodic push")


async def test_no_telemetry_before_onboarding(sim_mqtt: Simulator) -> None:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    token = await login(sim_mqtt, onboard=False)
    async with App(sim_mqtt, token) as app:
        await app.request("period")
        await wait_until(lambda: sim_mqtt.mqtt_received, "the request")
        await sim_mqtt.publish_telemetry()
        await sim_mqtt.mqtt.publish_alarm(sim_mqtt.stations[0].system_id, "1", "generation")
        await wait_until(lambda: app.of("alarm"), "the alarm (sent last)")
        assert not app.of("period")


async def test_change_alarm_and_faults(sim_mqtt: Simulator, app: App) -> None:
    assert sim_mqtt.mqtt is not None
    system_id = sim_mqtt.stations[0].system_id
    await sim_mqtt.mqtt.publish_change(system_id, {})
    await sim_mqtt.mqtt.publish_alarm(system_id, "1001", "recovery")
    sim_mqtt.faults.telemetry_malformed = True
    await sim_mqtt.publish_telemetry(system_id)
    sim_mqtt.faults.telemetry_malformed = False
    sim_mqtt.faults.telemetry_partial = True
    await sim_mqtt.publish_telemetry(system_id)
    await wait_until(lambda: len(app.messages) == 4, "four messages")
    (change,) = app.of("change")[0]
    assert change["value"]["chargeCutOffSOC%"]
    (alarm,) = app.of("alarm")[0]
    assert alarm["alarmCode"] == "1001"
    assert alarm["status"] == "recovery"
    assert isinstance(alarm["changeTime"], int)
    malformed, partial = app.of("period")
    assert isinstance(malformed, bytes)
    assert set(partial[0]["value"]) == {"storageSOC%", "gridActivePowerW"}


async def test_commands_applied_or_refused(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    start = int(sim_mqtt.clock.now())
    good = {
        "systemId": station.system_id,
        "activeMode": "discharge",
        "startTime": start,
        "duration": 30,
        "chargingPower": 2.0,
    }
    await app.instruct("command", {"commands": [{**good, "activeMode": "explode"}]})
    await app.instruct("command", {"commands": [{**good, "startTime": start * 1000}]})
    await app.instruct("command", {"commands": [good]})
    await wait_until(lambda: len(notes(sim_mqtt, "openapi/instruction/command")) == 3, "3 notes")
    results = notes(sim_mqtt, "openapi/instruction/command")
    assert [ok for ok, _ in results] == [False, False, True]
    assert "activeMode" in results[0][1]
    assert station.applied_commands == [good]
    await sim_mqtt.advance(60)
    assert station.sample().battery < 0  # discharging (Sigen sign: + = charging)


async def test_mode_switch(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    await app.instruct("mode", {"systemId": station.system_id, "mode": "NBI"})
    await app.instruct("mode", {"systemId": station.system_id, "mode": "WARP"})
    await wait_until(lambda: len(notes(sim_mqtt, "openapi/instruction/mode")) == 2, "2 notes")
    assert [ok for ok, _ in notes(sim_mqtt, "openapi/instruction/mode")] == [True, False]
    assert station.mode == 8


async def test_drop_clients_and_restart_broker(sim_mqtt: Simulator, app: App) -> None:
    assert sim_mqtt.mqtt is not None
    await sim_mqtt.mqtt.drop_clients()
    await wait_until(lambda: app._reader is not None and app._reader.done(), "the drop")
    with pytest.raises(aiomqtt.MqttError):
        app._reader.result()  # type: ignore[union-attr]
    port = sim_mqtt.mqtt_port
    await sim_mqtt.restart_broker(down_for=0.1)
    assert sim_mqtt.mqtt_port == port
    # The publisher is back: a new client gets telemetry again.
    async with App(sim_mqtt, app.token) as again:
        await sim_mqtt.publish_telemetry(sim_mqtt.stations[0].system_id)
        await wait_until(lambda: again.of("period"), "telemetry after the restart")


async def test_mutual_tls_side(sim_mtls: Simulator) -> None:
    assert sim_mtls.mqtt is not None
    sim_mtls.mqtt.initial_push_delay = None
    token = await login(sim_mtls)
    async with App(sim_mtls, token) as app:
        await sim_mtls.publish_telemetry(sim_mtls.stations[0].system_id)
        await wait_until(lambda: app.of("period"), "telemetry over mutual TLS")


async def test_station_added_and_removed_at_runtime(sim_mqtt: Simulator) -> None:
    """A station added later gets telemetry after the next request; removal withdraws it.

    (mosquitto's dynamic-security plugin disconnects the clients of a role it changes:
    a client reconnects, as ours does, and subscribes again.)
    """
    side = sim_mqtt.mqtt
    assert side is not None
    side.initial_push_delay = None
    token = await login(sim_mqtt)
    station = sim_mqtt.add_station()
    await side.acl_synced()
    assert sim_mqtt.onboard(station.system_id)[0]
    async with App(sim_mqtt, token) as app:  # subscribes to every station's topics
        await app.request("period")  # now lists the new station too
        await wait_until(lambda: station.system_id in side.subscriptions["period"], "the request")
        await sim_mqtt.publish_telemetry(station.system_id)
        await wait_until(lambda: app.of("period"), "telemetry of the new station")
        assert [item["systemId"] for item in app.of("period")[0]] == [station.system_id]

    sim_mqtt.remove_station(station.system_id)
    await side.acl_synced()
    assert station.system_id not in side.subscriptions["period"]
    async with App(sim_mqtt, token) as app:
        refused = await app.client.subscribe(
            f"openapi/change/{sim_mqtt.app_key}/{station.system_id}"
        )
        assert [getattr(code, "value", code) for code in refused] == [128]


async def test_several_alarms_in_one_message(sim_mqtt: Simulator, app: App) -> None:
    assert sim_mqtt.mqtt is not None
    system_id = sim_mqtt.stations[0].system_id
    await sim_mqtt.mqtt.publish_alarms(
        system_id, [("1001", "generation"), ("1001", "recovery"), ("1002", "generation")]
    )
    await wait_until(lambda: app.of("alarm"), "the alarm message")
    (message,) = app.of("alarm")
    assert [(a["alarmCode"], a["status"]) for a in message] == [
        ("1001", "generation"),
        ("1001", "recovery"),
        ("1002", "generation"),
    ]
    times = [a["changeTime"] for a in message]
    assert times == sorted(times)
    assert len(set(times)) == 3
