"""Prices of the app API: the tariff plan, the price/tax/fee summary, spike-load hints.

The tariff plan is what ``device/stationelecsetprice/save`` writes: a buy and a sell
price for each 30-minute slot of a day (``"00:00-00:30"`` … ``"23:30-24:00"``), station
local time, in cents per kWh (``currencyCode`` ``"Cent"``). Spike-load hints tell the AI
of a planned big load. Shapes: §7.13-§7.15 of the API notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final

from .._parse import parse_bool, parse_id, parse_int, parse_number, parse_str
from ._base import SigenModel, require_mapping, wire

#: The only slot length the cloud takes (minutes) and the slots of a day.
SLOT_MINUTES: Final = 30
SLOTS_PER_DAY: Final = 24 * 60 // SLOT_MINUTES
#: The price units a plan may be given in, and their factor to the cloud's cents.
PRICE_UNITS: Final = {"cent/kWh": 1.0, "ct/kWh": 1.0, "currency/kWh": 100.0}
#: The cloud's ``currencyCode`` (the only one seen).
CURRENCY_CODE: Final = "Cent"
#: The spike-load ``loadType`` names, by code (§7.15; 4 is car charging).
LOAD_TYPES: Final = (
    "Cloth Dryer", "Air Conditioner", "Dish Washer", "Washing Machine", "Car Charging",
    "Coffee Machine", "Floor Heating", "Fridge", "Heat Pump", "Heating And Cooling",
    "Hot Water", "Lights", "Microwave", "Oven", "Pool Pump",
    "Server Rack", "Thermostat", "Towel Rails", "TV", "Wine Cabinet",
    "Heat Pump", "Water Dispenser", "Medical Equipment", "Plug Socket", "Dehumidifier",
    "EVAC", "EVDC", "Other",
)  # fmt: skip
LOAD_TYPE_CAR_CHARGING: Final = 4

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def clock_minutes(text: object) -> int | None:
    """``"HH:MM"`` as minutes of the day; ``"24:00"`` is 1440 (the end of the day)."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    return total if minutes < 60 and total <= 24 * 60 else None


def clock_text(minutes: int) -> str:
    """Minutes of the day as ``"HH:MM"`` (1440 is ``"24:00"``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class TariffSlot:
    """One price slot: from ``start`` to ``end`` minute of the day, ``price`` in cents/kWh."""

    start: int
    end: int
    price: float

    @property
    def label(self) -> str:
        """The cloud's ``"HH:MM-HH:MM"`` (the last slot ends ``"24:00"``)."""
        return f"{clock_text(self.start)}-{clock_text(self.end)}"

    def holds(self, minute: int) -> bool:
        """Whether the slot holds that minute of the day."""
        return self.start <= minute < self.end


def parse_slot(item: object) -> TariffSlot | None:
    """A ``{"timeRange": "HH:MM-HH:MM", "price": n}`` item (an end of ``"00:00"`` is midnight)."""
    if not isinstance(item, Mapping):
        return None
    label = parse_str(item.get("timeRange"))
    price = parse_number(item.get("price"))
    if label is None or price is None or "-" not in label:
        return None
    first, _, second = label.partition("-")
    start, end = clock_minutes(first), clock_minutes(second)
    if start is None or end is None:
        return None
    if end == 0:
        end = 24 * 60  # the older "23:30-00:00"
    return TariffSlot(start, end, price) if end > start else None


def _static(price: object) -> dict[str, Any]:
    """The ``staticPricing`` object of a ``buyPrice``/``sellPrice`` (else ``{}``)."""
    if isinstance(price, Mapping):
        static = price.get("staticPricing")
        if isinstance(static, Mapping):
            return dict(static)
    return {}


def _slots(static: Mapping[str, Any]) -> tuple[TariffSlot, ...]:
    """Every slot of the first season's first week range, in time order."""
    seasons = static.get("combinedPrices")
    if not isinstance(seasons, list) or not seasons or not isinstance(seasons[0], Mapping):
        return ()
    weeks = seasons[0].get("weekPrices")
    if not isinstance(weeks, list) or not weeks or not isinstance(weeks[0], Mapping):
        return ()
    items = weeks[0].get("timeRange")
    slots = [slot for item in items or () if (slot := parse_slot(item)) is not None]
    return tuple(sorted(slots, key=lambda slot: slot.start))


@dataclass(frozen=True)
class TariffPlan(SigenModel):
    """The station's tariff plan: buy and sell slots (cents/kWh) and their names.

    ``buy`` is what the owner pays, ``sell`` what the owner is paid (negative prices
    are allowed); ``currency`` the cloud's ``currencyCode``.
    """

    WHAT = "the tariff plan"

    price_mode: int | None = wire("priceMode", parse_int)
    buy: tuple[TariffSlot, ...] = ()
    sell: tuple[TariffSlot, ...] = ()
    currency: str | None = None
    provider_name: str | None = None
    plan_name: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TariffPlan:
        """Read the save body's shape (as the cloud may give it back)."""
        source = require_mapping(cls.WHAT, data)
        buy, sell = _static(source.get("buyPrice")), _static(source.get("sellPrice"))
        first = buy or sell
        return cls.build(
            source,
            buy=_slots(buy),
            sell=_slots(sell),
            currency=parse_str(first.get("currencyCode")),
            provider_name=parse_str(first.get("providerName")),
            plan_name=parse_str(first.get("planName")),
        )

    def price_at(self, direction: str, when: datetime | time) -> float | None:
        """The ``"buy"`` or ``"sell"`` price (cents/kWh) at a station-local time."""
        slots = self.buy if direction == "buy" else self.sell
        minute = when.hour * 60 + when.minute
        return next((slot.price for slot in slots if slot.holds(minute)), None)


@dataclass(frozen=True)
class PriceFee(SigenModel):
    """An additional fee of a price: its name, type, whether taxed, its fixed value."""

    WHAT = "a fee"

    name: str | None = wire("feeName", parse_str)
    fee_type: int | None = wire("feeType", parse_int)
    apply_tax: bool | None = wire("applyTax", parse_bool)
    fixed_value: float | None = wire("fixedValue", parse_number)


@dataclass(frozen=True)
class PriceCost(SigenModel):
    """The app's price, tax and fee summary for one direction (``priceCost``).

    ``direction`` as the cloud numbers it (2 seen; its meaning is a guess), the price
    coefficient and cost, the tax (``fixed_tax_rate`` a fraction: 0.25 = 25 %), and
    the additional fees (in the station's currency unit).
    """

    WHAT = "the price cost"

    direction: int | None = wire("direction", parse_int, "directionType")
    price_coefficient: float | None = wire("priceCoefficient", parse_number)
    price_cost: float | None = wire("priceCost", parse_number)
    tax_mode: int | None = None
    fixed_tax_rate: float | None = None
    negative_price_tax: bool | None = None
    fees: tuple[PriceFee, ...] = ()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> PriceCost:
        """Read one direction's summary with its ``taxSettings`` and ``additionalFeeList``."""
        source = require_mapping(cls.WHAT, data)
        tax = source.get("taxSettings")
        tax = tax if isinstance(tax, Mapping) else {}
        fees = source.get("additionalFeeList")
        return cls.build(
            source,
            tax_mode=parse_int(tax.get("taxMode")),
            fixed_tax_rate=parse_number(tax.get("fixedTaxRate")),
            negative_price_tax=parse_bool(tax.get("enableNegativePriceTax")),
            fees=tuple(
                PriceFee.from_dict(item) for item in fees or () if isinstance(item, Mapping)
            ),
        )


@dataclass(frozen=True)
class SpikeLoad(SigenModel):
    """A spike-load hint: a planned big load the AI plans around.

    ``event_id`` is a 19-digit id kept as text, ``load_type`` the code of
    :data:`LOAD_TYPES` (``load_name`` its name), ``start_date``/``start_time`` station
    local (``"YYYY-MM-DD"``, ``"HH:MM"``), ``duration`` minutes, ``power`` kW.
    """

    WHAT = "a spike-load hint"

    event_id: str = wire("eventId", parse_id, "id", required="eventId")
    load_type: int | None = wire("loadType", parse_int)
    start_date: str | None = wire("startDate", parse_str)
    start_time: str | None = wire("startTime", parse_str)
    duration: int | None = wire("duration", parse_int)
    power: float | None = wire("power", parse_number)

    @property
    def load_name(self) -> str | None:
        """The load type's name (``"Car Charging"`` for 4)."""
        if self.load_type is None or not 0 <= self.load_type < len(LOAD_TYPES):
            return None
        return LOAD_TYPES[self.load_type]
