"""The simulator's AI forecast (issue 20): its shape, hourly remaking, determinism, and a
station that then follows it within the configured noise (at the points' times: between
them the load's own minute-to-minute noise is not forecast)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.ev_cloud import Cloud
from tests.sim.helpers import UA, app_login

START = datetime(2026, 6, 21, 9, 20, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(time_scale=0, start_time=START, stations=2),
]
PATH = "prediction/predictData/get/predictData"


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


async def test_shape(cloud: Cloud) -> None:
    data = await cloud.data("GET", f"{PATH}/{cloud.sid}")
    assert data["nowTime"] == "2026-06-21 09:00"
    assert [len(data[key]) for key in ("pvList", "loadList", "socList")] == [96, 96, 96]
    first, second = data["pvList"][:2]
    assert first["time"] == "2026-06-21 09:00"
    assert second["time"] == "2026-06-21 09:15"
    assert second["timestamp"] - first["timestamp"] == 900
    local = datetime.fromtimestamp(first["timestamp"], ZoneInfo("Europe/Dublin"))
    assert local.strftime("%Y-%m-%d %H:%M") == first["time"]  # the two agree here
    assert data["socList"][0]["value"] == 50.0
    assert all(0 <= point["value"] <= 100 for point in data["socList"])


async def test_deterministic_and_remade_hourly(cloud: Cloud, sim: Simulator) -> None:
    first = await cloud.data("GET", f"{PATH}/{cloud.sid}")
    assert await cloud.data("GET", f"{PATH}/{cloud.sid}") == first
    other = await cloud.data("GET", f"{PATH}/{sim.stations[1].station_id}")
    assert other["pvList"] != first["pvList"]  # another station, other clouds
    await sim.advance(3600)
    later = await cloud.data("GET", f"{PATH}/{cloud.sid}")
    assert later["nowTime"] == "2026-06-21 10:00"
    assert later["pvList"][0] == first["pvList"][4]  # the same point, the same forecast


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.3])
async def test_the_station_follows_within_the_noise(
    noise: float, sim: Simulator, cloud: Cloud
) -> None:
    sim.config.forecast_noise = noise
    data = await cloud.data("GET", f"{PATH}/{cloud.sid}")
    pv = {point["timestamp"]: point["value"] for point in data["pvList"]}
    load = {point["timestamp"]: point["value"] for point in data["loadList"]}
    await sim.advance(600)  # 09:30: on a point's time the curves are the forecast's own
    for _ in range(12):
        await sim.advance(900)
        at = sim.clock.now()
        flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
        # the forecast is the actual value off by at most the noise (plus rounding)
        assert pv[at] == pytest.approx(flow["pvPower"], rel=noise, abs=0.011)
        assert load[at] == pytest.approx(flow["loadPower"], rel=noise, abs=0.011)


async def test_refusals(cloud: Cloud) -> None:
    assert await cloud.code("GET", f"{PATH}/1") == 1106
    cloud.token = "bad"
    status, _ = await cloud.call("GET", f"{PATH}/{cloud.sid}")
    assert status == 401
