"""The simulator's mosquitto broker and certificates, over real TLS on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509

from sigen_sim import broker as broker_module
from sigen_sim.broker import MosquittoBroker, hash_password
from sigen_sim.certs import CertBundle, generate_certs

APP_KEY = "test-app-key"
SYSTEMS = ("SYS1", "SYS2")


def relaxed_context(cafile: Path, *, client: CertBundle | None = None) -> ssl.SSLContext:
    """What a correct client does: verify everything, but without VERIFY_X509_STRICT."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    if client is not None:
        context.load_cert_chain(client.client_cert_path, client.client_key_path)
    return context


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertBundle:
    return generate_certs(tmp_path_factory.mktemp("certs"))


async def _broker(certs: CertBundle, tmp_path: Path, **kwargs: object) -> MosquittoBroker:
    broker = MosquittoBroker(certs, tmp_path / "broker", **kwargs)  # type: ignore[arg-type]
    broker.set_app_systems(APP_KEY, SYSTEMS)
    await broker.set_password(APP_KEY, "token-1")  # before start: written to the file
    await broker.start()
    return broker


@pytest.fixture
async def broker(
    certs: CertBundle, tmp_path: Path, socket_enabled: None
) -> AsyncIterator[MosquittoBroker]:
    broker = await _broker(certs, tmp_path)
    try:
        yield broker
    finally:
        await broker.stop()


def client(
    broker: MosquittoBroker,
    *,
    username: str | None = APP_KEY,
    password: str | None = "token-1",  # noqa: S107
    context: ssl.SSLContext | None = None,
    identifier: str | None = None,
    clean_session: bool | None = None,
) -> aiomqtt.Client:
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username=username,
        password=password,
        identifier=identifier,
        clean_session=clean_session,
        tls_context=context or relaxed_context(broker.certs.ca_path),
        timeout=5,
    )


def publisher(broker: MosquittoBroker, **kwargs: object) -> aiomqtt.Client:
    return client(
        broker,
        username=broker.publisher_username,
        password=broker.publisher_password,
        **kwargs,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ certificates


def test_certificates(certs: CertBundle) -> None:
    ca = x509.load_pem_x509_certificate(certs.ca_pem.encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        ca.extensions.get_extension_for_class(x509.KeyUsage)  # like Sigen's CA
    server = x509.load_pem_x509_certificate(certs.server.cert_pem.encode())
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    for path in (certs.client_key_path, certs.server_key_path, certs.wrong_server.key_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert certs.client_key_path.read_text() == certs.client_key_pem


def test_password_hash_format() -> None:
    parts = hash_password("secret").split("$")
    assert parts[1:3] == ["7", "1000"]
    assert hash_password("secret") != hash_password("secret")  # salted


# ------------------------------------------------------------------------- TLS


async def _handshake(broker: MosquittoBroker, context: ssl.SSLContext) -> None:
    _, writer = await asyncio.open_connection(broker.host, broker.port, ssl=context)
    writer.close()
    await writer.wait_closed()


async def test_strict_mode_rejects_ca_without_key_usage(broker: MosquittoBroker) -> None:
    strict = ssl.create_default_context(cafile=str(broker.certs.ca_path))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Kk]ey ?[Uu]sage"):
        await _handshake(broker, strict)
    await _handshake(broker, relaxed_context(broker.certs.ca_path))


async def test_wrong_ca_refused(broker: MosquittoBroker) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await _handshake(broker, relaxed_context(broker.certs.wrong_ca_path))


async def test_wrong_host_name_refused(
    certs: CertBundle, tmp_path: Path, socket_enabled: None
) -> None:
    other = await _broker(certs, tmp_path, server_cert=certs.other_host_server)
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match=r"IP address mismatch|hostname"):
            await _handshake(other, relaxed_context(certs.ca_path))
    finally:
        await other.stop()


async def test_mutual_tls(certs: CertBundle, tmp_path: Path, socket_enabled: None) -> None:
    mtls = await _broker(certs, tmp_path, require_client_cert=True)
    try:
        async with client(mtls, context=relaxed_context(certs.ca_path, client=certs)):
            pass
        without = client(mtls, context=relaxed_context(certs.ca_path))
        without.timeout = 1.0  # the refusal only shows as a missing CONNACK
        with pytest.raises(aiomqtt.MqttError):
            async with without:
                pass
    finally:
        await mtls.stop()
    assert not mtls.running


# ------------------------------------------------------------- auth and ACL


async def test_passwords(broker: MosquittoBroker) -> None:
    async with client(broker):
        pass
    for username, password in ((APP_KEY, "wrong"), (None, None), ("nobody", "token-1")):
        with pytest.raises(aiomqtt.MqttError):
            async with client(broker, username=username, password=password):
                pass
    # A new token works as soon as set_password returns; the old one no longer does.
    # mosquitto's dynamic-security plugin disconnects sessions opened with the old
    # password (clients reconnect with their new token).
    async with client(broker) as connected:
        await broker.set_password(APP_KEY, "token-2")
        async with client(broker, password="token-2"):
            pass
        with pytest.raises(aiomqtt.MqttError):
            async with client(broker, password="token-1"):
                pass
        with pytest.raises(aiomqtt.MqttError):
            await connected.publish("openapi/subscription/period", b"{}", qos=1)
    # A user created while the broker runs.
    await broker.set_password("late-key", "late-token")
    async with client(broker, username="late-key", password="late-token"):
        pass


async def test_acl(broker: MosquittoBroker) -> None:
    async with publisher(broker) as pub, client(broker) as app:
        granted = await app.subscribe(f"openapi/period/{APP_KEY}/SYS1", qos=1)
        assert [getattr(code, "value", code) for code in granted] == [1]
        for wildcard in (
            f"openapi/period/{APP_KEY}/+",
            "openapi/#",
            "#",
            "openapi/period/other/SYS1",
        ):
            refused = await app.subscribe(wildcard, qos=1)
            assert [getattr(code, "value", code) for code in refused] == [128], wildcard

        await pub.subscribe("openapi/#", qos=1)
        # The app key may write requests and instructions, not telemetry.
        await app.publish(f"openapi/period/{APP_KEY}/SYS2", b"forged", qos=1)
        await app.publish("openapi/subscription/period", b"request", qos=1)
        await pub.publish(f"openapi/period/{APP_KEY}/SYS1", b"telemetry", qos=1)
        seen: list[tuple[str, bytes]] = []
        async with asyncio.timeout(5):
            async for message in pub.messages:
                payload = message.payload
                assert isinstance(payload, bytes)
                seen.append((str(message.topic), payload))
                if len(seen) == 2:
                    break
        assert seen == [
            ("openapi/subscription/period", b"request"),
            (f"openapi/period/{APP_KEY}/SYS1", b"telemetry"),
        ]
        async with asyncio.timeout(5):
            message = await anext(aiter(app.messages))
        assert message.payload == b"telemetry"


async def test_restart_keeps_port_and_queued_messages(broker: MosquittoBroker) -> None:
    topic = f"openapi/period/{APP_KEY}/SYS1"
    identifier = "persistent-test-client"
    async with client(broker, identifier=identifier, clean_session=False) as app:
        await app.subscribe(topic, qos=1)
    async with publisher(broker) as pub:
        await pub.publish(topic, b"queued while away", qos=1)
    port, pid = broker.port, broker.pid
    await broker.restart(down_for=0.1)
    assert broker.port == port
    assert broker.pid != pid
    async with client(broker, identifier=identifier, clean_session=False) as app:
        async with asyncio.timeout(5):
            message = await anext(aiter(app.messages))
        assert message.payload == b"queued while away"


def _codes(granted: object) -> list[int]:
    return [getattr(code, "value", code) for code in granted]  # type: ignore[attr-defined]


async def test_systems_added_and_removed_while_running(broker: MosquittoBroker) -> None:
    """The app key's role follows the systems at runtime, and across a restart."""
    new = f"openapi/period/{APP_KEY}/SYS9"
    async with client(broker) as app:
        assert _codes(await app.subscribe(new, qos=1)) == [128]
    await broker.add_app_system(APP_KEY, "SYS9")
    await broker.add_app_system(APP_KEY, "SYS9")  # twice: nothing more to do
    async with publisher(broker) as pub, client(broker) as app:
        for kind in ("period", "change", "alarm"):
            assert _codes(await app.subscribe(f"openapi/{kind}/{APP_KEY}/SYS9", qos=1)) == [1]
        await pub.publish(new, b"telemetry of a new system", qos=1)
        async with asyncio.timeout(5):
            message = await anext(aiter(app.messages))
        assert message.payload == b"telemetry of a new system"

    await broker.restart()  # the files hold the change too
    async with client(broker) as app:
        assert _codes(await app.subscribe(new, qos=1)) == [1]

    await broker.remove_app_system(APP_KEY, "SYS9")
    await broker.remove_app_system(APP_KEY, "SYS9")
    async with client(broker) as app:
        assert _codes(await app.subscribe(new, qos=1)) == [128]
        assert _codes(await app.subscribe(f"openapi/period/{APP_KEY}/SYS1", qos=1)) == [1]


def test_free_port_is_below_the_ephemeral_range(socket_enabled: None) -> None:
    """The broker's port is not one the kernel may hand to another socket while the
    broker is down (it keeps the port across restarts)."""
    port = broker_module.free_port()
    assert broker_module.LOWEST_PORT <= port < broker_module._ephemeral_start()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))  # and nothing holds it


def test_free_port_skips_a_port_in_use(
    socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        free = broker_module.free_port()
        picks = iter([taken, free])

        class Picks:
            def randrange(self, start: int, stop: int) -> int:
                return next(picks)

        monkeypatch.setattr(broker_module.secrets, "SystemRandom", Picks)
        assert broker_module.free_port() == free


def test_free_port_without_a_usable_range(
    socket_enabled: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No range file (not Linux): IANA's 49152; a range starting too low: port 0."""
    monkeypatch.setattr(broker_module, "EPHEMERAL_RANGE_FILE", tmp_path / "missing")
    assert broker_module._ephemeral_start() == 49152
    narrow = tmp_path / "range"
    narrow.write_text("20500\t60999\n")
    monkeypatch.setattr(broker_module, "EPHEMERAL_RANGE_FILE", narrow)
    assert broker_module.free_port() >= 20500
