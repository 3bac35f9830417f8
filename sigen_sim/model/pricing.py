"""A station's tariff plan and spike-load hints: state and the TOU rule (no JSON here).

The plan is what the app's tariff save wrote (§7.14 of the API notes): 48 buy and sell
prices of 30-minute slots, station local time, in cents per kWh. In TOU mode a station
with a plan charges its battery from the grid in the day's cheapest buy slots (the
:data:`CHEAP_SLOTS` cheapest, four hours) and consumes its own PV otherwise; without
a plan it keeps the fixed cheap window of :data:`~.commands.TOU_CHEAP_HOURS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .commands import Limits, self_consume

SLOT_MINUTES = 30
CHEAP_SLOTS = 8


def slot_minutes(label: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as minutes of the day (an end of 00:00 or 24:00 is 1440; ValueError)."""
    first, sep, second = label.partition("-")
    if not sep:
        raise ValueError(f"timeRange must be 'HH:MM-HH:MM', not {label!r}")
    start, end = _minutes(first), _minutes(second)
    if end == 0:
        end = 1440
    return start, end


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"a time must be 'HH:MM', not {text!r}")
    total = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or total > 1440:
        raise ValueError(f"a time must be 00:00-24:00, not {text!r}")
    return total


def day_prices(slots: list[tuple[str, float]]) -> list[float]:
    """48 prices from ``(timeRange, price)`` slots of 30 minutes covering the day once."""
    prices: list[float | None] = [None] * (1440 // SLOT_MINUTES)
    for label, price in slots:
        start, end = slot_minutes(label)
        if end - start != SLOT_MINUTES or start % SLOT_MINUTES:
            raise ValueError(f"slot {label} is not a 30-minute slot on the half hour")
        index = start // SLOT_MINUTES
        if prices[index] is not None:
            raise ValueError(f"slot {label} overlaps another")
        prices[index] = price
    missing = [index for index, price in enumerate(prices) if price is None]
    if missing:
        raise ValueError(f"{len(missing)} half-hours of the day have no price")
    return [price for price in prices if price is not None]


@dataclass
class Pricing:
    """The station's tariff plan and spike loads."""

    body: dict[str, Any] | None = None  # the save request as written (for the read-back)
    buy: list[float] = field(default_factory=list)
    sell: list[float] = field(default_factory=list)
    spike_loads: list[dict[str, Any]] = field(default_factory=list)
    next_event: int = 2041603730691940352

    def save(self, body: dict[str, Any], buy: list[float], sell: list[float]) -> None:
        """A new plan (already checked)."""
        self.body, self.buy, self.sell = body, buy, sell

    def price_at(self, local: datetime, *, sell: bool = False) -> float | None:
        """The buy (or sell) price at a local time, cents/kWh (None without a plan)."""
        prices = self.sell if sell else self.buy
        if not prices:
            return None
        return prices[(local.hour * 60 + local.minute) // SLOT_MINUTES]

    def cheap_at(self, local: datetime) -> bool:
        """Whether the slot of ``local`` is among the day's cheapest buy slots."""
        price = self.price_at(local)
        if price is None:
            return False
        return price <= sorted(self.buy)[CHEAP_SLOTS - 1]

    def add_spike(self, record: dict[str, Any]) -> str:
        """Store a spike-load hint; its new event id (19 digits, text)."""
        event_id = str(self.next_event)
        self.next_event += 1
        self.spike_loads.append({"eventId": event_id, **record})
        return event_id

    def remove_spike(self, event_id: str) -> bool:
        """Remove a hint; whether there was one."""
        before = len(self.spike_loads)
        self.spike_loads = [item for item in self.spike_loads if item["eventId"] != event_id]
        return len(self.spike_loads) < before


def tariff_battery(pricing: Pricing, local: datetime, limits: Limits) -> float:
    """TOU with a plan: charge at full power in the cheapest slots, else self-consume."""
    return limits.max_charge if pricing.cheap_at(local) else self_consume(limits)
