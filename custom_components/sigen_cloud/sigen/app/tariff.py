"""Prices of the app API: the tariff plan (read and write), price/tax/fee, spike loads.

The tariff plan is a one-day plan of 30-minute slots in station-local time, prices in
cents per kWh; the cloud takes no other slot length, so a plan is checked whole before
it is sent (every slot 30 minutes, none overlapping, the whole day covered, prices in a
known unit). Dynamic prices are written as a rolling plan: the caller puts the coming
slots' prices in and writes again when they change (at most every 5 minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any, Final

from ..errors import SigenValidationError
from ..models import PriceCost, SpikeLoad, TariffPlan, TariffSlot
from ..models.tariff import (
    CURRENCY_CODE,
    LOAD_TYPES,
    PRICE_UNITS,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    clock_minutes,
    clock_text,
)
from ._settings import SettingsArea, StationRef, body_station_id, check_number, check_whole, in_path
from ._zone import check_zone, station_zone

_SAVE: Final = "device/stationelecsetprice/save"
_PLAN: Final = "device/stationelecsetprice/latest/static/price"
_PRICE_COST: Final = "prediction/aipv/elecPrice/get/priceCost"
_SPIKE_ADD: Final = "prediction/aipv/prediction/modify/predictLoad"
_SPIKE_LIST: Final = "prediction/aipv/prediction/get/automationLoadRecord"
_SPIKE_DEL: Final = "prediction/aipv/prediction/del/automationLoad"

#: The largest price magnitude taken, cents per kWh (1000 currency units per kWh).
MAX_PRICE_CENTS: Final = 100_000.0
#: A spike load's duration (minutes) and power (kW).
SPIKE_DURATION_RANGE: Final = (1, 1440)
SPIKE_MAX_POWER_KW: Final = 100.0

type SlotInput = TariffSlot | tuple[str, str, float]
type PricesInput = Sequence[float] | Sequence[SlotInput]


def check_unit(unit: object) -> float:
    """The factor from ``unit`` to the cloud's cents per kWh."""
    factor = PRICE_UNITS.get(unit) if isinstance(unit, str) else None
    if factor is None:
        allowed = ", ".join(PRICE_UNITS)
        raise SigenValidationError(f"Unknown price unit {unit!r}; allowed: {allowed}")
    return factor


def _check_price(name: str, value: object, factor: float) -> float:
    """A price in the caller's unit, as cents per kWh rounded to 2 decimals."""
    low, high = -MAX_PRICE_CENTS / factor, MAX_PRICE_CENTS / factor
    unit = next(key for key, item in PRICE_UNITS.items() if item == factor)
    return round(check_number(name, value, low, high, unit) * factor, 2) + 0.0


def _to_slot(name: str, item: object, factor: float) -> TariffSlot:
    """One slot: a :class:`TariffSlot` (cents/kWh) or ``("HH:MM", "HH:MM", price in unit)``."""
    if isinstance(item, TariffSlot):
        start, end, price = item.start, item.end, item.price
        cents = _check_price(f"The {name} price of {item.label}", price, 1.0)
    elif isinstance(item, tuple) and len(item) == 3:
        first, last = clock_minutes(item[0]), clock_minutes(item[1])
        if first is None or last is None:
            raise SigenValidationError(
                f"A {name} slot's times must be 'HH:MM' from 00:00 to 24:00, got {item[:2]!r}"
            )
        start, end = first, last
        cents = _check_price(f"The {name} price of {item[0]}-{item[1]}", item[2], factor)
    else:
        raise SigenValidationError(
            f"A {name} slot must be a TariffSlot or ('HH:MM', 'HH:MM', price), got {item!r}"
        )
    if end - start != SLOT_MINUTES:
        raise SigenValidationError(
            f"The {name} slot {clock_text(start)}-{clock_text(end)} is {end - start} minutes "
            f"long; the cloud takes only {SLOT_MINUTES}-minute slots"
        )
    return TariffSlot(start, end, cents)


def check_prices(name: str, prices: object, factor: float) -> tuple[TariffSlot, ...]:
    """A day's prices: 48 numbers from 00:00, or 30-minute slots covering the day once."""
    if isinstance(prices, str | bytes) or not isinstance(prices, Sequence) or not prices:
        raise SigenValidationError(
            f"The {name} prices must be {SLOTS_PER_DAY} half-hourly prices or a list of slots"
        )
    if all(isinstance(item, int | float) and not isinstance(item, bool) for item in prices):
        if len(prices) != SLOTS_PER_DAY:
            raise SigenValidationError(
                f"The {name} prices must be {SLOTS_PER_DAY} half-hourly prices from 00:00 to "
                f"24:00, got {len(prices)}"
            )
        return tuple(
            TariffSlot(
                index * SLOT_MINUTES,
                (index + 1) * SLOT_MINUTES,
                _check_price(f"The {name} price of slot {index}", price, factor),
            )
            for index, price in enumerate(prices)
        )
    slots = sorted((_to_slot(name, item, factor) for item in prices), key=lambda slot: slot.start)
    reached = 0
    for slot in slots:
        if slot.start < reached:
            raise SigenValidationError(f"The {name} slot {slot.label} overlaps the one before it")
        if slot.start > reached:
            gap = f"{clock_text(reached)}-{clock_text(slot.start)}"
            raise SigenValidationError(f"The {name} slots leave {gap} without a price")
        reached = slot.end
    if reached != 24 * 60:
        raise SigenValidationError(
            f"The {name} slots leave {clock_text(reached)}-24:00 without a price"
        )
    return tuple(slots)


def _pricing(slots: Sequence[TariffSlot], provider: str, plan: str) -> dict[str, Any]:
    """One direction's ``{"dynamicPricing": null, "staticPricing": {...}}``."""
    ranges = [{"timeRange": slot.label, "price": slot.price} for slot in slots]
    return {
        "dynamicPricing": None,
        "staticPricing": {
            "providerName": provider,
            "tariffCode": "",
            "tariffName": "",
            "currencyCode": CURRENCY_CODE,
            "subAreaName": "",
            "planName": plan,
            "combinedPrices": [
                {"monthRange": "01-12", "weekPrices": [{"weekRange": "1-7", "timeRange": ranges}]}
            ],
        },
    }


def _check_name(name: str, value: object) -> str:
    """A free-text name of the plan (non-empty, at most 64 characters)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise SigenValidationError(f"The {name} must be text of 1 to 64 characters, got {value!r}")
    return value.strip()


class TariffApi(SettingsArea):
    """A station's tariff, price summary and spike-load hints (app API); home by default."""

    async def get_plan(self, *, station_id: StationRef | None = None) -> TariffPlan:
        """The tariff plan the app knows: buy and sell slots, cents/kWh (none before a save)."""
        sid = await self._station(station_id)
        what = f"Reading the tariff plan of station {sid}"
        reply = await self._request("GET", _PLAN, what=what, params={"stationId": sid})
        return TariffPlan.parse({} if reply.data is None else reply.object())

    async def get_price_cost(self, *, station_id: StationRef | None = None) -> list[PriceCost]:
        """The price, tax and fee summary, one per direction the cloud lists."""
        sid = await self._station(station_id)
        what = f"Reading the price summary of station {sid}"
        reply = await self._request("GET", _PRICE_COST, what=what, params={"stationId": sid})
        items = [reply.data] if isinstance(reply.data, dict) else reply.items("list", "records")
        return [PriceCost.parse(item) for item in items if isinstance(item, dict)]

    async def set_tariff(
        self,
        buy: PricesInput,
        sell: PricesInput,
        *,
        unit: str = "cent/kWh",
        provider_name: str = "Home Assistant",
        plan_name: str = "Home Assistant 30-min",
        station_id: StationRef | None = None,
    ) -> TariffPlan:
        """Write the day's buy and sell prices (station-local time).

        Each is 48 prices from 00:00 in half-hour steps, or slots ``("HH:MM", "HH:MM",
        price)`` / :class:`TariffSlot` of exactly 30 minutes covering the day once.
        ``unit`` is ``"cent/kWh"`` (the cloud's) or ``"currency/kWh"`` (times 100). A sell
        price is what the owner is paid; negative prices are allowed. Returns the plan
        written.
        """
        factor = check_unit(unit)
        buy_slots = check_prices("buy", buy, factor)
        sell_slots = check_prices("sell", sell, factor)
        provider = _check_name("provider name", provider_name)
        plan = _check_name("plan name", plan_name)
        sid = await self._station(station_id)
        body = {
            "stationId": body_station_id(sid),
            "priceMode": 1,
            "buyPrice": _pricing(buy_slots, provider, plan),
            "sellPrice": _pricing(sell_slots, provider, plan),
        }
        await self._request("POST", _SAVE, what=f"Writing the tariff of station {sid}", json=body)
        return TariffPlan.parse(body)

    async def add_spike_load(
        self,
        start: datetime,
        duration: int,
        power: float,
        *,
        load_type: int = 4,
        station_id: StationRef | None = None,
        time_zone: str | tzinfo | None = None,
    ) -> None:
        """Tell the AI of a planned load: from ``start`` for ``duration`` min at ``power`` kW.

        ``start`` is station-local when naive; an aware one is turned into the
        station's zone (``time_zone``, else the home station's). ``load_type`` is a
        code of :data:`~..models.tariff.LOAD_TYPES` (4: car charging).
        """
        if not isinstance(start, datetime):
            raise SigenValidationError(f"The spike load's start must be a datetime, got {start!r}")
        minutes = check_whole(
            "The spike load's duration", duration, *SPIKE_DURATION_RANGE, "minutes"
        )
        kw = check_number(
            "The spike load's power", power, 0.0, SPIKE_MAX_POWER_KW, "kW", above_low=True
        )
        kind = check_whole(
            "The spike load's type", load_type, 0, len(LOAD_TYPES) - 1, "(a LOAD_TYPES code)"
        )
        zone = check_zone(time_zone)
        sid = await self._station(station_id)
        zone = zone or station_zone(self._home, sid)
        local = start.astimezone(zone) if start.tzinfo is not None and zone is not None else start
        body = {
            "stationId": body_station_id(sid),
            "loadType": kind,
            "startTime": local.strftime("%H:%M"),
            "startDate": local.strftime("%Y-%m-%d"),
            "duration": minutes,
            "power": kw,
        }
        what = f"Adding a {minutes} min spike load of {kw:g} kW to station {sid}"
        await self._request("POST", _SPIKE_ADD, what=what, json=body)

    async def list_spike_loads(self, *, station_id: StationRef | None = None) -> list[SpikeLoad]:
        """The spike-load hints the station has."""
        sid = await self._station(station_id)
        what = f"Reading the spike loads of station {sid}"
        path = f"{_SPIKE_LIST}/{in_path(sid)}"
        reply = await self._request("GET", path, what=what, params={"stationId": sid})
        items = reply.items("list", "records")
        return [SpikeLoad.from_dict(item) for item in items if isinstance(item, dict)]

    async def remove_spike_load(
        self, event_id: str | SpikeLoad, *, station_id: StationRef | None = None
    ) -> None:
        """Remove a spike-load hint (its ``event_id``, a digit string)."""
        if isinstance(event_id, SpikeLoad):
            event_id = event_id.event_id
        if not isinstance(event_id, str) or not event_id.strip().isdigit():
            raise SigenValidationError(
                f"A spike load's event id must be a string of digits, got {event_id!r}"
            )
        sid = await self._station(station_id)
        what = f"Removing spike load {event_id} of station {sid}"
        params = {"stationId": sid, "eventId": event_id.strip()}
        await self._request("POST", _SPIKE_DEL, what=what, params=params)


__all__ = ["MAX_PRICE_CENTS", "TariffApi", "check_prices", "check_unit"]
