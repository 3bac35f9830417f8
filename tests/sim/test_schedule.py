"""The simulator's TOU schedule (issue 18): the batch save's checks, the read-back and its
variants, the control API's view, and the schedule driving the battery in TOU mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import Simulator
from sigen_sim.model.modes import MODE_MSC, MODE_TOU
from tests.sim.ev_cloud import Cloud
from tests.sim.helpers import UA, app_login

# Monday 22 June 2026, 02:00 in Dublin (ISO weekday 1), dark
START = datetime(2026, 6, 22, 2, 0, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(time_scale=0, start_time=START),
]
SAVE = "device/dischargesetting/batch/save"
FLOW = "device/sigen/station/energyflow"
NULLS = {
    "maxBuyPower": None,
    "maxSellPower": None,
    "maxChargePower": None,
    "maxDischargePower": None,
    "maxPackChargePower": None,
    "maxPackDischargePower": None,
    "gridChargeCutOffSoc": None,
    "gridDischargeCutOffSoc": None,
}


def period(sid: Any, start: str, end: str, kind: int, days: Any = "1,2,3,4,5,6,7", **limits: Any):
    return {
        "currType": 1,
        "dischargeType": kind,
        "startTime": start,
        "endTime": end,
        "stationId": sid,
        "whichDay": days,
        **NULLS,
        **limits,
    }


def day(sid: Any, kind: int = 0, **limits: Any) -> list[dict[str, Any]]:
    """00:00-06:00 of ``kind`` with ``limits``, then self-consumption to 24:00."""
    return [period(sid, "00:00", "06:00", kind, **limits), period(sid, "06:00", "24:00", 3)]


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


def read_path(cloud: Cloud) -> str:
    return f"device/dischargesetting/{cloud.sid}"


async def battery(cloud: Cloud) -> float:
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    return float(flow["batteryPower"])


async def test_save_and_read_back(cloud: Cloud) -> None:
    assert await cloud.data("GET", read_path(cloud)) == []
    body = day(cloud.sid, maxChargePower=3, gridChargeCutOffSoc=90)
    del body[1]["currType"]  # stored as 1
    assert await cloud.data("POST", SAVE, body) is True
    read = await cloud.data("GET", read_path(cloud))
    assert read == [body[0], {**body[1], "currType": 1}]
    # the station id as a digit string; whichDay as a list; a second save replaces all
    again = [period(str(cloud.sid), "00:00", "24:00", 3, days=[1, 2, 3, 4, 5, 6, 7])]
    assert await cloud.data("POST", SAVE, again) is True
    read = await cloud.data("GET", read_path(cloud))
    assert read == [{**again[0], "stationId": cloud.sid, "whichDay": "1,2,3,4,5,6,7"}]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b[0].update(dischargeType=5),
        lambda b: b[0].update(dischargeType=True),
        lambda b: b[0].update(startTime="6:0"),
        lambda b: b[0].update(endTime="00:00"),  # ends before it starts
        lambda b: b[1].update(startTime="24:00"),
        lambda b: b[0].update(whichDay="1,8"),
        lambda b: b[0].update(whichDay=""),
        lambda b: b[0].update(maxChargePower=-1),
        lambda b: b[0].update(maxChargePower=101),
        lambda b: b[0].update(gridChargeCutOffSoc="lots"),
        lambda b: b[0].update(maxBuyPower=[1]),
        lambda b: b.append("not a period"),
        lambda b: b[0].update(endTime="05:00"),  # a gap (refused by default)
        lambda b: b[0].update(endTime="07:00"),  # an overlap
        lambda b: b[0].update(whichDay="1,2,3"),  # days 4-7 lack 00:00-06:00
    ],
)
async def test_save_refused(change: Any, cloud: Cloud) -> None:
    body = day(cloud.sid)
    change(body)
    assert await cloud.code("POST", SAVE, body) == 1000
    assert await cloud.data("GET", read_path(cloud)) == []


async def test_save_refused_shapes(cloud: Cloud) -> None:
    assert await cloud.code("POST", SAVE, {"stationId": cloud.sid}) == 1000
    assert await cloud.code("POST", SAVE, []) == 1000
    assert await cloud.code("POST", SAVE, day(42)) == 1106
    mixed = day(cloud.sid)
    mixed[1]["stationId"] = 42
    assert await cloud.code("POST", SAVE, mixed) == 1106
    many = [period(cloud.sid, f"{h:02d}:00", f"{h + 1:02d}:00", 3) for h in range(24)]
    assert await cloud.data("POST", SAVE, many) is True
    many[-1]["endTime"] = "23:30"
    many.append(period(cloud.sid, "23:30", "24:00", 3))
    assert await cloud.code("POST", SAVE, many) == 1000  # 25 periods
    assert await cloud.code("GET", "device/dischargesetting/42") == 1106


@pytest.mark.sim_config(strict_setting_types=True)
async def test_strict_types(cloud: Cloud) -> None:
    assert await cloud.code("POST", SAVE, day(cloud.sid, maxChargePower="3")) == 1000
    assert await cloud.data("POST", SAVE, day(cloud.sid, maxChargePower=3)) is True


async def test_lenient_types_store_numbers(cloud: Cloud) -> None:
    assert await cloud.data("POST", SAVE, day(cloud.sid, maxChargePower="3.5")) is True
    read = await cloud.data("GET", read_path(cloud))
    assert read[0]["maxChargePower"] == 3.5


@pytest.mark.sim_config(schedule_days="list", schedule_nulls="absent")
async def test_read_back_variants(cloud: Cloud) -> None:
    assert await cloud.data("POST", SAVE, day(cloud.sid, maxChargePower=3)) is True
    first = (await cloud.data("GET", read_path(cloud)))[0]
    assert first["whichDay"] == [1, 2, 3, 4, 5, 6, 7]
    assert first["maxChargePower"] == 3
    assert "maxBuyPower" not in first
    assert "gridChargeCutOffSoc" not in first


@pytest.mark.sim_config(schedule_unset="null")
async def test_unset_reads_null(cloud: Cloud) -> None:
    assert await cloud.data("GET", read_path(cloud)) is None


@pytest.mark.sim_config(schedule_untiled="store")
async def test_untiled_stored_as_sent(cloud: Cloud, sim: Simulator) -> None:
    body = [period(cloud.sid, "00:00", "06:00", 0, days="1")]
    assert await cloud.data("POST", SAVE, body) is True
    assert await cloud.data("GET", read_path(cloud)) == body
    body[0]["dischargeType"] = 7  # still refused: not a period the cloud knows
    assert await cloud.code("POST", SAVE, body) == 1000
    # Monday 02:00 inside a period: it drives the battery; in none: the old rule
    sim.stations[0].set_mode(MODE_TOU)
    await cloud.data("POST", SAVE, [period(cloud.sid, "00:00", "06:00", 3, days="1")])
    assert await battery(cloud) <= 0.0
    await cloud.data("POST", SAVE, [period(cloud.sid, "00:00", "06:00", 3, days="2")])
    assert await battery(cloud) == 5.0  # the fixed cheap window 01:00-05:00


async def test_not_applied_fault(cloud: Cloud, sim: Simulator) -> None:
    sim.faults.not_applied("dischargesetting/batch", count=1)
    assert await cloud.data("POST", SAVE, day(cloud.sid)) is True
    assert await cloud.data("GET", read_path(cloud)) == []


async def test_charge_period_drives_the_battery(cloud: Cloud, sim: Simulator) -> None:
    station = sim.stations[0]
    station.set_mode(MODE_TOU)
    assert await battery(cloud) == 5.0  # no schedule: the fixed cheap window
    await cloud.data("POST", SAVE, day(cloud.sid, 0, maxChargePower=3))
    assert await battery(cloud) == 3.0  # from the grid, capped at 3 kW
    await cloud.data("POST", SAVE, day(cloud.sid, 0, maxPackChargePower=2.5))
    assert await battery(cloud) == 2.5
    await cloud.data("POST", SAVE, day(cloud.sid, 0, maxBuyPower=1))
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    assert -flow["buySellPower"] <= 1.01  # the import stays under the period's cap
    # the cut-off reached: no more charging from the grid
    await cloud.data("POST", SAVE, day(cloud.sid, 0, gridChargeCutOffSoc=50))
    assert await battery(cloud) <= 0.0
    # outside TOU mode the schedule does nothing
    station.set_mode(MODE_MSC)
    await cloud.data("POST", SAVE, day(cloud.sid, 0))
    assert await battery(cloud) <= 0.0


async def test_charge_fills_to_the_cut_off(cloud: Cloud, sim: Simulator) -> None:
    station = sim.stations[0]
    station.set_mode(MODE_TOU)
    await cloud.data("POST", SAVE, day(cloud.sid, 0, gridChargeCutOffSoc=70))
    await sim.advance(2 * 3600)  # 04:00
    assert 69.0 <= station.soc <= 70.5
    await sim.advance(3 * 3600)  # 07:00: self-consumption, the SOC no longer climbs
    assert station.soc <= 70.5


async def test_discharge_and_self_consumption(cloud: Cloud, sim: Simulator) -> None:
    station = sim.stations[0]
    station.set_mode(MODE_TOU)
    station.soc = 80.0
    await cloud.data("POST", SAVE, day(cloud.sid, 1, maxDischargePower=2))
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    assert flow["batteryPower"] < -2.0  # the house and 2 kW to the grid
    assert 1.9 <= flow["buySellPower"] <= 2.01
    await cloud.data("POST", SAVE, day(cloud.sid, 1, maxPackDischargePower=1, maxSellPower=0))
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    assert -1.0 <= flow["batteryPower"] < 0.0
    assert flow["buySellPower"] <= 0.01
    await cloud.data("POST", SAVE, day(cloud.sid, 1, gridDischargeCutOffSoc=80))
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    assert flow["buySellPower"] <= 0.01  # at its floor: it serves the house only
    await cloud.data("POST", SAVE, day(cloud.sid, 3))
    flow = await cloud.data("GET", FLOW, id=cloud.sid)
    assert flow["batteryPower"] < 0.0
    assert abs(flow["buySellPower"]) <= 0.01


async def test_control_api_view(cloud: Cloud, sim: Simulator) -> None:
    path = "stations/SIMSYS00000001/schedule"
    state = await cloud.control("GET", path)
    assert state == {"saved": False, "periods": [], "active": None, "touMode": False}
    await cloud.data("POST", SAVE, day(cloud.sid, 0))
    state = await cloud.control("GET", path)
    assert (state["saved"], state["active"], len(state["periods"])) == (True, 0, 2)
    # stored as sent: an unknown discharge type and an unreadable period
    odd = [period(cloud.sid, "00:00", "24:00", 2), {"startTime": "bad"}]
    state = await cloud.control("POST", path, {"periods": odd})
    assert state["periods"] == odd
    read = await cloud.data("GET", read_path(cloud))
    assert read[0]["dischargeType"] == 2
    assert read[1] == {"startTime": "bad"}
    sim.stations[0].set_mode(MODE_TOU)
    assert await battery(cloud) <= 0.0  # 2 runs as self-consumption
    async with cloud.session.post(sim.control_url + path, json={"periods": "x"}) as answer:
        assert answer.status == 400
    async with cloud.session.get(sim.control_url + "stations/NOPE/schedule") as answer:
        assert answer.status == 404


@pytest.mark.sim_config(schedule_day_end="00:00")
async def test_day_end_read_back_as_midnight(cloud: Cloud) -> None:
    """The variant: the day's end reads back "00:00"; a save takes "00:00" and "24:00"."""
    assert await cloud.data("POST", SAVE, day(cloud.sid)) is True
    read = await cloud.data("GET", read_path(cloud))
    assert [(p["startTime"], p["endTime"]) for p in read] == [
        ("00:00", "06:00"),
        ("06:00", "00:00"),
    ]
    body = [period(cloud.sid, "00:00", "06:00", 0), period(cloud.sid, "06:00", "00:00", 3)]
    assert await cloud.data("POST", SAVE, body) is True  # "00:00" as the end tiles the day


async def test_a_save_takes_midnight_as_the_day_end(cloud: Cloud) -> None:
    body = [period(cloud.sid, "00:00", "06:00", 0), period(cloud.sid, "06:00", "00:00", 3)]
    assert await cloud.data("POST", SAVE, body) is True
    assert (await cloud.data("GET", read_path(cloud)))[1]["endTime"] == "00:00"  # as sent


@pytest.mark.parametrize(
    ("first_day", "charging"),
    [
        pytest.param("monday", False, marks=pytest.mark.sim_config(schedule_first_day="monday")),
        pytest.param("sunday", True, marks=pytest.mark.sim_config(schedule_first_day="sunday")),
    ],
)
async def test_which_weekday_is_one(
    cloud: Cloud, sim: Simulator, first_day: str, charging: bool
) -> None:
    """whichDay 2 is Tuesday (ISO) or Monday (1 = Sunday): a charge period on day 2
    drives the battery on Monday 02:00 only in the "sunday" variant."""
    sim.stations[0].set_mode(MODE_TOU)
    body = [
        period(cloud.sid, "00:00", "06:00", 0, days="2", maxChargePower=3),
        period(cloud.sid, "06:00", "24:00", 3, days="2"),
        period(cloud.sid, "00:00", "24:00", 3, days="1,3,4,5,6,7"),
    ]
    assert await cloud.data("POST", SAVE, body) is True
    power = await battery(cloud)
    assert (power == 3.0) is charging, (first_day, power)
    if not charging:
        assert power <= 0.0
