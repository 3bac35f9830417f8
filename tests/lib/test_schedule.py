"""``sigen.schedule`` (ScheduleApi, SchedulePeriod) against the simulator (issue 18).

The TOU schedule of §7.8: read as typed periods in every read-back variant (whichDay as
text or a list, null limits absent, an unset schedule null, unknown codes and unreadable
periods), written whole after the library's checks (each refused schedule names its
period and range and sends nothing), and in TOU mode the written schedule drives the
simulated battery.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen import (
    SCHEDULE_ACTIONS,
    SchedulePeriod,
    ScheduleValidationError,
    Sigen,
    SigenValidationError,
)
from sigen_sim import Simulator
from sigen_sim.model.modes import MODE_TOU

# Monday 22 June 2026, 02:00 in Dublin
START = datetime(2026, 6, 22, 2, 0, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
pytestmark = [pytest.mark.sim_config(time_scale=0, start_time=START)]

WEEK = [1, 2, 3, 4, 5, 6, 7]
NIGHT: dict[str, Any] = {
    "days": WEEK,
    "start": "00:00",
    "end": "06:00",
    "action": "charge",
    "max_charge": 3,
    "charge_cut_off_soc": 90,
}
REST: dict[str, Any] = {
    "days": WEEK,
    "start": "06:00",
    "end": "24:00",
    "action": "self_consumption",
}


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        await client.get_station_info()
        yield client


async def control(api: Sigen, sim: Simulator, body: Any = None) -> Any:
    path = sim.control_url + "stations/SIMSYS00000001/schedule"
    method = "GET" if body is None else "POST"
    async with aiohttp.ClientSession() as session, session.request(method, path, json=body) as r:
        return (await r.json())["data"]


async def test_round_trip(sim: Simulator, api: Sigen) -> None:
    assert await api.schedule.get_schedule() == []
    sent = await api.schedule.set_schedule([REST, NIGHT])  # sorted by start
    assert [p.start for p in sent] == ["00:00", "06:00"]
    periods = await api.schedule.get_schedule()
    assert periods == sent
    night, rest = periods
    assert night.days == frozenset(WEEK)
    assert (night.start, night.end, night.action, night.discharge_type) == (
        "00:00",
        "06:00",
        "charge",
        0,
    )
    assert (night.max_charge, night.charge_cut_off_soc, night.max_buy) == (3.0, 90, None)
    assert (night.start_minutes, rest.end_minutes) == (0, 1440)
    assert night.holds(1, 120)
    assert not night.holds(1, 360)
    assert rest.action == "self_consumption"
    assert night.friendly() == {
        **NIGHT,
        "max_charge": 3.0,
        **dict.fromkeys(
            ("max_buy", "max_sell", "max_discharge", "max_pack_charge", "max_pack_discharge"),
        ),
        "discharge_cut_off_soc": None,
    }
    stored = (await control(api, sim))["periods"]
    assert stored[0] == night.to_wire(sim.stations[0].station_id)
    assert stored[0]["currType"] == 1
    assert stored[0]["whichDay"] == "1,2,3,4,5,6,7"
    # periods read back are written back as they are (SchedulePeriod in, currType kept)
    await api.schedule.set_schedule(periods, station_id=sim.stations[0].station_id)
    assert await api.schedule.get_schedule() == periods
    assert SCHEDULE_ACTIONS == {0: "charge", 1: "discharge", 3: "self_consumption"}


async def test_friendly_inputs(api: Sigen) -> None:
    weekdays = {**NIGHT, "days": ["mon", "Tuesday", 3, "4", 5], "start": "0:00"}
    weekend = {**NIGHT, "days": "6,7", "action": "discharge", "max_discharge": 2.5}
    rest = {**REST, "max_sell": 0, "discharge_cut_off_soc": 20.0}
    await api.schedule.set_schedule([weekdays, weekend, rest])
    periods = await api.schedule.get_schedule()
    assert [(sorted(p.days), p.action) for p in periods] == [
        ([1, 2, 3, 4, 5], "charge"),
        ([6, 7], "discharge"),
        (WEEK, "self_consumption"),
    ]
    assert (periods[1].max_discharge, periods[2].max_sell) == (2.5, 0.0)
    assert periods[2].discharge_cut_off_soc == 20


@pytest.mark.parametrize(
    ("periods", "period", "words"),
    [
        ([], None, "at least one period"),
        ("nope", None, "a list of periods"),
        ([REST] * 25, None, "at most 24 periods"),
        ([{**NIGHT, "days": [8]}, REST], 1, "from 1 (Monday) to 7 (Sunday)"),
        ([{**NIGHT, "days": ["someday"]}, REST], 1, "weekday numbers"),
        ([NIGHT, {**REST, "start": "6"}], 2, "HH:MM from 00:00 to 23:59"),
        ([NIGHT, {**REST, "end": "24:30"}], 2, "00:00 to 24:00"),
        ([{**NIGHT, "action": "idle"}, REST], 1, "charge, discharge, self_consumption"),
        ([{**NIGHT, "action": True}, REST], 1, "action must be"),
        ([{**NIGHT, "max_charge": 101}, REST], 1, "from 0 to 100 kW"),
        ([{**NIGHT, "max_buy": -1}, REST], 1, "from 0 to 100 kW"),
        ([{**NIGHT, "charge_cut_off_soc": 101}, REST], 1, "from 0 to 100 %"),
        ([{**NIGHT, "charge_cut_off_soc": 50.5}, REST], 1, "whole number"),
        ([{**NIGHT, "colour": "red"}, REST], 1, "unknown field colour"),
        ([{**NIGHT, "end": None}, REST], 1, "end is required"),
        ([NIGHT, 42], 2, "SchedulePeriod or a mapping"),
        ([{**NIGHT, "end": "05:00"}, REST], None, "no period from 05:00 to 06:00"),
        ([{**NIGHT, "end": "07:00"}, REST], 2, "overlaps"),
        ([{**NIGHT, "start": "06:00", "end": "06:00"}, REST], 1, "must be after"),
        ([{**NIGHT, "days": [1]}, REST], None, "Day 2 has no period from 00:00 to 06:00"),
    ],
)
async def test_refused_before_sending(
    sim: Simulator, api: Sigen, periods: Any, period: int | None, words: str
) -> None:
    with pytest.raises(ScheduleValidationError, match=re.escape(words)) as caught:
        await api.schedule.set_schedule(periods)
    assert caught.value.period == period
    assert isinstance(caught.value, SigenValidationError)
    assert not sim.requests(path_contains="batch/save")


async def test_unknown_codes_and_unreadable_periods(sim: Simulator, api: Sigen) -> None:
    sid = sim.stations[0].station_id
    odd = SchedulePeriod.from_dict(
        {"dischargeType": 2, "startTime": "00:00", "endTime": "24:00", "whichDay": "1-7"}
    )
    await control(api, sim, {"periods": [odd.to_wire(sid), "junk", {"startTime": "x"}]})
    periods = await api.schedule.get_schedule()
    assert next(p.action for p in periods) == 2  # kept as the number, never a crash
    assert periods[0].days == frozenset(WEEK)
    assert len(periods) == 2  # the non-object item is logged and skipped
    assert periods[1].start is None
    assert periods[1].days == frozenset()
    assert not periods[1].holds(1, 0)
    # an unknown code read is written back as it was
    await api.schedule.set_schedule([periods[0]])
    assert (await control(api, sim))["periods"][0]["dischargeType"] == 2


@pytest.mark.sim_config(schedule_days="list", schedule_nulls="absent", schedule_unset="null")
async def test_read_back_variants(api: Sigen) -> None:
    assert await api.schedule.get_schedule() == []
    await api.schedule.set_schedule([NIGHT, REST])
    night, rest = await api.schedule.get_schedule()
    assert night.days == frozenset(WEEK)
    assert (night.max_charge, night.max_buy, rest.charge_cut_off_soc) == (3.0, None, None)
    assert "maxBuyPower" not in night.raw


@pytest.mark.sim_config(schedule_untiled="store")
async def test_library_checks_even_when_the_cloud_would_store(sim: Simulator, api: Sigen) -> None:
    with pytest.raises(ScheduleValidationError, match="whole day"):
        await api.schedule.set_schedule([{**NIGHT, "days": [1]}])
    assert (await control(api, sim))["saved"] is False


async def test_the_schedule_drives_the_battery(sim: Simulator, api: Sigen) -> None:
    station = sim.stations[0]
    station.set_mode(MODE_TOU)
    await api.schedule.set_schedule([{**NIGHT, "max_charge": 2}, REST])
    flow = await api.get_energy_flow()
    assert flow.battery_power == -2.0  # the library's sign: + = discharging
    await sim.advance(5 * 3600)  # 07:00, self-consumption
    flow = await api.get_energy_flow()
    assert flow.battery_power is not None
    assert flow.battery_power >= 0.0


def test_an_end_of_midnight_is_the_days_end() -> None:
    """Some clouds write the day's end "00:00" (as peak shaving's periods may)."""
    period = SchedulePeriod.from_dict(
        {"whichDay": "1", "startTime": "06:00", "endTime": "00:00", "dischargeType": 3}
    )
    assert (period.end, period.end_minutes) == ("24:00", 1440)
    assert period.holds(1, 1439)
    whole = SchedulePeriod.from_dict(
        {"whichDay": "1", "startTime": "00:00", "endTime": "00:00", "dischargeType": 3}
    )
    assert (whole.start_minutes, whole.end_minutes) == (0, 1440)


def test_a_period_crossing_midnight_holds_into_the_next_day() -> None:
    """Not what the app writes, but a cloud may hold it: 22:00-06:00 on Mondays."""
    period = SchedulePeriod.from_dict(
        {"whichDay": "1", "startTime": "22:00", "endTime": "06:00", "dischargeType": 0}
    )
    assert (period.start_minutes, period.end_minutes) == (1320, 360)
    assert period.holds(1, 23 * 60)
    assert period.holds(2, 5 * 60)  # Tuesday morning: still Monday's period
    assert not period.holds(1, 5 * 60)  # Monday morning belongs to Sunday's
    assert not period.holds(2, 23 * 60)
    sunday = SchedulePeriod.from_dict(
        {"whichDay": "7", "startTime": "22:00", "endTime": "06:00", "dischargeType": 0}
    )
    assert sunday.holds(1, 60)  # Sunday night runs into Monday


@pytest.mark.sim_config(schedule_day_end="00:00")
async def test_reads_the_clouds_midnight_day_end(sim: Simulator, api: Sigen) -> None:
    sent = await api.schedule.set_schedule([NIGHT, REST])
    stored = (await control(api, sim))["periods"]
    assert stored[1]["endTime"] == "24:00"  # the library writes "24:00"
    read = await api.schedule.get_schedule()
    assert read == sent  # the cloud's "00:00" read back as "24:00"
    assert read[1].end_minutes == 1440
    # written back as read: accepted, and an end "00:00" given is the day's end too
    await api.schedule.set_schedule(read)
    again = await api.schedule.set_schedule([NIGHT, {**REST, "end": "00:00"}])
    assert again[1].end == "24:00"
