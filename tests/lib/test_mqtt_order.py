"""SigenMQTT subscribes to its exact topics before it publishes the subscription requests.

The cloud answers a request with a push at once; had the request gone first, that push
could reach the broker before our SUBSCRIBE and be dropped (a fresh session has no
subscription yet). Real mosquitto, real TLS, the simulator's cloud side.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiomqtt
import pytest

from sigen import SigenMQTT
from sigen.mqtt import HardenedClient
from sigen_sim import Simulator

from .test_mqtt import Listener, make_mqtt, wait_until

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)


class _RecordingClient(HardenedClient):
    """The real client, noting when each SUBSCRIBE and PUBLISH starts and is acknowledged."""

    def __init__(self, events: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._events = events

    async def __aenter__(self) -> Any:
        result = await super().__aenter__()
        self._events.append("connack")
        return result

    async def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        self._events.append("subscribe")
        result = await super().subscribe(*args, **kwargs)
        self._events.append("suback")
        return result

    async def publish(self, topic: str, *args: Any, **kwargs: Any) -> None:
        self._events.append(f"publish {topic}")
        await super().publish(topic, *args, **kwargs)


class _RecordingMQTT(SigenMQTT):
    events: list[str]

    def _make_client(
        self,
        context: ssl.SSLContext,
        token: str,
        *,
        identifier: str,
        clean_session: bool,
        host: str | None = None,
    ) -> aiomqtt.Client:
        return _RecordingClient(
            self.events,
            host or self.broker,
            self.port,
            username=self.app_key,
            password=token,
            identifier=identifier,
            clean_session=clean_session,
            tls_context=context,
            timeout=self.connect_timeout,
            keepalive=self.keepalive,
        )


def _recording_mqtt(sim: Simulator) -> _RecordingMQTT:
    base = make_mqtt(sim)
    mqtt = _RecordingMQTT(
        sim.app_key,
        sim.app_secret,
        sim.app_identifier,
        base.system_ids,
        ca_cert_pem=sim.certs.ca_pem,
        broker=sim.mqtt_host,
        port=sim.mqtt_port,
        base_url=sim.nb_url,
    )
    mqtt.events = []
    return mqtt


async def test_subscribe_is_acknowledged_before_any_request(
    socket_enabled: None, sim_mqtt: Simulator
) -> None:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    mqtt = _recording_mqtt(sim_mqtt)
    running = Listener(mqtt)
    await running.start()
    try:
        await wait_until(lambda: len(sim_mqtt.mqtt_received) >= 3, "the three requests")
    finally:
        await running.stop()
    assert mqtt.events[:3] == ["connack", "subscribe", "suback"]
    assert sorted(mqtt.events[3:6]) == [
        "publish openapi/subscription/alarm",
        "publish openapi/subscription/change",
        "publish openapi/subscription/period",
    ]
    # The broker delivered the requests to the cloud side after the subscription.
    assert sorted(topic for topic, _ in sim_mqtt.mqtt_received[:3]) == [
        "openapi/subscription/alarm",
        "openapi/subscription/change",
        "openapi/subscription/period",
    ]


async def test_first_push_after_connect_is_never_lost(
    socket_enabled: None, sim_mqtt: Simulator
) -> None:
    """The cloud pushes telemetry and system data the moment a request arrives."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.0
    running = Listener(make_mqtt(sim_mqtt))
    await running.start()
    try:
        systems = {station.system_id for station in sim_mqtt.stations}
        await wait_until(
            lambda: {t.system_id for t in running.telemetry} == systems, "the first telemetry"
        )
        await wait_until(
            lambda: {s.system_id for s in running.system} == systems, "the first system data"
        )
    finally:
        await running.stop()


async def test_onboarding_overlaps_the_connection_and_comes_before_the_subscription(
    socket_enabled: None, sim_mqtt: Simulator
) -> None:
    """The onboarding request goes out while the broker connection opens (issue 21).

    The connection is up while the onboarding is still held back; the subscription
    waits for the onboarding, and then the data flows as always.
    """
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.0
    mqtt = _recording_mqtt(sim_mqtt)
    northbound = mqtt.northbound
    onboard = northbound.onboard
    release = asyncio.Event()

    async def held_onboard(system_ids: Any) -> Any:
        mqtt.events.append("onboard")
        await release.wait()
        results = await onboard(system_ids)
        mqtt.events.append("onboarded")
        return results

    northbound.onboard = held_onboard  # type: ignore[method-assign]
    running = Listener(mqtt)
    start = asyncio.create_task(running.start())  # connected once subscribed
    try:
        await wait_until(lambda: "connack" in mqtt.events, "the connection")
        assert "onboard" in mqtt.events
        assert "subscribe" not in mqtt.events  # not before the onboarding is done
        release.set()
        await start
        systems = {station.system_id for station in sim_mqtt.stations}
        await wait_until(
            lambda: {t.system_id for t in running.telemetry} == systems, "the first telemetry"
        )
    finally:
        release.set()
        await start
        await running.stop()
    assert mqtt.events.index("onboarded") < mqtt.events.index("subscribe")
    assert all(mqtt.onboarding[system_id].result for system_id in systems)
