"""Smoke test: the sim fixture serves login, station/home and energyflow."""

from __future__ import annotations

import aiohttp

from sigen_sim import Simulator
from tests.sim.helpers import UA, app_login


async def test_login_home_energyflow(sim: Simulator) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        token = await app_login(session, sim)
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(sim.api_url + "device/owner/station/home", headers=headers) as r:
            home = await r.json()
        assert home["code"] == 0
        station_id = home["data"]["stationId"]
        assert isinstance(station_id, int)
        assert home["data"]["stationCode"] == sim.stations[0].system_id
        async with session.get(
            sim.api_url + "device/sigen/station/energyflow",
            params={"id": str(station_id)},
            headers=headers,
        ) as r:
            flow = await r.json()
        data = flow["data"]
        assert flow["code"] == 0
        assert (
            abs(data["pvPower"] - data["batteryPower"] - data["buySellPower"] - data["loadPower"])
            < 1e-6
        )
