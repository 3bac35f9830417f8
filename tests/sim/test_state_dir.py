"""A long-lived ``--state-dir``: certificates reused while valid, a fixed broker port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.broker import free_port
from sigen_sim.certs import CertError, generate_certs, load_certs, load_or_generate_certs

ROOT = Path(__file__).resolve().parents[2]


def test_load_certs_reads_back_a_generated_set(tmp_path: Path) -> None:
    made = generate_certs(tmp_path)
    loaded = load_certs(tmp_path)
    assert loaded == made
    again, reused = load_or_generate_certs(tmp_path)
    assert reused is True
    assert again.ca_pem == made.ca_pem


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        ("missing", "client.key"),
        ("garbage", "server.crt"),
        ("swapped_key", "does not belong"),
        ("foreign_cert", "not signed by its CA"),
    ],
)
def test_a_bad_set_is_not_reused(tmp_path: Path, breakage: str, reason: str) -> None:
    made = generate_certs(tmp_path / "set")
    other = generate_certs(tmp_path / "other")
    directory = made.directory
    if breakage == "missing":
        (directory / "client.key").unlink()
    elif breakage == "garbage":
        (directory / "server.crt").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    elif breakage == "swapped_key":
        shutil.copy(directory / "server.key", directory / "client.key")
    else:  # a client certificate (and its key) from another CA
        shutil.copy(other.client_cert_path, directory / "client.crt")
        shutil.copy(other.client_key_path, directory / "client.key")
    with pytest.raises(CertError, match=reason):
        load_certs(directory)
    fresh, reused = load_or_generate_certs(directory)
    assert reused is False
    assert fresh.ca_pem != made.ca_pem
    assert load_certs(directory).ca_pem == fresh.ca_pem  # the new set is complete


async def test_simulator_cert_dir_and_fixed_broker_port(
    socket_enabled: None, tmp_path: Path
) -> None:
    port = free_port()

    def config() -> SimConfig:
        return SimConfig(mqtt=True, time_scale=0, cert_dir=str(tmp_path / "certs"), mqtt_port=port)

    async with Simulator(config()) as first:
        assert first.mqtt is not None
        assert first.mqtt.certs_reused is False
        assert first.mqtt_port == port
        ca = first.certs.ca_pem
    assert (tmp_path / "certs" / "ca.crt").exists()  # kept at stop
    async with Simulator(config()) as second:
        assert second.mqtt is not None
        assert second.mqtt.certs_reused is True
        assert second.certs.ca_pem == ca
        assert second.mqtt_port == port


def _start(
    state_dir: Path, port: int, mqtt_port: int, *extra: str
) -> tuple[str, dict[str, object]]:
    """Run ``python -m sigen_sim`` until it is ready; stop it; its banner and credentials."""
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "sigen_sim",
            "--port",
            str(port),
            "--mqtt-port",
            str(mqtt_port),
            "--require-client-cert",
            "--state-dir",
            str(state_dir),
            *extra,
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
        creds = json.loads((state_dir / "credentials.json").read_text())
        mqtt = creds["mqtt"]
        # The broker serves the certificate chain written to the state dir.
        context = ssl.create_default_context(cafile=mqtt["ca_cert_path"])
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        context.load_cert_chain(mqtt["client_cert_path"], mqtt["client_key_path"])
        with (
            socket.create_connection(("127.0.0.1", mqtt["port"]), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() is not None
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, rest
        return "".join(lines), creds
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def test_python_m_sigen_sim_reuses_state_dir_certificates(
    socket_enabled: None, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    mqtt_port = free_port()
    banner1, creds1 = _start(state_dir, free_port(), mqtt_port)
    ca1 = (state_dir / "ca.pem").read_text()
    banner2, creds2 = _start(state_dir, free_port(), mqtt_port)
    ca2 = (state_dir / "ca.pem").read_text()
    assert "certificates:   new in" in banner1
    assert "certificates:   reused from" in banner2
    assert ca1 == ca2
    assert ca1.startswith("-----BEGIN CERTIFICATE-----")
    assert creds1["mqtt"] == creds2["mqtt"]  # same port, same paths
    assert f"127.0.0.1:{mqtt_port}" in banner2

    banner3, _ = _start(state_dir, free_port(), mqtt_port, "--new-certs")
    assert "certificates:   new in" in banner3
    assert (state_dir / "ca.pem").read_text() != ca1
