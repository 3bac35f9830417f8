"""The simulator's tariff, price summary and spike loads (issue 20): the save's checks, the
read-back, TOU charging in the cheapest slots, and spike-load hints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.ev_cloud import Cloud
from tests.sim.helpers import UA, app_login

START = datetime(2026, 6, 21, 2, 0, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(time_scale=0, start_time=START),
]
SAVE = "device/stationelecsetprice/save"


def labels(last: str = "24:00") -> list[str]:
    ends = [f"{(m + 30) // 60:02d}:{(m + 30) % 60:02d}" for m in range(0, 1440, 30)]
    ends[-1] = last
    return [
        f"{m // 60:02d}:{m % 60:02d}-{end}" for m, end in zip(range(0, 1440, 30), ends, strict=True)
    ]


def plan(sid: Any, buy: list[float], sell: list[float], last: str = "24:00") -> dict[str, Any]:
    def side(prices: list[float]) -> dict[str, Any]:
        ranges = [
            {"timeRange": label, "price": price}
            for label, price in zip(labels(last), prices, strict=True)
        ]
        return {
            "dynamicPricing": None,
            "staticPricing": {
                "providerName": "Amber",
                "tariffCode": "",
                "tariffName": "",
                "currencyCode": "Cent",
                "subAreaName": "",
                "planName": "PowerSync 30-min",
                "combinedPrices": [
                    {
                        "monthRange": "01-12",
                        "weekPrices": [{"weekRange": "1-7", "timeRange": ranges}],
                    }
                ],
            },
        }

    return {"stationId": sid, "priceMode": 1, "buyPrice": side(buy), "sellPrice": side(sell)}


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


async def test_save_and_read_back(cloud: Cloud, sim: Simulator) -> None:
    read = "device/stationelecsetprice/latest/static/price"
    assert await cloud.data("GET", read, stationId=cloud.sid) is None
    body = plan(cloud.sid, [20.0] * 48, [-1.5] * 48)
    assert await cloud.data("POST", SAVE, body) is True
    assert await cloud.data("GET", read, stationId=cloud.sid) == body
    # the station id as a digit string, and the older "23:30-00:00"
    assert await cloud.data("POST", SAVE, plan(str(cloud.sid), [21.0] * 48, [0.0] * 48, "00:00"))
    assert sim.stations[0].pricing.buy == [21.0] * 48
    state = await cloud.control("GET", "stations/SIMSYS00000001/pricing")
    assert (state["buyNow"], state["sellNow"]) == (21.0, 0.0)


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(priceMode=2),
        lambda b: b["buyPrice"]["staticPricing"].update(currencyCode="EUR"),
        lambda b: b["buyPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0][
            "timeRange"
        ].pop(),
        lambda b: b["buyPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0]["timeRange"][
            0
        ].update(timeRange="00:00-01:00"),
        lambda b: b["buyPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0]["timeRange"][
            0
        ].update(timeRange="00:00-00:15"),
        lambda b: b["buyPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0]["timeRange"][
            1
        ].update(timeRange="00:00-00:30"),
        lambda b: b["sellPrice"]["staticPricing"]["combinedPrices"][0]["weekPrices"][0][
            "timeRange"
        ][0].update(price="1"),
        lambda b: b.pop("sellPrice"),
    ],
)
async def test_save_refused(change: Any, cloud: Cloud, sim: Simulator) -> None:
    body = plan(cloud.sid, [20.0] * 48, [5.0] * 48)
    change(body)
    assert await cloud.code("POST", SAVE, body) == 1000
    assert sim.stations[0].pricing.body is None


async def test_tou_charges_in_the_cheapest_slots(cloud: Cloud, sim: Simulator) -> None:
    station = sim.stations[0]
    station.set_mode(2)
    flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    assert flow["batteryPower"] == 5.0  # 02:00: the fixed window charges without a plan
    buy = [30.0] * 48
    buy[20:28] = [1.0] * 8  # 10:00-14:00
    await cloud.data("POST", SAVE, plan(cloud.sid, buy, [5.0] * 48))
    flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    assert flow["batteryPower"] <= 0.0  # dark and not cheap: the battery serves the house
    await sim.advance(9 * 3600)  # 11:00
    station.soc = 20.0  # the morning's PV filled it
    flow = await cloud.data("GET", "device/sigen/station/energyflow", id=cloud.sid)
    assert flow["batteryPower"] == 5.0
    cost = await cloud.data("GET", "prediction/aipv/elecPrice/get/priceCost", stationId=cloud.sid)
    assert cost[0]["priceCost"] == 1.0
    assert cost[0]["taxSettings"]["fixedTaxRate"] == 0.25


async def test_spike_loads(cloud: Cloud) -> None:
    add = "prediction/aipv/prediction/modify/predictLoad"
    hint = {
        "stationId": cloud.sid,
        "loadType": 4,
        "startTime": "13:15",
        "startDate": "2026-04-04",
        "duration": 180,
        "power": 10,
    }
    assert await cloud.data("POST", add, hint) is True
    listed = await cloud.data(
        "GET",
        f"prediction/aipv/prediction/get/automationLoadRecord/{cloud.sid}",
        stationId=cloud.sid,
    )
    assert listed == [
        {"eventId": "2041603730691940352", **{k: v for k, v in hint.items() if k != "stationId"}}
    ]
    for bad in ({"loadType": 28}, {"duration": 0}, {"power": -1}, {"startDate": None}):
        assert await cloud.code("POST", add, {**hint, **bad}) == 1000
    remove = "prediction/aipv/prediction/del/automationLoad"
    assert await cloud.code("POST", remove, stationId=cloud.sid, eventId="1") == 1000
    assert await cloud.data("POST", remove, stationId=cloud.sid, eventId="2041603730691940352")
    assert (
        await cloud.data("GET", f"prediction/aipv/prediction/get/automationLoadRecord/{cloud.sid}")
        == []
    )
