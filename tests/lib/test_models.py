"""Typed models built from the documented payloads (§1.5, §1.6, §5 of the API notes)."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigen.errors import SigenAPIError
from sigen.models import (
    CurrentMode,
    EnergyFlow,
    NBEnergyFlow,
    NBSummary,
    NBSystem,
    OnboardResult,
    OperationalMode,
    SmartLoad,
    SmartLoadConsumption,
    StationInfo,
    match_system,
    pair_stations,
)

# The real capture of §1.6 ([deadl0ck]).
CAPTURED_FLOW = {
    "acPower": 0.0,
    "acRunStatus": None,
    "batteryPower": 0.0,
    "batterySoc": 100.0,
    "buySellPower": 2.86,
    "dateCurrTimeStamp": "",
    "evPower": 0.0,
    "generatorPower": 0.0,
    "heatPumpPower": 0.0,
    "loadPower": 2.64,
    "onGrid": True,
    "onOffGridStatus": 0,
    "pvDayNrg": 6.21,
    "pvPower": 5.5,
    "showHibernateStatus": None,
    "stationSnCode": "2025041600173",
    "stationStatus": 1,
    "thirdPvPower": 0.0,
    "greenSourceInfos": [{"sourceId": "FROM_SOLAR", "currentPower": 0.0, "soc": 4.6}],
}


def test_station_info_documented_payload() -> None:
    station = StationInfo.from_dict(
        {
            "stationId": 20240523012345,
            "hasPv": True,
            "hasEv": False,
            "hasAcCharger": True,
            "acSnList": ["AC123"],
            "dcSnList": [],
            "onGrid": True,
            "pvCapacity": 10.3,
            "batteryCapacity": 8.06,
            "stationSnCode": "2025041600173",
            "stationCode": "TAETN1768371966",
        }
    )
    assert station.station_id == "20240523012345"
    assert station.sn_code == "2025041600173"
    assert station.station_code == station.system_id == "TAETN1768371966"
    assert station.has_pv is True
    assert station.has_ev is False
    assert station.has_ac_charger is True
    assert station.ac_sn_list == ["AC123"]
    assert station.dc_sn_list == []
    assert station.on_grid is True
    assert station.pv_capacity == 10.3
    assert station.battery_capacity == 8.06
    assert station.raw["stationId"] == 20240523012345


def test_station_info_string_id_and_missing_fields() -> None:
    station = StationInfo.from_dict({"stationId": "12025061000219"})
    assert station.station_id == "12025061000219"
    assert station.has_pv is None
    assert station.pv_capacity is None
    assert station.ac_sn_list == []
    assert station.station_code is None
    assert station.system_id is None
    assert station.sn_code is None
    with pytest.raises(SigenAPIError, match="no stationId"):
        StationInfo.from_dict({"hasPv": True})
    with pytest.raises(SigenAPIError, match="expected a JSON object, got list"):
        StationInfo.from_dict([])  # type: ignore[arg-type]


def test_energy_flow_capture_and_signs() -> None:
    flow = EnergyFlow.from_dict(CAPTURED_FLOW)
    assert flow.pv_power == 5.5
    assert flow.load_power == 2.64
    assert flow.buy_sell_power == 2.86  # as sent: + = export
    assert flow.grid_power == -2.86  # library: + = import
    assert flow.grid_export_power == 2.86
    assert flow.grid_import_power == 0.0
    assert flow.battery_power == 0.0
    assert flow.battery_power_raw == 0.0
    assert flow.battery_soc == 100.0
    assert flow.pv_day_energy == 6.21
    assert flow.on_grid is True
    assert flow.on_off_grid_status == 0
    assert flow.station_status == 1
    assert flow.station_sn == "2025041600173"
    assert flow.third_party_pv_power == 0.0
    assert flow.generator_power == 0.0
    assert flow.raw["greenSourceInfos"][0]["sourceId"] == "FROM_SOLAR"


@pytest.mark.parametrize(
    ("pv", "load", "buy_sell", "battery"),
    [
        (0.0, 3.56, -9.06, 5.5),  # night, importing and charging (§1.6 example)
        (6.0, 0.81, 4.69, 0.5),  # exporting while charging a little
        (0.0, 4.0, 0.0, -4.0),  # battery discharging into the house
    ],
)
def test_energy_flow_balance_with_library_signs(
    pv: float, load: float, buy_sell: float, battery: float
) -> None:
    flow = EnergyFlow.from_dict(
        {"pvPower": pv, "loadPower": load, "buySellPower": buy_sell, "batteryPower": battery}
    )
    assert flow.grid_power == -buy_sell
    assert flow.battery_power == -battery
    if battery > 0:
        assert flow.battery_charge_power == battery
        assert flow.battery_discharge_power == 0.0
    if buy_sell < 0:
        assert flow.grid_import_power == -buy_sell
    assert flow.pv_power is not None
    assert flow.grid_power is not None
    assert flow.battery_power is not None
    # pv + grid (+ import) + battery (+ discharge) covers the load
    assert flow.pv_power + flow.grid_power + flow.battery_power == pytest.approx(load)


def test_energy_flow_missing_and_strings() -> None:
    flow = EnergyFlow.from_dict({"pvPower": "1.5", "batterySoc": "--"})
    assert flow.pv_power == 1.5
    assert flow.battery_soc is None
    assert flow.grid_power is None
    assert flow.grid_import_power is None
    assert flow.battery_charge_power is None
    assert flow.on_grid is None
    empty = EnergyFlow.from_dict({})
    assert all(getattr(empty, f.name) is None for f in dataclasses.fields(empty) if f.name != "raw")


def test_energy_flow_zero_is_not_negative_zero() -> None:
    flow = EnergyFlow.from_dict({"buySellPower": 0.0, "batteryPower": 0})
    assert str(flow.grid_power) == "0.0"
    assert str(flow.battery_power) == "0.0"


def test_models_are_frozen() -> None:
    flow = EnergyFlow.from_dict(CAPTURED_FLOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.pv_power = 1.0  # type: ignore[misc]


def test_operational_modes() -> None:
    ai = OperationalMode.from_dict({"label": "Sigen AI Mode", "value": "1"})
    assert ai.label == "Sigen AI Mode"
    assert ai.value == 1
    assert ai.profile_id == -1
    assert ai.is_profile is False
    assert ai.method_name == "set_operational_mode_sigen_ai_mode"
    msp = OperationalMode.from_default(
        {"label": "Maximum Self-Powered", "value": "0", "sortOrder": 1, "remarks": None}
    )
    assert msp.method_name == "set_operational_mode_maximum_self_powered"
    assert msp.value == 0
    profile = OperationalMode.from_dict({"name": "Summer 50kWh", "profileId": 3126, "value": 9})
    assert profile.is_profile is True
    assert profile.profile_id == 3126
    assert profile.value == 9
    assert profile.method_name == "set_operational_mode_summer_50kwh"
    no_value = OperationalMode.from_profile({"name": "Storm Ready", "profileId": "3939"})
    assert no_value.value == 9
    assert no_value.profile_id == 3939


@pytest.mark.parametrize(
    "item",
    [
        {"label": "No value"},
        {"value": "1"},
        {"label": "Bad", "value": "one"},
        {"name": "Profile", "profileId": None},
        {"name": None, "profileId": 5},
    ],
)
def test_operational_mode_rejects_unusable_items(item: dict[str, object]) -> None:
    with pytest.raises(SigenAPIError, match="Cannot read"):
        OperationalMode.from_dict(item)


def test_current_mode() -> None:
    current = CurrentMode.from_dict({"currentMode": 2, "currentProfileId": -1})
    assert current == CurrentMode(mode=2, profile_id=-1, label=None)
    profile = CurrentMode.from_dict({"currentMode": "9", "currentProfileId": "4326"}, "Winter")
    assert (profile.mode, profile.profile_id, profile.label) == (9, 4326, "Winter")
    assert CurrentMode.from_dict({"currentMode": 1}).profile_id == -1
    with pytest.raises(SigenAPIError, match="currentMode is None"):
        CurrentMode.from_dict({})


def test_smart_load() -> None:
    load = SmartLoad.from_dict(
        {"name": "Immersion", "path": 1, "valueWithUnit": "0.00 kW", "manualSwitch": 1}
    )
    assert load == SmartLoad(name="Immersion", path=1, power=0.0, on=True)
    assert load.enable_method_name == "enable_smart_load_immersion"
    assert load.disable_method_name == "disable_smart_load_immersion"
    off = SmartLoad.from_dict(
        {"name": "Pool Pump", "path": "2", "valueWithUnit": "750 W", "manualSwitch": 0}
    )
    assert off.on is False
    assert off.path == 2
    assert off.power == pytest.approx(0.75)
    assert off.enable_method_name == "enable_smart_load_pool_pump"
    unknown = SmartLoad.from_dict({"name": "X", "path": 3})
    assert unknown.power is None
    assert unknown.on is False
    with pytest.raises(SigenAPIError, match="integer path"):
        SmartLoad.from_dict({"name": "X", "path": "one"})


def test_smart_load_consumption_strings_with_units() -> None:
    usage = SmartLoadConsumption.from_dict(
        {
            "todayConsumption": "4.79 kWh",
            "monthConsumption": "93.04 kWh",
            "lifetimeConsumption": "1.2 MWh",
        }
    )
    assert usage.today == 4.79
    assert usage.month == 93.04
    assert usage.lifetime == pytest.approx(1200.0)
    assert SmartLoadConsumption.from_dict({}).today is None


def test_nb_system() -> None:
    system = NBSystem.from_dict(
        {
            "systemId": "NDXZZ1731665796",
            "systemName": "pfh24",
            "addr": "*** Shanghai China",
            "status": "normal",
            "isActivate": True,
            "onOffGridStatus": "onGrid",
            "timeZone": "Asia/Shanghai",
            "gridConnectTime": 1711814399,
            "pvCapacity": 80,
            "batteryCapacity": 8,
        }
    )
    assert system.system_id == "NDXZZ1731665796"
    assert system.name == "pfh24"
    assert system.status == "normal"
    assert system.is_activate is True
    assert system.on_off_grid_status == "onGrid"
    assert system.time_zone == "Asia/Shanghai"
    assert system.pv_capacity == 80.0
    assert system.battery_capacity == 8.0
    assert system.address == "*** Shanghai China"
    assert system.grid_connect_time == 1711814399
    with pytest.raises(SigenAPIError, match="no systemId"):
        NBSystem.from_dict({"systemName": "x"})


def test_nb_energy_flow_signs() -> None:
    # SolarNetwork sample: pv 0.3 + battery 4.3 (discharging) - 3.71 exported = 0.89 load
    flow = NBEnergyFlow.from_dict(
        {
            "pvPower": 0.3,
            "gridPower": 3.71,
            "evPower": 0.0,
            "loadPower": 0.89,
            "heatPumpPower": 0.0,
            "batteryPower": -4.3,
            "batterySoc": 88.3,
        }
    )
    assert flow.grid_power == -3.71
    assert flow.grid_power_raw == 3.71
    assert flow.grid_export_power == 3.71
    assert flow.battery_power == 4.3
    assert flow.battery_discharge_power == 4.3
    assert flow.battery_charge_power == 0.0
    assert flow.battery_soc == 88.3
    assert flow.pv_power is not None
    assert flow.pv_power + flow.grid_power + flow.battery_power == pytest.approx(0.89)


def test_nb_summary() -> None:
    summary = NBSummary.from_dict(
        {
            "dailyPowerGeneration": 0.0,
            "monthlyPowerGeneration": 0.0,
            "annualPowerGeneration": 1394.37,
            "lifetimePowerGeneration": 1394.38,
            "lifetimeCo2": 0.66,
            "lifetimeCoal": 0.56,
            "lifetimeTreeEquivalent": 0.9,
        }
    )
    assert summary.daily_generation == 0.0
    assert summary.annual_generation == 1394.37
    assert summary.lifetime_generation == 1394.38
    assert summary.lifetime_co2 == 0.66
    assert summary.lifetime_tree_equivalent == 0.9


def test_onboard_results() -> None:
    done = OnboardResult.from_dict({"systemId": "A", "result": True, "codeList": []})
    assert (done.result, done.pending, done.codes) == (True, False, [])
    assert done.description == "A: done"
    pending = OnboardResult.from_dict({"systemId": "B", "result": False, "codeList": [1116]})
    assert pending.pending is True
    assert "owner's approval" in pending.description
    refused = OnboardResult.from_dict({"systemId": "C", "result": False, "codeList": ["1103"]})
    assert refused.pending is False
    assert refused.codes == [1103]
    assert "1103 (the system is in another VPP)" in refused.description
    odd = OnboardResult.from_dict({"systemId": "D", "result": "false", "codeList": 1106})
    assert odd.codes == [1106]
    assert odd.result is False
    with pytest.raises(SigenAPIError):
        OnboardResult.from_dict({"result": True})


MODELS = [
    StationInfo,
    EnergyFlow,
    OperationalMode,
    CurrentMode,
    SmartLoad,
    SmartLoadConsumption,
    NBSystem,
    NBEnergyFlow,
    NBSummary,
    OnboardResult,
]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "stationId",
                "pvPower",
                "buySellPower",
                "batteryPower",
                "label",
                "value",
                "name",
                "profileId",
                "path",
                "valueWithUnit",
                "manualSwitch",
                "currentMode",
                "systemId",
                "codeList",
                "result",
                "todayConsumption",
                "gridPower",
                "acSnList",
            ]
        ),
        _json,
    )
)
def test_models_only_raise_sigen_api_error(data: dict[str, object]) -> None:
    for model in MODELS:
        with contextlib.suppress(SigenAPIError):
            model.from_dict(data)


# --------------------------------------------------------------------------- pairing


def _station(**kwargs: object) -> StationInfo:
    data: dict[str, object] = {
        "stationId": 102026062300090,
        "stationName": "Home",
        "pvCapacity": 10.3,
        "batteryCapacity": 8.06,
        "stationSnCode": "2025041600173",
    }
    data.update(kwargs)
    return StationInfo.from_dict({k: v for k, v in data.items() if v is not None})


def _system(
    system_id: str, name: str | None = "Home", pv: float = 10.3, bat: float = 8.06
) -> NBSystem:
    return NBSystem.from_dict(
        {"systemId": system_id, "systemName": name, "pvCapacity": pv, "batteryCapacity": bat}
    )


def test_station_show_name_is_a_name() -> None:
    assert _station(stationName=None, stationShowName="Shown").name == "Shown"


def test_match_by_station_code_only() -> None:
    station = _station(stationCode="TAETN1768371966")
    same_looks = _system("NDXZZ1731665796")
    right = _system("TAETN1768371966", name="Other name", pv=1, bat=1)
    assert match_system(station, [same_looks, right]) is right
    # With a stationCode, a look-alike is never taken for it.
    assert match_system(station, [same_looks]) is None


def test_match_by_name_and_capacities() -> None:
    station = _station()
    assert station.system_id is None
    right = _system("TAETN1768371966")
    assert match_system(station, [right, _system("X1", name="Cabin", pv=3, bat=5)]) is right
    # Name differs in case and blanks only; capacities agree within rounding.
    assert match_system(station, [_system("A", name=" home ", pv=10.30001)]) is not None
    # A contradiction (battery differs) rules a system out.
    assert match_system(station, [_system("A", bat=16.0)]) is None
    # Nothing known to compare: no match.
    bare = StationInfo.from_dict({"stationId": 1})
    assert match_system(bare, [_system("A")]) is None
    # Two look-alikes: cannot tell.
    assert match_system(station, [_system("A"), _system("B")]) is None
    # The numeric stationSnCode is never compared with system ids.
    assert match_system(station, [_system("2025041600173", name="x", pv=1, bat=1)]) is None


def test_match_with_partly_known_fields() -> None:
    station = _station(stationName=None)
    assert match_system(station, [_system("A", name="Anything")]) is not None
    nameless = NBSystem.from_dict({"systemId": "B", "batteryCapacity": 8.06})
    assert match_system(station, [nameless]) is nameless


def test_pair_stations() -> None:
    coded = _station(stationId=1, stationCode="TAETN1768371966", stationName="Home")
    guessed = _station(stationId=2, stationName="Cabin", pvCapacity=3, batteryCapacity=5)
    lost = _station(stationId=3, stationName="Barn", pvCapacity=7, batteryCapacity=0)
    systems = [
        _system("TAETN1768371966"),
        _system("CABIN00000000001", name="Cabin", pv=3, bat=5),
    ]
    pairs = pair_stations([coded, guessed, lost], systems)
    assert {k: v.system_id for k, v in pairs.items()} == {
        "1": "TAETN1768371966",
        "2": "CABIN00000000001",
    }
    # A system taken by its stationCode is not offered to the others.
    twin = _station(stationId=4, stationName="Home")
    pairs = pair_stations([coded, twin], [_system("TAETN1768371966")])
    assert set(pairs) == {"1"}
    # Two stations that would match the same system get neither.
    a = _station(stationId=5, stationName="Cabin", pvCapacity=3, batteryCapacity=5)
    b = _station(stationId=6, stationName="Cabin", pvCapacity=3, batteryCapacity=5)
    assert pair_stations([a, b], systems) == {}
