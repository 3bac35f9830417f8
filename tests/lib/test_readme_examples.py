"""Our README's Python examples run as written (issue 14).

Every fenced ```python block of ``README.md`` is read from the file itself and run
against the simulator with only its URLs, hosts, ports, certificate paths and one sleep
replaced (:func:`~tests.lib.readme_runner.point_at` fails when a replaced text is gone,
so an edit of the README breaks this test instead of passing unnoticed). The examples
that end in ``asyncio.run(main())`` run in a thread of their own (with their own event
loop, as from a shell) while the simulator serves from the test's loop. What an example
names — ``your_username``, ``your_app_key``, ``SYSTEM_ID`` — the simulator has
(``SimConfig``).
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sigen import Sigen
from sigen_sim import Simulator

from .readme_runner import RecordingPrint, point_at, python_blocks, run_block, wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
WAIT = 60.0  # bound of a wait (no timing is asserted)


def blocks() -> list[str]:
    """The README's Python blocks: imports, app API, settings, EV/forecast/prices,
    developer API + MQTT, simulator."""
    found = python_blocks(README.read_text(encoding="utf-8"))
    assert len(found) == 7, "a Python block was added to or removed from README.md"
    return found


async def run_in_thread(source: str, namespace: dict[str, Any]) -> None:
    """Run an example that calls ``asyncio.run`` itself, in a thread with its own loop."""
    code = compile(source, "<README.md>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    await asyncio.to_thread(exec, code, namespace)


def test_blocks_are_the_ones_tested() -> None:
    imports, app_api, settings, ev, developer, session, simulator = blocks()
    assert "restore_tokens(" in session
    assert "sigen.ev." in ev
    assert imports.startswith("from sigen import ")
    assert "Sigen(username=" in app_api
    assert "sigen.battery." in settings
    assert "NorthboundClient.from_app_key(" in developer
    assert "SigenMQTT(" in developer
    assert "Simulator(SimConfig(" in simulator


async def test_import_line() -> None:
    namespace: dict[str, Any] = {}
    await run_block(blocks()[0], namespace)
    assert {"Sigen", "NorthboundClient", "SigenMQTT", "TelemetryData", "NBMode"} <= set(namespace)


@pytest.mark.sim_config(time_scale=0, username="your_username", password="your_password")
async def test_app_api_example(sim: Simulator) -> None:
    """The original library's example, as our README shows it (and
    ``test_client.py::test_readme_example_works_as_written`` transcribes it)."""
    source = point_at(blocks()[1], {'region="eu")': f'region="eu", base_url="{sim.api_url}")'})
    printed = RecordingPrint()
    await run_in_thread(source, {"print": printed, "__name__": "__main__"})

    station = sim.stations[0]
    assert printed.lines[0].startswith("StationInfo(")
    assert printed.lines[2] == "Maximum Self-Powered"
    modes = [r.json()["operationMode"] for r in sim.requests("/energy-profile/mode", "PUT")]
    assert modes == [1, 0, 2, 5, 9]  # AI, MSC, TOU, FFG, the "Summer 50kWh" profile
    assert station.profile_id == 3126
    switches = sim.requests("control-mode/manual/switch", "PATCH")
    assert [r.query["manualSwitch"] for r in switches] == ["1", "0"]
    assert not station.smart_load(1).on
    assert "SmartLoadConsumption(" in printed.lines[-1]


@pytest.mark.sim_config(time_scale=0, username="your_username", password="your_password")
async def test_settings_example(sim: Simulator) -> None:
    """The battery, grid and manual-control example (issue 17) changes the simulator."""
    source = point_at(blocks()[2], {'region="eu")': f'region="eu", base_url="{sim.api_url}")'})
    printed = RecordingPrint()
    await run_in_thread(source, {"print": printed, "__name__": "__main__"})

    station = sim.stations[0]
    assert printed.lines[0].startswith("SocLevels(")
    assert (station.discharge_cutoff_soc, station.backup_cutoff_soc) == (10, 20)
    assert station.settings.max_charge_kw == 5.0
    assert printed.lines[1].startswith("GridLimit(")
    assert station.settings.export_limit.owner_kw == 4.0
    assert printed.lines[2].startswith("ManualControl(active=True, mode='charge'")
    assert sim.count("instant/manunal", "PUT") == 2
    assert not station.manual_control_active()  # stopped
    assert "from 1 to 100 %, got 101" in printed.lines[3]
    assert sim.count("battery/level", "PUT") == 1  # the refused value was never sent


@pytest.mark.sim_config(
    time_scale=0, username="your_username", password="your_password", ev_chargers=("ac", "dc")
)
async def test_ev_forecast_prices_example(sim: Simulator) -> None:
    """The EV, forecast and prices example (issue 20) changes the simulator."""
    station = sim.stations[0]
    station.chargers.plug("SIMDC0000000001", True, sim.clock.now())  # a car for V2X
    source = point_at(blocks()[3], {'region="eu")': f'region="eu", base_url="{sim.api_url}")'})
    printed = RecordingPrint()
    await run_in_thread(source, {"print": printed, "__name__": "__main__"})

    assert printed.lines[:2] == ["dc SIMDC0000000001", printed.lines[1]]
    assert printed.lines[1].startswith("DcChargerState(")
    assert printed.lines[2] == "ac SIMAC0000000001"
    assert sim.count("start/discharge", "POST") == 1
    assert sim.count("stop/discharge", "POST") == 1
    assert station.chargers.ac is not None
    assert station.chargers.ac.current == 16.0
    assert station.pricing.buy[2:10] == [12.0] * 8
    assert len(station.pricing.spike_loads) == 1
    assert printed.lines[-1].startswith("[SpikeLoad(")


@pytest.mark.sim_config(
    app_key="your_app_key",
    app_secret="your_app_secret",
    app_identifier="your_app_identifier",
    system_ids=("SYSTEM_ID",),
    auto_approve=True,
)
async def test_developer_api_and_mqtt_example(sim_mtls: Simulator) -> None:
    """The developer API and MQTT push example over mutual TLS. ``SigenMQTT`` logs in at
    the region's northbound host by default: the simulator's URL is given as
    ``base_url``; ``asyncio.sleep(600)`` ends once the listener printed a message."""
    sim = sim_mtls
    certs = sim.certs
    printed = RecordingPrint()

    async def until_printed(seconds: float) -> None:
        """``asyncio.sleep(seconds)``, cut short by the listener's first line (the
        listener task has not run yet when the sleep starts)."""
        printed.printed.clear()
        await asyncio.to_thread(printed.printed.wait, seconds)

    source = point_at(
        blocks()[4],
        {
            'base_url="https://openapi-eu.sigencloud.com/"': f'base_url="{sim.nb_url}"',
            '"ca.pem"': f'"{certs.ca_path}"',
            '"client.pem"': f'"{certs.client_cert_path}"',
            '"client.key"': f'"{certs.client_key_path}"',
            '"mqtt-eu.sigencloud.com"': f'"{sim.mqtt_host}"',
            "port=8883,": f'port={sim.mqtt_port},\n        base_url="{sim.nb_url}",',
            "await asyncio.sleep(600)": f"await until_printed({WAIT:g})",
        },
    )
    namespace = {"print": printed, "until_printed": until_printed, "__name__": "__main__"}
    async with asyncio.timeout(WAIT):
        await run_in_thread(source, namespace)

    station = sim.stations[0]
    assert station.system_id == "SYSTEM_ID"
    # get_systems/get_energy_flow, then query_mode("SYSTEM_ID") == NBMode.MSC
    assert printed.lines[0].startswith("SYSTEM_ID NBEnergyFlow(")
    assert printed.lines[1] == "True"
    assert re.fullmatch(r"SYSTEM_ID \d+\.\d+ \d+\.\d+", printed.lines[2])
    assert sim.onboarded("SYSTEM_ID")
    # acknowledged by the broker when send_battery_commands returned; the cloud's side
    # applies it a moment later
    await wait_until(lambda: station.applied_commands, "the command to reach the battery")
    (command,) = station.applied_commands
    assert command["systemId"] == "SYSTEM_ID"
    assert command["activeMode"] == "charge"
    assert command["chargingPower"] == 3.0
    assert command["duration"] == 60


@pytest.mark.sim_config(time_scale=0, username="your_username", password="your_password")
async def test_session_example(sim: Simulator, tmp_path: Path) -> None:
    """The kept session (issue 21): the second run of the example does not log in."""
    state = tmp_path / "sigen-session.json"
    source = point_at(
        blocks()[5],
        {
            'region="eu")': f'region="eu", base_url="{sim.api_url}")',
            'Path("sigen-session.json")': f"Path({str(state)!r})",
        },
    )
    for _ in range(2):
        printed = RecordingPrint()
        await run_in_thread(source, {"print": printed, "__name__": "__main__"})
        assert printed.lines[0].startswith("StationInfo(")
    assert len(sim.requests("auth/oauth/token", "POST")) == 1
    assert json.loads(state.read_text())["access"]


async def test_simulator_snippet(socket_enabled: None) -> None:
    """The simulator snippet (with the import line before it, which gives it ``Sigen``)."""
    imports, _, _, _, _, _, snippet = blocks()
    namespace: dict[str, Any] = {}
    await run_block(imports + snippet, namespace)
    sim, sigen = namespace["sim"], namespace["sigen"]
    assert isinstance(sim, Simulator)
    assert sim.mqtt is None  # stopped when the block left it, broker included
    assert isinstance(sigen, Sigen)
    assert sigen.base_url == sim.api_url
    assert sigen.username == sim.username
