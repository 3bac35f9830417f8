"""SigenMQTT against the simulator: real mosquitto, real TLS, real northbound login."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from sigen import (
    AlarmEvent,
    BatteryCommand,
    SigenAuthError,
    SigenMQTT,
    SigenMQTTError,
    SigenValidationError,
    SystemData,
    TelemetryData,
)
from sigen import mqtt as mqtt_module
from sigen_sim import Simulator
from sigen_sim.broker import MosquittoBroker
from sigen_sim.model import MODE_FFG
from sigen_sim.mqtt_payloads import telemetry_values

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)  # deterministic values

WAIT = 15.0


async def wait_until(predicate: Callable[[], bool], what: str, limit: float = WAIT) -> None:
    """Poll a condition (no timing asserts: only a generous upper bound)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def make_mqtt(sim: Simulator, **kwargs: Any) -> SigenMQTT:
    options: dict[str, Any] = {
        "ca_cert_pem": sim.certs.ca_pem,
        "broker": sim.mqtt_host,
        "port": sim.mqtt_port,
        "base_url": sim.nb_url,
        "reconnect_interval": 0.2,
        "error_reconnect_interval": 0.2,
        "max_reconnect_interval": 1.0,
    }
    options.update(kwargs)
    return SigenMQTT(
        sim.app_key,
        sim.app_secret,
        sim.app_identifier,
        [station.system_id for station in sim.stations],
        **options,
    )


@dataclass
class Listener:
    """Runs ``listen()`` in a task and records what the callbacks got."""

    mqtt: SigenMQTT
    telemetry: list[TelemetryData] = field(default_factory=list)
    system: list[SystemData] = field(default_factory=list)
    alarms: list[AlarmEvent] = field(default_factory=list)
    connection: list[bool] = field(default_factory=list)
    fail_telemetry: int = 0
    task: asyncio.Task[None] | None = None

    def on_telemetry(self, data: TelemetryData) -> None:
        self.telemetry.append(data)
        if self.fail_telemetry:
            self.fail_telemetry -= 1
            raise RuntimeError("a broken callback")

    async def on_system(self, data: SystemData) -> None:
        self.system.append(data)

    def on_alarm(self, event: AlarmEvent) -> None:
        self.alarms.append(event)

    async def on_connection(self, connected: bool) -> None:
        self.connection.append(connected)

    async def start(self) -> None:
        self.task = asyncio.create_task(
            self.mqtt.listen(self.on_telemetry, self.on_system, self.on_alarm, self.on_connection)
        )
        await wait_until(lambda: self.mqtt.connected, "the listener to connect")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.mqtt.close()


@pytest.fixture
async def listener(sim_mqtt: Simulator) -> AsyncIterator[Listener]:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None  # only the messages a test asks for
    running = Listener(make_mqtt(sim_mqtt))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def received(sim: Simulator, topic: str) -> list[Any]:
    return [payload for t, payload in sim.mqtt_received if t == topic]


# ------------------------------------------------------------------------- TLS


def test_tls_context_keeps_verification(tmp_path: Path) -> None:
    from sigen_sim.certs import generate_certs

    certs = generate_certs(tmp_path)
    for kwargs in (
        {"ca_cert_pem": certs.ca_pem},
        {"ca_cert_path": certs.ca_path},
        {
            "ca_cert_pem": certs.ca_pem,
            "client_cert_pem": certs.client_cert_pem,
            "client_key_pem": certs.client_key_pem,
        },
        {
            "ca_cert_path": certs.ca_path,
            "client_cert_path": certs.client_cert_path,
            "client_key_path": certs.client_key_path,
        },
    ):
        context = SigenMQTT("key", "secret", "app", ["S"], **kwargs).build_tls_context()
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert not context.verify_flags & ssl.VERIFY_X509_STRICT
        assert context.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN == (
            ssl.create_default_context().verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN
        )


def test_client_pem_written_privately_and_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigen_sim.certs import generate_certs

    certs = generate_certs(tmp_path / "certs")
    made: list[str] = []
    modes: list[int] = []
    real_mkdtemp = tempfile.mkdtemp
    real_load = ssl.SSLContext.load_cert_chain

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        path = real_mkdtemp(*args, **kwargs)
        made.append(path)
        return path

    def load(self: ssl.SSLContext, certfile: str, keyfile: str | None = None) -> None:
        modes.extend(os.stat(p).st_mode & 0o777 for p in (certfile, keyfile or certfile))
        modes.append(os.stat(os.path.dirname(certfile)).st_mode & 0o777)
        real_load(self, certfile, keyfile)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", load)
    SigenMQTT(
        "key",
        "secret",
        "app",
        ["S"],
        ca_cert_pem=certs.ca_pem,
        client_cert_pem=certs.client_cert_pem,
        client_key_pem=certs.client_key_pem,
    ).build_tls_context()
    assert modes == [0o600, 0o600, 0o700]
    assert made
    assert not any(os.path.exists(path) for path in made)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ca_cert_pem": "not a certificate"}, "Cannot load the MQTT CA certificate"),
        ({"ca_cert_path": "/nonexistent/ca.pem"}, "Cannot load the MQTT CA certificate"),
    ],
)
def test_bad_certificates(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SigenValidationError, match=message):
        SigenMQTT("key", "secret", "app", ["S"], **kwargs).build_tls_context()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("", "s", "a", ["S"]), {}, "app key"),
        (("k", "", "a", ["S"]), {}, "app secret"),
        (("k", "s", "a", []), {}, "at least one system id"),
        (("k", "s", "a", ["S/1"]), {}, "must not contain"),
        (("k", "s", "a", ["S"]), {"ca_cert_path": "x", "ca_cert_pem": "y"}, "not both"),
        (("k", "s", "a", ["S"]), {"client_cert_pem": "x"}, "needs its private key"),
        (("k", "s", "a", ["S"]), {"reconnect_interval": 0}, "reconnect_interval"),
    ],
)
def test_constructor_validation(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SigenValidationError, match=message):
        SigenMQTT(*args, **kwargs)


def test_client_id_is_stable() -> None:
    one = SigenMQTT("key", "secret", "my app!", "S1")
    two = SigenMQTT("key", "secret", "my app!", ["S1", "S2"])
    assert one.client_id == two.client_id == "sigen-myapp"
    assert one.system_ids == ["S1"]


def test_paho_dropped_connection_is_debug(caplog: pytest.LogCaptureFixture) -> None:
    """paho's "failed to receive on socket" (a broker that went away) is debug: the
    listener's own warning reports the loss once; paho's other errors stay errors."""
    paho = logging.getLogger(f"{mqtt_module.__name__}.paho")
    with caplog.at_level(logging.DEBUG, logger=paho.name):
        paho.error("failed to receive on socket: %s", "[Errno 104] Connection reset by peer")
        paho.error("timeout on socket: %s", "timed out")
        paho.error("Caught exception in on_connect: %s", "boom")
    levels = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert levels == [
        ("DEBUG", "failed to receive on socket"),
        ("DEBUG", "timeout on socket"),
        ("ERROR", "Caught exception in on_connect"),
    ]


def test_refresh_delay_an_hour_before_expiry() -> None:
    mqtt = SigenMQTT("key", "secret", "app", "S1")
    now = 1_000_000.0
    mqtt.clock = lambda: now
    nb = mqtt.northbound
    nb._token_expires_at = now + 43200  # type: ignore[attr-defined]
    mqtt._password.obtained_at = now
    assert mqtt._password.refresh_delay() == 43200 - 3600
    now += 43200 - 3600 + 5
    assert mqtt._password.refresh_delay() == 0.0
    # A token that lives shorter than the margin is renewed half-way.
    nb._token_expires_at = now + 1000  # type: ignore[attr-defined]
    mqtt._password.obtained_at = now
    assert mqtt._password.refresh_delay() == 500


async def _handshake(sim: Simulator, context: ssl.SSLContext) -> None:
    _, writer = await asyncio.open_connection(sim.mqtt_host, sim.mqtt_port, ssl=context)
    writer.close()
    await writer.wait_closed()


async def test_ca_without_key_usage(sim_mqtt: Simulator) -> None:
    # Strict mode (Python's default since 3.13) refuses the CA...
    strict = ssl.create_default_context(cadata=sim_mqtt.certs.ca_pem)
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Kk]ey ?[Uu]sage"):
        await _handshake(sim_mqtt, strict)
    # ...and SigenMQTT's context, identical except for that flag, connects.
    mqtt = make_mqtt(sim_mqtt)
    try:
        await _handshake(sim_mqtt, mqtt.build_tls_context())
        await mqtt.check_connection()
    finally:
        await mqtt.close()


async def test_wrong_ca_refused(sim_mqtt: Simulator) -> None:
    mqtt = make_mqtt(sim_mqtt, ca_cert_pem=sim_mqtt.certs.wrong_ca_pem)
    try:
        with pytest.raises(SigenMQTTError, match="certificate was not accepted"):
            await mqtt.check_connection()
    finally:
        await mqtt.close()


async def test_wrong_host_name_refused(sim_mqtt: Simulator, tmp_path: Path) -> None:
    certs = sim_mqtt.certs
    other = MosquittoBroker(certs, tmp_path / "other", server_cert=certs.other_host_server)
    await other.start()
    mqtt = make_mqtt(sim_mqtt, port=other.port)
    try:
        with pytest.raises(SigenMQTTError, match=r"IP address mismatch|hostname"):
            await mqtt.check_connection()
    finally:
        await mqtt.close()
        await other.stop()


async def test_mutual_tls(sim_mtls: Simulator) -> None:
    certs = sim_mtls.certs
    with_cert = make_mqtt(
        sim_mtls, client_cert_pem=certs.client_cert_pem, client_key_pem=certs.client_key_pem
    )
    with_paths = make_mqtt(
        sim_mtls,
        ca_cert_pem=None,
        ca_cert_path=certs.ca_path,
        client_cert_path=certs.client_cert_path,
        client_key_path=certs.client_key_path,
    )
    # The broker's "certificate required" alert comes after the client's handshake; the
    # connect fails when it arrives (tests/lib/test_mqtt_brokers.py), not at the timeout.
    without = make_mqtt(sim_mtls)
    try:
        await with_cert.check_connection()
        await with_paths.check_connection()
        with pytest.raises(SigenMQTTError, match="requires a client certificate"):
            await without.check_connection()
    finally:
        for mqtt in (with_cert, with_paths, without):
            await mqtt.close()


async def test_broker_refuses_bad_token_and_wildcards(sim_mqtt: Simulator) -> None:
    mqtt = make_mqtt(sim_mqtt)
    try:
        context = mqtt.build_tls_context()
        with pytest.raises(aiomqtt.MqttError, match=r"code:13[45]"):
            async with aiomqtt.Client(
                sim_mqtt.mqtt_host,
                sim_mqtt.mqtt_port,
                username=sim_mqtt.app_key,
                password="not-a-token",
                tls_context=context,
            ):
                pass
        await mqtt.check_connection()  # logs in: the broker now knows the token
        token = mqtt.northbound.access_token
        system_id = sim_mqtt.stations[0].system_id
        async with aiomqtt.Client(
            sim_mqtt.mqtt_host,
            sim_mqtt.mqtt_port,
            username=sim_mqtt.app_key,
            password=token,
            tls_context=context,
        ) as client:
            exact = await client.subscribe(f"openapi/period/{sim_mqtt.app_key}/{system_id}", 1)
            assert [getattr(c, "value", c) for c in exact] == [1]
            for wildcard in (f"openapi/period/{sim_mqtt.app_key}/+", "openapi/#", "#"):
                refused = await client.subscribe(wildcard, qos=1)
                assert [getattr(c, "value", c) for c in refused] == [128], wildcard
    finally:
        await mqtt.close()


async def test_bad_app_secret(sim_mqtt: Simulator) -> None:
    mqtt = SigenMQTT(
        sim_mqtt.app_key,
        "wrong-secret",
        sim_mqtt.app_identifier,
        [sim_mqtt.stations[0].system_id],
        ca_cert_pem=sim_mqtt.certs.ca_pem,
        broker=sim_mqtt.mqtt_host,
        port=sim_mqtt.mqtt_port,
        base_url=sim_mqtt.nb_url,
    )
    try:
        with pytest.raises(SigenAuthError):
            await mqtt.listen(lambda data: None)
    finally:
        await mqtt.close()


# ---------------------------------------------------------------------- listen


@pytest.mark.sim_config(telemetry_shape="official")  # reads pvPowerW
async def test_listen_end_to_end(
    sim_mqtt: Simulator, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = sim_mqtt
    station = sim.stations[0]
    token = listener.mqtt.northbound.access_token
    assert listener.connection == [True]
    assert listener.mqtt.onboarding[station.system_id].result is True

    # The three subscription requests, with the token and the system ids.
    for kind in ("period", "change", "alarm"):
        (request,) = received(sim, f"openapi/subscription/{kind}")
        assert request == {"accessToken": token, "systemIdList": [station.system_id]}

    await sim.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry")
    data = listener.telemetry[0]
    values = telemetry_values(station)
    assert data.system_id == station.system_id
    assert data.battery_soc == float(values["storageSOC%"])
    assert data.pv_power == pytest.approx(float(values["pvPowerW"]) / 1000)
    assert data.grid_power == pytest.approx(float(values["gridActivePowerW"]) / 1000)
    assert data.battery_power == pytest.approx(
        -float(values["storageChargeDischargePowerW"]) / 1000
    )
    assert data.max_charge_power is not None
    assert data.operational_mode == station.mode

    await sim.mqtt.publish_change(station.system_id, {"backupCutOffSOC%": "20.0"})  # type: ignore[union-attr]
    await wait_until(lambda: listener.system, "a change message")
    assert listener.system[0].backup_cut_off_soc == 20.0

    await sim.mqtt.publish_alarm(station.system_id, "1001", "generation")  # type: ignore[union-attr]
    await wait_until(lambda: listener.alarms, "an alarm")
    assert listener.alarms[0].alarm_code == "1001"
    assert listener.alarms[0].active

    debug = [r.getMessage() for r in caplog.records if r.name == "sigen.mqtt"]
    assert any("First period message; fields:" in m and "value.storageSOC%" in m for m in debug)
    # Secrets never reach the log.
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert token is not None
    assert token not in everything
    assert sim.app_secret not in everything


async def test_callback_errors_and_malformed_messages_do_not_stop_it(
    sim_mqtt: Simulator, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    listener.fail_telemetry = 1
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: len(listener.telemetry) == 1, "the first telemetry")
    sim_mqtt.faults.telemetry_malformed = True
    await sim_mqtt.publish_telemetry()
    sim_mqtt.faults.telemetry_malformed = False
    sim_mqtt.faults.telemetry_partial = True
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: len(listener.telemetry) == 2, "the partial telemetry")
    sim_mqtt.faults.telemetry_partial = False
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: len(listener.telemetry) == 3, "the next good telemetry")
    assert listener.mqtt.connected
    assert listener.connection == [True]
    errors = [r for r in caplog.records if "callback raised" in r.getMessage()]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    skipped = [r for r in caplog.records if "Skipped malformed telemetry" in r.getMessage()]
    assert len(skipped) == 1
    # The partial message kept the previous values for the fields it lacked (merge).
    partial = listener.telemetry[1]
    assert partial.pv_power == listener.telemetry[0].pv_power
    assert partial.battery_soc is not None


async def test_pending_onboarding_logged_once(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim_mqtt.config.auto_approve = False
    sim_mqtt.reset_onboarding()
    system_id = sim_mqtt.stations[0].system_id
    running = Listener(make_mqtt(sim_mqtt))
    try:
        await running.start()
        assert running.mqtt.onboarding[system_id].pending
        await sim_mqtt.publish_telemetry(system_id)  # not onboarded: nothing flows
        await sim_mqtt.mqtt.drop_clients()  # type: ignore[union-attr]
        await wait_until(lambda: running.connection == [True, False, True], "a reconnect")
        assert not running.telemetry
        waiting = [
            r
            for r in caplog.records
            if r.name == "sigen.mqtt" and "waiting for the owner's approval" in r.getMessage()
        ]
        assert len(waiting) == 1
    finally:
        await running.stop()


async def test_reconnect_after_broker_restart(sim_mqtt: Simulator, listener: Listener) -> None:
    await sim_mqtt.restart_broker(down_for=0.3)
    await wait_until(lambda: listener.connection == [True, False, True], "a reconnect")
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry after the restart")


async def test_messages_queued_while_disconnected_arrive(
    sim_mqtt: Simulator, listener: Listener
) -> None:
    listener.mqtt.reconnect_interval = 1.0
    await sim_mqtt.mqtt.drop_clients()  # type: ignore[union-attr]
    await wait_until(lambda: not listener.mqtt.connected, "the drop")
    await sim_mqtt.publish_telemetry(sim_mqtt.stations[0].system_id)  # queued by the broker
    await wait_until(lambda: listener.telemetry, "the queued telemetry")
    assert listener.connection == [True, False, True]


@pytest.mark.sim_config(auto_approve=True, nb_token_lifetime=3603.0)
async def test_token_refreshed_an_hour_before_expiry(
    sim_mqtt: Simulator, listener: Listener
) -> None:
    # The token lives 3603 s, so "an hour before expiry" is 3 s after the login.
    first = listener.mqtt.northbound.access_token
    await wait_until(
        lambda: listener.mqtt.northbound.access_token != first and listener.mqtt.connected,
        "the token refresh",
    )
    second = listener.mqtt.northbound.access_token
    await wait_until(
        lambda: len(received(sim_mqtt, "openapi/subscription/period")) == 2,
        "the second subscription request",
    )
    requests = received(sim_mqtt, "openapi/subscription/period")
    assert [r["accessToken"] for r in requests] == [first, second]
    assert listener.connection[-1] is True
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry with the new token")


# -------------------------------------------------------------------- commands


def command(sim: Simulator, **overrides: Any) -> BatteryCommand:
    values: dict[str, Any] = {
        "system_id": sim.stations[0].system_id,
        "active_mode": "charge",
        "start_time": int(time.time()),
        "duration": 60,
        "charging_power": 3.0,
    }
    values.update(overrides)
    return BatteryCommand(**values)


async def test_battery_command_reaches_the_battery(sim_mqtt: Simulator, listener: Listener) -> None:
    station = sim_mqtt.stations[0]
    await listener.mqtt.send_battery_commands([command(sim_mqtt)])
    # Acknowledged by the broker when send returns; applied once the simulator read it.
    await wait_until(lambda: station.applied_commands, "the command to be applied")
    (sent,) = received(sim_mqtt, "openapi/instruction/command")
    assert sent["accessToken"] == listener.mqtt.northbound.access_token
    assert sent["commands"][0]["activeMode"] == "charge"
    assert sent["commands"][0]["chargingPower"] == 3.0
    before = station.soc
    await sim_mqtt.advance(600)
    assert station.sample().battery > 0  # Sigen sign: + = charging
    assert station.soc > before


async def test_command_without_listener_uses_short_connection(sim_mqtt: Simulator) -> None:
    mqtt = make_mqtt(sim_mqtt)
    try:
        await mqtt.northbound.login()
        await mqtt.northbound.onboard([sim_mqtt.stations[0].system_id])
        await mqtt.send_battery_commands([command(sim_mqtt, active_mode="self_consumption")])
        await mqtt.switch_mode(sim_mqtt.stations[0].system_id, "VPP")
    finally:
        await mqtt.close()
    await wait_until(lambda: sim_mqtt.stations[0].mode == 6, "the mode switch")
    (sent,) = received(sim_mqtt, "openapi/instruction/command")
    assert sent["commands"][0]["activeMode"] == "selfConsumption"
    (mode,) = received(sim_mqtt, "openapi/instruction/mode")
    assert mode["mode"] == "VPP"
    assert mode["systemId"] == sim_mqtt.stations[0].system_id


async def test_invalid_commands_are_not_sent(sim_mqtt: Simulator) -> None:
    mqtt = make_mqtt(sim_mqtt)
    try:
        with pytest.raises(SigenValidationError, match=r"commands\[0\]: duration 0 min"):
            await mqtt.send_battery_commands([command(sim_mqtt, duration=0)])
        with pytest.raises(SigenValidationError, match="Unknown mode"):
            await mqtt.switch_mode(sim_mqtt.stations[0].system_id, "TURBO")
    finally:
        await mqtt.close()
    assert not received(sim_mqtt, "openapi/instruction/command")


async def test_command_for_another_system_is_sent(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """As the original library's README does (its command names a system the client does
    not listen to): sent, said once at INFO; the cloud decides (the simulator refuses a
    system that is not onboarded)."""
    mqtt = make_mqtt(sim_mqtt)
    try:
        with caplog.at_level(logging.INFO, logger="sigen.mqtt"):
            await mqtt.send_battery_commands([command(sim_mqtt, system_id="OTHER")])
    finally:
        await mqtt.close()
    assert sim_mqtt.mqtt is not None
    instructions = sim_mqtt.mqtt.instructions
    await wait_until(lambda: instructions, "the cloud's verdict")
    (sent,) = received(sim_mqtt, "openapi/instruction/command")
    assert sent["commands"][0]["systemId"] == "OTHER"
    assert instructions[-1][1:] == (False, "commands[0]: system OTHER is not onboarded")
    assert "system(s) OTHER, which this client does not listen to" in caplog.text


async def test_broker_down_raises_and_never_sends_later(
    sim_mqtt: Simulator, listener: Listener
) -> None:
    assert sim_mqtt.mqtt is not None
    await sim_mqtt.mqtt.stop_broker()
    with pytest.raises(SigenMQTTError, match=r"not acknowledge|cannot reach the MQTT broker"):
        await listener.mqtt.send_battery_commands([command(sim_mqtt)])
    await wait_until(lambda: not listener.mqtt.connected, "the listener to notice")
    with pytest.raises(SigenMQTTError, match="cannot reach the MQTT broker"):
        await listener.mqtt.send_battery_commands([command(sim_mqtt)])
    await sim_mqtt.mqtt.start_broker()
    await wait_until(lambda: listener.mqtt.connected, "the listener to reconnect")
    # A message sent now arrives; the refused commands never do.
    await listener.mqtt.switch_mode(sim_mqtt.stations[0].system_id, "MSC")
    await wait_until(lambda: received(sim_mqtt, "openapi/instruction/mode"), "the mode switch")
    assert not received(sim_mqtt, "openapi/instruction/command")


async def test_no_duplicate_after_reconnect(sim_mqtt: Simulator, listener: Listener) -> None:
    await listener.mqtt.send_battery_commands([command(sim_mqtt)])
    # (Let the simulator take it first: between broker and simulator QoS 1 is "at least
    # once", and a restart at that very moment would make the broker deliver it again.)
    await wait_until(lambda: received(sim_mqtt, "openapi/instruction/command"), "the command")
    await sim_mqtt.restart_broker(down_for=0.1)
    await wait_until(lambda: listener.connection == [True, False, True], "a reconnect")
    await listener.mqtt.switch_mode(sim_mqtt.stations[0].system_id, "MSC")
    await wait_until(lambda: received(sim_mqtt, "openapi/instruction/mode"), "the mode switch")
    assert len(received(sim_mqtt, "openapi/instruction/command")) == 1


# -------------------------------------------------------------- outages, backoff


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    delays = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "sigen.mqtt" and "retrying in" in message:
            delays.append(float(message.rsplit("retrying in ", 1)[1].split()[0]))
    return delays


async def test_backoff_doubles_to_the_cap_and_resets(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    assert sim_mqtt.mqtt is not None
    caplog.set_level(logging.DEBUG, logger="sigen.mqtt")
    running = Listener(make_mqtt(sim_mqtt, reconnect_interval=0.05, max_reconnect_interval=0.4))
    try:
        await running.start()
        await sim_mqtt.mqtt.stop_broker()
        await wait_until(lambda: len(retry_delays(caplog)) >= 6, "six retries")
        assert retry_delays(caplog)[:6] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # the outage is logged once, the retries at debug level
        await sim_mqtt.mqtt.start_broker()
        await wait_until(lambda: running.mqtt.connected, "the reconnect")
        assert any("restored" in r.getMessage() for r in caplog.records)
        caplog.clear()
        await sim_mqtt.mqtt.drop_clients()
        await wait_until(lambda: retry_delays(caplog), "a retry after the drop")
        assert retry_delays(caplog)[0] == 0.05  # reset after a good connection
    finally:
        await running.stop()


async def test_repeated_outages_leak_nothing(sim_mqtt: Simulator, listener: Listener) -> None:
    await sim_mqtt.restart_broker(down_for=0.05)
    await wait_until(lambda: listener.connection[-2:] == [False, True], "the first reconnect")
    tasks = len(asyncio.all_tasks())
    for round_ in range(5):
        await sim_mqtt.restart_broker(down_for=0.05)
        await wait_until(
            lambda n=round_ + 3: listener.connection.count(True) == n and listener.mqtt.connected,
            f"reconnect {round_ + 2}",
        )
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry after the outages")
    assert len(asyncio.all_tasks()) == tasks
    assert listener.connection == [True, False] * 6 + [True]


# ------------------------------------------------------------ bad input, many systems

GARBAGE = [
    b"",
    b"\xff\xfe\x00",
    b"[",
    b"null",
    b"[1, 2]",
    b'{"deviceType": "system"}',
    b'[{"deviceType": "system", "systemId": "X", "value": "{"}]',
    b"[" * 50_000 + b"]" * 50_000,
    b'"' + b"x" * 1_500_000 + b'"',
]


async def test_garbage_over_mqtt_skipped_one_line_each(
    sim_mqtt: Simulator, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    assert sim_mqtt.mqtt is not None
    broker = sim_mqtt.mqtt.broker
    system_id = sim_mqtt.stations[0].system_id
    caplog.set_level(logging.WARNING)
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.publisher_username,
        password=broker.publisher_password,
        tls_context=listener.mqtt.build_tls_context(),
    ) as cloud:
        for kind in ("period", "change", "alarm"):
            for payload in GARBAGE:
                await cloud.publish(f"openapi/{kind}/{sim_mqtt.app_key}/{system_id}", payload, 1)
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "the good telemetry after the garbage")
    assert listener.mqtt.connected
    assert listener.connection == [True]
    assert not listener.system
    assert not listener.alarms
    skipped = [r for r in caplog.records if "Skipped malformed" in r.getMessage()]
    assert len(skipped) == 3 * len(GARBAGE)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.sim_config(auto_approve=True, stations=3)
async def test_several_systems(sim_mqtt: Simulator, listener: Listener) -> None:
    ids = {station.system_id for station in sim_mqtt.stations}
    assert set(listener.mqtt.system_ids) == ids
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: len(listener.telemetry) == 3, "telemetry of three systems")
    assert {data.system_id for data in listener.telemetry} == ids
    (request,) = received(sim_mqtt, "openapi/subscription/period")
    assert set(request["systemIdList"]) == ids


async def test_approval_while_listening(sim_mqtt: Simulator) -> None:
    sim_mqtt.config.auto_approve = False
    sim_mqtt.reset_onboarding()
    system_id = sim_mqtt.stations[0].system_id
    running = Listener(make_mqtt(sim_mqtt, onboard_retry_interval=0.2))
    try:
        await running.start()
        assert running.mqtt.onboarding[system_id].pending
        sim_mqtt.approve_onboarding(system_id)
        await wait_until(lambda: running.mqtt.onboarding[system_id].result, "the approval")
        await sim_mqtt.publish_telemetry(system_id)
        await wait_until(lambda: running.telemetry, "telemetry after the approval")
        assert running.connection == [True]  # re-checking is not an outage
    finally:
        await running.stop()


async def test_captured_deltas_merge_into_the_full_values(
    sim_mqtt: Simulator, listener: Listener
) -> None:
    """The captured shape (the default): a full message, then only what changed. Every
    callback gets the merged values, equal to a full message of the same moment: a field
    a delta leaves out keeps its value (never ``None``, never 0)."""
    station = sim_mqtt.stations[0]
    assert sim_mqtt.mqtt is not None

    def as_full_message() -> TelemetryData:
        item = {"systemId": station.system_id, "value": telemetry_values(station)}
        (data,) = TelemetryData.from_mqtt_payload([item])
        return data

    for change in (lambda: None, lambda: station.set_mode(MODE_FFG), lambda: None):
        change()
        count = len(listener.telemetry)
        await sim_mqtt.publish_telemetry()
        await wait_until(lambda n=count: len(listener.telemetry) > n, "a period message")
        merged = listener.telemetry[-1]
        assert merged.timestamp is not None
        assert dataclasses.replace(merged, timestamp=None, statistics_time=None) == (
            as_full_message()
        )
        assert merged.raw == telemetry_values(station)
    sent = [
        payload[0]["value"] for topic, payload in sim_mqtt.mqtt.published if "/period/" in topic
    ]
    assert sent[0].keys() == telemetry_values(station).keys()
    assert sent[0]["operationalMode"] == "0.0"
    assert "PV power" in sent[0]
    assert sent[1]["operationalMode"] == "5.0"
    assert "PV power" not in sent[1]
    assert sent[2] == {}
    assert listener.telemetry[-1].operational_mode == MODE_FFG
    assert listener.telemetry[-1].inverter_reactive_power == 0.0


@pytest.mark.sim_config(auto_approve=True, telemetry_pv_key="PV power")
async def test_pv_power_key_variant(sim_mqtt: Simulator, listener: Listener) -> None:
    values = telemetry_values(sim_mqtt.stations[0])
    assert "PV power" in values
    assert "pvPowerW" not in values
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry")
    assert listener.telemetry[0].pv_power == pytest.approx(float(values["PV power"]) / 1000)


async def test_token_replaced_by_another_login(sim_mqtt: Simulator, listener: Listener) -> None:
    """Another key login changes the broker password (the simulator then disconnects the
    old session): the listener reconnects at once with that login's token (no login of
    its own; tests/lib/test_mqtt_session.py has the details)."""
    from sigen import NorthboundClient

    first = listener.mqtt.northbound.access_token
    other = await NorthboundClient.from_app_key(
        base_url=sim_mqtt.nb_url, app_key=sim_mqtt.app_key, app_secret=sim_mqtt.app_secret
    )
    await other.close()
    await wait_until(
        lambda: (
            listener.connection == [True, False, True]
            and listener.mqtt._password.used == other.access_token
        ),
        "a reconnect with the new token",
    )
    assert listener.mqtt.northbound.access_token == first
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: listener.telemetry, "telemetry")


# ------------------------------------------------------- cancelled while connecting


def sockets_to(port: int) -> int:
    """How many TCP sockets of this process are connected to ``port`` (on 127.0.0.1)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[9] in inodes:
            count += 1
    return count


class Relay:
    """A TCP relay in front of the broker that tells when a connection reaches a stage.

    ``hold="accepted"``: nothing is forwarded before :attr:`release` is set (the client
    has its TCP connection and waits for the TLS ServerHello); ``hold="server_hello"``:
    the client's bytes go through, the broker's first answer (the TLS ServerHello) is
    held (the client is inside the TLS handshake).
    """

    def __init__(self, target_port: int, hold: str) -> None:
        self.target_port = target_port
        self.hold = hold
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        if self.hold == "accepted":
            self.reached.set()
            await self.release.wait()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, hold: bool) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if hold and not self.release.is_set():
                        self.reached.set()
                        await self.release.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(
            pipe(reader, up_writer, False),
            pipe(up_reader, writer, self.hold == "server_hello"),
        )

    async def close(self) -> None:
        self.release.set()
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
        if self.tasks:
            await asyncio.wait(self.tasks)


class SilentBroker:
    """Completes TLS with the simulator's server certificate, reads the CONNECT, never answers."""

    def __init__(self, sim: Simulator) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(sim.certs.server.cert_path, sim.certs.server.key_path)
        self.reached = asyncio.Event()  # the client's CONNECT arrived
        self.release = asyncio.Event()
        self.tasks: set[asyncio.Task[Any]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        self._writers.append(writer)
        with contextlib.suppress(OSError, ssl.SSLError):
            while await reader.read(65536):
                self.reached.set()
        writer.close()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
        if self.tasks:
            await asyncio.wait(self.tasks)


@contextlib.contextmanager
def loop_errors() -> Any:
    """Collect what reaches the event loop's exception handler."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield errors
    finally:
        loop.set_exception_handler(previous)


def _is_mqtt_task(task: asyncio.Task[Any]) -> bool:
    """A task of the MQTT client (aiomqtt's misc loop, our listener, a connect attempt)."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return name.split(".")[0] in {"Client", "HardenedClient", "SigenMQTT"}


async def _cancel_and_check(
    mqtt: SigenMQTT, port: int, reached: Callable[[], Any], release: Callable[[], None]
) -> None:
    """Start listen(), cancel it once ``reached()`` says so, check nothing is left."""
    before = asyncio.all_tasks()
    baseline = sockets_to(port)
    task = asyncio.create_task(mqtt.listen(lambda _data: None))
    await reached()
    task.cancel()
    release()
    with pytest.raises(asyncio.CancelledError):
        await task
    # (The simulator's broker control client, run by a login the cancel cut short, may
    # still be connected for a moment: wait for it, not for ours that would never close.)
    await wait_until(lambda: sockets_to(port) == baseline, "the listener's socket closed", 5.0)
    left = [t for t in asyncio.all_tasks() - before if _is_mqtt_task(t)]
    assert not left, f"tasks left behind: {left}"
    assert not mqtt.connected


@pytest.mark.parametrize("stage", ["accepted", "server_hello", "connect_sent"])
async def test_cancel_while_connecting_is_clean(sim_mqtt: Simulator, stage: str) -> None:
    """Cancelled right after the TCP connect, inside TLS, waiting for the CONNACK."""
    peer: Relay | SilentBroker
    peer = SilentBroker(sim_mqtt) if stage == "connect_sent" else Relay(sim_mqtt.mqtt_port, stage)
    await peer.start()
    mqtt = make_mqtt(sim_mqtt, port=peer.port, connect_timeout=30.0)
    with loop_errors() as errors:
        try:
            await _cancel_and_check(mqtt, peer.port, peer.reached.wait, peer.release.set)
        finally:
            await peer.close()  # the peer hangs up: late paho callbacks would run now
            for _ in range(20):
                await asyncio.sleep(0)
            await mqtt.close()
        assert not errors, [c.get("message") for c in errors]
    # The same object listens normally afterwards (its client lock was released).
    running = Listener(make_mqtt(sim_mqtt))
    await running.start()
    await running.stop()


async def test_cancel_at_many_points_of_a_real_connect(sim_mqtt: Simulator) -> None:
    """Cancel after 0, 1, 2, 3, 5, 8... loop iterations: TCP/TLS, CONNACK, SUBACK, running."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    mqtt = make_mqtt(sim_mqtt)
    port = sim_mqtt.mqtt_port
    with loop_errors() as errors:
        async with mqtt:
            # A first session logs in and onboards: later ones go straight to the broker.
            await _cancel_and_check(
                mqtt, port, lambda: wait_until(lambda: mqtt.connected, "connected"), lambda: None
            )
            for steps in (0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 17, 21, 34, 55, 89):

                async def reached(steps: int = steps) -> None:
                    for _ in range(steps):
                        await asyncio.sleep(0)

                await _cancel_and_check(mqtt, port, reached, lambda: None)
        await sim_mqtt.mqtt.drop_clients()  # late disconnect callbacks would run now
        for _ in range(20):
            await asyncio.sleep(0)
        assert not errors, [c.get("message") for c in errors]
    running = Listener(make_mqtt(sim_mqtt))
    await running.start()
    await running.stop()


@pytest.mark.sim_config(auto_approve=True, time_scale=0, stations=2)
async def test_one_subscribe_and_a_refused_system(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Every exact topic goes in one SUBSCRIBE; a system the broker refuses (SUBACK 0x80)
    is logged by name and the others' telemetry still flows."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    allowed, refused = sim_mqtt.stations[0].system_id, sim_mqtt.stations[1].system_id
    sim_mqtt.mqtt._change_acl(sim_mqtt.mqtt.broker.revoke_app_system(sim_mqtt.app_key, refused))
    await sim_mqtt.mqtt.acl_synced()
    mqtt = make_mqtt(sim_mqtt)
    mqtt.system_ids = [allowed, refused]
    calls: list[Any] = []
    running = Listener(mqtt)
    original = aiomqtt.Client.subscribe

    async def counting(self: aiomqtt.Client, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0] if args else kwargs["topic"])
        return await original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aiomqtt.Client, "subscribe", counting)
        try:
            await running.start()
            await sim_mqtt.publish_telemetry(allowed)
            await wait_until(lambda: running.telemetry, "the allowed system's telemetry")
            assert {data.system_id for data in running.telemetry} == {allowed}
            assert running.connection == [True]
        finally:
            await running.stop()
    ours = [c for c in calls if sim_mqtt.app_key in str(c)]  # not the simulator's own
    (topics,) = ours  # one SUBSCRIBE for 3 kinds x 2 systems, exact topics, QoS 1
    assert len(topics) == 6
    assert all("+" not in t and "#" not in t and qos == 1 for t, qos in topics)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "sigen.mqtt" and r.levelno == logging.WARNING and "refused" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert refused in warnings[0]
    assert allowed not in warnings[0]
