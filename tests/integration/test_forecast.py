"""Sigen's AI forecast and the price sensors through Home Assistant (issue 20).

Against the simulator: the forecast sensors hold the series, and the station then
follows it within the simulator's noise as its clock moves; the forecast is polled
hourly; the series stay out of the recorder; the price sensors show the plan's slot
of now in Home Assistant's currency per kWh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.sigen_cloud.const import FORECAST_INTERVAL
from custom_components.sigen_cloud.diagnostics import async_get_config_entry_diagnostics
from custom_components.sigen_cloud.sensor_forecast import SERIES_ATTRIBUTES, SigenForecastSensor

from .platform_helpers import (
    FROZEN_SIM,
    NOON,
    PREFIX,
    STATION_ID,
    coordinator_of,
    setup_entry,
    station_of,
    unload,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

PV_FORECAST = f"sensor.{PREFIX}_pv_power_forecast"
LOAD_FORECAST = f"sensor.{PREFIX}_load_power_forecast"
SOC_FORECAST = f"sensor.{PREFIX}_battery_soc_forecast"
PV_REMAINING = f"sensor.{PREFIX}_pv_energy_remaining_today"
BUY_PRICE = f"sensor.{PREFIX}_buy_price"
SELL_PRICE = f"sensor.{PREFIX}_sell_price"
PV_POWER = f"sensor.{PREFIX}_pv_power"
LOAD_POWER = f"sensor.{PREFIX}_load_power"


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def _advance(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, entry: Any, seconds: float
) -> None:
    """Move both clocks, poll the energy flow, and write the forecast sensors' states.

    (The sensors' quarter-hour timer is checked on its own in test_quarter_hour_timer.)
    """
    await sim.advance(seconds)
    freezer.tick(timedelta(seconds=seconds))
    await coordinator_of(entry).async_refresh()
    forecast = station_of(entry).forecast
    assert forecast is not None
    forecast.async_update_listeners()
    await hass.async_block_till_done()


async def _tick(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move both clocks and let Home Assistant's timers fire (the coordinators poll).

    The polls run in the background: wait for them too, so that no request is in
    flight when the clock moves again.
    """
    await sim.advance(seconds)
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _within_noise(forecast: float, actual: float, noise: float) -> bool:
    """The forecast is the actual value off by at most the noise, plus rounding."""
    return abs(forecast - actual) <= noise * abs(actual) + 0.011


async def test_forecast_sensors_hold_the_series(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The state is the point of now, the series in the shapes optimizers read."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    pv = _state(hass, PV_FORECAST)
    series = pv.attributes["forecast"]
    assert len(series) == 96
    assert series[0]["datetime"] == "2026-06-01T12:00:00+01:00"
    assert pv.attributes["made_at"] == "2026-06-01T12:00:00+01:00"
    assert float(pv.state) == series[0]["value"]
    assert pv.attributes["unit_of_measurement"] == "kW"
    solcast = pv.attributes["detailedForecast"]
    assert solcast[1] == {"period_start": series[1]["datetime"], "pv_estimate": series[1]["value"]}
    for entity_id in (LOAD_FORECAST, SOC_FORECAST):
        state = _state(hass, entity_id)
        assert float(state.state) == state.attributes["forecast"][0]["value"]
        assert "detailedForecast" not in state.attributes
    assert float(_state(hass, SOC_FORECAST).state) == pytest.approx(sim.stations[0].soc, abs=0.1)
    # 12:00 to midnight: every point of today, 15 minutes each (kWh).
    today = [p["value"] for p in series if p["datetime"] < "2026-06-02"]
    assert float(_state(hass, PV_REMAINING).state) == pytest.approx(sum(today) / 4, abs=0.01)
    # The series stay out of the recorder; the rest is recorded.
    assert {"forecast", "detailedForecast"} <= SERIES_ATTRIBUTES
    assert SigenForecastSensor._unrecorded_attributes == SERIES_ATTRIBUTES
    await unload(hass, entry)


async def test_the_station_follows_the_forecast(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """As the clocks move, the state moves to the next point; the live PV and load
    sensors then show what the series said, within the simulator's noise."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    noise = sim.config.forecast_noise
    pv = {p["datetime"]: p["value"] for p in _state(hass, PV_FORECAST).attributes["forecast"]}
    load = {p["datetime"]: p["value"] for p in _state(hass, LOAD_FORECAST).attributes["forecast"]}
    for step in range(1, 9):
        await _advance(hass, sim, freezer, entry, 900)
        at = datetime.fromtimestamp(NOON + step * 900, UTC).astimezone(
            station_of(entry).forecast.time_zone  # type: ignore[union-attr]
        )
        key = at.isoformat()
        # The state is the forecast's point of now (the quarter-hour timer moved it on).
        assert float(_state(hass, PV_FORECAST).state) == pv[key]
        actual_pv = float(_state(hass, PV_POWER).state)
        actual_load = float(_state(hass, LOAD_POWER).state)
        assert _within_noise(pv[key], actual_pv, noise), (key, pv[key], actual_pv)
        assert _within_noise(load[key], actual_load, noise), (key, load[key], actual_load)
    await unload(hass, entry)


async def test_polled_hourly(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> None:
    """The forecast is read once an hour, no more often; a new one replaces the old."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    forecast = station_of(entry).forecast
    assert forecast is not None
    assert forecast.update_interval == FORECAST_INTERVAL == timedelta(hours=1)
    path = "prediction/predictData/get/predictData"
    reads = sim.count(path)
    for seconds in (1800, 1790):
        await _tick(hass, sim, freezer, seconds)
    assert sim.count(path) == reads
    await _tick(hass, sim, freezer, 15)
    assert sim.count(path) == reads + 1
    made = _state(hass, PV_FORECAST).attributes["made_at"]
    assert made == "2026-06-01T13:00:00+01:00"
    await unload(hass, entry)


async def test_quarter_hour_timer(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Between the hourly polls the state moves on to the next point by itself."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    series = _state(hass, PV_FORECAST).attributes["forecast"]
    await _tick(hass, sim, freezer, 900)
    assert float(_state(hass, PV_FORECAST).state) == series[1]["value"]
    await _tick(hass, sim, freezer, 900)
    assert float(_state(hass, PV_FORECAST).state) == series[2]["value"]
    await unload(hass, entry)


async def test_price_sensors_without_a_plan(hass: HomeAssistant, sim: Any) -> None:
    """Before any tariff was saved the station has no price: unknown, in the currency."""
    hass.config.currency = "EUR"
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    for entity_id in (BUY_PRICE, SELL_PRICE):
        state = _state(hass, entity_id)
        assert state.state == "unknown"
        assert state.attributes["unit_of_measurement"] == "EUR/kWh"
        assert state.attributes["today"] == []
    assert _state(hass, BUY_PRICE).attributes["tax_rate"] == 0.25
    await unload(hass, entry)


async def test_diagnostics(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> None:
    """The diagnostics tell when the forecast was made, its spans, the plan and prices."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    result = await async_get_config_entry_diagnostics(hass, entry)
    (station,) = result["coordinator"]["stations"]
    forecast = station["forecast"]
    assert forecast["made_at"] == "2026-06-01T12:00:00+01:00"
    assert forecast["series"]["pv"] == {
        "points": 96,
        "from": "2026-06-01T12:00:00+01:00",
        "to": "2026-06-02T11:45:00+01:00",
    }
    assert forecast["plan"]["buy"] == []
    assert forecast["price_cost"][0]["fixed_tax_rate"] == 0.25
    assert station["last_update_success"]["forecast"] is True
    assert STATION_ID not in str(result)
    await unload(hass, entry)
