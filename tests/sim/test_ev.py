"""The simulator's EV chargers (issue 20): topology, AC and DC shapes, the car, V2X, and
the station's balance with them; nothing changes without ``ev_chargers``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.ev_cloud import Cloud
from tests.sim.helpers import UA, app_login

START = datetime(2026, 6, 21, 12, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(time_scale=0, start_time=START, ev_chargers=("ac", "dc")),
]
AC, DC = "SIMAC0000000001", "SIMDC0000000001"


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


async def plug(cloud: Cloud, serial: str, **car: object) -> dict[str, object]:
    return await cloud.control("POST", f"stations/SIMSYS00000001/ev/{serial}/car", car)  # type: ignore[no-any-return]


@pytest.mark.sim_config(ev_chargers=())
async def test_without_chargers_nothing_changes(cloud: Cloud, sim: Simulator) -> None:
    home = await cloud.data("GET", "device/owner/station/home")
    assert (home["hasEv"], home["hasAcCharger"], home["acSnList"], home["dcSnList"]) == (
        False,
        True,
        [AC],
        [],
    )
    assert (await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid))[
        "evPower"
    ] == 0.0
    topology = await cloud.data("GET", "device/devicetreepanel/topology", stationId=cloud.sid)
    assert [n["deviceType"] for n in topology["nodeList"][0]["nodeList"]] == [2]
    assert await cloud.code("GET", "device/dcevse/status", stationId=cloud.sid, snCode=DC) == 1000


async def test_home_and_topology_list_the_chargers(cloud: Cloud) -> None:
    home = await cloud.data("GET", "device/owner/station/home")
    assert (home["hasEv"], home["acSnList"], home["dcSnList"]) == (True, [AC], [DC])
    topology = await cloud.data("GET", "device/devicetreepanel/topology", stationId=cloud.sid)
    nodes = topology["nodeList"][0]["nodeList"]
    assert [(n["deviceType"], n["snCode"]) for n in nodes][1:] == [(5, DC), (9, AC)]


async def test_ac_charger(cloud: Cloud, sim: Simulator) -> None:
    read = "device/acevse/charge/read/current"
    assert await cloud.data("GET", read, stationId=cloud.sid) == {
        "lastSetCurrent": 16.0,
        "maxCurrent": 32.0,
        "dlmStatus": 1,
    }
    assert await cloud.data("PUT", "device/acevse/charge/current", stationId=cloud.sid, current=10)
    assert (
        await cloud.code("PUT", "device/acevse/charge/current", stationId=cloud.sid, current=33)
        == 1000
    )
    body = {"stationId": cloud.sid, "dlmStatus": 0, "meterPhase": None}
    assert await cloud.data("POST", "device/acevse/more-setting", body)
    assert (await cloud.data("GET", read, stationId=cloud.sid))["dlmStatus"] == 0
    mode = await cloud.data("GET", "device/acevse/charge/mode", stationId=cloud.sid, snCode=AC)
    assert mode["chargeMode"] == 0
    state = await plug(cloud, AC, plugged=True, soc=50)
    assert state["chargers"][0]["powerKw"] == 6.9  # 10 A x 230 V x 3 phases
    flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    assert flow["evPower"] == 6.9
    balance = flow["pvPower"] - flow["batteryPower"] - flow["buySellPower"]
    assert balance == pytest.approx(flow["loadPower"] + flow["evPower"], abs=0.011)
    await sim.advance(3600)
    car = sim.stations[0].chargers.ac.car  # type: ignore[union-attr]
    assert car.soc == pytest.approx(50 + 6.9 / 60 * 100, abs=0.1)


async def test_dc_charger_shapes_and_start_stop(cloud: Cloud, sim: Simulator) -> None:
    q = {"stationId": cloud.sid, "snCode": DC}
    assert await cloud.data("GET", "device/dcevse/status", **q) == 1
    assert await cloud.data("GET", "device/dcevse/plug/status", **q) is False
    start = "device/dcevse/charge/start"
    assert await cloud.data("PUT", start, enable=0, **q) == {"successful": False, "errorCode": 3001}
    await plug(cloud, DC, plugged=True, soc=30)
    await sim.advance(600)
    realtime = await cloud.data("GET", "device/dcevse/charge/realtime", **q)
    assert (realtime["seccRunState"], realtime["pileOutputPower"]) == (3, 11.0)
    assert realtime["singleChargePower"] == pytest.approx(11 / 6, abs=0.01)
    assert await cloud.data("GET", "device/dcevse/status", **q) == 3
    assert await cloud.data("PUT", start, enable=1, **q) == {"successful": True}
    assert (await cloud.data("GET", "device/dcevse/charge/realtime", **q))["seccRunState"] == 1
    assert await cloud.code("PUT", start, enable=2, **q) == 1000
    settings = {
        "stationId": cloud.sid,
        "snCode": DC,
        "allowedChargePower": 7.5,
        "vehicleChargingCutoffSoc": 80,
    }
    assert await cloud.data("POST", "device/dcevse/charge/setting", settings)
    assert (await cloud.data("GET", "device/dcevse/charge/setting", **q))[
        "allowedChargePower"
    ] == 7.5
    too_much = {**settings, "allowedChargePower": 26}
    assert await cloud.code("POST", "device/dcevse/charge/setting", too_much) == 1000
    mode = {"stationId": cloud.sid, "snCode": DC, "chargeMode": 2}
    assert await cloud.data("POST", "device/charge/mode/dc", mode)
    assert (await cloud.data("GET", "device/charge/mode/dc", **q))["chargeMode"] == 2


@pytest.mark.sim_config(ev_dc_object_answers=True)
async def test_dc_object_answers(cloud: Cloud) -> None:
    q = {"stationId": cloud.sid, "snCode": DC}
    assert await cloud.data("GET", "device/dcevse/status", **q) == {
        "status": 1,
        "statusDesc": "Ready",
    }
    assert await cloud.data("GET", "device/dcevse/plug/status", **q) == {"pluggedIn": False}


async def test_v2x_session(cloud: Cloud, sim: Simulator) -> None:
    station = sim.stations[0]
    station.soc = 100.0  # full: the surplus goes to the grid
    await plug(cloud, DC, plugged=True, soc=80)
    q = {"stationId": cloud.sid, "snCode": DC}
    await cloud.data("PUT", "device/dcevse/charge/start", enable=1, **q)
    before = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    body = {"snCode": DC, "stationId": cloud.sid, "duration": 30, "powerCap": 5}
    assert await cloud.data("POST", "device/station-v2x/start/discharge", body)
    info = await cloud.data(
        "GET", "device/station-v2x/discharge/info", stationId=cloud.sid, dcSnCode=DC
    )
    assert (info["disChargePower"], info["delayCutout"]) == (-5.0, 1)
    assert info["evdcCutoutEnableTime"] == int(START) + 1800
    flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    assert flow["evPower"] == -5.0
    assert flow["buySellPower"] == pytest.approx(before["buySellPower"] + 5.0, abs=0.3)
    realtime = await cloud.data("GET", "device/dcevse/discharge/realtime", **q)
    assert (realtime["seccRunState"], realtime["pileOutputPower"]) == (8, 5.0)
    await sim.advance(1800)
    info = await cloud.data(
        "GET", "device/station-v2x/discharge/info", stationId=cloud.sid, dcSnCode=DC
    )
    assert (info["disChargePower"], info["delayCutout"]) == (0.0, 0)  # ended by itself
    totals = await cloud.data("GET", f"data-process/dcevse/total/{cloud.sid}/{DC}")
    assert totals["totalDischargeEnergy"] == pytest.approx(2.5, abs=0.05)
    assert station.chargers.dc.car.soc == pytest.approx(80 - 2.5 / 60 * 100, abs=0.1)  # type: ignore[union-attr]
    # stop, disable, refusals
    assert await cloud.data(
        "POST", "device/station-v2x/start/discharge", {**body, "powerCap": None}
    )
    assert await cloud.data(
        "POST", "device/station-v2x/stop/discharge", {"snCode": DC, "stationId": cloud.sid}
    )
    off = {"snCode": DC, "stationId": cloud.sid, "dischargeEnable": 0}
    assert await cloud.data("POST", "device/station-v2x/open-close", off)
    settings = await cloud.data("GET", "device/station-v2x/select", **q)
    assert (settings["dischargeEnable"], settings["hasUsed"]) == (0, True)
    assert await cloud.code("POST", "device/station-v2x/start/discharge", body) == 1000
    assert (
        await cloud.code("POST", "device/station-v2x/start/discharge", {**body, "snCode": AC})
        == 1000
    )
    await plug(cloud, DC, plugged=False)
    state = await cloud.control("GET", "stations/SIMSYS00000001/ev")
    assert state["chargers"][1]["car"]["plugged"] is False


async def test_refusals(cloud: Cloud) -> None:
    assert await cloud.code("GET", "device/dcevse/status", stationId=1, snCode=DC) == 1106
    assert await cloud.code("GET", "device/dcevse/status", stationId=cloud.sid, snCode=AC) == 1000
    status, _ = await cloud.call("GET", "device/dcevse/status", stationId=cloud.sid, snCode=DC)
    cloud.token = "bad"
    status, _ = await cloud.call("GET", "device/dcevse/status", stationId=cloud.sid, snCode=DC)
    assert status == 401
