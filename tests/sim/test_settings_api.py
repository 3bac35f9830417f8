"""The simulator's app-API settings and manual control (§7.1-7.6, §7.9): shapes, variants,
refusals, per-station state, faults and the control API's view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import UA, app_login

START = datetime(2026, 6, 21, 12, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(time_scale=0, start_time=START, stations=2),
]

LEVEL = "device/energy-profile/battery/level"
RESERVE = "device/setting/backup/reserve"
EXPORT = "device/energy-profile/battery/export/limitation"
LIMIT = "device/energy-profile/battery/limit"
GRID = "device/energy-profile/grid/limitation"
SOLAR = "device/energy-profile/solar/limit"
CURRENT = "device/energy-profile/parallel/off/grid"
MANUAL = "device/energy-profile/instant/manunal"
SUCCESS = {"code": 0, "msg": "success", "data": True}


class Cloud:
    """The app API with a logged-in token."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator, token: str) -> None:
        self.session, self.sim, self.token = session, sim, token
        self.sid = sim.stations[0].station_id

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.sim.api_url + path
        async with self.session.request(method, url, json=body, headers=headers) as r:
            return r.status, await r.json(content_type=None)

    async def get(self, path: str, station_id: int | None = None) -> Any:
        status, body = await self.call("GET", f"{path}/{station_id or self.sid}")
        assert status == 200, body
        assert body["code"] == 0, body
        return body["data"]

    async def put(self, path: str, **fields: Any) -> Any:
        status, body = await self.call("PUT", path, {"stationId": self.sid, **fields})
        assert status == 200, body
        return body


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


LEVELS = {"chargeSOC": "95", "dischargeSOC": "10", "peakShavingSOC": "30", "backupSOC": "20"}


# ---------------------------------------------------------------------- shapes


async def test_soc_levels_read_write(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(LEVEL) == {
        "chargeSOC": "100",
        "dischargeSOC": "5",
        "peakShavingSOC": "20",
        "backupSOC": "15",
    }
    assert await cloud.put(LEVEL, **LEVELS) == SUCCESS
    assert await cloud.get(LEVEL) == LEVELS
    station = sim.stations[0]
    assert (station.charge_cutoff_soc, station.backup_cutoff_soc) == (95.0, 20.0)
    # per station: the second one is untouched
    assert (await cloud.get(LEVEL, sim.stations[1].station_id))["chargeSOC"] == "100"
    # "99.0" and JSON numbers are whole percents too
    assert await cloud.put(LEVEL, **{**LEVELS, "chargeSOC": "99.0", "backupSOC": 25}) == SUCCESS
    assert (await cloud.get(LEVEL))["chargeSOC"] == "99"


@pytest.mark.sim_config(soc_level_decimals=True)
async def test_soc_levels_with_decimals(cloud: Cloud) -> None:
    assert (await cloud.get(LEVEL))["chargeSOC"] == "100.0"


async def test_backup_reserve_is_the_backup_soc(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(RESERVE) == {"backupReserve": 15, "operationMode": None, "ja12Soc": None}
    assert await cloud.put(RESERVE, backupReserve=40) == SUCCESS
    assert (await cloud.get(LEVEL))["backupSOC"] == "40"
    assert sim.stations[0].backup_cutoff_soc == 40.0


@pytest.mark.sim_config(backup_reserve_endpoint="separate")
async def test_backup_reserve_of_its_own(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.put(RESERVE, backupReserve=40) == SUCCESS
    assert (await cloud.get(RESERVE))["backupReserve"] == 40
    assert (await cloud.get(LEVEL))["backupSOC"] == "15"
    assert sim.stations[0].settings.backup_reserve == 40


async def test_battery_export(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(EXPORT) == {"ownerSetEnable": True, "installerSetEnable": None}
    assert await cloud.put(EXPORT, installerSetEnable=None, ownerSetEnable=False) == SUCCESS
    assert (await cloud.get(EXPORT))["ownerSetEnable"] is False
    assert sim.stations[0].settings.battery_export is False


@pytest.mark.sim_config(battery_export_flag="limited")
async def test_battery_export_flag_as_a_limitation(cloud: Cloud, sim: Simulator) -> None:
    assert (await cloud.get(EXPORT))["ownerSetEnable"] is False  # export allowed
    await cloud.put(EXPORT, installerSetEnable=None, ownerSetEnable=True)
    assert sim.stations[0].settings.battery_export is False


async def test_battery_power_limits_and_the_sentinel(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(LIMIT) == {
        "batteryMaxChargingPower": "4294967.295",
        "batteryMaxDischargingPower": "4294967.295",
    }
    body = {"batteryMaxChargingPower": "4294967.295", "batteryMaxDischargingPower": "3.5"}
    assert await cloud.put(LIMIT, **body) == SUCCESS
    assert await cloud.get(LIMIT) == {
        "batteryMaxChargingPower": "4294967.295",
        "batteryMaxDischargingPower": "3.500",
    }
    settings = sim.stations[0].settings
    assert (settings.max_charge_kw, settings.max_discharge_kw) == (None, 3.5)


@pytest.mark.parametrize("direction", ["export", "import"])
async def test_grid_limitation(cloud: Cloud, sim: Simulator, direction: str) -> None:
    installer = "10.000" if direction == "export" else "15.000"
    assert await cloud.get(f"{GRID}/{direction}") == {
        "enable": False,
        "maxLimitation": installer,
        "maxLimitationOwner": "",
        "maxLimitationInstaller": installer,
        "isUltra": False,
    }
    body = {"enable": True, "maxLimitationOwner": "4.500", "maxLimitationInstaller": None}
    assert await cloud.put(f"{GRID}/{direction}", **body) == SUCCESS
    data = await cloud.get(f"{GRID}/{direction}")
    assert (data["enable"], data["maxLimitation"], data["maxLimitationOwner"]) == (
        True,
        "4.500",
        "4.500",
    )
    export_cap, import_cap = sim.stations[0].settings.grid_caps()
    assert (export_cap if direction == "export" else import_cap) == 4.5
    # the other direction is its own setting
    other = "import" if direction == "export" else "export"
    assert (await cloud.get(f"{GRID}/{other}"))["enable"] is False


@pytest.mark.sim_config(unset_value="null")
async def test_unset_owner_values_as_null(cloud: Cloud) -> None:
    assert (await cloud.get(f"{GRID}/export"))["maxLimitationOwner"] is None
    assert (await cloud.get(CURRENT))["ownerSetLimitation"] is None
    assert await cloud.get(MANUAL) == {"enable": False, "mode": None, "endTime": None}


async def test_pv_limit(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(SOLAR) == {"powerLimit": "4294967.295"}
    assert await cloud.put(SOLAR, powerLimit="5.000") == SUCCESS
    assert await cloud.get(SOLAR) == {"powerLimit": "5.000"}
    assert await cloud.put(SOLAR, powerLimit="4294967.295") == SUCCESS
    assert sim.stations[0].settings.pv_limit_kw is None


async def test_grid_current_limit_and_its_read_back(cloud: Cloud) -> None:
    assert await cloud.get(CURRENT) == {
        "enable": True,
        "currentLimitation": "32.0",
        "ownerSetLimitation": "",
        "installerSetLimitation": "32.0",
    }
    body = {"enable": True, "ownerSetLimitation": "25.0", "installerSetLimitation": None}
    assert await cloud.put(CURRENT, **body) == SUCCESS
    data = await cloud.get(CURRENT)
    assert (data["currentLimitation"], data["ownerSetLimitation"]) == ("25.0", "25.0")
    # the installer's value as the owner's: the cloud clears the owner's
    assert await cloud.put(CURRENT, **{**body, "ownerSetLimitation": "32.0"}) == SUCCESS
    data = await cloud.get(CURRENT)
    assert (data["currentLimitation"], data["ownerSetLimitation"]) == ("32.0", "")


async def test_manual_control_start_read_stop(cloud: Cloud, sim: Simulator) -> None:
    assert await cloud.get(MANUAL) == {"enable": False, "mode": "", "endTime": ""}
    start = {"enable": True, "mode": "1", "duration": "90", "powerLimitation": "2.000"}
    assert await cloud.put(MANUAL, **start) == SUCCESS
    end = str(int(START + 90 * 60))
    assert await cloud.get(MANUAL) == {"enable": True, "mode": "1", "endTime": end}
    display = await cloud.get(f"{MANUAL}/display")
    assert display == {"batteryPower": pytest.approx(-2.0), "batterySoc": 50.0}
    stop = {"enable": False, "mode": "", "duration": "", "powerLimitation": ""}
    assert await cloud.put(MANUAL, **stop) == SUCCESS
    # the read-back keeps the last session's mode and end time
    assert await cloud.get(MANUAL) == {"enable": False, "mode": "1", "endTime": end}
    assert not sim.stations[0].manual_control_active()
    # the short stop of one client works too
    assert await cloud.put(MANUAL, enable=True, mode="2", duration="30") == SUCCESS
    assert await cloud.put(MANUAL, enable=False) == SUCCESS
    assert (await cloud.get(MANUAL))["enable"] is False


async def test_manual_control_ends_by_itself(cloud: Cloud, sim: Simulator) -> None:
    start = {"enable": True, "mode": "0", "duration": "30", "powerLimitation": "4294967.295"}
    assert await cloud.put(MANUAL, **start) == SUCCESS
    await sim.advance(29 * 60)
    assert (await cloud.get(MANUAL))["enable"] is True
    await sim.advance(60)
    assert await cloud.get(MANUAL) == {
        "enable": False,
        "mode": "0",
        "endTime": str(int(START + 30 * 60)),
    }


@pytest.mark.sim_config(manual_control_durations="app")
async def test_manual_control_durations_as_the_app_offers(cloud: Cloud) -> None:
    start = {"enable": True, "mode": "2", "powerLimitation": ""}
    for duration in ("15", "45", "150"):
        assert (await cloud.put(MANUAL, **start, duration=duration))["code"] == 1000
    assert await cloud.put(MANUAL, **start, duration="120") == SUCCESS


# ---------------------------------------------------------------------- refusals

BAD_WRITES = [
    (LEVEL, {**LEVELS, "backupSOC": None}),  # all four together
    (LEVEL, {**LEVELS, "chargeSOC": "101"}),
    (LEVEL, {**LEVELS, "chargeSOC": "0"}),
    (LEVEL, {**LEVELS, "dischargeSOC": "100"}),
    (LEVEL, {**LEVELS, "dischargeSOC": "96"}),  # above the charge cut-off
    (LEVEL, {**LEVELS, "peakShavingSOC": "12.5"}),
    (LEVEL, {**LEVELS, "backupSOC": "many"}),
    (RESERVE, {"backupReserve": 101}),
    (EXPORT, {"ownerSetEnable": "yes"}),
    (LIMIT, {"batteryMaxChargingPower": "-1.000", "batteryMaxDischargingPower": "1.000"}),
    (LIMIT, {"batteryMaxChargingPower": "1.000"}),
    (f"{GRID}/export", {"enable": True, "maxLimitationOwner": "10.500"}),  # above the installer
    (f"{GRID}/import", {"maxLimitationOwner": "1.000"}),
    (SOLAR, {"powerLimit": "nan"}),
    (CURRENT, {"enable": True, "ownerSetLimitation": "40.0"}),
    (MANUAL, {"enable": True, "mode": "4", "duration": "30"}),
    (MANUAL, {"enable": True, "mode": "charge", "duration": "30"}),
    (MANUAL, {"enable": True, "mode": "0", "duration": "0"}),
    (MANUAL, {"enable": True, "mode": "0", "duration": "1441"}),
    (MANUAL, {"enable": True, "mode": "0", "duration": "30", "powerLimitation": "100.001"}),
    (MANUAL, {"mode": "0", "duration": "30"}),
]


@pytest.mark.parametrize(("path", "fields"), BAD_WRITES)
async def test_bad_writes_are_param_illegal_and_change_nothing(
    cloud: Cloud, sim: Simulator, path: str, fields: dict[str, Any]
) -> None:
    station = sim.stations[0]
    before = (station.settings, station.manual, station.charge_cutoff_soc)
    body = await cloud.put(path, **fields)
    assert body["code"] == 1000, body
    assert body["msg"].startswith("param illegal")
    assert body["data"] is None
    assert (station.settings, station.manual, station.charge_cutoff_soc) == before


@pytest.mark.parametrize("path", [LEVEL, EXPORT, LIMIT, f"{GRID}/export", SOLAR, CURRENT, MANUAL])
async def test_refusals_of_every_endpoint(cloud: Cloud, path: str) -> None:
    status, body = await cloud.call("GET", f"{path}/99")
    assert (status, body["code"]) == (200, 1106)
    status, body = await cloud.call("PUT", path, {"stationId": 99, "enable": False})
    assert (status, body["code"]) == (200, 1106)
    status, body = await cloud.call("PUT", path, [1, 2])
    assert body["code"] == 1000
    cloud.token = "nope"
    status, body = await cloud.call("GET", f"{path}/{cloud.sid}")
    assert (status, body["code"]) == (401, 401)


@pytest.mark.sim_config(strict_setting_types=True)
async def test_strict_types(cloud: Cloud) -> None:
    assert (await cloud.put(SOLAR, powerLimit=5))["code"] == 1000
    assert (await cloud.put(LEVEL, **{**LEVELS, "chargeSOC": 90}))["code"] == 1000
    assert (await cloud.put(RESERVE, backupReserve="30"))["code"] == 1000
    assert (await cloud.put(MANUAL, enable=True, mode=0, duration="30"))["code"] == 1000
    _, body = await cloud.call("PUT", SOLAR, {"stationId": str(cloud.sid), "powerLimit": "5"})
    assert body["code"] == 1000
    assert await cloud.put(SOLAR, powerLimit="5") == SUCCESS


async def test_lenient_types(cloud: Cloud) -> None:
    _, body = await cloud.call("PUT", SOLAR, {"stationId": str(cloud.sid), "powerLimit": 5})
    assert body == SUCCESS
    assert await cloud.put(MANUAL, enable=True, mode=3, duration=60) == SUCCESS


# ---------------------------------------------------------------------- faults


async def test_write_acknowledged_but_not_applied(cloud: Cloud, sim: Simulator) -> None:
    sim.faults.not_applied("solar/limit", count=1)
    assert await cloud.get(SOLAR) == {"powerLimit": "4294967.295"}  # a read spends nothing
    assert await cloud.put(SOLAR, powerLimit="5.000") == SUCCESS
    assert await cloud.get(SOLAR) == {"powerLimit": "4294967.295"}  # not applied
    assert await cloud.put(SOLAR, powerLimit="5.000") == SUCCESS
    assert await cloud.get(SOLAR) == {"powerLimit": "5.000"}  # the fault was spent


async def test_not_applied_still_refuses_bad_values(cloud: Cloud, sim: Simulator) -> None:
    sim.faults.not_applied("battery/level")
    assert (await cloud.put(LEVEL, **{**LEVELS, "chargeSOC": "101"}))["code"] == 1000
    assert await cloud.put(LEVEL, **LEVELS) == SUCCESS
    assert (await cloud.get(LEVEL))["chargeSOC"] == "100"


async def test_not_applied_from_the_control_api_and_on_manual_control(
    cloud: Cloud, sim: Simulator
) -> None:
    async with cloud.session.post(
        sim.control_url + "faults", json={"kind": "not_applied", "pattern": "*/manunal"}
    ) as r:
        assert (await r.json())["data"]["kind"] == "not_applied"
    assert await cloud.put(MANUAL, enable=True, mode="0", duration="30") == SUCCESS
    assert (await cloud.get(MANUAL))["enable"] is False
    assert not sim.stations[0].manual_control_active()


async def test_not_applied_on_the_mode_switch(cloud: Cloud, sim: Simulator) -> None:
    sim.faults.not_applied("energy-profile/mode", count=1)
    body = await cloud.put("device/energy-profile/mode", operationMode=5, profileId=-1)
    assert body["code"] == 0
    assert sim.stations[0].mode == 0


async def test_rate_limits_and_server_errors_reach_the_settings(
    cloud: Cloud, sim: Simulator
) -> None:
    sim.faults.rate_limit(GRID, 429, count=1)
    status, body = await cloud.call("GET", f"{GRID}/export/{cloud.sid}")
    assert (status, body["code"]) == (429, 429)
    sim.faults.rate_limit("battery/level", 1110, count=1, method="PUT")
    status, body = await cloud.call("PUT", LEVEL, {"stationId": cloud.sid, **LEVELS})
    assert (status, body["code"]) == (200, 1110)
    assert sim.stations[0].charge_cutoff_soc == 100.0
    sim.faults.server_error(MANUAL, 503, count=1)
    status, _ = await cloud.call("PUT", MANUAL, {"stationId": cloud.sid, "enable": False})
    assert status == 503
    assert await cloud.put(MANUAL, enable=False) == SUCCESS


# ---------------------------------------------------------------------- control API


async def test_control_api_reads_and_changes_the_settings(cloud: Cloud, sim: Simulator) -> None:
    system_id = sim.stations[0].system_id
    url = f"{sim.control_url}stations/{system_id}/settings"
    async with cloud.session.get(url) as r:
        view = (await r.json())["data"]
    assert view["exportLimitInstallerKw"] == 10.0
    # the grid current limit (32 A on three phases of 230 V) caps both directions
    assert view["exportCapKw"] == view["importCapKw"] == pytest.approx(32 * 230 * 3 / 1000)
    assert view["reserveSoc"] == 15.0
    assert view["manualControl"]["active"] is False
    change = {"exportLimitInstallerKw": 6.0, "exportLimitEnabled": True, "pvLimitKw": 4}
    async with cloud.session.post(url, json=change) as r:
        view = (await r.json())["data"]
    assert (view["exportCapKw"], view["pvLimitKw"]) == (6.0, 4)
    assert (await cloud.get(f"{GRID}/export"))["maxLimitationInstaller"] == "6.000"
    for bad in ({"nope": 1}, {"exportLimitEnabled": "yes"}, {"exportLimitOwnerKw": 7.0}):
        async with cloud.session.post(url, json=bad) as r:
            assert r.status == 400
    manual = f"{sim.control_url}stations/{system_id}/manual-control"
    async with cloud.session.post(manual, json={"mode": "hold", "durationMin": 10}) as r:
        assert (await r.json())["data"]["manualControl"]["active"] is True
    assert (await cloud.get(MANUAL))["mode"] == "2"
    async with cloud.session.post(manual, json={"mode": "boost", "durationMin": 10}) as r:
        assert r.status == 400
    async with cloud.session.delete(manual) as r:
        assert (await r.json())["data"]["manualControl"]["active"] is False


# ---------------------------------------------------------------------- end to end


async def energy_flow(cloud: Cloud) -> dict[str, Any]:
    status, body = await cloud.call("GET", f"device/sigen/station/energyflow?id={cloud.sid}")
    assert status == 200
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.sim_config(initial_soc=95)
async def test_writes_change_what_the_energy_flow_shows(cloud: Cloud, sim: Simulator) -> None:
    await cloud.put(LEVEL, **{**LEVELS, "chargeSOC": "96"})
    await sim.advance(1800)  # full at the charge cut-off: the noon surplus is exported
    flow = await energy_flow(cloud)
    assert flow["batterySoc"] == pytest.approx(96.0, abs=0.1)
    assert flow["buySellPower"] > 3.0
    body = {"enable": True, "maxLimitationOwner": "1.500", "maxLimitationInstaller": None}
    await cloud.put(f"{GRID}/export", **body)
    await sim.advance(300)
    assert (await energy_flow(cloud))["buySellPower"] == pytest.approx(1.5, abs=0.011)
    await cloud.put(MANUAL, enable=True, mode="1", duration="30", powerLimitation="")
    await cloud.put(f"{GRID}/export", **{**body, "enable": False})
    await sim.advance(600)
    flow = await energy_flow(cloud)
    assert flow["batteryPower"] == -5.0  # discharging at the rated power
    assert flow["batterySoc"] == pytest.approx(96.0 - 5 * 10 / 60 * 10, abs=0.2)
    await sim.advance(1200)  # the session ends by itself: self-consumption again
    assert (await energy_flow(cloud))["batteryPower"] >= 0.0
    assert (await cloud.get(MANUAL))["enable"] is False
