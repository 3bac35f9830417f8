"""The original library's README, as written (issue 14).

``../shared/original-library-readme.md`` is the README of the ``sigen-api`` library ours
replaces; users copy its calls. Its four Python blocks are kept here verbatim (the
reference file lives outside the repository; where it is present,
:func:`test_blocks_are_the_readme_verbatim` checks the copies against it) and each
runs against the simulator with only its URLs, hosts, ports and certificate paths
pointed there (:func:`~tests.lib.readme_runner.point_at`). What the README names —
accounts, app key, system ids, a smart load with path 123 called "Heat pump" — the
simulator is configured to have (``SimConfig``). The battery command's ``startTime``
1709283600 (2024-03-01 09:00 UTC) runs "as of its date": the simulator starts then and
the library's validation clock (``sigen.models.commands.wall_clock``) is pointed at the
simulator's. The README's tables (exceptions, ``NBMode``, ``TelemetryData``, topics,
regions) are checked too.

The README's passwords are the word "password", which the secrets guard of
``tests/conftest.py`` would find in every message that says "password"
(``allow_secrets_in_logs`` on those tests; the tokens and app secrets stay long and
distinct, and other tests guard them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

import sigen
from sigen import (
    EnergyFlow,
    NBMode,
    NorthboundClient,
    OperationalMode,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenMQTT,
    SigenTokenExpiredError,
    SmartLoad,
    TelemetryData,
    get_region,
)
from sigen.models import commands
from sigen_sim import SimConfig, Simulator

from .readme_runner import (
    RecordingPrint,
    point_at,
    python_blocks,
    recorded_clients,
    run_block,
    wait_until,
)

#: Where the reference lives next to the checkout (``/work/shared`` for ``/work/main``).
ORIGINAL_README = Path(__file__).resolve().parents[3] / "shared" / "original-library-readme.md"

SIGEN_BLOCK = """\
from sigen import Sigen

api = Sigen("user@example.com", "password", region="eu")
await api.async_initialize()

# Energy flow
flow = await api.get_energy_flow()

# Operational modes
mode = await api.get_operational_mode()    # current mode label
modes = await api.get_operational_modes()  # all available modes
await api.set_operational_mode(mode=1, profile_id=-1)

# Dynamic mode methods (created during init from available modes)
await api.set_operational_mode_tou()

# Smart loads
loads = await api.get_smart_loads()
await api.set_smart_load_state(load_path=123, state=1)  # on
await api.set_smart_load_state(load_path=123, state=0)  # off

# Dynamic smart load methods (created during init)
await api.enable_smart_load_heat_pump()
await api.disable_smart_load_heat_pump()

# Northbound via Sigen client
await api.init_northbound()
mode = await api.nb_query_mode()
await api.nb_switch_mode(mode=8)
"""

NORTHBOUND_BLOCK = """\
from sigen import NorthboundClient

# Key-based auth (used by VPP optimizer and collector)
nb = await NorthboundClient.from_app_key(
    base_url="https://api-eu.sigencloud.com/",
    app_key="your-app-key",
    app_secret="your-app-secret",
)

# Or user/password auth
nb = NorthboundClient("https://api-eu.sigencloud.com/", "user", "password")
await nb.login()

# System management
await nb.onboard(["system-id-1", "system-id-2"])
await nb.offboard(["system-id-1"])

# Mode control
result = await nb.query_mode("system-id")   # GET settings
await nb.switch_mode("system-id", mode=8)   # PUT settings
"""

MQTT_BLOCK = """\
from sigen import SigenMQTT, TelemetryData

mqtt = SigenMQTT(
    app_key="your-app-key",
    app_secret="your-app-secret",
    app_identifier="your-app-identifier",
    system_ids=["system-id-1", "system-id-2"],
    ca_cert_path="/path/to/ca.pem",
    # Optional:
    client_cert_path="/path/to/client.pem",  # for mTLS
    client_key_path="/path/to/client.key",
    broker="mqtt-eu.sigencloud.com",  # default
    port=8883,  # default (TLS)
    base_url="https://api-eu.sigencloud.com/",  # for token auth
)

# Listen for telemetry (blocks indefinitely, auto-reconnects)
async def on_telemetry(data: TelemetryData):
    print(f"PV={data.pv_power_kw}kW SOC={data.soc_percent}%")

await mqtt.listen(
    on_telemetry=on_telemetry,
    on_system=None,  # optional: system change events
    on_alarm=None,   # optional: alarm events
)
"""

COMMANDS_BLOCK = """\
commands = [
    {
        "systemId": "system-id",
        "startTime": 1709283600,  # unix timestamp
        "duration": 60,  # minutes
        "activeMode": "discharge",  # or "charge", "selfConsumption"
        "chargingPower": 5.0,  # kW
        "maxSellPower": 12.0,  # connection limit
        "dischargePriorityType": "BATTERY",
    },
]
await mqtt.send_battery_commands(commands)
"""

BLOCKS = (SIGEN_BLOCK, NORTHBOUND_BLOCK, MQTT_BLOCK, COMMANDS_BLOCK)

#: What the README names, as the simulator's account (SimConfig fields).
README_APP = {
    "app_key": "your-app-key",
    "app_secret": "your-app-secret",
    "app_identifier": "your-app-identifier",
}
README_SYSTEMS = {"stations": 3, "system_ids": ("system-id", "system-id-1", "system-id-2")}
#: 2024-03-01 09:00:00 UTC, the battery command's startTime.
COMMAND_DATE = 1709283600


# ------------------------------------------------------------------------- the text


@pytest.mark.skipif(
    not ORIGINAL_README.is_file(),
    reason="../shared/original-library-readme.md is not next to this checkout (the copies "
    "here are the contract)",
)
def test_blocks_are_the_readme_verbatim() -> None:
    """The copies above are the reference's Python blocks, all of them, in order."""
    assert python_blocks(ORIGINAL_README.read_text(encoding="utf-8")) == list(BLOCKS)


# ------------------------------------------------------------------------- Sigen


#: The Sigen block's account: its e-mail and password, a smart load with path 123 called
#: "Heat pump" (its dynamic methods are ``enable_smart_load_heat_pump`` and
#: ``disable_...``), the default modes (TOU among them).
SIGEN_ACCOUNT = {
    "time_scale": 0,
    "username": "user@example.com",
    "password": "password",
    "smart_loads": (("Immersion", 1, 3.0), ("Heat pump", 123, 2.0)),
}


@pytest.mark.allow_secrets_in_logs
@pytest.mark.parametrize(
    "station_code_in_home",
    [
        pytest.param(
            True,
            id="stationCode-in-home",
            marks=pytest.mark.sim_config(**SIGEN_ACCOUNT, station_code_in_home=True),
        ),
        pytest.param(
            False,
            id="home-without-stationCode",
            marks=pytest.mark.sim_config(**SIGEN_ACCOUNT, station_code_in_home=False),
        ),
    ],
)
async def test_sigen_block(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, station_code_in_home: bool
) -> None:
    """The ``Sigen`` block, as written: ``Sigen(..., region="eu")`` gets the simulator's
    ``base_url``; ``init_northbound()`` then ``nb_query_mode()``/``nb_switch_mode(mode=8)``
    find the system id themselves, also when the home data has no stationCode (the
    stationSnCode is numeric and is not the system id in both)."""
    assert sim.config.station_code_in_home is station_code_in_home
    async with recorded_clients(monkeypatch):
        source = point_at(SIGEN_BLOCK, {'region="eu")': f'region="eu", base_url="{sim.api_url}")'})
        namespace: dict[str, Any] = {}
        await run_block(source, namespace)
        station = sim.stations[0]

        assert isinstance(namespace["flow"], EnergyFlow)
        assert namespace["flow"].pv_power == station.sample().pv
        assert "TOU" in [m.label for m in namespace["modes"]]
        assert all(isinstance(m, OperationalMode) for m in namespace["modes"])
        (heat_pump,) = [load for load in namespace["loads"] if load.path == 123]
        assert isinstance(heat_pump, SmartLoad)
        assert heat_pump.name == "Heat pump"
        # set_operational_mode(mode=1), then the TOU mode
        modes = [r.json()["operationMode"] for r in sim.requests("/energy-profile/mode", "PUT")]
        assert modes == [1, 2]
        # on, off, on, off: path 123 each time
        switches = sim.requests("control-mode/manual/switch", "PATCH")
        assert [(r.query["loadPath"], r.query["manualSwitch"]) for r in switches] == [
            ("123", "1"),
            ("123", "0"),
            ("123", "1"),
            ("123", "0"),
        ]
        assert station.smart_load(123).on is False
        # nb_query_mode() read the TOU mode (2), nb_switch_mode(mode=8) set NBI
        assert namespace["mode"] == 2
        assert station.mode == NBMode.NBI
        assert station.sn_code.isdigit()
        assert station.sn_code != station.system_id
        (put,) = sim.requests("/openapi/instruction/settings", "PUT")
        assert put.json() == {"systemId": station.system_id, "energyStorageOperationMode": 8}
        assert sim.count(f"/openapi/instruction/{station.system_id}/settings", "GET") == 1
        assert not any(station.sn_code in r.path for r in sim.requests("/openapi/"))


# ------------------------------------------------------------------------- NorthboundClient


@pytest.mark.allow_secrets_in_logs
@pytest.mark.sim_config(
    time_scale=0,
    username="user",
    password="password",
    auto_approve=True,
    **README_APP,
    **README_SYSTEMS,
)
async def test_northbound_block(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``NorthboundClient`` block, as written, with both logins (the first client,
    by app key, is dropped by the example and closed here)."""
    async with recorded_clients(monkeypatch) as made:
        source = point_at(NORTHBOUND_BLOCK, {"https://api-eu.sigencloud.com/": sim.nb_url})
        namespace: dict[str, Any] = {}
        await run_block(source, namespace)
        by_key, by_account = made
        assert isinstance(by_key, NorthboundClient)
        assert isinstance(by_account, NorthboundClient)
        assert namespace["nb"] is by_account
        # from_app_key(): no username or password, the key and secret kept for renewal
        assert by_key.username is None
        assert by_key.password is None
        assert (by_key._app_key, by_key._app_secret) == ("your-app-key", "your-app-secret")
        assert by_account.username == "user"
        assert not by_account.uses_app_key

    assert [r.json() for r in sim.requests("/openapi/board/onboard")] == [
        ["system-id-1", "system-id-2"]
    ]
    assert [r.json() for r in sim.requests("/openapi/board/offboard")] == [["system-id-1"]]
    assert not sim.onboarded("system-id-1")
    assert sim.onboarded("system-id-2")
    assert namespace["result"] == NBMode.MSC
    target = sim.station_by_system_id("system-id")
    assert target is not None
    assert target.mode == NBMode.NBI
    assert sim.requests("/openapi/auth/login/key")[0].status == 200
    assert [r.status for r in sim.requests("/openapi/auth/login/password")] == [200]


# ------------------------------------------------------------------------- SigenMQTT


@pytest.mark.sim_config(
    time_scale=0, start_time=COMMAND_DATE, auto_approve=True, **README_APP, **README_SYSTEMS
)
async def test_mqtt_and_battery_command_blocks(
    sim_mtls: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``SigenMQTT`` block (mutual TLS, as its optional arguments show) listens until
    a telemetry message is printed; the battery command block then sends, with the
    listener's ``mqtt``, its plain dict for "system-id" (a system the owner approved
    for the app key, which this listener does not subscribe to) on 2024-03-01 09:00."""
    sim = sim_mtls
    certs = sim.certs
    sim.onboard("system-id")  # approved earlier for this app key (auto_approve)
    # "As of its date": the simulator's clock starts at COMMAND_DATE and stands still;
    # the library's command validation reads the same clock (its documented seam).
    monkeypatch.setattr(commands, "wall_clock", sim.clock.now)
    places = {
        "/path/to/ca.pem": str(certs.ca_path),
        "/path/to/client.pem": str(certs.client_cert_path),
        "/path/to/client.key": str(certs.client_key_path),
        '"mqtt-eu.sigencloud.com"': f'"{sim.mqtt_host}"',
        "port=8883": f"port={sim.mqtt_port}",
        "https://api-eu.sigencloud.com/": sim.nb_url,
    }
    printed = RecordingPrint()
    namespace: dict[str, Any] = {"print": printed}
    listening = asyncio.create_task(run_block(point_at(MQTT_BLOCK, places), namespace))
    try:
        await wait_until(lambda: printed.lines or listening.done(), "a telemetry message")
        assert not listening.done(), listening.exception()  # it blocks indefinitely
        assert re.fullmatch(r"PV=\d+\.\d+kW SOC=\d+\.\d+%", printed.lines[0])
        mqtt = namespace["mqtt"]
        assert isinstance(mqtt, SigenMQTT)
        assert mqtt.connected

        await run_block(point_at(COMMANDS_BLOCK, {}), namespace)
        station = sim.station_by_system_id("system-id")
        assert station is not None
        await wait_until(lambda: station.applied_commands, "the command to reach the battery")
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        if "mqtt" in namespace:
            await namespace["mqtt"].close()

    assert station.applied_commands == namespace["commands"]
    command = station.active_command(sim.clock.now())
    assert command is not None
    assert command.active_mode == "discharge"
    assert station.sample().battery < 0  # discharging (the cloud's sign: + = charging)
    # Auto-onboarded on connect; the topics of the README's table
    assert sim.onboarded("system-id-1")
    assert sim.onboarded("system-id-2")
    topics = {topic for topic, _ in sim.mqtt_received}
    assert {
        "openapi/subscription/period",
        "openapi/subscription/change",
        "openapi/subscription/alarm",
        "openapi/instruction/command",
    } <= topics
    assert sim.mqtt is not None
    published = {topic for topic, _ in sim.mqtt.published}
    assert "openapi/period/your-app-key/system-id-1" in published


async def test_command_block_is_refused_as_of_today() -> None:
    """The validation stays: without the dated clock, 2024-03-01 is far in the past and
    nothing is sent (no connection is even tried)."""
    mqtt = SigenMQTT("your-app-key", "your-app-secret", "your-app-identifier", ["system-id"])
    try:
        with pytest.raises(sigen.SigenValidationError, match=r"commands\[0\]: .* in the past"):
            await run_block(COMMANDS_BLOCK, {"mqtt": mqtt})
    finally:
        await mqtt.close()


# ------------------------------------------------------------------------- the tables


def test_exception_tree() -> None:
    """``SigenError`` → ``SigenAuthError`` → ``SigenTokenExpiredError``; ``SigenAPIError``
    with ``status_code`` and ``response_body``."""
    assert issubclass(SigenError, Exception)
    assert SigenAuthError.__bases__ == (SigenError,)
    assert SigenTokenExpiredError.__bases__ == (SigenAuthError,)
    assert SigenAPIError.__bases__ == (SigenError,)
    err = SigenAPIError("failed", status_code=500, response_body='{"code": 500}')
    assert (err.status_code, err.response_body) == (500, '{"code": 500}')
    for name in ("SigenError", "SigenAuthError", "SigenTokenExpiredError", "SigenAPIError"):
        assert name in sigen.__all__


def test_nbmode_table() -> None:
    assert {mode.name: mode.value for mode in NBMode} == {"MSC": 0, "FFG": 5, "VPP": 6, "NBI": 8}


def test_telemetry_data_fields_and_sign_inversion() -> None:
    """``TelemetryData.from_mqtt_payload()``: kW, battery + = discharging (Sigen sends
    + = charging), grid + = importing, the table's types."""
    values = {
        "pvPowerW": "4200.0",
        "storageChargeDischargePowerW": "1500.0",  # Sigen: charging
        "gridActivePowerW": "-800.0",  # exporting
        "storageSOC%": "63.5",
    }
    payload = json.dumps(
        [
            {
                "deviceType": "system",
                "systemId": "system-id",
                "statisticsTime": 1709283600,
                "value": values,
            }
        ]
    )
    (data,) = TelemetryData.from_mqtt_payload(payload)
    assert data.pv_power_kw == 4.2
    assert data.battery_power_kw == -1.5
    assert data.grid_power_kw == -0.8
    assert data.load_power_kw == pytest.approx(1.9)
    assert data.soc_percent == 63.5
    assert data.system_id == "system-id"
    assert isinstance(data.timestamp, str)
    assert data.raw == values
    discharging = dataclasses.replace(data, battery_power=1.5)
    assert discharging.battery_power_kw == 1.5


def test_regions_table() -> None:
    for key in ("eu", "cn", "apac", "us"):
        assert get_region(key).app_base_url == f"https://api-{key}.sigencloud.com/"


# ------------------------------------------------------------------------- the simulator's options


@pytest.mark.parametrize(
    ("stations", "system_ids", "message"),
    [
        (1, ("system-id-1", "system-id-2"), "2 system ids for 1 station"),
        (2, ("system-id", "system-id"), "distinct"),
        (1, ("",), "cannot be a system id"),
        (1, ("system/id",), "cannot be a system id"),
    ],
)
def test_system_ids_option_is_checked(
    stations: int, system_ids: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Simulator(SimConfig(stations=stations, system_ids=system_ids))


def test_stations_without_a_given_system_id_keep_the_default_form() -> None:
    sim = Simulator(SimConfig(stations=2, system_ids=("system-id",)))
    assert [s.system_id for s in sim.stations] == ["system-id", "SIMSYS00000002"]
    assert sim.add_station().system_id == "SIMSYS00000003"
    assert [s.name for s in sim.stations[0].smart_loads] == ["Immersion", "Pool pump"]


@pytest.mark.parametrize(
    "smart_loads",
    [
        (("", 1, 1.0),),
        (("Heat pump", 0, 1.0),),
        (("Heat pump", True, 1.0),),
        (("Heat pump", 123, -1.0),),
        (("Heat pump", 123, 1.0), ("Sauna", 123, 6.0)),
    ],
)
def test_smart_loads_option_is_checked(smart_loads: tuple[tuple[str, int, float], ...]) -> None:
    with pytest.raises(ValueError, match="smart load"):
        Simulator(SimConfig(smart_loads=smart_loads))
