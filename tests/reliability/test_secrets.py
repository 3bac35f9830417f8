"""Secrets: the log guard works, diagnostics hold none, certificate files stay private,
and TLS refuses a broker with a certificate from another CA or for another host name."""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sigen_cloud.const import CONF_CLIENT_CERT, CONF_CLIENT_KEY, DOMAIN
from custom_components.sigen_cloud.sigen import SigenMQTTError
from custom_components.sigen_cloud.sigen.mqtt import _tls
from sigen_sim import Simulator
from sigen_sim.broker import MosquittoBroker
from sigen_sim.certs import CertPair
from tests import conftest as guard
from tests.integration.conftest import account_data, account_id, developer_data

from .helpers import Listener, make_mqtt, wait_until

pytestmark = pytest.mark.sim_config(time_scale=0, telemetry_interval=0)


def known_secrets(sim: Simulator) -> list[str]:
    """What must never show: password, app secret, e-mail, tokens, private key lines."""
    values = [sim.password, sim.app_secret, sim.username]
    values += guard._issued_tokens(sim)
    if sim.mqtt is not None:
        for pem in (sim.certs.client_key_pem, sim.certs.server.key_pem):
            values += sorted(guard._pem_body_lines(pem))
    return values


# --------------------------------------------------------------------- the guard itself


async def test_guard_flags_a_logged_password_and_token(sim: Simulator) -> None:
    """The conftest guard sees a secret in any logger's record (and is reset here)."""
    from custom_components.sigen_cloud.sigen import NorthboundClient

    nb = NorthboundClient(sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret)
    try:
        await nb.login()
        token = nb.access_token
    finally:
        await nb.close()
    assert token
    before = len(guard._GUARD.offenders)
    logging.getLogger("some.other.library").warning("login with %s", sim.password)
    logging.getLogger("sigen").debug("token=%s", token)
    try:
        raise ValueError(sim.app_secret)
    except ValueError:
        logging.getLogger("custom_components.sigen_cloud").exception("boom")
    found = guard._GUARD.offenders[before:]
    assert [kind for _, kind, _ in found] == ["password", "token", "app secret"]
    assert all(sim.password not in excerpt and token not in excerpt for _, _, excerpt in found)
    guard._GUARD.offenders[before:] = []  # this test leaked on purpose


async def test_guard_ignores_redacted_forms(sim: Simulator) -> None:
    """A partial e-mail or a token's prefix is not a leak."""
    before = len(guard._GUARD.offenders)
    logging.getLogger("sigen").info("Logged in as d***@sigen.invalid with sim-nb-…")
    assert guard._GUARD.offenders[before:] == []


# ------------------------------------------------------------------------- diagnostics


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim_mtls: Simulator,
    socket_enabled: None,
) -> None:
    """With mutual TLS, tokens issued and telemetry received: nothing secret in the dump."""
    sim = sim_mtls
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    data = {
        **account_data(sim),
        **developer_data(sim),
        CONF_CLIENT_CERT: sim.certs.client_cert_pem,
        CONF_CLIENT_KEY: sim.certs.client_key_pem,
    }
    entry = MockConfigEntry(
        domain=DOMAIN, title="Sigen", unique_id=await account_id(sim), data=data
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    push = entry.runtime_data.push
    await wait_until(lambda: push.connected, "the MQTT connection")
    await sim.publish_telemetry()
    assert await async_setup_component(hass, "diagnostics", {})
    text = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry))
    secrets = known_secrets(sim)
    assert len(guard._issued_tokens(sim)) >= 2  # app and northbound logins happened
    leaked = [s[:6] + "…" for s in secrets if s in text]
    assert leaked == []
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


# ------------------------------------------------------------------------ file modes


async def test_client_key_files_are_private_and_removed(
    sim_mtls: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client certificate given as PEM text is written 0600 in a 0700 directory, then
    deleted; nothing else is written."""
    sim = sim_mtls
    seen: list[tuple[str, int]] = []
    made: list[str] = []
    original_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        path = original_mkdtemp(*args, **kwargs)
        made.append(path)
        return path

    original_load = _tls._load_client_cert

    def load(context: Any, cert: str, key: str) -> None:
        for path in (os.path.dirname(cert), cert, key):
            seen.append((path, stat.S_IMODE(os.stat(path).st_mode)))
        original_load(context, cert, key)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(_tls, "_load_client_cert", load)
    mqtt = make_mqtt(
        sim,
        client_cert_pem=sim.certs.client_cert_pem,
        client_key_pem=sim.certs.client_key_pem,
    )
    try:
        await mqtt.check_connection()
    finally:
        await mqtt.close()
    assert len(seen) == 3
    directory_mode, cert_mode, key_mode = (mode for _, mode in seen)
    assert directory_mode & 0o077 == 0, oct(directory_mode)
    assert cert_mode & 0o077 == 0, oct(cert_mode)
    assert key_mode & 0o077 == 0, oct(key_mode)
    assert made
    assert not _any_exists(made), "temporary key files left behind"


def _any_exists(paths: list[str]) -> bool:
    return any(os.path.exists(path) for path in paths)


# --------------------------------------------------------------------------------- TLS


async def _other_broker(sim: Simulator, tmp_path: Path, server: CertPair) -> MosquittoBroker:
    broker = MosquittoBroker(sim.certs, tmp_path / "broker", server_cert=server)
    broker.set_app_systems(sim.app_key, [s.system_id for s in sim.stations])
    await broker.start()
    return broker


@pytest.mark.parametrize(
    ("which", "reason"),
    [("wrong_server", "another CA"), ("other_host_server", "another host name")],
)
async def test_tls_refuses_a_foreign_broker(
    sim_mqtt: Simulator,
    tmp_path: Path,
    which: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``check_connection`` fails with a certificate message; ``listen`` never connects."""
    sim = sim_mqtt
    broker = await _other_broker(sim, tmp_path, getattr(sim.certs, which))
    try:
        mqtt = make_mqtt(sim, port=broker.port)
        with pytest.raises(SigenMQTTError, match="certificate") as err:
            await mqtt.check_connection()
        assert "CA certificate" in str(err.value) or "certificate" in str(err.value), reason
        listener = Listener(mqtt)
        task = listener.start()
        await wait_until(
            lambda: any("not accepted" in r.getMessage() for r in caplog.records),
            "the refusal to be logged",
        )
        assert not mqtt.connected
        assert listener.connection in ([], [False])
        assert not task.done()
        await listener.stop()
    finally:
        await broker.stop()
    assert not broker.running
