"""The station model: energy balance over a day, modes, battery commands, counters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sigen_sim import SimConfig, SimStation, Simulator
from sigen_sim.app_api.stations import energy_flow
from sigen_sim.control_stations import station_state
from sigen_sim.model import Sample
from sigen_sim.mqtt_payloads import system_values, telemetry_values
from sigen_sim.northbound_api import nb_summary

TZ = ZoneInfo("Europe/Dublin")
MIDNIGHT = datetime(2026, 6, 21, tzinfo=TZ).timestamp()
HOUR = 3600.0


def config(**kwargs: object) -> SimConfig:
    base: dict[str, object] = {"time_scale": 0, "start_time": MIDNIGHT}
    base.update(kwargs)
    return SimConfig(**base)  # type: ignore[arg-type]


def assert_balanced(s: Sample) -> None:
    assert s.pv - s.battery - s.buy_sell == pytest.approx(s.load, abs=1e-6)


async def test_energy_balance_over_a_simulated_day() -> None:
    sim = Simulator(config(telemetry_shape="official"))  # the model needs no server
    station = sim.stations[0]
    pv_by_hour: dict[int, float] = {}
    for i in range(24 * 12):
        s = station.sample()
        assert_balanced(s)
        assert 0.0 <= s.soc <= 100.0
        assert s.pv >= 0.0
        assert s.load > 0.0
        values = telemetry_values(station)
        assert all(isinstance(v, str) for v in values.values())
        # W, real signs: gridActivePowerW + = import, storage + = charging
        pv_w = float(values["pvPowerW"])
        grid_w = float(values["gridActivePowerW"])
        storage_w = float(values["storageChargeDischargePowerW"])
        assert pv_w + grid_w - storage_w == pytest.approx(s.load * 1000, abs=1.0)
        assert float(values["inverterActivePowerW"]) == pytest.approx(pv_w - storage_w, abs=1.0)
        if i % 12 == 0:
            pv_by_hour[i // 12] = s.pv
        await sim.advance(300)
    for night in (0, 2, 4, 21, 23):
        assert pv_by_hour[night] == 0.0
    assert pv_by_hour[13] > 3.0
    assert station.pv_day_kwh > 20.0
    flow = energy_flow(station)
    assert flow["pvDayNrg"] > 20.0


async def test_pv_day_energy_resets_at_local_midnight() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 12 * HOUR))
    station = sim.stations[0]
    await sim.advance(11 * HOUR)
    day_energy = energy_flow(station)["pvDayNrg"]
    assert day_energy > 5.0
    lifetime = nb_summary(station)["lifetimePowerGeneration"]
    await sim.advance(2 * HOUR)  # past midnight, still dark
    assert energy_flow(station)["pvDayNrg"] == 0.0
    assert nb_summary(station)["dailyPowerGeneration"] == 0.0
    assert nb_summary(station)["lifetimePowerGeneration"] == pytest.approx(lifetime, abs=0.01)


async def test_month_and_year_counters_roll_over() -> None:
    new_year_eve = datetime(2026, 12, 31, 12, tzinfo=TZ).timestamp()
    sim = Simulator(config(start_time=new_year_eve))
    station = sim.stations[0]
    station.set_smart_load(1, True)
    await sim.advance(6 * HOUR)
    assert station.pv_month_kwh > 0
    assert station.pv_year_kwh > 0
    assert station.smart_load(1).month_kwh == pytest.approx(18.0, abs=0.01)
    await sim.advance(7 * HOUR)  # 01:00 on 1 January
    assert station.pv_month_kwh == 0.0
    assert station.pv_year_kwh == 0.0
    assert station.smart_load(1).month_kwh == pytest.approx(3.0, abs=0.01)
    assert station.smart_load(1).lifetime_kwh == pytest.approx(39.0, abs=0.01)
    summary = nb_summary(station)
    assert summary["annualPowerGeneration"] == 0.0
    assert summary["lifetimePowerGeneration"] > 1394.38


async def test_self_consumption_at_night_and_noon() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=60))
    station = sim.stations[0]
    night = station.sample()
    assert night.pv == 0.0
    assert night.battery < 0  # discharging to cover the load
    assert night.buy_sell == pytest.approx(0.0, abs=0.011)
    await sim.advance(11 * HOUR)  # 13:00
    noon = station.sample()
    assert noon.pv > noon.load
    assert noon.battery > 0 or station.soc >= 99.0  # surplus into the battery
    assert noon.buy_sell >= 0


async def test_battery_never_leaves_its_limits() -> None:
    sim = Simulator(config(initial_soc=50))
    station = sim.stations[0]
    station.apply_battery_commands(
        [{"activeMode": "charge", "startTime": int(MIDNIGHT), "duration": 600, "chargingPower": 5}]
    )
    await sim.advance(5 * HOUR)
    assert 99.0 < station.soc <= 100.0
    assert station.sample().battery < 0.5  # tapering at full
    station.apply_battery_commands(
        [
            {
                "activeMode": "discharge",
                "startTime": int(sim.clock.now()),
                "duration": 600,
                "chargingPower": 5,
            }
        ]
    )
    await sim.advance(5 * HOUR)
    assert station.discharge_cutoff_soc <= station.soc < station.discharge_cutoff_soc + 1


async def test_fully_fed_to_grid_keeps_battery_idle() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 13 * HOUR))
    station = sim.stations[0]
    station.set_mode(5)
    s = station.sample()
    assert s.battery == 0.0
    assert s.buy_sell == pytest.approx(s.pv - s.load, abs=0.011)
    soc = station.soc
    await sim.advance(HOUR)
    assert station.soc == soc


async def test_tou_charges_from_grid_in_cheap_window() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=30))
    station = sim.stations[0]
    station.set_mode(2)
    s = station.sample()
    assert s.battery == pytest.approx(5.0)
    assert s.buy_sell < -5.0  # importing for load + charging
    await sim.advance(HOUR)
    assert station.soc == pytest.approx(80.0, abs=1.0)
    await sim.advance(4 * HOUR)  # 07:00, outside the window: self-consumption
    assert station.sample().battery <= 0.5


@pytest.mark.parametrize("mode", [1, 6, 7, 8])
async def test_other_modes_self_consume_without_commands(mode: int) -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR))
    station = sim.stations[0]
    station.set_mode(mode)
    assert station.sample().battery < 0


async def test_custom_profile_mode_and_bad_modes() -> None:
    station = Simulator(config()).stations[0]
    station.set_mode(9, 3126)
    assert station.mode_label() == "Summer 50kWh"
    with pytest.raises(ValueError, match="profile"):
        station.set_mode(9, 1)
    with pytest.raises(ValueError, match="mode"):
        station.set_mode(3)
    station.set_mode(8)
    assert station.mode_label() == "North Bound"
    assert station.profile_id == -1


# ---------------------------------------------------------------------- commands


def cmd(sim: Simulator, mode: str, minutes: int = 60, **extra: object) -> dict[str, object]:
    item: dict[str, object] = {
        "systemId": sim.stations[0].system_id,
        "activeMode": mode,
        "startTime": int(sim.clock.now()),
        "duration": minutes,
    }
    item.update(extra)
    return item


async def test_charge_command_charges_the_battery() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=40))
    station = sim.stations[0]
    assert station.sample().battery < 0
    station.apply_battery_commands([cmd(sim, "charge", 60, chargingPower=3.0, pvPower=1.0)])
    s = station.sample()
    assert s.battery == pytest.approx(3.0)
    assert_balanced(s)
    await sim.advance(1800)
    assert station.soc == pytest.approx(55.0, abs=0.5)
    await sim.advance(1800)  # the command has ended
    assert station.sample().battery < 0
    assert station.applied_commands[0]["activeMode"] == "charge"
    assert station.active_command(sim.clock.now()) is None


async def test_discharge_idle_and_limits() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 13 * HOUR, initial_soc=80))
    station = sim.stations[0]
    station.apply_battery_commands([cmd(sim, "discharge", 10, chargingPower=2.0)])
    s = station.sample()
    assert s.battery == pytest.approx(-2.0)
    assert s.buy_sell > 0  # PV and battery exported
    await sim.advance(600)
    station.apply_battery_commands([cmd(sim, "idle", 10)])
    assert station.sample().battery == 0.0
    await sim.advance(600)
    # idle with no export: PV is curtailed to the load
    station.apply_battery_commands([cmd(sim, "idle", 10, maxSellPower=0)])
    s = station.sample()
    assert s.battery == 0.0
    assert s.buy_sell == pytest.approx(0.0, abs=0.011)
    assert_balanced(s)
    await sim.advance(600)
    station.apply_battery_commands([cmd(sim, "discharge", 10, maxSellPower=1.0)])
    s = station.sample()
    assert s.buy_sell <= 1.0 + 0.011
    assert_balanced(s)


async def test_charge_command_respects_max_purchase() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=40))
    station = sim.stations[0]
    station.apply_battery_commands([cmd(sim, "charge", 30, maxPurchasePower=2.0)])
    s = station.sample()
    assert -s.buy_sell <= 2.0 + 0.011
    assert s.battery > 0


async def test_self_consumption_grid_command() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=60))
    station = sim.stations[0]
    station.apply_battery_commands([cmd(sim, "selfConsumption-grid", 30)])
    s = station.sample()
    assert s.battery == 0.0
    assert s.buy_sell < 0  # the grid covers the load
    await sim.advance(1800)
    station.apply_battery_commands([cmd(sim, "selfConsumption", 30)])
    assert station.sample().battery < 0


async def test_future_and_millisecond_commands() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, initial_soc=40))
    station = sim.stations[0]
    start = int(sim.clock.now() + 600)
    station.apply_battery_commands(
        [{"activeMode": "charge", "startTime": start * 1000, "duration": 10}]
    )
    assert station.sample().battery < 0  # not yet
    await sim.advance(600)
    assert station.sample().battery == pytest.approx(5.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"activeMode": "boost", "duration": 10},
        {"activeMode": "charge", "duration": 0},
        {"activeMode": "charge"},
        {"activeMode": "charge", "duration": 10, "chargingPower": -1},
        {"activeMode": "charge", "duration": 10, "startTime": "soon"},
        {"activeMode": "charge", "duration": 10, "systemId": "OTHER"},
        "not a dict",
    ],
)
async def test_invalid_commands_are_skipped(bad: object) -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR))
    station = sim.stations[0]
    station.apply_battery_commands([bad, cmd(sim, "idle", 5)])  # type: ignore[list-item]
    assert len(station.applied_commands) == 1
    assert station.applied_commands[0]["activeMode"] == "idle"


async def test_commands_can_require_a_remote_mode() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 2 * HOUR, commands_need_remote_mode=True))
    station = sim.stations[0]
    station.apply_battery_commands([cmd(sim, "charge", 60)])
    assert station.sample().battery < 0  # ignored in MSC
    station.set_mode(6)
    assert station.sample().battery > 0


# ---------------------------------------------------------------------- counters and values


async def test_smart_load_counters() -> None:
    sim = Simulator(config(start_time=MIDNIGHT + 20 * HOUR))
    station = sim.stations[0]
    before = station.sample().load
    station.set_smart_load(2, True)
    assert station.sample().load == pytest.approx(before + 1.2, abs=0.011)
    await sim.advance(2 * HOUR)
    pump = station.smart_load(2)
    assert pump.today_kwh == pytest.approx(2.4, abs=0.01)
    assert pump.lifetime_kwh == pytest.approx(2.4, abs=0.01)
    await sim.advance(3 * HOUR)  # past midnight
    assert pump.today_kwh == pytest.approx(1.2, abs=0.01)  # 01:00: 1 h since midnight
    assert pump.lifetime_kwh == pytest.approx(6.0, abs=0.01)
    with pytest.raises(KeyError):
        station.smart_load(42)


async def test_system_values_and_pv_key_variant() -> None:
    sim = Simulator(config(telemetry_pv_key="PV power", start_time=MIDNIGHT + 13 * HOUR))
    station = sim.stations[0]
    values = telemetry_values(station)
    assert "PV power" in values
    assert "pvPowerW" not in values
    assert float(values["PV power"]) > 0
    assert values["operationalMode"] == "0.0"
    system = system_values(station)
    assert all(isinstance(v, str) for v in system.values())
    assert system["systemStatus"] == "running"
    assert system["batteryRatedCapabilityWh"] == "10000.0"
    assert system["peakShavingStatus"] in ("on", "off")


async def test_stations_are_distinct_and_deterministic() -> None:
    sim_a = Simulator(config(stations=3, start_time=MIDNIGHT + 12 * HOUR))
    sim_b = Simulator(config(stations=3, start_time=MIDNIGHT + 12 * HOUR))
    ids = {s.station_id for s in sim_a.stations}
    sids = {s.system_id for s in sim_a.stations}
    assert len(ids) == len(sids) == 3
    assert sim_a.station_by_system_id("SIMSYS00000003") is sim_a.stations[2]
    assert sim_a.station_by_id(str(sim_a.stations[1].station_id)) is sim_a.stations[1]
    assert sim_a.station_by_id("x") is None
    await sim_a.advance(1234)
    await sim_b.advance(600)
    await sim_b.advance(634)
    for a, b in zip(sim_a.stations, sim_b.stations, strict=True):
        assert a.sample() == b.sample()
    assert sim_a.stations[0].sample() != sim_a.stations[1].sample()


async def test_state_is_json_friendly() -> None:
    import json

    station: SimStation = Simulator(config()).stations[0]
    state = station_state(station)
    json.dumps(state)
    assert state["systemId"] == "SIMSYS00000001"
    assert state["activeCommand"] is None


def test_clock_rules() -> None:
    sim = Simulator(config())
    with pytest.raises(ValueError, match="back"):
        sim.clock.advance(-1)
    with pytest.raises(ValueError, match="time_scale"):
        Simulator(SimConfig(time_scale=-1))
    with pytest.raises(ValueError, match="station"):
        Simulator(SimConfig(stations=0))
