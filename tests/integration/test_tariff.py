"""set_tariff and the spike-load actions through Home Assistant, against the simulator.

Prices given directly or read from a price entity in each supported format (Nord Pool,
Tibber, Amber, Octopus Energy) become the simulator's tariff (its control API's
``/pricing``) and drive its time-of-use charging; bad input fails with translated
messages; spike loads are added, listed and removed (issue 20).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.sigen_cloud.const import DOMAIN

from .platform_helpers import (
    FROZEN_SIM,
    NOON,
    PREFIX,
    STATION_ID,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
    unload,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

ZONE = ZoneInfo("Europe/Dublin")
TODAY = datetime(2026, 6, 1, tzinfo=ZONE)
BUY_PRICE = f"sensor.{PREFIX}_buy_price"
SELL_PRICE = f"sensor.{PREFIX}_sell_price"
BATTERY_POWER = f"sensor.{PREFIX}_battery_power"
GRID_POWER = f"sensor.{PREFIX}_grid_power"
PRICE_ENTITY = "sensor.fake_prices"


@pytest.fixture
async def entry(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> Any:
    """The demo account's sensors at the simulator's noon (12:00 in Dublin)."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    hass.config.currency = "EUR"
    loaded = await setup_entry(hass, sim, Platform.SENSOR)
    yield loaded
    await unload(hass, loaded)


def _device(hass: HomeAssistant, entry_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry_id)
    assert device is not None
    return device.id


async def _call(
    hass: HomeAssistant, entry: Any, service: str, data: dict[str, Any], *, response: bool = False
) -> Any:
    answer = await hass.services.async_call(
        DOMAIN,
        service,
        {"device_id": _device(hass, entry.entry_id), **data},
        blocking=True,
        return_response=response,
    )
    await hass.async_block_till_done()
    return answer


async def _pricing(sim: Any) -> dict[str, Any]:
    """The simulator's stored tariff (cents/kWh) and spike loads."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/pricing"
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        body = await answer.json()
    assert body["ok"]
    return body["data"]  # type: ignore[no-any-return]


def _base(day: int, minute: int) -> float:
    """A test price (EUR/kWh) of a half-hour: rising through the day, tomorrow dearer."""
    return round(0.10 + 0.002 * (minute // 30) + 0.3 * day, 4)


def _expected(base: Callable[[int, int], float]) -> list[float]:
    """The rolling plan at 12:00 (cents/kWh): from 12:00 today's prices, before tomorrow's."""
    return [round(100 * base(0 if k >= 24 else 1, 30 * k), 2) for k in range(48)]


def _spans(step: int, *, start: datetime = TODAY, hours: int = 48) -> list[tuple[datetime, int]]:
    """(start, minute of day) of every ``step``-minute interval from ``start``."""
    count = hours * 60 // step
    moments = [start + timedelta(minutes=step * i) for i in range(count)]
    return [(m, m.hour * 60 + m.minute) for m in moments]


def _day(moment: datetime) -> int:
    return (moment.date() - TODAY.date()).days


# The 15-minute, 5-minute and hourly prices wiggle around the half-hour's price and
# average back to it.
WIGGLE_15 = (-0.002, 0.002)
WIGGLE_5 = (-0.005, -0.003, -0.001, 0.001, 0.003, 0.005)


def _nord_pool() -> tuple[dict[str, Any], list[float]]:
    rows = [
        {
            "start": m.isoformat(),
            "end": (m + timedelta(minutes=15)).isoformat(),
            "value": round(_base(_day(m), minute) + WIGGLE_15[(minute // 15) % 2], 4),
        }
        for m, minute in _spans(15)
    ]
    attrs = {
        "unit_of_measurement": "EUR/kWh",
        "unit": "kWh",
        "currency": "EUR",
        "price_in_cents": False,
        "raw_today": rows[:96],
        "raw_tomorrow": rows[96:],
    }
    return attrs, _expected(_base)


def _hourly(day: int, minute: int) -> float:
    return _base(day, minute // 60 * 60)


def _tibber() -> tuple[dict[str, Any], list[float]]:
    rows = [
        {"startsAt": m.isoformat(), "total": _hourly(_day(m), minute), "level": "NORMAL"}
        for m, minute in _spans(60)
    ]
    attrs = {"unit_of_measurement": "EUR/kWh", "today": rows[:24], "tomorrow": rows[24:]}
    return attrs, _expected(_hourly)


def _amber() -> tuple[dict[str, Any], list[float]]:
    # From now for 24 hours only, each interval starting a second late (Amber's way).
    noon = TODAY + timedelta(hours=12)
    rows = [
        {
            "start_time": (m + timedelta(seconds=1)).isoformat(),
            "end_time": (m + timedelta(minutes=5)).isoformat(),
            "per_kwh": round(_base(_day(m), minute) + WIGGLE_5[(minute // 5) % 6], 4),
            "spot_per_kwh": 0.05,
        }
        for m, minute in _spans(5, start=noon, hours=24)
    ]
    return {"unit_of_measurement": "$/kWh", "forecasts": rows}, _expected(_base)


def _octopus() -> tuple[dict[str, Any], list[float]]:
    # An event entity without a unit: the currency per kWh.
    rows = [
        {
            "start": m.isoformat(),
            "end": (m + timedelta(minutes=30)).isoformat(),
            "value_inc_vat": _base(_day(m), minute),
            "is_capped": False,
        }
        for m, minute in _spans(30)
    ]
    return {"rates": rows}, _expected(_base)


@pytest.mark.parametrize("fmt", [_nord_pool, _tibber, _amber, _octopus])
async def test_set_tariff_from_a_price_entity(
    hass: HomeAssistant, sim: Any, entry: Any, fmt: Callable[[], tuple[dict[str, Any], list[float]]]
) -> None:
    """Each format's forecast becomes the simulator's 48 half-hours (cents/kWh)."""
    attrs, expected = fmt()
    hass.states.async_set(PRICE_ENTITY, "0.2", attrs)
    answer = await _call(hass, entry, "set_tariff", {"price_entity": PRICE_ENTITY}, response=True)
    pricing = await _pricing(sim)
    assert pricing["buy"] == pytest.approx(expected, abs=0.006)
    assert pricing["sell"] == [0.0] * 48
    assert answer["buy"] == pytest.approx([p / 100 for p in expected], abs=0.0001)
    # The buy price sensor shows the slot of now (12:00-12:30), in EUR/kWh.
    state = hass.states.get(BUY_PRICE)
    assert state is not None
    assert float(state.state) == pytest.approx(expected[24] / 100, abs=0.0001)
    assert state.attributes["unit_of_measurement"] == "EUR/kWh"
    assert len(state.attributes["today"]) == 48


async def test_octopus_day_and_next_day_entities(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    """Two rate entities (today's and tomorrow's) are read together; sell from its own."""
    attrs, expected = _octopus()
    rates = attrs["rates"]
    hass.states.async_set("event.octopus_current_day_rates", "", {"rates": rates[:48]})
    hass.states.async_set("event.octopus_next_day_rates", "", {"rates": rates[48:]})
    export = [{**rate, "value_inc_vat": 0.15} for rate in rates]
    hass.states.async_set("event.octopus_export_rates", "", {"rates": export})
    await _call(
        hass,
        entry,
        "set_tariff",
        {
            "price_entity": ["event.octopus_current_day_rates", "event.octopus_next_day_rates"],
            "sell_price_entity": "event.octopus_export_rates",
        },
    )
    pricing = await _pricing(sim)
    assert pricing["buy"] == pytest.approx(expected, abs=0.006)
    assert pricing["sell"] == [15.0] * 48
    state = hass.states.get(SELL_PRICE)
    assert state is not None
    assert float(state.state) == 0.15


async def test_set_tariff_directly_drives_tou(
    hass: HomeAssistant, sim: Any, entry: Any, freezer: FrozenDateTimeFactory
) -> None:
    """48 prices written directly; at night in TOU the simulator charges from the grid
    in the cheapest slots, and serves the house from the battery in the others."""
    await sim.advance(10 * 3600)  # 22:00: dark
    freezer.tick(timedelta(hours=10))
    station = sim.stations[0]
    station.set_mode(2)
    station.soc = 50.0
    dear = [0.30] * 48
    cheap_now = list(dear)
    cheap_now[40:48] = [0.05] * 8  # 20:00-24:00
    await _call(hass, entry, "set_tariff", {"buy": cheap_now, "sell": [0.08] * 48})
    pricing = await _pricing(sim)
    assert pricing["buy"][44] == 5.0
    assert pricing["sell"] == [8.0] * 48
    assert pricing["cheapNow"] is True
    assert float(hass.states.get(BUY_PRICE).state) == 0.05  # type: ignore[union-attr]
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()
    assert float(hass.states.get(BATTERY_POWER).state) < 0  # type: ignore[union-attr]
    assert float(hass.states.get(GRID_POWER).state) > 0  # type: ignore[union-attr]
    cheap_at_night = list(dear)
    cheap_at_night[0:8] = [0.05] * 8  # 00:00-04:00
    await _call(hass, entry, "set_tariff", {"buy": cheap_at_night})
    pricing = await _pricing(sim)
    assert pricing["cheapNow"] is False
    assert pricing["sell"] == [8.0] * 48  # the sell prices stayed
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()
    assert float(hass.states.get(BATTERY_POWER).state) > 0  # type: ignore[union-attr]
    assert float(hass.states.get(BUY_PRICE).state) == 0.3  # type: ignore[union-attr]


async def test_set_tariff_with_clock_slots(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    """Slots of any length on the half hours; in cents per kWh when told so."""
    buy = [
        {"start": "00:00", "end": "07:00", "price": 12},
        {"start": "07:00", "end": "07:30", "price": 20},
        {"start": "07:30", "end": "24:00", "price": 30.5},
    ]
    await _call(hass, entry, "set_tariff", {"buy": buy, "unit": "cent/kWh"})
    pricing = await _pricing(sim)
    assert pricing["buy"] == [12.0] * 14 + [20.0] + [30.5] * 33


@pytest.mark.parametrize(
    ("data", "attrs", "key"),
    [
        ({"buy": [0.2] * 47}, None, "invalid_tariff_prices"),
        ({"buy": "cheap"}, None, "invalid_tariff_prices"),
        ({"buy": [{"start": "00:00", "end": "24:00"}]}, None, "invalid_tariff_prices"),
        ({}, None, "tariff_source_missing"),
        ({"buy": [0.2] * 48, "price_entity": PRICE_ENTITY}, {}, "tariff_source_twice"),
        (
            {
                "buy": [
                    {"start": "00:00", "end": "10:15", "price": 0.2},
                    {"start": "10:30", "end": "24:00", "price": 0.2},
                ]
            },
            None,
            "tariff_slot_too_short",
        ),
        (
            {"buy": [{"start": "00:00", "end": "12:00", "price": 0.2}]},
            None,
            "tariff_prices_missing",
        ),
        ({"buy": [25.0] * 48}, None, "price_unit_mismatch"),
        ({"buy": [0.2] * 48, "unit": "dollars"}, None, "invalid_choice"),
        ({"price_entity": "sensor.nothing_here"}, None, "price_entity_not_found"),
        ({"price_entity": PRICE_ENTITY}, {"prices": "none"}, "price_format_unknown"),
        (
            {"price_entity": PRICE_ENTITY},
            {**_octopus()[0], "unit_of_measurement": "kWh"},
            "price_unit_unknown",
        ),
        (
            {"price_entity": PRICE_ENTITY},
            {
                "unit_of_measurement": "EUR/kWh",
                "rates": [
                    {**rate, "value_inc_vat": rate["value_inc_vat"] * 100}
                    for rate in _octopus()[0]["rates"]
                ],
            },
            "price_unit_mismatch",
        ),
    ],
)
async def test_bad_tariffs(
    hass: HomeAssistant,
    sim: Any,
    entry: Any,
    *,
    data: dict[str, Any],
    attrs: dict[str, Any] | None,
    key: str,
) -> None:
    """Bad input is a translated error, and nothing is written."""
    if attrs is not None:
        hass.states.async_set(PRICE_ENTITY, "0.2", attrs)
    saves = sim.count("stationelecsetprice/save")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, entry, "set_tariff", data)
    assert err.value.translation_key == key
    assert sim.count("stationelecsetprice/save") == saves
    assert (await _pricing(sim))["buy"] == []


async def test_spike_loads(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    """A hint is added (station-local start), listed with its id, and removed."""
    start = datetime(2026, 6, 1, 18, 0, tzinfo=ZONE).astimezone(UTC).isoformat()
    await _call(hass, entry, "add_spike_load", {"start": start, "duration": 120, "power": 7})
    answer = await _call(hass, entry, "list_spike_loads", {}, response=True)
    (hint,) = answer["spike_loads"]
    assert hint["start_date"] == "2026-06-01"
    assert hint["start_time"] == "18:00"
    assert (hint["duration"], hint["power"], hint["load_type"]) == (120, 7.0, "Car Charging")
    assert len((await _pricing(sim))["spikeLoads"]) == 1
    await _call(hass, entry, "remove_spike_load", {"event_id": hint["event_id"]})
    answer = await _call(hass, entry, "list_spike_loads", {}, response=True)
    assert answer["spike_loads"] == []
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, entry, "add_spike_load", {"start": start, "duration": 0, "power": 7})
    assert err.value.translation_key == "invalid_duration"
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, entry, "add_spike_load", {"start": start, "duration": 60, "power": 500})
    assert err.value.translation_key == "invalid_power"
