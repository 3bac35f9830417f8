"""Connecting: broker host candidates, and a refused client certificate reported at once.

* Where the sources do not settle a broker host (Australia: ``mqtt-aus`` or
  ``mqtt-apac``), SigenMQTT takes several candidates and tries them in order: a host
  that cannot be resolved or reached moves on to the next, a refusal by a broker does
  not, and the one that answered is remembered and tried first from then on (issue 14).
* A client certificate the broker refuses fails the connect as soon as the TLS alert
  arrives, not at the connect timeout, and the error names the certificate problem
  (issue 15, item 7).

Real sockets throughout: the simulator's mosquitto, 127.0.0.2 and 127.0.0.3 on the
broker's port (nothing listens there) and, with the system's resolver, a name under
``.invalid`` (RFC 6761: never resolves).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import ssl
from typing import Any

import aiomqtt
import pytest
import pytest_socket
from aiomqtt.exceptions import MqttConnectError
from pytest_homeassistant_custom_component import plugins as ha_test_plugins

from sigen import SigenMQTT, SigenMQTTError, SigenValidationError
from sigen.mqtt import ConnectionLostError
from sigen.mqtt._connect import is_unreachable
from sigen_sim import Simulator

from .test_mqtt import WAIT, Listener, make_mqtt, wait_until

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)

UNRESOLVABLE = "mqtt-aus.sigen.invalid"
CLOSED = "127.0.0.2"  # the broker listens on 127.0.0.1 only
CLOSED_TOO = "127.0.0.3"


def allow_closed_hosts() -> None:
    """Home Assistant's test plugin lets tests connect to 127.0.0.1 only (pytest-socket,
    set again before each test); these also try 127.0.0.2 and 127.0.0.3, where nothing
    listens (pytest-socket restores its guard after the test)."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", CLOSED, CLOSED_TOO])


@pytest.fixture
def real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Home Assistant's test plugin refuses to resolve any name but localhost (it raises
    RuntimeError); a name under .invalid needs the system's resolver, which answers
    "not found" at once."""
    monkeypatch.setattr(socket, "getaddrinfo", ha_test_plugins._real_getaddrinfo)


class _RecordingMQTT(SigenMQTT):
    """SigenMQTT noting the host of every connection attempt."""

    tried: list[str]

    def _make_client(
        self,
        context: ssl.SSLContext,
        token: str,
        *,
        identifier: str,
        clean_session: bool,
        host: str | None = None,
    ) -> aiomqtt.Client:
        self.tried.append(host or self.broker)
        return super()._make_client(
            context, token, identifier=identifier, clean_session=clean_session, host=host
        )


def recording_mqtt(sim: Simulator, brokers: list[str], **kwargs: Any) -> _RecordingMQTT:
    allow_closed_hosts()
    base = make_mqtt(sim, broker=brokers, **kwargs)
    mqtt = _RecordingMQTT(
        sim.app_key,
        sim.app_secret,
        sim.app_identifier,
        base.system_ids,
        ca_cert_pem=sim.certs.ca_pem,
        broker=brokers,
        port=sim.mqtt_port,
        base_url=sim.nb_url,
        reconnect_interval=0.2,
        error_reconnect_interval=0.2,
        max_reconnect_interval=1.0,
        **kwargs,
    )
    mqtt.tried = []
    return mqtt


# ------------------------------------------------------------------ candidates


def test_broker_candidates_api() -> None:
    one = SigenMQTT("key", "secret", "app", "SYS1")
    assert one.brokers == ("mqtt-eu.sigencloud.com",)  # the original library's default
    assert one.broker == "mqtt-eu.sigencloud.com"
    assert one.answered_broker is None
    several = SigenMQTT(
        "key", "secret", "app", "SYS1", broker=("mqtt-aus.x", " mqtt-apac.x ", "mqtt-aus.x")
    )
    assert several.brokers == ("mqtt-aus.x", "mqtt-apac.x")
    assert several.broker == "mqtt-aus.x"  # the first until one answers
    several.broker = "other.host"  # setting one host replaces the candidates
    assert several.brokers == ("other.host",)
    assert "other.host" in repr(several)
    for bad in ([], [""], ["ok", 3], 42):
        with pytest.raises(SigenValidationError, match="host name"):
            SigenMQTT("key", "secret", "app", "SYS1", broker=bad)  # type: ignore[arg-type]


async def test_unanswered_candidates_then_the_broker(
    sim_mqtt: Simulator, real_resolver: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A name that does not resolve and a closed port first: the simulator's broker,
    third, answers; it is remembered, and the next reconnect goes straight to it."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    mqtt = recording_mqtt(sim_mqtt, [UNRESOLVABLE, CLOSED, sim_mqtt.mqtt_host])
    listener = Listener(mqtt)
    with caplog.at_level(logging.INFO, logger="sigen.mqtt"):
        await listener.start()
    try:
        assert mqtt.tried == [UNRESOLVABLE, CLOSED, sim_mqtt.mqtt_host]
        assert mqtt.answered_broker == mqtt.broker == sim_mqtt.mqtt_host
        assert any(
            f"Using the MQTT broker {sim_mqtt.mqtt_host}" in r.getMessage()
            and UNRESOLVABLE in r.getMessage()
            and CLOSED in r.getMessage()
            for r in caplog.records
        )
        await sim_mqtt.faults.drop_mqtt_clients()
        await wait_until(lambda: listener.connection == [True, False, True], "a reconnect")
        assert mqtt.tried == [UNRESOLVABLE, CLOSED, sim_mqtt.mqtt_host, sim_mqtt.mqtt_host]
        await sim_mqtt.publish_telemetry()
        await wait_until(lambda: listener.telemetry, "telemetry")
        # Commands over a short-lived connection and the check use the remembered host too.
        await mqtt.check_connection()
        assert mqtt.tried[-1] == sim_mqtt.mqtt_host
    finally:
        await listener.stop()


async def test_remembered_host_unreachable_later(sim_mqtt: Simulator) -> None:
    """The remembered host is tried first; when it stops answering, the others follow
    in their order and the one that answers is remembered instead."""
    mqtt = recording_mqtt(sim_mqtt, [sim_mqtt.mqtt_host, "localhost"])
    try:
        await mqtt.check_connection()
        assert mqtt.answered_broker == sim_mqtt.mqtt_host
        mqtt.config = dataclasses.replace(
            mqtt.config, brokers=(sim_mqtt.mqtt_host, CLOSED, "localhost")
        )
        mqtt._connector.answered = CLOSED  # as if a host that answered before went away
        mqtt.tried.clear()
        await mqtt.check_connection()
        assert mqtt.tried == [CLOSED, sim_mqtt.mqtt_host]
        assert mqtt.answered_broker == sim_mqtt.mqtt_host
    finally:
        await mqtt.close()


async def test_refusal_does_not_move_to_the_next_candidate(sim_mqtt: Simulator) -> None:
    """A broker that refuses the credentials answered: the next candidate (the same
    broker under another name here) is not tried."""
    assert sim_mqtt.mqtt is not None
    mqtt = recording_mqtt(sim_mqtt, [sim_mqtt.mqtt_host, "localhost"])
    try:
        await mqtt.northbound.login()
        await sim_mqtt.mqtt.broker.set_password(sim_mqtt.app_key, "not-the-token-at-all")
        with pytest.raises(SigenMQTTError, match="not authorised"):
            await mqtt.check_connection()
        assert mqtt.tried == [sim_mqtt.mqtt_host]
        assert mqtt.answered_broker is None
    finally:
        await mqtt.close()


async def test_no_candidate_answers(sim_mqtt: Simulator) -> None:
    mqtt = recording_mqtt(sim_mqtt, [CLOSED_TOO, CLOSED])
    try:
        with pytest.raises(SigenMQTTError) as failed:
            await mqtt.check_connection()
        message = str(failed.value)
        assert "no broker answered" in message
        assert CLOSED_TOO in message
        assert CLOSED in message
        assert mqtt.tried == [CLOSED_TOO, CLOSED]
    finally:
        await mqtt.close()


def test_what_counts_as_unreachable() -> None:
    def wrapped(cause: OSError) -> aiomqtt.MqttError:
        try:
            raise cause
        except OSError:
            # what aiomqtt does with paho's connect error
            err = aiomqtt.MqttError(str(cause))
            err.__context__ = cause
            return err

    unreachable = is_unreachable
    assert unreachable(wrapped(OSError(-2, "Name or service not known")))
    assert unreachable(wrapped(ConnectionRefusedError(111, "Connection refused")))
    assert unreachable(aiomqtt.MqttError("Operation timed out"))
    assert unreachable(ConnectionLostError(None))
    assert unreachable(ConnectionLostError(ConnectionResetError(104, "reset")))
    assert unreachable(wrapped(ssl.SSLCertVerificationError(1, "certificate verify failed")))
    alert = ssl.SSLError(1, "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca")
    assert not unreachable(ConnectionLostError(alert))
    required = ssl.SSLError(1, "[SSL] tlsv13 alert certificate required")
    assert not unreachable(ConnectionLostError(required))
    assert unreachable(ConnectionLostError(ssl.SSLError(1, "[SSL] record layer failure")))
    assert not unreachable(MqttConnectError(5))


# ------------------------------------------------------ refused client certificate


async def test_refused_client_certificate_reported_at_once(sim_mtls: Simulator) -> None:
    """A client certificate from another CA: the broker's TLS alert ends the connect at
    once, and the error names the certificate (the guard below is only a bound far
    below the connect timeout)."""
    certs = sim_mtls.certs
    mqtt = make_mqtt(
        sim_mtls,
        client_cert_pem=certs.wrong_server.cert_pem,  # signed by the unrelated CA
        client_key_pem=certs.wrong_server.key_pem,
        connect_timeout=10 * WAIT,
    )
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(SigenMQTTError) as refused:
                await mqtt.check_connection()
        message = str(refused.value)
        assert "refused the client certificate" in message
        assert "unknown ca" in message
    finally:
        await mqtt.close()


async def test_missing_client_certificate_reported_at_once(sim_mtls: Simulator) -> None:
    mqtt = make_mqtt(sim_mtls, connect_timeout=10 * WAIT)
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(SigenMQTTError, match="requires a client certificate"):
                await mqtt.check_connection()
    finally:
        await mqtt.close()


async def test_refused_client_certificate_stops_the_candidates(sim_mtls: Simulator) -> None:
    """The same certificate would be refused by every host: no other candidate tried."""
    certs = sim_mtls.certs
    mqtt = recording_mqtt(
        sim_mtls,
        [sim_mtls.mqtt_host, "localhost"],
        client_cert_pem=certs.wrong_server.cert_pem,
        client_key_pem=certs.wrong_server.key_pem,
    )
    try:
        with pytest.raises(SigenMQTTError, match="refused the client certificate"):
            await mqtt.check_connection()
        assert mqtt.tried == [sim_mtls.mqtt_host]
    finally:
        await mqtt.close()


async def test_broker_closing_before_connack_fails_at_once(sim_mqtt: Simulator) -> None:
    """A server that completes TLS, reads the CONNECT and hangs up (not a broker): the
    connect fails when the connection closes, not at the connect timeout."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sim_mqtt.certs.server.cert_path, sim_mqtt.certs.server.key_path)

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    mqtt = make_mqtt(sim_mqtt, port=port, connect_timeout=10 * WAIT)
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(SigenMQTTError, match="before answering the CONNECT"):
                await mqtt.check_connection()
    finally:
        await mqtt.close()
        server.close()
        await server.wait_closed()
