"""``Sigen`` against the simulator over real loopback HTTP: every app-API method."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sigen.client import Sigen
from sigen.errors import SigenAPIError, SigenError, SigenValidationError
from sigen.models import EnergyFlow, OperationalMode, SmartLoad, StationInfo
from sigen_sim import Simulator

# Simulated time only moves with sim.advance(): answers are deterministic.
pytestmark = pytest.mark.sim_config(time_scale=0)

STATION_ID = "20240523012345"
SYSTEM_ID = "SIMSYS00000001"


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Sigen]:
    client = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await client.async_initialize()
    try:
        yield client
    finally:
        await client.close()


# --------------------------------------------------------------------------- set-up


async def test_initialize(api: Sigen) -> None:
    assert isinstance(api.station, StationInfo)
    assert api.station_id == STATION_ID
    # stationCode is the northbound system id; stationSnCode is a numeric serial.
    assert api.station.station_code == SYSTEM_ID
    assert api.station.system_id == SYSTEM_ID
    assert api.station.sn_code == "2025041600173"
    assert api.station.has_pv is True
    assert api.station.has_ac_charger is True
    assert api.station.ac_sn_list == ["SIMAC0000000001"]
    assert api.station.pv_capacity == 10.3
    assert api.station.name == "Sim Station 1"
    assert [m.label for m in api.operational_modes] == [
        "Sigen AI Mode",
        "Maximum Self-Powered",
        "TOU",
        "Fully Fed to Grid",
        "Remote EMS Mode",
        "Summer 50kWh",
        "Storm Ready",
    ]
    assert [load.name for load in api.home_smart_loads] == ["Immersion", "Pool pump"]
    # without a user id in the login answer, the account id is the home station's id
    assert api.account_id == STATION_ID


@pytest.mark.sim_config(time_scale=0, login_includes_user_id=True)
async def test_account_id_from_login(api: Sigen) -> None:
    assert api.account_id == "1000001"


async def test_account_id_before_initialize(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenError, match="only after async_initialize"):
            _ = api.account_id
        with pytest.raises(SigenError, match=r"call async_initialize\(\)"):
            await api.get_energy_flow()
        assert "demo@" not in repr(api)


def test_constructor_validation() -> None:
    with pytest.raises(
        SigenValidationError, match=r"Unknown Sigen region 'mars'.*eu, apac, aus, us, jp, cn"
    ):
        Sigen("a@b.c", "pw", "mars")
    with pytest.raises(SigenValidationError, match="e-mail address"):
        Sigen("", "pw")
    with pytest.raises(SigenValidationError, match="password is empty"):
        Sigen("a@b.c", "")
    with pytest.raises(SigenValidationError, match="request_timeout"):
        Sigen("a@b.c", "pw", request_timeout=0)
    with pytest.raises(SigenError, match="http:// or https://"):
        Sigen("a@b.c", "pw", base_url="ftp://x")


@pytest.mark.parametrize(
    ("region", "base", "nb", "client_server"),
    [
        ("eu", "https://api-eu.sigencloud.com/", "https://openapi-eu.sigencloud.com/", "eu"),
        ("EU", "https://api-eu.sigencloud.com/", "https://openapi-eu.sigencloud.com/", "eu"),
        (
            "apac",
            "https://api-apac.sigencloud.com/",
            "https://openapi-apac.sigencloud.com/",
            "apac",
        ),
        ("aus", "https://api-aus.sigencloud.com/", "https://openapi-aus.sigencloud.com/", "aus"),
        (" Aus ", "https://api-aus.sigencloud.com/", "https://openapi-aus.sigencloud.com/", "aus"),
        ("jp", "https://api-jp.sigencloud.com/", "https://openapi-jp.sigencloud.com/", "jp"),
        ("cn", "https://api-cn.sigencloud.com/", "https://openapi-cn.sigencloud.com/", "cn"),
        ("us", "https://api-us.sigencloud.com/", "https://openapi-us.sigencloud.com/", "us"),
    ],
)
def test_regions(region: str, base: str, nb: str, client_server: str) -> None:
    api = Sigen("a@b.c", "pw", region)
    assert api.base_url == base
    assert api.nb_base_url == nb
    assert api._transport.headers("x", None)["client-server"] == client_server
    assert (
        api._transport.headers("x", None)["Origin"]
        == base.replace("https://api-", "https://app-")[:-1]
    )


def test_base_url_overrides() -> None:
    api = Sigen("a@b.c", "pw", base_url="http://127.0.0.1:1")
    assert api.base_url == "http://127.0.0.1:1/"
    assert api.nb_base_url == "http://127.0.0.1:1/"
    api = Sigen("a@b.c", "pw", base_url="http://127.0.0.1:1/", nb_base_url="http://127.0.0.1:2")
    assert api.nb_base_url == "http://127.0.0.1:2/"


# --------------------------------------------------------------------------- the wire


async def test_login_request(api: Sigen, sim: Simulator) -> None:
    (login,) = sim.requests("/auth/oauth/token")
    assert login.method == "POST"
    assert login.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert login.headers["Authorization"].startswith("Basic ")
    form = dict(pair.split("=", 1) for pair in login.body.split("&"))
    assert form["grant_type"] == "password"
    assert form["scope"] == "server"
    assert form["userDeviceId"].isdigit()
    assert len(form["userDeviceId"]) == 13  # ms epoch
    assert "demo-password" not in login.body


async def test_headers_on_every_request(api: Sigen, sim: Simulator) -> None:
    await api.get_energy_flow()
    sessions = set()
    for request in sim.request_log:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert "aiohttp" not in headers["user-agent"].lower()
        assert headers["client-server"] == "eu"
        assert headers["lang"] == "en_US"
        assert headers["sg-platform"] == "web"
        assert headers["sg-pkg"] == "sigen_app"
        assert headers["sg-v"]
        assert headers["auth-client-id"] == "sigen"
        assert len(headers["sg-ts"]) == 16  # microseconds
        assert headers["sg-log-id"]
        sessions.add(headers["sg-session"])
        if request.path != "/auth/oauth/token":
            assert headers["authorization"].startswith("Bearer ")
    assert len(sessions) == 1


async def test_injected_session_user_agent_is_overridden(sim: Simulator) -> None:
    import aiohttp

    async with aiohttp.ClientSession(headers={"User-Agent": "Python aiohttp/3.13"}) as session:
        api = Sigen(sim.username, sim.password, base_url=sim.api_url, session=session)
        await api.async_initialize()
        await api.close()
        assert not session.closed  # a given session is never closed
    assert all("aiohttp" not in r.headers["User-Agent"] for r in sim.request_log)


# --------------------------------------------------------------------------- station data


async def test_station_info(api: Sigen, sim: Simulator) -> None:
    info = await api.get_station_info()
    assert info.station_id == STATION_ID
    assert info.raw["stationId"] == int(STATION_ID)
    assert (await api.fetch_station_info()) == info


async def test_energy_flow(api: Sigen, sim: Simulator) -> None:
    await sim.advance(6 * 3600)
    flow = await api.get_energy_flow()
    assert isinstance(flow, EnergyFlow)
    raw = flow.raw
    assert flow.station_sn == "2025041600173"  # numeric, not the system id
    assert flow.buy_sell_power == raw["buySellPower"]
    assert flow.grid_power == -raw["buySellPower"]
    assert flow.battery_power_raw == raw["batteryPower"]
    assert flow.battery_power == -raw["batteryPower"]
    assert flow.battery_soc == raw["batterySoc"]
    assert flow.pv_power is not None
    assert flow.grid_power is not None
    assert flow.battery_power is not None
    assert flow.load_power is not None
    # pv + grid (+ import) + battery (+ discharge) = load, in the library's signs
    assert flow.pv_power + flow.grid_power + flow.battery_power == pytest.approx(
        flow.load_power, abs=0.02
    )
    (request,) = sim.requests("energyflow")
    assert request.query == {"id": STATION_ID}


# --------------------------------------------------------------------------- modes


async def test_operational_modes(api: Sigen) -> None:
    modes = await api.get_operational_modes()
    by_label = {m.label: m for m in modes}
    assert by_label["Sigen AI Mode"] == OperationalMode(
        "Sigen AI Mode", 1, -1, False, "set_operational_mode_sigen_ai_mode"
    )
    assert by_label["Maximum Self-Powered"].value == 0
    assert by_label["TOU"].value == 2
    assert by_label["Fully Fed to Grid"].value == 5
    assert by_label["Remote EMS Mode"].value == 7
    summer = by_label["Summer 50kWh"]
    assert (summer.value, summer.profile_id, summer.is_profile) == (9, 3126, True)


async def test_set_and_get_mode(api: Sigen, sim: Simulator) -> None:
    station = sim.stations[0]
    assert await api.get_operational_mode() == "Maximum Self-Powered"
    await api.set_operational_mode(2)
    assert (station.mode, station.profile_id) == (2, -1)
    current = await api.get_current_mode()
    assert (current.mode, current.profile_id, current.label) == (2, -1, "TOU")
    assert await api.get_operational_mode() == "TOU"
    (put,) = sim.requests("/device/energy-profile/mode", "PUT")
    assert put.json() == {"stationId": int(STATION_ID), "operationMode": 2, "profileId": -1}

    await api.set_operational_mode(9, 3939)
    assert (station.mode, station.profile_id) == (9, 3939)
    assert await api.get_operational_mode() == "Storm Ready"

    await api.set_operational_mode(api.mode_by_label("fully fed to grid"))
    assert station.mode == 5


async def test_unknown_current_mode_label(api: Sigen, sim: Simulator) -> None:
    sim.stations[0].set_mode(8)  # North Bound: not among the app's modes
    current = await api.get_current_mode()
    assert current.label is None
    assert await api.get_operational_mode() == "Unknown mode 8"


async def test_set_mode_errors(api: Sigen, sim: Simulator) -> None:
    with pytest.raises(SigenAPIError, match=r"error code 1000.*unknown operationMode 42") as info:
        await api.set_operational_mode(42)
    assert info.value.code == 1000
    with pytest.raises(SigenAPIError, match="unknown profileId 1"):
        await api.set_operational_mode(9, 1)
    with pytest.raises(SigenValidationError, match="must be an integer, got '1'"):
        await api.set_operational_mode("1")  # type: ignore[arg-type]
    with pytest.raises(SigenValidationError, match="profile id must be an integer"):
        await api.set_operational_mode(9, None)  # type: ignore[arg-type]
    assert sim.stations[0].mode == 0


async def test_mode_by_label(api: Sigen) -> None:
    assert api.mode_by_label("TOU").value == 2
    assert api.mode_by_label("sigen ai mode").value == 1
    assert api.mode_by_label("sigen_ai_mode").value == 1
    assert api.mode_by_label("  SUMMER 50KWH ").profile_id == 3126
    with pytest.raises(SigenValidationError) as info:
        api.mode_by_label("Turbo")
    assert "Unknown operational mode 'Turbo'" in str(info.value)
    assert "'Sigen AI Mode'" in str(info.value)
    assert "'Storm Ready'" in str(info.value)


def test_mode_by_label_before_initialize() -> None:
    api = Sigen("a@b.c", "pw")
    with pytest.raises(SigenValidationError, match="no modes are known yet"):
        api.mode_by_label("TOU")
    with pytest.raises(SigenValidationError, match="no smart loads known yet"):
        api.smart_load_by_name("Immersion")


# --------------------------------------------------------------------------- smart loads


async def test_smart_loads(api: Sigen, sim: Simulator) -> None:
    loads = await api.get_smart_loads()
    assert loads == [
        SmartLoad("Immersion", 1, 0.0, False),
        SmartLoad("Pool pump", 2, 0.0, False),
    ]
    (request,) = sim.requests("systemDevice/card")[-1:]
    assert request.query == {"stationId": STATION_ID, "showNewGenerator": "true"}

    await api.set_smart_load_state(1, True)
    assert sim.stations[0].smart_load(1).on is True
    assert api.smart_load_by_name("immersion").on is True  # cache updated
    loads = await api.get_smart_loads()
    assert loads[0].on is True
    assert loads[0].power == pytest.approx(3.0)
    (patch,) = sim.requests("manual/switch", "PATCH")
    assert patch.query == {"stationId": STATION_ID, "loadPath": "1", "manualSwitch": "1"}

    await api.set_smart_load_state(load_path=1, state=0)
    assert sim.stations[0].smart_load(1).on is False
    await api.set_smart_load_state(api.smart_load_by_name("Pool pump"), 1)
    assert sim.stations[0].smart_load(2).on is True


async def test_smart_load_state_validation(api: Sigen, sim: Simulator) -> None:
    for bad in (2, "on", None, 1.0):
        with pytest.raises(SigenValidationError, match="True/False or 1/0"):
            await api.set_smart_load_state(1, bad)  # type: ignore[arg-type]
    with pytest.raises(SigenValidationError, match="must be an integer"):
        await api.set_smart_load_state("1", True)  # type: ignore[arg-type]
    with pytest.raises(SigenAPIError, match="unknown loadPath 99"):
        await api.set_smart_load_state(99, True)
    assert sim.count("manual/switch") == 1


async def test_smart_load_consumption(api: Sigen, sim: Simulator) -> None:
    await api.enable_smart_load_immersion()
    await sim.advance(2 * 3600)
    usage = await api.get_smart_load_consumption(1)
    load = sim.stations[0].smart_load(1)
    assert usage.today == pytest.approx(round(load.today_kwh, 2))
    assert usage.month == pytest.approx(round(load.month_kwh, 2))
    assert usage.lifetime == pytest.approx(round(load.lifetime_kwh, 2))
    assert usage.today is not None
    assert usage.today > 0
    assert usage.raw["todayConsumption"].endswith(" kWh")
    (lookup,) = sim.requests("/device/tp-device/smart-loads", "GET")
    assert lookup.query == {"stationId": STATION_ID, "loadPath": "1"}
    (consumption,) = sim.requests("real-time-consumption")
    assert consumption.query["smartLoadId"] == str(load.smart_load_id)
    # the smartLoadId is looked up once
    await api.get_smart_load_consumption(api.smart_load_by_name("Immersion"))
    assert sim.count("/device/tp-device/smart-loads", "GET") == 1


async def test_smart_load_by_name(api: Sigen) -> None:
    assert api.smart_load_by_name("POOL PUMP").path == 2
    assert api.smart_load_by_name("pool_pump").path == 2
    with pytest.raises(SigenValidationError) as info:
        api.smart_load_by_name("Sauna")
    assert (
        str(info.value) == "Unknown smart load 'Sauna'; known smart loads: 'Immersion', 'Pool pump'"
    )


# --------------------------------------------------------------------------- dynamic methods


EXPECTED_METHODS = {
    "set_operational_mode_sigen_ai_mode",
    "set_operational_mode_maximum_self_powered",
    "set_operational_mode_tou",
    "set_operational_mode_fully_fed_to_grid",
    "set_operational_mode_remote_ems_mode",
    "set_operational_mode_summer_50kwh",
    "set_operational_mode_storm_ready",
    "enable_smart_load_immersion",
    "disable_smart_load_immersion",
    "enable_smart_load_pool_pump",
    "disable_smart_load_pool_pump",
}


async def test_dynamic_methods_are_real_bound_methods(api: Sigen) -> None:
    assert set(api.dynamic_method_names) == EXPECTED_METHODS
    for name in EXPECTED_METHODS:
        assert name in dir(api)
        assert hasattr(api, name)
        method = getattr(api, name)
        assert inspect.ismethod(method)
        assert method.__self__ is api
        assert inspect.iscoroutinefunction(method)
        assert method.__name__ == name
        assert method.__doc__
    assert not hasattr(api, "set_operational_mode_turbo")
    assert not hasattr(Sigen, "set_operational_mode_tou")  # per instance, not per class


async def test_dynamic_methods_change_the_simulator(api: Sigen, sim: Simulator) -> None:
    station = sim.stations[0]
    await api.set_operational_mode_sigen_ai_mode()
    assert station.mode == 1
    await api.set_operational_mode_tou()
    assert station.mode == 2
    await api.set_operational_mode_summer_50kwh()
    assert (station.mode, station.profile_id) == (9, 3126)
    await api.set_operational_mode_maximum_self_powered()
    assert (station.mode, station.profile_id) == (0, -1)
    await api.enable_smart_load_pool_pump()
    assert station.smart_load(2).on is True
    await api.disable_smart_load_pool_pump()
    assert station.smart_load(2).on is False


async def test_missing_dynamic_method_explains(api: Sigen) -> None:
    with pytest.raises(AttributeError) as info:
        await api.set_operational_mode_turbo()
    assert "set_operational_mode_turbo" in str(info.value)
    assert "set_operational_mode_tou" in str(info.value)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = api.nothing_here


async def test_dynamic_methods_follow_refetches(api: Sigen, sim: Simulator) -> None:
    station = sim.stations[0]
    station.profiles.append(("Winter-Mode (cold)", 4326))
    station.smart_loads.pop()  # the pool pump was removed from the account
    await api.get_operational_modes()
    await api.get_smart_loads()
    assert hasattr(api, "set_operational_mode_winter_mode_cold")
    assert "set_operational_mode_winter_mode_cold" in dir(api)
    assert not hasattr(api, "enable_smart_load_pool_pump")
    assert "disable_smart_load_pool_pump" not in dir(api)
    await api.set_operational_mode_winter_mode_cold()
    assert (station.mode, station.profile_id) == (9, 4326)


async def test_colliding_names_get_a_suffix(api: Sigen, sim: Simulator) -> None:
    station = sim.stations[0]
    station.profiles.append(("TOU", 5000))  # same name as the default mode
    await api.get_operational_modes()
    assert hasattr(api, "set_operational_mode_tou")
    assert hasattr(api, "set_operational_mode_tou_5000")
    await api.set_operational_mode_tou_5000()
    assert (station.mode, station.profile_id) == (9, 5000)
    await api.set_operational_mode_tou()
    assert (station.mode, station.profile_id) == (2, -1)


# --------------------------------------------------------------------------- more stations


@pytest.mark.sim_config(time_scale=0, stations=2)
async def test_station_id_keyword(api: Sigen, sim: Simulator) -> None:
    other = sim.stations[1]
    flow = await api.get_energy_flow(station_id=other.station_id)
    assert flow.station_sn == other.sn_code == "2025041600174"
    modes = await api.get_operational_modes(str(other.station_id))
    assert len(modes) == 7
    await api.set_operational_mode_tou(station_id=other.station_id)
    assert other.mode == 2
    assert sim.stations[0].mode == 0
    await api.enable_smart_load_immersion(station_id=other.station_id)
    assert other.smart_load(1).on is True
    assert sim.stations[0].smart_load(1).on is False
    assert await api.get_operational_mode(other.station_id) == "TOU"
    # other stations' lists do not replace the home station's dynamic methods
    assert set(api.dynamic_method_names) == EXPECTED_METHODS
    with pytest.raises(SigenAPIError, match="code 1106: station not found"):
        await api.get_energy_flow(station_id=1)
    with pytest.raises(SigenValidationError, match="station id"):
        await api.get_energy_flow(station_id=True)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- README


async def test_readme_example_works_as_written(sim: Simulator) -> None:
    """The original library's README, with only base_url added for the simulator."""
    username, password = sim.username, sim.password
    printed: list[Any] = []
    print_ = printed.append

    sigen = Sigen(username=username, password=password, region="eu", base_url=sim.api_url)

    # Initialize the Sigen instance
    await sigen.async_initialize()

    # Read data
    print_(await sigen.fetch_station_info())
    print_(await sigen.get_energy_flow())
    print_(await sigen.get_operational_mode())

    # Set default modes
    print_(await sigen.set_operational_mode_sigen_ai_mode())
    assert sim.stations[0].mode == 1
    print_(await sigen.set_operational_mode_maximum_self_powered())
    assert sim.stations[0].mode == 0
    print_(await sigen.set_operational_mode_tou())
    assert sim.stations[0].mode == 2
    print_(await sigen.set_operational_mode_fully_fed_to_grid())
    assert sim.stations[0].mode == 5

    # Set custom modes (if available)
    print_(await sigen.set_operational_mode_summer_50kwh())
    assert sim.stations[0].profile_id == 3126

    # Smart loads
    print_(await sigen.get_smart_loads())
    print_(await sigen.enable_smart_load_immersion())
    assert sim.stations[0].smart_load(1).on is True
    print_(await sigen.disable_smart_load_immersion())
    assert sim.stations[0].smart_load(1).on is False
    print_(await sigen.get_smart_load_consumption(load_path=1))

    # The rewrite's README (Bankilo/sigen-api) calls
    modes = await sigen.get_operational_modes()
    assert modes
    await sigen.set_operational_mode(mode=1, profile_id=-1)
    assert sim.stations[0].mode == 1
    await sigen.set_smart_load_state(load_path=1, state=1)
    assert sim.stations[0].smart_load(1).on is True
    await sigen.set_smart_load_state(load_path=1, state=0)
    await sigen.close()

    assert isinstance(printed[0], StationInfo)
    assert printed[2] == "Maximum Self-Powered"


@pytest.mark.sim_config(time_scale=0, station_id_as_string=True)
async def test_station_id_sent_as_a_string(api: Sigen, sim: Simulator) -> None:
    assert api.station is not None
    assert api.station.raw["stationId"] == STATION_ID
    assert api.station_id == STATION_ID
    await api.set_operational_mode_tou()
    assert sim.stations[0].mode == 2
    await api.enable_smart_load_immersion()
    assert sim.stations[0].smart_load(1).on is True


async def test_stale_smart_load_id_is_looked_up_again(api: Sigen, sim: Simulator) -> None:
    await api.get_smart_load_consumption(1)
    load = sim.stations[0].smart_load(1)
    load.smart_load_id += 1000  # the load was re-created in the app
    usage = await api.get_smart_load_consumption(1)
    assert usage.today is not None
    assert sim.count("/device/tp-device/smart-loads", "GET") == 2
    assert [r.status for r in sim.requests("real-time-consumption")] == [200, 200, 200]
    (_, refused, _) = [r.query["smartLoadId"] for r in sim.requests("real-time-consumption")]
    assert refused == str(load.smart_load_id - 1000)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu", "https://app-eu.sigencloud.com/"),
        ("aus", "https://app-aus.sigencloud.com/"),
        ("cn", "https://app-cn.sigencloud.com/"),
    ],
)
async def test_web_app_url_follows_the_region(region: str, expected: str) -> None:
    """The web app of each region (a device's "Visit" link), and a custom server's root."""
    assert Sigen("a@b.c", "pw", region=region).web_app_url == expected
    custom = Sigen("a@b.c", "pw", region=region, base_url="http://127.0.0.1:8080/")
    assert custom.web_app_url == "http://127.0.0.1:8080/"
