"""The simulator's gate in front of mosquitto (sigen_sim/mqtt_gate.py).

It is on only when the configuration asks for what mosquitto cannot do: every unexpired
token a valid broker password (``nb_one_token_per_key=False``), a refused persistent
session or client id (CONNACK 2). Plain MQTT clients over real TLS, and the packet code
on its own.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import pytest

from sigen_sim import Simulator
from sigen_sim.mqtt_gate import (
    ConnectPacket,
    ProtocolError,
    connack,
    encode_length,
    parse_connect,
    read_connect,
)

from .test_mqtt_side import login, tls, wait_until

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)

GATED = pytest.mark.sim_config(nb_one_token_per_key=False)


def _string(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def connect_body(
    *,
    level: int = 4,
    flags: int = 0xC2,
    client_id: bytes = b"cid",
    username: bytes = b"user",
    password: bytes = b"secret-token",
    will: bool = False,
) -> bytes:
    flags |= 0x04 if will else 0
    body = _string(b"MQTT") + bytes([level, flags]) + (60).to_bytes(2, "big")
    if level == 5:
        body += b"\x05\x11\x00\x00\x00\x3c"  # properties: session expiry 60 s
    body += _string(client_id)
    if will:
        if level == 5:
            body += b"\x00"
        body += _string(b"will/topic") + _string(b"gone")
    if flags & 0x80:
        body += _string(username)
    if flags & 0x40:
        body += _string(password)
    return body


# ------------------------------------------------------------------ packets


@pytest.mark.parametrize("level", [4, 5])
@pytest.mark.parametrize("will", [False, True])
def test_parse_connect(level: int, will: bool) -> None:
    packet = parse_connect(connect_body(level=level, will=will))
    assert packet.protocol_level == level
    assert packet.clean_session
    assert packet.client_id == "cid"
    assert packet.username == "user"
    assert packet.password == b"secret-token"
    rebuilt = packet.with_password(b"internal")
    again = parse_connect(rebuilt[1 + len(encode_length(len(rebuilt) - 2)) :])
    assert again.password == b"internal"
    assert again.client_id == "cid"
    assert again.username == "user"


def test_parse_connect_without_credentials_and_persistent() -> None:
    packet = parse_connect(connect_body(flags=0x00))
    assert not packet.clean_session
    assert packet.username is None
    assert packet.password is None
    # A password added where there was none sets its flag.
    added = parse_connect(packet.with_password(b"pw")[2:])
    assert added.password == b"pw"


@pytest.mark.parametrize(
    "body",
    [
        _string(b"HTTP") + b"\x04\x02\x00\x3c",
        _string(b"MQTT") + b"\x04",
        connect_body()[:-3],
    ],
    ids=["not-mqtt", "short-header", "short-password"],
)
def test_parse_connect_refuses_malformed(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_connect(body)


def test_lengths_and_connack() -> None:
    assert encode_length(0) == b"\x00"
    assert encode_length(127) == b"\x7f"
    assert encode_length(128) == b"\x80\x01"
    assert encode_length(16_384) == b"\x80\x80\x01"
    assert connack(4, 2) == b"\x20\x02\x00\x02"
    assert connack(3, 5) == b"\x20\x02\x00\x05"
    assert connack(5, 2) == b"\x20\x03\x00\x85\x00"
    assert connack(5, 5) == b"\x20\x03\x00\x87\x00"


async def _read(data: bytes) -> ConnectPacket:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await read_connect(reader)


async def test_read_connect() -> None:
    body = connect_body()
    packet = await _read(b"\x10" + encode_length(len(body)) + body)
    assert packet.client_id == "cid"
    with pytest.raises(ProtocolError, match="not a CONNECT"):
        await _read(b"\x30\x00")
    with pytest.raises(ProtocolError, match="remaining length"):
        await _read(b"\x10\xff\xff\xff\xff")
    with pytest.raises(ProtocolError, match="too large"):
        await _read(b"\x10" + encode_length(1_000_000))
    with pytest.raises(asyncio.IncompleteReadError):
        await _read(b"\x10\x10abc")


# ------------------------------------------------------------------ the gate


async def _login(sim: Simulator) -> str:
    return await login(sim)


async def drain(client: aiomqtt.Client) -> None:
    """Read messages until the connection ends (bounded)."""
    async with asyncio.timeout(15):
        async for _ in client.messages:
            pass


def _client(sim: Simulator, password: str, **kwargs: Any) -> aiomqtt.Client:
    options: dict[str, Any] = {
        "username": sim.app_key,
        "password": password,
        "tls_context": tls(sim),
        "timeout": 15,
    }
    options.update(kwargs)
    return aiomqtt.Client(sim.mqtt_host, sim.mqtt_port, **options)


async def test_no_gate_by_default(sim_mqtt: Simulator) -> None:
    assert sim_mqtt.mqtt is not None
    assert sim_mqtt.mqtt.gate is None
    assert sim_mqtt.mqtt_port == sim_mqtt.mqtt.broker.port


@GATED
async def test_gate_forwards_and_keeps_acl_and_kicks(sim_mqtt: Simulator) -> None:
    """Through the gate the app's client subscribes and receives as before (mosquitto's
    ACL still applies), and a kick or a broker restart ends its connection."""
    side = sim_mqtt.mqtt
    assert side is not None
    assert side.gate is not None
    assert sim_mqtt.mqtt_port == side.gate.port != side.broker.port
    token = await _login(sim_mqtt)
    system_id = sim_mqtt.stations[0].system_id
    topic = f"openapi/period/{sim_mqtt.app_key}/{system_id}"
    async with _client(sim_mqtt, token, identifier="gate-test", clean_session=True) as client:
        granted = await client.subscribe([(topic, 1), ("openapi/period/#", 1)])
        assert [getattr(c, "value", c) for c in granted] == [1, 128]
        body = json.dumps({"accessToken": token, "systemIdList": [system_id]})
        await client.publish("openapi/subscription/period", body, qos=1)
        await wait_until(lambda: side.subscriptions["period"], "the subscription request")
        await sim_mqtt.publish_telemetry(system_id)
        async with asyncio.timeout(15):
            async for message in client.messages:
                assert str(message.topic) == topic
                break
        await side.drop_clients()
        with pytest.raises(aiomqtt.MqttError):
            await drain(client)


@GATED
async def test_gate_refuses_bad_tokens_and_lets_other_users_to_mosquitto(
    sim_mqtt: Simulator,
) -> None:
    side = sim_mqtt.mqtt
    assert side is not None
    await _login(sim_mqtt)
    with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
        async with _client(sim_mqtt, "not-a-token"):
            pass
    with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
        async with _client(sim_mqtt, "x", username="someone-else"):
            pass


@pytest.mark.sim_config(mqtt_refuse_persistent_sessions=True)
async def test_gate_refuses_persistent_sessions_in_mqtt5(sim_mqtt: Simulator) -> None:
    token = await _login(sim_mqtt)
    with pytest.raises(aiomqtt.MqttCodeError, match="Client identifier not valid"):
        async with _client(
            sim_mqtt,
            token,
            identifier="v5-client",
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
        ):
            pass
    async with _client(
        sim_mqtt, token, protocol=aiomqtt.ProtocolVersion.V5, clean_start=True, identifier="ok"
    ):
        pass


@GATED
async def test_gate_drops_what_is_not_mqtt(sim_mqtt: Simulator) -> None:
    """Garbage after the TLS handshake ends that connection; the gate goes on."""
    token = await _login(sim_mqtt)
    _, writer = await asyncio.open_connection(
        sim_mqtt.mqtt_host, sim_mqtt.mqtt_port, ssl=tls(sim_mqtt)
    )
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    await writer.drain()
    writer.close()
    async with _client(sim_mqtt, token):
        pass


@pytest.mark.sim_config(nb_one_token_per_key=False)
async def test_gate_with_mutual_tls(sim_mtls: Simulator) -> None:
    side = sim_mtls.mqtt
    assert side is not None
    assert side.gate is not None
    token = await _login(sim_mtls)
    async with _client(sim_mtls, token, tls_context=tls(sim_mtls, client_cert=True)):
        pass
    with pytest.raises(aiomqtt.MqttError):
        async with _client(sim_mtls, token, tls_context=tls(sim_mtls), timeout=2):
            pass


@GATED
async def test_gate_stops_with_open_connections(sim_mqtt: Simulator) -> None:
    """Stopping the simulator ends the gate's connections (no task left behind)."""
    side = sim_mqtt.mqtt
    assert side is not None
    assert side.gate is not None
    token = await _login(sim_mqtt)
    client = _client(sim_mqtt, token)
    await client.__aenter__()
    try:
        await side.gate.stop()
        with pytest.raises(aiomqtt.MqttError):
            await drain(client)
    finally:
        await client.__aexit__(None, None, None)
    assert not side.gate._tasks
