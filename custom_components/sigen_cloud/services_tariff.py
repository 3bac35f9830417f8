"""The tariff and spike-load actions: prices for Sigen's planning, planned big loads.

``sigen_cloud.set_tariff`` writes the buy (and sell) prices the app plans with: given
directly (48 half-hourly prices from 00:00, or slots ``{start, end, price}``) or read
from price entities in the formats of the common price integrations
(:mod:`.tariff_prices`). The prices become the cloud's 30-minute slots in cents per
kWh and are written through the station's forecast coordinator, one write at a time
per station and read back; the price sensors follow at once.

``add_spike_load``, ``list_spike_loads`` and ``remove_spike_load`` tell Sigen's AI of a
planned big load (a car charging, say), list the hints, and remove one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import SigenForecastCoordinator
from .data import SigenConfigEntry, StationRuntime
from .helpers import sigen_errors
from .services_fields import (
    as_number,
    async_get_station,
    choice,
    field_error,
    start_time,
    validation_error,
    whole_minutes,
)
from .sigen import SpikeLoad
from .sigen.app.tariff import SPIKE_DURATION_RANGE, SPIKE_MAX_POWER_KW
from .sigen.models import LOAD_TYPES
from .tariff_prices import (
    SLOTS_PER_DAY,
    UNITS,
    Interval,
    check_plausible,
    clock_minutes,
    day_prices,
    half_hours,
    read_entity,
    unit_factor,
)

ATTR_BUY: Final = "buy"
ATTR_SELL: Final = "sell"
ATTR_PRICE_ENTITY: Final = "price_entity"
ATTR_SELL_PRICE_ENTITY: Final = "sell_price_entity"
ATTR_UNIT: Final = "unit"
ATTR_START: Final = "start"
ATTR_DURATION: Final = "duration"
ATTR_POWER: Final = "power"
ATTR_LOAD_TYPE: Final = "load_type"
ATTR_EVENT_ID: Final = "event_id"

SERVICE_SET_TARIFF: Final = "set_tariff"
SERVICE_ADD_SPIKE_LOAD: Final = "add_spike_load"
SERVICE_LIST_SPIKE_LOADS: Final = "list_spike_loads"
SERVICE_REMOVE_SPIKE_LOAD: Final = "remove_spike_load"

#: The spike-load types by name ("car_charging" → 4); a repeated name keeps its first code.
LOAD_TYPE_CODES: Final = {
    name: code
    for code, name in reversed(
        list(enumerate(name.lower().replace(" ", "_") for name in LOAD_TYPES))
    )
}


def _prices(field: str) -> Callable[[Any], list[Any] | None]:
    """48 numbers, or a list of ``{start, end, price}`` (clock times or date-times)."""

    def validate(value: Any) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise _prices_error(field, value)
        numbers = [as_number(item) for item in value]
        if all(number is not None for number in numbers):
            if len(value) != SLOTS_PER_DAY:
                raise _prices_error(field, f"{len(value)} prices")
            return numbers
        return [_slot(field, item) for item in value]

    return validate


def _slot(field: str, item: Any) -> dict[str, Any]:
    """One ``{start, end, price}``: the price a number, the times both clock or both dates."""
    if not isinstance(item, Mapping) or as_number(item.get("price")) is None:
        raise _prices_error(field, item)
    start, end = item.get(ATTR_START), item.get("end")
    if clock_minutes(start) is not None and clock_minutes(end) is not None:
        return {"start": clock_minutes(start), "end": clock_minutes(end) or 1440, **_price(item)}
    first, last = _datetime(start), _datetime(end)
    if first is None or last is None:
        raise _prices_error(field, item)
    return {"start": first, "end": last, **_price(item)}


def _price(item: Mapping[str, Any]) -> dict[str, float]:
    price = as_number(item.get("price"))
    assert price is not None
    return {"price": price}


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return dt_util.parse_datetime(value) if isinstance(value, str) else None


def _prices_error(field: str, value: Any) -> ServiceValidationError:
    return field_error("invalid_tariff_prices", field, value, slots=str(SLOTS_PER_DAY))


def _spike_power(field: str) -> Callable[[Any], float]:
    def validate(value: Any) -> float:
        number = as_number(value)
        if number is None or not 0 < number <= SPIKE_MAX_POWER_KW:
            raise field_error("invalid_power", field, value, min="0", max=f"{SPIKE_MAX_POWER_KW:g}")
        return number

    return validate


def _required_start(field: str) -> Callable[[Any], datetime]:
    parse = start_time(field)

    def validate(value: Any) -> datetime:
        moment = parse(value)
        if moment is None:
            raise field_error("invalid_start_time", field, value)
        return moment

    return validate


SET_TARIFF_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_BUY): _prices(ATTR_BUY),
        vol.Optional(ATTR_SELL): _prices(ATTR_SELL),
        vol.Optional(ATTR_PRICE_ENTITY): cv.entity_ids,
        vol.Optional(ATTR_SELL_PRICE_ENTITY): cv.entity_ids,
        vol.Optional(ATTR_UNIT): choice(ATTR_UNIT, [unit.lower() for unit in UNITS]),
    }
)
ADD_SPIKE_LOAD_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_START): _required_start(ATTR_START),
        vol.Required(ATTR_DURATION): whole_minutes(ATTR_DURATION, *SPIKE_DURATION_RANGE),
        vol.Required(ATTR_POWER): _spike_power(ATTR_POWER),
        vol.Optional(ATTR_LOAD_TYPE, default="car_charging"): choice(
            ATTR_LOAD_TYPE, LOAD_TYPE_CODES
        ),
    }
)
LIST_SPIKE_LOADS_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
REMOVE_SPIKE_LOAD_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_EVENT_ID): cv.string}
)


def _forecast(station: StationRuntime) -> SigenForecastCoordinator:
    """The station's forecast coordinator (the app API's: a push-only station has none)."""
    if station.forecast is None:
        raise validation_error("no_tariff", station=station.station_id)
    return station.forecast


def _unit(data: Mapping[str, Any]) -> str | None:
    """The unit the caller named (as written in ``UNITS``), if any."""
    named = data.get(ATTR_UNIT)
    return next((unit for unit in UNITS if unit.lower() == named), None)


def _direct(values: list[Any], unit: str, zone: tzinfo, now: datetime) -> list[float]:
    """Prices given in the action, in cents per kWh for the 48 half-hours."""
    factor = UNITS[unit]
    if all(isinstance(value, float) for value in values):
        return [round(value * factor, 4) for value in values]
    if all(isinstance(slot["start"], int) for slot in values):
        slots = [(slot["start"], slot["end"], slot["price"] * factor) for slot in values]
        return day_prices(slots, zone)
    if any(isinstance(slot["start"], int) for slot in values):
        raise validation_error("tariff_times_mixed")
    intervals = [
        Interval(_aware(slot["start"], zone), _aware(slot["end"], zone), slot["price"] * factor)
        for slot in values
    ]
    return half_hours(intervals, now, zone)


def _aware(moment: datetime, zone: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _from_entities(
    hass: HomeAssistant, entity_ids: Sequence[str], unit: str | None, zone: tzinfo, now: datetime
) -> tuple[list[float], str]:
    """The prices of price entities (merged), and the unit they were read in."""
    intervals: list[Interval] = []
    shown = unit or ""
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        if state is None:
            raise validation_error("price_entity_not_found", entity=entity_id)
        own = state.attributes.get("unit_of_measurement")
        given = unit or (own if isinstance(own, str) else None)
        if given is not None and unit_factor(given) is None:
            raise validation_error("price_unit_unknown", entity=entity_id, unit=given)
        intervals.extend(read_entity(entity_id, state.attributes, given, zone))
        shown = shown or given or "currency/kWh"
    return half_hours(intervals, now, zone), shown


def _direction(
    hass: HomeAssistant, data: Mapping[str, Any], keys: tuple[str, str], now: datetime, zone: tzinfo
) -> list[float] | None:
    """One direction's 48 prices (cents/kWh), from the action or entities; None: not given."""
    direct, entities = (data.get(key) for key in keys)
    if direct is not None and entities is not None:
        raise validation_error("tariff_source_twice", prices=keys[0], entity=keys[1])
    unit = _unit(data)
    if direct is not None:
        shown = unit or "currency/kWh"
        prices = _direct(direct, shown, zone, now)
    elif entities is not None:
        prices, shown = _from_entities(hass, entities, unit, zone, now)
    else:
        return None
    check_plausible(prices, shown)
    return prices


async def async_set_tariff(
    hass: HomeAssistant, entry: SigenConfigEntry, station: StationRuntime, data: dict[str, Any]
) -> ServiceResponse:
    """Write the buy and sell prices; the plan read back, in the currency per kWh.

    Without sell prices the plan's present ones stay (none: 0).
    """
    coordinator = _forecast(station)
    now, zone = dt_util.utcnow(), coordinator.time_zone
    buy = _direction(hass, data, (ATTR_BUY, ATTR_PRICE_ENTITY), now, zone)
    if buy is None:
        raise validation_error("tariff_source_missing", prices=ATTR_BUY, entity=ATTR_PRICE_ENTITY)
    sell = _direction(hass, data, (ATTR_SELL, ATTR_SELL_PRICE_ENTITY), now, zone)
    if sell is None:
        plan = coordinator.current.plan
        known = [slot.price for slot in plan.sell] if plan is not None else []
        sell = known if len(known) == SLOTS_PER_DAY else [0.0] * SLOTS_PER_DAY
    async with sigen_errors(hass, entry):
        written = await coordinator.async_set_tariff(buy, sell)
    return {
        "buy": [round(slot.price / 100, 5) for slot in written.buy],
        "sell": [round(slot.price / 100, 5) for slot in written.sell],
    }


def _spike(load: SpikeLoad) -> dict[str, Any]:
    return {
        "event_id": load.event_id,
        "load_type": load.load_name,
        "start_date": load.start_date,
        "start_time": load.start_time,
        "duration": load.duration,
        "power": load.power,
    }


def async_setup_tariff_services(hass: HomeAssistant) -> None:
    """Register the tariff and spike-load actions."""

    async def set_tariff(call: ServiceCall) -> ServiceResponse:
        data = dict(call.data)
        entry, station = async_get_station(hass, data.pop(ATTR_DEVICE_ID))
        return await async_set_tariff(hass, entry, station, data)

    async def add_spike_load(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        zone = _forecast(station).time_zone
        start: datetime = call.data[ATTR_START]
        if start.tzinfo is None:  # Home Assistant's local time
            start = start.replace(tzinfo=dt_util.get_default_time_zone())
        async with sigen_errors(hass, entry):
            await entry.runtime_data.client.tariff.add_spike_load(
                start.astimezone(zone).replace(tzinfo=None),
                call.data[ATTR_DURATION],
                call.data[ATTR_POWER],
                load_type=LOAD_TYPE_CODES[call.data[ATTR_LOAD_TYPE]],
                station_id=station.station_id,
            )

    async def list_spike_loads(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        _forecast(station)
        async with sigen_errors(hass, entry):
            loads = await entry.runtime_data.client.tariff.list_spike_loads(
                station_id=station.station_id
            )
        return {"spike_loads": [_spike(load) for load in loads]}

    async def remove_spike_load(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        _forecast(station)
        async with sigen_errors(hass, entry):
            await entry.runtime_data.client.tariff.remove_spike_load(
                call.data[ATTR_EVENT_ID], station_id=station.station_id
            )

    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_TARIFF,
        set_tariff,
        schema=SET_TARIFF_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_ADD_SPIKE_LOAD, add_spike_load, schema=ADD_SPIKE_LOAD_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_SPIKE_LOADS,
        list_spike_loads,
        schema=LIST_SPIKE_LOADS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_REMOVE_SPIKE_LOAD, remove_spike_load, schema=REMOVE_SPIKE_LOAD_SCHEMA
    )
