"""SigenMQTT's session and token against the simulator (real mosquitto, real TLS).

* A broker that refuses the persistent session or the stable client id (CONNACK 2,
  "identifier rejected") gets a clean session with a random client id: logged once,
  kept for the client's life, telemetry flows (issue 14).
* Another login with the same app key replaces the broker password when the cloud keeps
  one token per key (the simulator's default, as mosquitto does): the listener reconnects
  at once with the new token instead of after its 30 s back-off; when older tokens stay
  valid nothing is cut at all. A genuine refusal still backs off (issue 15, item 2).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from sigen import NorthboundClient, SigenMQTT
from sigen_sim import Simulator

from .test_mqtt import WAIT, Listener, make_mqtt, wait_until

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)

# The listener's real back-off: a reconnect that waited for it would miss WAIT (15 s).
REAL_BACKOFF = {
    "reconnect_interval": 30.0,
    "error_reconnect_interval": 60.0,
    "max_reconnect_interval": 600.0,
}


@pytest.fixture
async def slow_listener(sim_mqtt: Simulator) -> AsyncIterator[Listener]:
    """A listener with the integration's reconnect intervals (30 s / 60 s)."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None  # only the messages a test asks for
    running = Listener(make_mqtt(sim_mqtt, **REAL_BACKOFF))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def fast_listener(sim_mqtt: Simulator) -> AsyncIterator[Listener]:
    """A listener that reconnects within 0.2 s (for tests that cut it on purpose)."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    running = Listener(make_mqtt(sim_mqtt))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def key_logins(sim: Simulator) -> int:
    return len(sim.requests("openapi/auth/login/key", "POST"))


async def telemetry_arrives(sim: Simulator, listener: Listener) -> None:
    before = len(listener.telemetry)
    await sim.publish_telemetry()
    await wait_until(lambda: len(listener.telemetry) > before, "telemetry")


# ------------------------------------------------------------- refused session


def fallback_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The fallback warnings of the test so far (the fixture's set-up included)."""
    return [
        r.getMessage()
        for r in [*caplog.get_records("setup"), *caplog.records]
        if r.name == "sigen.mqtt" and "refused the persistent session" in r.getMessage()
    ]


@pytest.mark.sim_config(mqtt_refuse_persistent_sessions=True)
async def test_refused_persistent_session_falls_back_once(
    fast_listener: Listener, sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    mqtt = fast_listener.mqtt
    gate = sim_mqtt.mqtt.gate if sim_mqtt.mqtt is not None else None
    assert gate is not None
    assert mqtt.session_fallback
    assert gate.refused == [(mqtt.client_id, 2)]  # CONNACK 2, once
    assert len(fallback_warnings(caplog)) == 1
    assert mqtt.client_id in fallback_warnings(caplog)[0]
    # The fallback is no outage: no "lost or refused" warning, no "restored".
    assert not [r for r in caplog.get_records("setup") if "lost or refused" in r.getMessage()]
    await telemetry_arrives(sim_mqtt, fast_listener)

    # Reconnects go straight to the clean session: no second refusal, no second warning.
    for number in (1, 2):
        await sim_mqtt.faults.drop_mqtt_clients()
        await wait_until(
            lambda n=number: fast_listener.connection.count(True) == n + 1, "a reconnect"
        )
    assert gate.refused == [(mqtt.client_id, 2)]
    assert len(fallback_warnings(caplog)) == 1
    await telemetry_arrives(sim_mqtt, fast_listener)


@pytest.mark.sim_config(mqtt_refused_client_ids=("sigen-sim-app",))
async def test_refused_client_id_falls_back_to_a_random_one(
    slow_listener: Listener, sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    mqtt = slow_listener.mqtt
    assert mqtt.client_id == "sigen-sim-app"
    assert sim_mqtt.mqtt is not None
    assert sim_mqtt.mqtt.gate is not None
    assert sim_mqtt.mqtt.gate.refused == [("sigen-sim-app", 2)]
    # A random id of 1-23 letters and digits: what every MQTT 3.1.1 broker must accept.
    assert mqtt._listener.fallback_id is not None
    assert re.fullmatch(r"[0-9A-Za-z]{1,23}", mqtt._listener.fallback_id)
    assert len(fallback_warnings(caplog)) == 1
    await telemetry_arrives(sim_mqtt, slow_listener)
    # The configuration check and short-lived command connections use their own ids.
    await mqtt.check_connection()


async def test_persistent_session_kept_by_default(
    slow_listener: Listener, sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    assert sim_mqtt.mqtt is not None
    assert sim_mqtt.mqtt.gate is None  # mosquitto alone, as in every other test
    assert not slow_listener.mqtt.session_fallback
    assert not fallback_warnings(caplog)


# ------------------------------------------------------------- replaced token


@pytest.mark.parametrize(
    "one_token_per_key",
    [
        pytest.param(True, id="one-token", marks=pytest.mark.sim_config(nb_one_token_per_key=True)),
        pytest.param(
            False, id="many-tokens", marks=pytest.mark.sim_config(nb_one_token_per_key=False)
        ),
    ],
)
async def test_another_login_does_not_leave_push_down(
    slow_listener: Listener, sim_mqtt: Simulator, one_token_per_key: bool
) -> None:
    """A second login with the same key, by another client (as a configuration check
    with changed settings does): push goes on at once under both cloud behaviours."""
    first = slow_listener.mqtt.northbound.access_token
    other = await NorthboundClient.from_app_key(
        base_url=sim_mqtt.nb_url, app_key=sim_mqtt.app_key, app_secret=sim_mqtt.app_secret
    )
    await other.close()
    if one_token_per_key:
        # Cut by the password change, back at once with the other login's token.
        await wait_until(lambda: slow_listener.connection == [True, False, True], "a reconnect")
        assert slow_listener.mqtt._password.used == other.access_token
    else:
        assert slow_listener.connection == [True]  # nothing was cut
    await telemetry_arrives(sim_mqtt, slow_listener)
    assert key_logins(sim_mqtt) == 2  # the listener did not log in again
    assert slow_listener.mqtt.northbound.access_token == first


async def test_shared_client_login_reconnects_at_once(
    slow_listener: Listener, sim_mqtt: Simulator
) -> None:
    """The listener's own northbound client logs in again (a configuration check of the
    running entry whose token had expired): the cut connection is back at once."""
    mqtt = slow_listener.mqtt
    before = mqtt._password.used
    await mqtt.northbound.login()
    await wait_until(lambda: slow_listener.connection == [True, False, True], "a reconnect")
    assert mqtt._password.used == mqtt.northbound.access_token != before
    await telemetry_arrives(sim_mqtt, slow_listener)


@pytest.mark.sim_config(nb_one_token_per_key=False)
async def test_older_tokens_stay_valid_broker_passwords(sim_mqtt: Simulator) -> None:
    """The simulator's other behaviour, seen by a plain client: an older token still
    connects after a newer login; an expired one does not."""
    logins = [
        await NorthboundClient.from_app_key(
            base_url=sim_mqtt.nb_url, app_key=sim_mqtt.app_key, app_secret=sim_mqtt.app_secret
        )
        for _ in range(2)
    ]
    tokens = [client.access_token for client in logins]
    for client in logins:
        await client.close()
    mqtt = make_mqtt(sim_mqtt)
    context = mqtt.build_tls_context()
    for token in tokens:
        assert token is not None
        async with aiomqtt.Client(
            sim_mqtt.mqtt_host,
            sim_mqtt.mqtt_port,
            username=sim_mqtt.app_key,
            password=token,
            tls_context=context,
            timeout=WAIT,
        ):
            pass
    sim_mqtt.tokens.expire("nb")
    with pytest.raises(aiomqtt.MqttCodeError) as refused:
        async with aiomqtt.Client(
            sim_mqtt.mqtt_host,
            sim_mqtt.mqtt_port,
            username=sim_mqtt.app_key,
            password=str(tokens[1]),
            tls_context=context,
            timeout=WAIT,
        ):
            pass
    assert "Not authorized" in str(refused.value)


@pytest.mark.sim_config(nb_one_token_per_key=False)
async def test_expired_token_refused_then_a_new_login(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker refuses the listener's token (expired early by the cloud): it logs in
    again and reconnects at once, without the error back-off."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None
    listener = Listener(
        make_mqtt(
            sim_mqtt,
            reconnect_interval=0.2,
            error_reconnect_interval=60.0,
            max_reconnect_interval=600.0,
        )
    )
    await listener.start()
    try:
        sim_mqtt.tokens.expire("nb")
        await sim_mqtt.faults.drop_mqtt_clients()
        await wait_until(lambda: listener.connection == [True, False, True], "a reconnect")
        assert key_logins(sim_mqtt) == 2
        await telemetry_arrives(sim_mqtt, listener)
    finally:
        await listener.stop()


@pytest.mark.sim_config(nb_one_token_per_key=False)
async def test_genuine_refusal_still_backs_off(
    sim_mqtt: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker that refuses even a token just obtained: the listener waits its back-off
    (and says so) instead of logging in again and again."""
    assert sim_mqtt.mqtt is not None
    assert sim_mqtt.mqtt.gate is not None
    sim_mqtt.mqtt.gate._decide = lambda connect: 5  # refuse every CONNECT: not authorised
    listener = Listener(make_mqtt(sim_mqtt, **REAL_BACKOFF))
    task = asyncio.create_task(listener.mqtt.listen(listener.on_telemetry))
    try:
        with caplog.at_level(logging.WARNING, logger="sigen.mqtt"):
            await wait_until(
                lambda: any("retrying in 30 s" in r.getMessage() for r in caplog.records),
                "the back-off warning",
            )
        assert key_logins(sim_mqtt) == 1
        assert not listener.mqtt.connected
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await listener.mqtt.close()


def test_newest_token_registry() -> None:
    """The process-wide record of the newest app-key token: per base URL and key, and
    forgotten once expired; an account login (not a key) plays no part."""
    from sigen import _auth as northbound_module

    key = ("https://nb.example/", "registry-test-key")
    northbound_module._KEY_TOKENS[key] = ("a-token-value", time.time() + 60)
    assert northbound_module.newest_key_token(*key) == "a-token-value"
    assert northbound_module.newest_key_token(key[0], "another-key") is None
    northbound_module._KEY_TOKENS[key] = ("a-token-value", time.time() - 1)
    assert northbound_module.newest_key_token(*key) is None
    assert key not in northbound_module._KEY_TOKENS

    account = NorthboundClient(key[0], "someone@example.com", "a-password")
    mqtt = SigenMQTT("registry-test-key", "", "app", "SYS1", northbound=account)
    assert mqtt._password.newest() is None  # the account client's (none yet); no registry
    assert not mqtt._password.replaced()
