"""The simulator's peak shaving (§7.7): physics, the app API's shape and variants, control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import SimConfig, SimStation, Simulator
from sigen_sim.model import Sample
from sigen_sim.model.modes import MODE_FFG, MODE_TOU
from sigen_sim.model.peak_shaving import Period, set_peak_shaving
from sigen_sim.mqtt_payloads import system_values
from tests.sim.helpers import UA, app_login

TZ = ZoneInfo("Europe/Dublin")
MIDNIGHT = datetime(2026, 6, 21, tzinfo=TZ).timestamp()  # a Sunday (ISO 7)
HOUR = 3600.0
PATH = "device/dischargesetting/peak/shaving"
EVENING = Period(frozenset({7}), 17 * 60, 21 * 60, 3.0)


def station_at(hour: float, *, soc: float = 80.0, **kwargs: Any) -> SimStation:
    config = SimConfig(time_scale=0, start_time=MIDNIGHT + hour * HOUR, initial_soc=soc, **kwargs)
    station = Simulator(config).stations[0]
    station.add_smart_load("Heater", 6.0, on=True)
    return station


def balanced(s: Sample) -> Sample:
    assert s.pv - s.battery - s.buy_sell - s.ev == pytest.approx(s.load, abs=0.02)
    return s


# ---------------------------------------------------------------------- physics


def test_import_is_held_at_the_peak_in_a_period() -> None:
    station = station_at(19)
    station.set_mode(MODE_FFG)  # the battery idles: the whole load is imported
    before = balanced(station.sample())
    assert -before.buy_sell > 5.0
    set_peak_shaving(station, enabled=True, periods=[EVENING])
    s = balanced(station.sample())
    assert -s.buy_sell == pytest.approx(3.0, abs=0.02)
    assert s.battery == pytest.approx(-(s.load - s.pv - 3.0), abs=0.02)
    assert station.peak_shaving_status is True
    assert system_values(station)["peakShavingStatus"] == "on"


def test_nothing_happens_outside_a_period_or_when_off() -> None:
    station = station_at(22)  # after the period
    station.set_mode(MODE_FFG)
    set_peak_shaving(station, enabled=True, periods=[EVENING])
    assert station.sample().battery == 0.0
    monday = station_at(19 + 24)  # the same hour on a day the period does not name
    monday.set_mode(MODE_FFG)
    set_peak_shaving(monday, enabled=True, periods=[EVENING])
    assert monday.sample().battery == 0.0
    off = station_at(19)
    off.set_mode(MODE_FFG)
    set_peak_shaving(off, enabled=False, periods=[EVENING])
    assert off.sample().battery == 0.0
    assert system_values(off)["peakShavingStatus"] == "off"


def test_the_battery_power_caps_the_shaving() -> None:
    station = station_at(19)
    station.set_mode(MODE_FFG)
    set_peak_shaving(station, enabled=True, periods=[Period(frozenset({7}), 0, 1440, 0.0)])
    s = balanced(station.sample())
    assert s.battery == -5.0  # the rated discharge power; the rest is still imported
    assert -s.buy_sell > 0.5


async def test_the_shaving_soc_is_the_floor() -> None:
    sim = Simulator(SimConfig(time_scale=0, start_time=MIDNIGHT + 17 * HOUR, initial_soc=30))
    station = sim.stations[0]
    station.add_smart_load("Heater", 6.0, on=True)
    station.set_mode(MODE_FFG)
    low = Period(frozenset({7}), 17 * 60, 21 * 60, 0.5)
    set_peak_shaving(station, enabled=True, soc=25, periods=[low])
    assert station.sample().battery < 0
    await sim.advance(2 * HOUR)
    assert station.soc >= 25.0 - 0.01
    s = station.sample()
    assert s.battery == pytest.approx(0.0, abs=0.05)  # at the floor: no more shaving
    assert -s.buy_sell > 5.0


def test_no_grid_charging_above_the_peak() -> None:
    station = station_at(2, soc=40)  # TOU's cheap window: it charges from the grid
    station.set_mode(MODE_TOU)
    charging = station.sample().battery
    assert charging > 0
    set_peak_shaving(station, enabled=True, periods=[Period(frozenset({7}), 0, 360, 7.0)])
    s = balanced(station.sample())
    assert -s.buy_sell == pytest.approx(7.0, abs=0.02)
    assert 0 <= s.battery < charging


def test_manual_control_is_not_shaved() -> None:
    station = station_at(19)
    set_peak_shaving(station, enabled=True, periods=[EVENING])
    station.start_manual_control("charge", 60)
    assert station.sample().battery > 0


def test_bad_settings_change_nothing() -> None:
    station = station_at(19)
    overlapping = [EVENING, Period(frozenset({7, 1}), 20 * 60, 22 * 60, 2.0)]
    with pytest.raises(ValueError, match="overlaps"):
        set_peak_shaving(station, enabled=True, periods=overlapping)
    with pytest.raises(ValueError, match="shavingSOC"):
        set_peak_shaving(station, enabled=True, soc=101)
    assert station.peak_shaving.enabled is False
    assert station.peak_shaving.periods == []


def test_a_period_over_midnight() -> None:
    """22:00-02:00 on Saturday holds to 02:00 on Sunday; it overlaps Sunday's 01:00-03:00."""
    night = Period(frozenset({6}), 22 * 60, 2 * 60, 2.0)
    assert night.holds(6, 23 * 60)
    assert night.holds(7, 60)
    assert not night.holds(6, 60)
    assert not night.holds(7, 3 * 60)
    station = station_at(1)  # Sunday 01:00
    set_peak_shaving(station, enabled=True, periods=[night])
    assert station.peak_shaving.peak_at(station.local(station.clock.now())) == 2.0
    with pytest.raises(ValueError, match="overlaps"):
        set_peak_shaving(station, periods=[night, Period(frozenset({7}), 60, 3 * 60, 1.0)])
    with pytest.raises(ValueError, match="ends where it starts"):
        set_peak_shaving(station, periods=[Period(frozenset({1}), 60, 60, 1.0)])


# ---------------------------------------------------------------------- the app API


class Cloud:
    def __init__(self, session: aiohttp.ClientSession, sim: Simulator, token: str) -> None:
        self.session, self.sim, self.token = session, sim, token
        self.sid = sim.stations[0].station_id

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.sim.api_url + path
        async with self.session.request(method, url, json=body, headers=headers) as r:
            assert r.status == 200
            return await r.json(content_type=None)

    async def read(self) -> Any:
        body = await self.call("GET", f"{PATH}/{self.sid}")
        assert body["code"] == 0, body
        return body["data"]

    async def write(self, **fields: Any) -> Any:
        return await self.call("POST", PATH, {"stationId": self.sid, **fields})


@pytest.fixture
async def cloud(socket_enabled: None, sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


WEEKDAYS = {"whichDay": "1,2,3,4,5", "startTime": "17:00", "endTime": "21:00", "peakPower": 3.5}
SUCCESS = {"code": 0, "msg": "success", "data": True}


@pytest.mark.sim_config(time_scale=0, start_time=MIDNIGHT)
async def test_read_and_write(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.read() == {"controlMode": 0, "shavingSOC": 20, "settingList": []}
    assert await cloud.write(controlMode=1, shavingSOC=30, settingList=[WEEKDAYS]) == SUCCESS
    assert await cloud.read() == {"controlMode": 1, "shavingSOC": 30, "settingList": [WEEKDAYS]}
    station = sim.stations[0]
    assert station.peak_shaving.periods == [Period(frozenset(range(1, 6)), 1020, 1260, 3.5)]
    # linked (the default): the SOC levels' peakShavingSOC is the same value
    assert station.peak_shaving_cutoff_soc == 30
    level = await cloud.call("GET", f"device/energy-profile/battery/level/{cloud.sid}")
    assert level["data"]["peakShavingSOC"] == "30"
    await cloud.call(
        "PUT",
        "device/energy-profile/battery/level",
        {"stationId": cloud.sid, "chargeSOC": "100", "dischargeSOC": "5",
         "peakShavingSOC": "40", "backupSOC": "15"},
    )  # fmt: skip
    assert (await cloud.read())["shavingSOC"] == 40


@pytest.mark.sim_config(time_scale=0, peak_shaving_soc="separate")
async def test_a_separate_shaving_soc(cloud: Cloud, sim: Simulator) -> None:
    assert (await cloud.read())["shavingSOC"] == 10
    assert await cloud.write(controlMode=0, shavingSOC=35, settingList=[]) == SUCCESS
    station = sim.stations[0]
    assert station.peak_shaving.soc == 35
    assert station.peak_shaving_cutoff_soc == 20  # the SOC levels' own value is untouched


@pytest.mark.sim_config(time_scale=0, peak_shaving_days="list", peak_shaving_first_day="sunday")
async def test_day_variants(cloud: Cloud, sim: Simulator) -> None:
    # 1 is Sunday here: "2,3,4,5,6" are Monday to Friday
    assert await cloud.write(controlMode=1, shavingSOC=20, settingList=[
        {**WEEKDAYS, "whichDay": "2,3,4,5,6"},
    ]) == SUCCESS  # fmt: skip
    assert sim.stations[0].peak_shaving.periods[0].days == frozenset(range(1, 6))
    assert (await cloud.read())["settingList"][0]["whichDay"] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "fields",
    [
        {"controlMode": 2, "shavingSOC": 20, "settingList": []},
        {"controlMode": 1, "shavingSOC": 101, "settingList": []},
        {"controlMode": 1, "shavingSOC": 20},
        {"controlMode": 1, "shavingSOC": 20, "settingList": [{**WEEKDAYS, "whichDay": "0,1"}]},
        {"controlMode": 1, "shavingSOC": 20, "settingList": [{**WEEKDAYS, "endTime": "25:00"}]},
        {"controlMode": 1, "shavingSOC": 20, "settingList": [{**WEEKDAYS, "peakPower": 101}]},
        {"controlMode": 1, "shavingSOC": 20, "settingList": [{**WEEKDAYS, "startTime": "21:00"}]},
        {
            "controlMode": 1,
            "shavingSOC": 20,
            "settingList": [WEEKDAYS, {**WEEKDAYS, "whichDay": "5,6", "startTime": "20:00"}],
        },
    ],
)
async def test_refusals_change_nothing(cloud: Cloud, sim: Simulator, fields: Any) -> None:
    body = await cloud.write(**fields)
    assert body["code"] == 1000, body
    assert sim.stations[0].peak_shaving.enabled is False


@pytest.mark.sim_config(time_scale=0, strict_setting_types=True)
async def test_strict_types(cloud: Cloud) -> None:
    body = await cloud.write(controlMode="1", shavingSOC=20, settingList=[])
    assert body["code"] == 1000
    assert await cloud.write(controlMode=1, shavingSOC=20, settingList=[]) == SUCCESS


# ---------------------------------------------------------------------- the control API


@pytest.mark.sim_config(time_scale=0, start_time=MIDNIGHT + 19 * HOUR)
async def test_control_api(socket_enabled: None, sim: Simulator) -> None:
    url = f"{sim.control_url}stations/{sim.stations[0].system_id}/peak-shaving"
    period = {"days": [7], "start": "17:00", "end": "21:00", "peakPowerKw": 2.5}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"enabled": True, "soc": 15, "periods": [period]}) as r:
            assert r.status == 200
            data = (await r.json())["data"]
        assert data == {
            "enabled": True,
            "soc": 15.0,
            "socLink": "linked",
            "firstDay": "monday",
            "periods": [period],
            "peakNowKw": 2.5,
        }
        async with session.post(url, json={"periods": [period, period]}) as r:
            assert r.status == 400
        async with session.post(url, json={"colour": "red"}) as r:
            assert r.status == 400
        async with session.get(url) as r:
            assert (await r.json())["data"]["periods"] == [period]
