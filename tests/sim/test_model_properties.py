"""Property test: whatever happens, the balance holds and SOC stays within its limits."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigen_sim import SimConfig, Simulator
from sigen_sim.mqtt_payloads import telemetry_values

START = datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()  # DST day

modes = st.sampled_from([0, 1, 2, 5, 6, 7, 8])
powers = st.none() | st.floats(min_value=0, max_value=50, allow_nan=False)
commands = st.fixed_dictionaries(
    {
        "activeMode": st.sampled_from(
            ["charge", "discharge", "idle", "selfConsumption", "selfConsumption-grid"]
        ),
        "duration": st.integers(min_value=1, max_value=600),
        "offset": st.integers(min_value=-3600, max_value=3600),
        "chargingPower": powers,
        "maxSellPower": powers,
        "maxPurchasePower": powers,
    }
)
actions = st.one_of(
    st.tuples(st.just("mode"), modes),
    st.tuples(st.just("command"), commands),
    st.tuples(st.just("load"), st.tuples(st.sampled_from([1, 2]), st.booleans())),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=6 * 3600)),
)


def run(steps: list[tuple[str, Any]], soc: float) -> None:
    sim = Simulator(SimConfig(time_scale=0, start_time=START, initial_soc=soc))
    station = sim.stations[0]
    for kind, arg in steps:
        if kind == "mode":
            station.set_mode(arg)
        elif kind == "command":
            item = {k: v for k, v in arg.items() if k != "offset" and v is not None}
            item["startTime"] = int(sim.clock.now()) + arg["offset"]
            station.apply_battery_commands([item])
        elif kind == "load":
            station.set_smart_load(*arg)
        else:
            asyncio.run(sim.advance(arg))
        s = station.sample()
        assert s.pv - s.battery - s.buy_sell == pytest.approx(s.load, abs=1e-6)
        assert 0.0 <= station.soc <= 100.0
        assert s.pv >= 0.0
        assert s.load > 0.0
        assert abs(s.battery) <= 5.0 + 1e-9
        values = telemetry_values(station)
        assert float(values["storageSOC%"]) == pytest.approx(s.soc, abs=0.05)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(steps=st.lists(actions, min_size=1, max_size=12), soc=st.floats(min_value=5, max_value=100))
def test_balance_and_limits_hold(steps: list[tuple[str, Any]], soc: float) -> None:
    run(steps, soc)
