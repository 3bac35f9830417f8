"""Simulator variants of issue 14: ``stationCode`` vs the numeric ``stationSnCode``, home
data without ``stationCode``, and an offline station (fixtures and control API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import UA, app_login

pytestmark = pytest.mark.usefixtures("socket_enabled")

POWERS = (
    "acPower",
    "batteryPower",
    "buySellPower",
    "evPower",
    "generatorPower",
    "heatPumpPower",
    "loadPower",
    "pvPower",
    "thirdPvPower",
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


async def _get(
    session: aiohttp.ClientSession, sim: Simulator, path: str, token: str, **params: str
) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(sim.api_url + path, params=params, headers=headers) as r:
        return (await r.json())["data"]


async def _ctl(session: aiohttp.ClientSession, sim: Simulator, path: str, body: Any) -> Any:
    async with session.post(sim.control_url + path, json=body) as r:
        return r.status, await r.json()


@pytest.mark.sim_config(stations=2)
async def test_ids_of_every_station(sim: Simulator, session: aiohttp.ClientSession) -> None:
    ids = {(s.station_id, s.system_id, s.sn_code) for s in sim.stations}
    assert len({i for t in ids for i in t}) == 6  # all different
    for station in sim.stations:
        assert station.sn_code.isdigit()
        assert station.system_id.startswith("SIMSYS")
    token = await app_login(session, sim)
    home = await _get(session, sim, "device/owner/station/home", token)
    assert home["stationCode"] == sim.stations[0].system_id
    assert home["stationSnCode"] == sim.stations[0].sn_code
    flow = await _get(
        session, sim, "device/sigen/station/energyflow", token, id=str(sim.stations[1].station_id)
    )
    assert flow["stationSnCode"] == sim.stations[1].sn_code


@pytest.mark.sim_config(station_code_in_home=False)
async def test_home_without_station_code(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    home = await _get(session, sim, "device/owner/station/home", token)
    assert "stationCode" not in home
    assert home["stationSnCode"] == sim.stations[0].sn_code
    added = sim.add_station()
    assert added.station_code_in_home is False


@pytest.mark.sim_config(stations=2, offline_stations=(1,))
async def test_offline_station(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    online, offline = sim.stations
    assert not online.offline
    assert offline.offline
    flow = await _get(
        session, sim, "device/sigen/station/energyflow", token, id=str(offline.station_id)
    )
    assert flow["stationStatus"] == 4
    assert all(flow[key] is None for key in POWERS)
    assert flow["batterySoc"] is None
    assert flow["greenSourceInfos"] == []
    assert flow["stationSnCode"] == offline.sn_code
    flow = await _get(
        session, sim, "device/sigen/station/energyflow", token, id=str(online.station_id)
    )
    assert flow["stationStatus"] == 1
    assert all(isinstance(flow[key], float) for key in POWERS)


async def test_offline_through_the_control_api(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await app_login(session, sim)
    system_id = sim.stations[0].system_id
    status, res = await _ctl(session, sim, f"stations/{system_id}/offline", {"offline": True})
    assert status == 200
    assert res["data"]["offline"] is True
    flow = await _get(session, sim, "device/sigen/station/energyflow", token, id="20240523012345")
    assert flow["stationStatus"] == 4
    assert flow["pvPower"] is None
    status, res = await _ctl(session, sim, f"stations/{system_id}/offline", {"offline": False})
    assert res["data"]["offline"] is False
    flow = await _get(session, sim, "device/sigen/station/energyflow", token, id="20240523012345")
    assert flow["stationStatus"] == 1
    # bad input
    status, res = await _ctl(session, sim, f"stations/{system_id}/offline", {"offline": "yes"})
    assert status == 400
    assert "true or false" in res["error"]
    status, _ = await _ctl(session, sim, "stations/NOPE/offline", {"offline": True})
    assert status == 404
    async with session.post(sim.control_url + f"stations/{system_id}/offline", data=b"[1]") as r:
        assert r.status == 400
