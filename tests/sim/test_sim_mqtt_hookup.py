"""The REST side's hookup of the MQTT side: fixtures, login hook, delegation, control API.

The broker and publisher themselves are tested in test_broker*.py / test_mqtt*.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import UA, nb_login

pytest.importorskip("sigen_sim.mqtt_side")
aiomqtt = pytest.importorskip("aiomqtt")

pytestmark = pytest.mark.usefixtures("socket_enabled")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


def tls_context(sim: Simulator, *, client_cert: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=sim.certs.ca_pem)
    ctx.verify_flags &= ~ssl.VERIFY_X509_STRICT  # the CA lacks keyUsage, like Sigen's
    if client_cert:
        ctx.load_cert_chain(sim.certs.client_cert_path, sim.certs.client_key_path)
    return ctx


async def ctl(session: aiohttp.ClientSession, sim: Simulator, path: str, body: Any) -> int:
    async with session.post(sim.control_url + path, json=body) as r:
        return r.status


async def test_sim_mqtt_fixture_exposes_broker(
    sim_mqtt: Simulator, session: aiohttp.ClientSession
) -> None:
    assert sim_mqtt.mqtt is not None
    assert sim_mqtt.mqtt_host == "127.0.0.1"
    assert sim_mqtt.mqtt_port > 0
    assert sim_mqtt.certs.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert not sim_mqtt.config.require_client_cert
    assert sim_mqtt.mqtt_received == []
    async with session.get(sim_mqtt.control_url + "state") as r:
        state = (await r.json())["data"]
    assert state["mqtt"]["port"] == sim_mqtt.mqtt_port


async def test_sim_mtls_requires_client_cert(sim_mtls: Simulator) -> None:
    assert sim_mtls.config.require_client_cert
    assert sim_mtls.mqtt is not None
    assert sim_mtls.mqtt.require_client_cert


@pytest.mark.sim_config(auto_approve=True)
async def test_login_hook_telemetry_and_commands(
    sim_mqtt: Simulator, session: aiohttp.ClientSession
) -> None:
    sim = sim_mqtt
    system_id = sim.stations[0].system_id
    token = await nb_login(session, sim)  # sets the broker password of the app key
    async with session.post(
        sim.nb_url + "openapi/board/onboard",
        json=[system_id],
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert (await r.json())["data"][0]["result"] is True
    async with aiomqtt.Client(
        sim.mqtt_host,
        sim.mqtt_port,
        username=sim.app_key,
        password=token,
        tls_context=tls_context(sim),
        identifier=sim.app_identifier,
    ) as client:
        topic = f"openapi/period/{sim.app_key}/{system_id}"
        await client.subscribe(topic, qos=1)
        await client.publish(
            "openapi/subscription/period",
            json.dumps({"accessToken": token, "systemIdList": [system_id]}),
            qos=1,
        )
        for _ in range(200):
            if sim.mqtt_received:
                break
            await asyncio.sleep(0.05)
        assert sim.mqtt_received[0][0] == "openapi/subscription/period"
        await sim.publish_telemetry(system_id)

        async def first_message() -> Any:
            async for message in client.messages:
                return json.loads(message.payload)
            return None

        payload = await asyncio.wait_for(first_message(), timeout=15)
        assert payload[0]["systemId"] == system_id
        values = payload[0]["value"]
        assert all(isinstance(v, str) for v in values.values())
        assert "storageChargeDischargePowerW" in values

        command = {
            "systemId": system_id,
            "activeMode": "charge",
            "startTime": int(sim.clock.now()),
            "duration": 30,
            "chargingPower": 2.5,
        }
        await client.publish(
            "openapi/instruction/command",
            json.dumps({"accessToken": token, "commands": [command]}),
            qos=1,
        )
        station = sim.stations[0]
        for _ in range(200):
            if station.applied_commands:
                break
            await asyncio.sleep(0.05)
        assert station.applied_commands[0]["activeMode"] == "charge"
        sample = station.sample()
        assert sample.battery == pytest.approx(2.5) or station.soc > 99


async def test_mqtt_delegation_from_python_and_control_api(
    sim_mqtt: Simulator, session: aiohttp.ClientSession
) -> None:
    sim = sim_mqtt
    await sim.publish_telemetry()
    await sim.faults.drop_mqtt_clients()
    assert await ctl(session, sim, "telemetry", {}) == 200
    assert await ctl(session, sim, "alarm", {"code": "1001", "status": "generation"}) == 200
    assert await ctl(session, sim, "mqtt/drop", {}) == 200
    assert await ctl(session, sim, "change", {"values": {"chargeCutOffSOC%": "95.0"}}) == 200
    assert await ctl(session, sim, "change", {"values": [1]}) == 400
    await sim.publish_change(sim.stations[0].system_id)
    await sim.publish_alarm(sim.stations[0].system_id, "1001", "recovery")
    with pytest.raises(KeyError):
        await sim.publish_change("NOPE")
    assert await ctl(session, sim, "broker/restart", {"downFor": 0}) == 200
    await sim.faults.restart_broker()
    assert sim.mqtt is not None
    assert sim.mqtt.broker.running


def test_python_m_sigen_sim_with_mqtt_writes_certificates(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state_dir = tmp_path / "state"
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "sigen_sim",
            "--port",
            str(port),
            "--mqtt",
            "--require-client-cert",
            "--state-dir",
            str(state_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        output = "".join(lines)
        assert "MQTT (TLS):" in output
        assert "client certificate required" in output
        creds = json.loads((state_dir / "credentials.json").read_text())
        mqtt = creds["mqtt"]
        assert mqtt["require_client_cert"] is True
        for key in ("ca_cert_path", "client_cert_path", "client_key_path"):
            path = Path(mqtt[key])
            assert path.read_text().startswith("-----BEGIN")
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", mqtt["port"])) == 0
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", mqtt["port"])) != 0  # broker stopped too
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
