"""Energy sensors integrated from power samples, and restored across restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, State
from hypothesis import given
from hypothesis import strategies as st
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.sigen_cloud.energy import MAX_SAMPLE_GAP, EnergyIntegrator
from custom_components.sigen_cloud.models import AccountStation, LiveData, PushData
from custom_components.sigen_cloud.sigen import EnergyFlow, TelemetryData
from custom_components.sigen_cloud.view import StationView

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    coordinator_of,
    setup_entry,
    unload,
    view_of,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

T0 = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
ENERGY_KEYS = (
    "solar_energy",
    "grid_import_energy",
    "grid_export_energy",
    "battery_charge_energy",
    "battery_discharge_energy",
)


def test_trapezoidal_integration() -> None:
    """kW samples become kWh with the trapezoidal rule."""
    energy = EnergyIntegrator()
    assert not energy.add(T0, 2.0)  # the first sample only starts the series
    assert energy.add(T0 + timedelta(minutes=12), 4.0)
    assert energy.total == pytest.approx(0.6)  # (2 + 4) / 2 kW * 0.2 h
    assert energy.add(T0 + timedelta(minutes=24), 4.0)
    assert energy.total == pytest.approx(1.4)


def test_gaps_unknowns_and_repeats_are_not_integrated() -> None:
    """Long gaps, unknown values, repeated or older samples add nothing."""
    energy = EnergyIntegrator(total=10.0)
    energy.add(T0, 1.0)
    # The same sample again (another source's update) and an older one: ignored.
    assert not energy.add(T0, 5.0)
    assert not energy.add(T0 - timedelta(minutes=1), 5.0)
    assert energy.total == 10.0
    # A gap longer than the limit starts a new series.
    assert not energy.add(T0 + MAX_SAMPLE_GAP + timedelta(seconds=1), 1.0)
    assert energy.total == 10.0
    # An unknown value breaks the series: the next sample starts a new one.
    later = T0 + timedelta(hours=1)
    assert not energy.add(later, None)
    assert not energy.add(later + timedelta(minutes=1), 3.0)
    assert not energy.add(later + timedelta(minutes=2), float("nan"))
    assert not energy.add(None, 3.0)
    assert energy.total == 10.0
    # Negative power counts as zero: the total never decreases.
    energy.add(later + timedelta(minutes=3), -4.0)
    assert not energy.add(later + timedelta(minutes=4), -4.0)
    assert energy.total == 10.0


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-120, max_value=1200),
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
        ),
        max_size=30,
    )
)
def test_never_decreasing(samples: list[tuple[int, float | None]]) -> None:
    """Whatever the samples, the total never decreases and stays finite."""
    energy = EnergyIntegrator()
    when = T0
    for step, power in samples:
        when += timedelta(seconds=step)
        before = energy.total
        energy.add(when, power)
        assert energy.total >= before


def test_power_sample_prefers_the_freshest_source() -> None:
    """The sample comes from telemetry when it is newer than the poll."""
    flow = EnergyFlow.from_dict({"pvPower": 1.0, "buySellPower": -2.0, "batteryPower": 0.0})
    station = StationView(AccountStation(STATION_ID), live=LiveData(flow, T0))
    assert station.power_sample(lambda p: p.pv_power) == (T0, 1.0)
    assert station.power_sample(lambda p: p.grid_import_power) == (T0, 2.0)
    telemetry = TelemetryData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "S", "value": {"pvPowerW": "3000.0"}}]
    )[0]
    station = replace(
        station,
        push=PushData(telemetry=telemetry, last_telemetry=T0 + timedelta(seconds=30)),
    )
    assert station.power_sample(lambda p: p.pv_power) == (T0 + timedelta(seconds=30), 3.0)
    # Not in the telemetry: the poll's value, at the poll's time.
    assert station.power_sample(lambda p: p.grid_import_power) == (T0, 2.0)


def _state(hass: HomeAssistant, key: str) -> float:
    state = hass.states.get(f"sensor.{PREFIX}_{key}")
    assert state is not None
    return float(state.state)


async def test_energy_from_polls(hass: HomeAssistant, sim: Any) -> None:
    """Two polls a minute apart integrate the simulator's power into energy."""
    entry = await setup_entry(hass, sim, Platform.SENSOR, enable_all=True)
    coordinator = coordinator_of(entry)
    for key in ENERGY_KEYS:
        assert _state(hass, key) == 0.0
    first = view_of(entry).energy_flow
    assert first is not None
    last_poll = view_of(entry).last_poll
    assert last_poll is not None

    await sim.advance(3600)  # the battery's state of charge moves, the sun too
    second = await coordinator.client.get_energy_flow(station_id=STATION_ID)
    coordinator.async_set_updated_data(LiveData(second, last_poll + timedelta(minutes=1)))
    await hass.async_block_till_done()

    for key, attr in (
        ("solar_energy", "pv_power"),
        ("grid_import_energy", "grid_import_power"),
        ("grid_export_energy", "grid_export_power"),
        ("battery_charge_energy", "battery_charge_power"),
        ("battery_discharge_energy", "battery_discharge_power"),
    ):
        expected = (getattr(first, attr) + getattr(second, attr)) / 2 / 60
        assert _state(hass, key) == pytest.approx(expected, abs=1e-4), key
    assert _state(hass, "solar_energy") > 0

    # An update without a new sample (e.g. alarms pushed) adds nothing.
    before = _state(hass, "solar_energy")
    coordinator.async_update_listeners()
    await hass.async_block_till_done()
    assert _state(hass, "solar_energy") == before
    await unload(hass, entry)


async def test_energy_restored(hass: HomeAssistant, sim: Any) -> None:
    """The counters continue from their last value after a restart."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(f"sensor.{PREFIX}_solar_energy", "1234.5"),
                {"native_value": 1234.5, "native_unit_of_measurement": "kWh"},
            ),
            (
                State(f"sensor.{PREFIX}_grid_import_energy", "unknown"),
                {"native_value": "not a number", "native_unit_of_measurement": "kWh"},
            ),
            (
                State(f"sensor.{PREFIX}_grid_export_energy", "-1"),
                {"native_value": -1.0, "native_unit_of_measurement": "kWh"},
            ),
            (
                State(f"sensor.{PREFIX}_battery_charge_energy", "unknown"),
                {"native_value": None, "native_unit_of_measurement": "kWh"},
            ),
        ],
    )
    entry = await setup_entry(hass, sim, Platform.SENSOR, enable_all=True)
    assert _state(hass, "solar_energy") == 1234.5
    assert _state(hass, "grid_import_energy") == 0.0
    assert _state(hass, "grid_export_energy") == 0.0
    assert _state(hass, "battery_charge_energy") == 0.0

    coordinator = coordinator_of(entry)
    live = coordinator.data
    assert live.polled_at is not None
    coordinator.async_set_updated_data(
        replace(live, polled_at=live.polled_at + timedelta(minutes=10))
    )
    await hass.async_block_till_done()
    assert _state(hass, "solar_energy") > 1234.5
    await unload(hass, entry)
