"""The owner's settings and manual control change the model's physics (§7 of the notes)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigen_sim import SimConfig, SimStation, Simulator
from sigen_sim.model import Sample
from sigen_sim.model.owner_settings import CurrentLimit, GridLimit, updated

TZ = ZoneInfo("Europe/Dublin")
MIDNIGHT = datetime(2026, 6, 21, tzinfo=TZ).timestamp()
HOUR = 3600.0


def simulator(hour: float, **kwargs: Any) -> Simulator:
    return Simulator(SimConfig(time_scale=0, start_time=MIDNIGHT + hour * HOUR, **kwargs))


def change(station: SimStation, **changes: Any) -> None:
    station.set_settings(updated(station.settings, **changes))


def balanced(s: Sample) -> Sample:
    assert s.pv - s.battery - s.buy_sell == pytest.approx(s.load, abs=1e-6)
    return s


# ---------------------------------------------------------------------- limits


def test_pv_limit_caps_the_pv() -> None:
    station = simulator(13).stations[0]
    assert station.sample().pv > 3.0
    change(station, pv_limit_kw=2.0)
    s = balanced(station.sample())
    assert s.pv == 2.0


def test_battery_power_limits_cap_the_battery() -> None:
    sim = simulator(13)
    station = sim.stations[0]
    assert station.sample().battery == 5.0  # the surplus at noon, at the rated power
    change(station, max_charge_kw=1.5)
    s = balanced(station.sample())
    assert s.battery == 1.5
    assert s.buy_sell > 0  # the rest is exported
    night = simulator(2).stations[0]
    night.start_manual_control("discharge", 60)
    assert night.sample().battery == -5.0
    change(night, max_discharge_kw=0.25)
    assert balanced(night.sample()).battery == -0.25


def test_export_limit_curtails_pv() -> None:
    station = simulator(13, initial_soc=100).stations[0]
    assert station.sample().buy_sell > 4.0
    change(station, export_limit=GridLimit(enabled=True, owner_kw=3.0))
    s = balanced(station.sample())
    assert s.buy_sell == pytest.approx(3.0, abs=0.011)
    assert s.battery == 0.0
    # off again: the limit no longer applies (the owner's value stays)
    change(station, export_limit=GridLimit(enabled=False, owner_kw=3.0))
    assert station.sample().buy_sell > 4.0


def test_export_limit_cuts_a_discharge_first() -> None:
    station = simulator(2).stations[0]
    station.start_manual_control("discharge", 60)
    assert station.sample().buy_sell > 4.0
    change(station, export_limit=GridLimit(enabled=True, owner_kw=1.0))
    s = balanced(station.sample())
    assert s.buy_sell == pytest.approx(1.0, abs=0.011)
    assert s.battery == pytest.approx(-(1.0 + s.load), abs=0.011)


def test_no_battery_export_discharges_for_the_house_only() -> None:
    station = simulator(2).stations[0]
    station.start_manual_control("discharge", 60)
    change(station, battery_export=False)
    s = balanced(station.sample())
    assert s.buy_sell == pytest.approx(0.0, abs=0.011)
    assert s.battery == pytest.approx(-s.load, abs=0.011)


def test_import_limit_cuts_grid_charging_then_the_battery_serves_the_load() -> None:
    station = simulator(2).stations[0]
    station.set_mode(2)  # TOU: charging from the grid at night
    assert station.sample().grid_import > 5.0
    change(station, import_limit=GridLimit(enabled=True, owner_kw=2.0))
    s = balanced(station.sample())
    assert s.grid_import == pytest.approx(2.0, abs=0.011)
    assert 0 < s.battery < 2.0
    station.start_manual_control("hold", 60)
    station.set_smart_load(1, True)
    station.set_smart_load(2, True)
    s = balanced(station.sample())
    assert s.grid_import == pytest.approx(2.0, abs=0.011)
    assert s.battery < -2.0  # the battery serves the load the grid may not


def test_grid_current_limit_caps_the_grid() -> None:
    station = simulator(13, initial_soc=100).stations[0]
    limit = CurrentLimit(enabled=True, owner_a=4.0, installer_a=32.0)  # 2.76 kW on 3 phases
    change(station, current_limit=limit)
    s = balanced(station.sample())
    assert s.buy_sell == pytest.approx(4 * 230 * 3 / 1000, abs=0.011)


# ---------------------------------------------------------------------- SOC levels


async def test_charge_cut_off_stops_charging() -> None:
    sim = simulator(9)
    station = sim.stations[0]
    station.set_system_values({"chargeCutOffSOC%": 60})
    await sim.advance(4 * HOUR)
    assert 59.0 <= station.soc <= 60.0
    s = balanced(station.sample())
    assert s.battery < 0.5
    assert s.buy_sell > 0  # the surplus goes to the grid instead
    # a cut-off lowered below the SOC stops charging but keeps the energy
    station.set_system_values({"chargeCutOffSOC%": 40})
    await sim.advance(HOUR)
    assert station.soc == pytest.approx(59.9, abs=0.2)


async def test_discharge_cut_off_stops_discharging() -> None:
    sim = simulator(0, backup_reserve=False)
    station = sim.stations[0]
    station.set_system_values({"dischargeCutOffSOC%": 30})
    station.start_manual_control("discharge", 120)
    await sim.advance(2 * HOUR)
    assert 30.0 <= station.soc < 31.0


@pytest.mark.parametrize(("kept", "floor"), [(True, 40.0), (False, 5.0)])
async def test_backup_soc_is_kept_in_reserve(kept: bool, floor: float) -> None:
    sim = simulator(0, backup_reserve=kept)
    station = sim.stations[0]
    station.set_system_values({"backupCutOffSOC%": 40})
    station.start_manual_control("discharge", 120)
    await sim.advance(2 * HOUR)
    assert floor <= station.soc < floor + 1
    # with the reserve reached, the house draws from the grid
    s = balanced(station.sample())
    assert s.battery > -0.3


async def test_a_northbound_command_may_use_the_reserve() -> None:
    sim = simulator(0)
    station = sim.stations[0]
    station.apply_battery_commands(
        [{"activeMode": "discharge", "startTime": int(sim.clock.now()), "duration": 120}]
    )
    await sim.advance(2 * HOUR)
    assert station.soc < station.backup_cutoff_soc


# ---------------------------------------------------------------------- manual control


async def test_manual_charge_runs_for_its_duration_at_its_power_then_ends() -> None:
    sim = simulator(2)
    station = sim.stations[0]
    before = balanced(station.sample())
    assert before.battery < 0  # self-consumption at night
    station.start_manual_control("charge", 30, 2.0)
    s = balanced(station.sample())
    assert s.battery == 2.0
    assert s.grid_import == pytest.approx(2.0 + s.load, abs=0.011)
    await sim.advance(30 * 60)
    assert station.soc == pytest.approx(60.0, abs=0.01)  # 1 kWh into 10 kWh, to the second
    assert not station.manual_control_active()
    assert balanced(station.sample()).battery < 0  # the mode again
    assert station.manual.mode == "charge"  # the read-back keeps it


async def test_manual_charge_without_power_uses_the_rated_or_owner_limit() -> None:
    sim = simulator(2)
    station = sim.stations[0]
    station.start_manual_control("charge", 30)
    assert station.sample().battery == 5.0
    change(station, max_charge_kw=3.0)
    assert station.sample().battery == 3.0


def test_manual_hold_and_self_consumption() -> None:
    station = simulator(13).stations[0]
    station.start_manual_control("hold", 60, 3.0)
    assert station.manual.power_kw is None  # a hold has no power
    s = balanced(station.sample())
    assert s.battery == 0.0
    assert s.buy_sell > 0
    station.start_manual_control("self_consumption", 60)
    assert station.sample().battery == 5.0
    station.stop_manual_control()
    assert not station.manual_control_active()


def test_manual_control_refuses_bad_sessions() -> None:
    station = simulator(13).stations[0]
    for args in (("boost", 30), ("charge", 0), ("charge", float("inf")), ("charge", 30, -1.0)):
        with pytest.raises(ValueError, match=r"mode|duration|power"):
            station.start_manual_control(*args)
    assert station.manual.mode is None


def test_impossible_settings_change_nothing() -> None:
    station = simulator(13).stations[0]
    before = station.settings
    for changes in (
        {"export_limit": GridLimit(owner_kw=11.0)},
        {"current_limit": CurrentLimit(owner_a=-1.0)},
        {"pv_limit_kw": float("nan")},
        {"backup_reserve": 101},
    ):
        with pytest.raises(ValueError, match=r"limit|reserve"):
            change(station, **changes)
    with pytest.raises(TypeError):
        change(station, max_charge_kw="5")
    assert station.settings is before


# ---------------------------------------------------------------------- property


limits = st.none() | st.floats(min_value=0, max_value=12, allow_nan=False)
actions = st.one_of(
    st.tuples(st.just("pv"), limits),
    st.tuples(st.just("charge"), limits),
    st.tuples(st.just("discharge"), limits),
    st.tuples(st.just("export"), limits),
    st.tuples(st.just("import"), limits),
    st.tuples(st.just("battery_export"), st.booleans()),
    st.tuples(
        st.just("manual"),
        st.tuples(
            st.sampled_from(["charge", "discharge", "hold", "self_consumption"]),
            st.integers(min_value=1, max_value=240),
            limits,
        ),
    ),
    st.tuples(st.just("mode"), st.sampled_from([0, 2, 5])),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=4 * 3600)),
)


def apply(sim: Simulator, station: SimStation, kind: str, arg: Any) -> None:
    keys = {"pv": "pv_limit_kw", "charge": "max_charge_kw", "discharge": "max_discharge_kw"}
    if kind in keys:
        change(station, **{keys[kind]: arg})
    elif kind in ("export", "import"):
        limit = GridLimit(enabled=arg is not None, owner_kw=arg, installer_kw=12.0)
        change(station, **{f"{kind}_limit": limit})
    elif kind == "battery_export":
        station.set_settings(dataclasses.replace(station.settings, battery_export=arg))
    elif kind == "manual":
        station.start_manual_control(*arg)
    elif kind == "mode":
        station.set_mode(arg)
    else:
        asyncio.run(sim.advance(arg))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(actions, min_size=1, max_size=10), hour=st.integers(0, 23))
def test_balance_and_limits_hold_under_any_settings(steps: list[Any], hour: int) -> None:
    sim = simulator(hour)
    station = sim.stations[0]
    for kind, arg in steps:
        apply(sim, station, kind, arg)
        s = balanced(station.sample())
        owner = station.settings
        assert 0.0 <= station.soc <= 100.0
        assert s.pv >= 0.0
        if owner.pv_limit_kw is not None:
            assert s.pv <= owner.pv_limit_kw + 0.01
        assert -(owner.max_discharge_kw or 5.0) - 0.01 <= s.battery <= 5.0 + 0.01
        assert s.battery <= (owner.max_charge_kw or 5.0) + 0.01
        export_cap, import_cap = owner.grid_caps()
        if export_cap is not None:
            assert s.buy_sell <= export_cap + 0.02
        if import_cap is not None and s.grid_import > import_cap + 0.02:
            assert s.battery <= 0.0  # only while the battery gives what it can
