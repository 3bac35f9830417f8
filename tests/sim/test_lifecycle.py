"""Starting and stopping: from Python, and ``python -m sigen_sim`` as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.__main__ import banner, parse_args
from sigen_sim.broker import free_port
from tests.sim.helpers import UA

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = Path(__file__).resolve().parents[2]


async def test_async_with_and_stop_twice() -> None:
    async with Simulator(SimConfig(stations=2)) as sim:
        assert sim.port > 0
        assert sim.api_url == f"http://127.0.0.1:{sim.port}/"
        assert sim.nb_url == sim.api_url
        async with (
            aiohttp.ClientSession(headers={"User-Agent": UA}) as session,
            session.get(sim.control_url + "state") as r,
        ):
            assert r.status == 200
        with pytest.raises(RuntimeError, match="already running"):
            await sim.start()
    await sim.stop()  # idempotent
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", sim.port)) != 0


async def test_start_failure_cleans_up() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        sim = Simulator(SimConfig(port=port))
        with pytest.raises(OSError):
            await sim.start()
    assert sim._runner is None


async def test_fixture_is_fresh_per_test(sim: Simulator) -> None:
    assert len(sim.request_log) == 0
    assert sim.stations[0].mode == 0


def test_cli_arguments() -> None:
    args = parse_args(
        ["--port", "1234", "--stations", "2", "--time-scale", "60", "--no-mqtt", "--state-dir", "x"]
    )
    assert (args.port, args.stations, args.time_scale, args.mqtt) == (1234, 2, 60.0, False)
    assert parse_args([]).mqtt is True
    sim = Simulator(SimConfig(stations=2))
    text = banner(sim)
    assert "demo@sigen.invalid" in text
    assert "SIMSYS00000002" in text


def test_python_m_sigen_sim_runs_and_stops(tmp_path: Path) -> None:
    port = free_port()
    state_dir = tmp_path / "state"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "sigen_sim",
            "--port",
            str(port),
            "--no-mqtt",
            "--stations",
            "2",
            "--time-scale",
            "60",
            "--state-dir",
            str(state_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in output
        assert "demo@sigen.invalid" in output
        assert "sim-app-key" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/state", timeout=10) as r:
            state = json.load(r)
        assert len(state["data"]["stations"]) == 2
        assert state["data"]["timeScale"] == 60.0
        creds_path = state_dir / "credentials.json"
        creds = json.loads(creds_path.read_text())
        assert creds["api_url"] == f"http://127.0.0.1:{port}/"
        assert creds["system_ids"] == ["SIMSYS00000001", "SIMSYS00000002"]
        assert creds["mqtt"] is None
        assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "Simulator stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_python_m_sigen_sim_sigint(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "sigen_sim", "--port", str(port), "--no-mqtt"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("Press Ctrl+C"):
                break
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def test_python_m_sigen_sim_rejects_bad_stations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sigen_sim", "--stations", "0", "--no-mqtt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--stations" in result.stderr


@pytest.mark.sim_config(stations=2, time_scale=0)
class TestMarkersMerge:
    @pytest.mark.sim_config(time_scale=5)
    async def test_closest_marker_wins_per_field(self, sim: Simulator) -> None:
        assert len(sim.stations) == 2
        assert sim.clock.time_scale == 5

    def test_sim_config_fixture(self, sim_config: SimConfig) -> None:
        assert sim_config.stations == 2
        assert sim_config.time_scale == 0


async def test_async_with_stops_on_error() -> None:
    ports: list[int] = []

    async def failing_body() -> None:
        async with Simulator() as sim:
            ports.append(sim.port)
            raise RuntimeError("test body failed")

    with pytest.raises(RuntimeError, match="test body failed"):
        await failing_body()
    port = ports[0]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


FAILING_TESTS = """
import socket
import pytest

SEEN = []

@pytest.mark.usefixtures("socket_enabled")
async def test_a_fails(sim):
    SEEN.append((sim, sim.port))
    raise AssertionError("deliberate failure")

@pytest.mark.usefixtures("socket_enabled")
def test_b_sim_was_stopped():
    sim, port = SEEN[0]
    assert sim._runner is None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
"""


def test_fixture_tears_down_after_a_failing_test(tmp_path: Path) -> None:
    (tmp_path / "test_failing.py").write_text(FAILING_TESTS)
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "sigen_sim.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "-q",
            str(tmp_path / "test_failing.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
