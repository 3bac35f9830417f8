"""Prices: the tariff save and its read-back, the price summary, spike-load hints.

Shapes of §7.13-§7.15 of the API notes. The tariff save takes ``stationId`` as an
integer or a digit string (clients differ), ``priceMode`` 1 and a ``buyPrice`` and
``sellPrice`` whose ``staticPricing`` holds 30-minute slots covering the day once
(``"23:30-24:00"``, or the older ``"23:30-00:00"``), ``currencyCode`` ``"Cent"``; anything
else is code 1000. The plan is stored per station (:mod:`..model.pricing`) and read back
as written from ``device/stationelecsetprice/latest/static/price``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model.pricing import day_prices
from ._common import (
    AppRoutes,
    applies,
    authorized_station,
    envelope,
    param_illegal,
)
from ._settings import json_object

if TYPE_CHECKING:
    from ..model import SimStation


def slots_of(price: object) -> list[tuple[str, float]]:
    """The ``(timeRange, price)`` slots of a ``buyPrice``/``sellPrice`` (ValueError)."""
    static = price.get("staticPricing") if isinstance(price, dict) else None
    if not isinstance(static, dict):
        raise TypeError("staticPricing is required")
    if static.get("currencyCode") != "Cent":
        raise ValueError(f"currencyCode must be 'Cent', not {static.get('currencyCode')!r}")
    seasons = static.get("combinedPrices")
    try:
        items = seasons[0]["weekPrices"][0]["timeRange"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError) as err:
        raise ValueError("combinedPrices[0].weekPrices[0].timeRange is required") from err
    slots = []
    for item in items if isinstance(items, list) else ():
        price_value = item.get("price") if isinstance(item, dict) else None
        if isinstance(price_value, bool) or not isinstance(price_value, int | float):
            raise TypeError(f"a slot's price must be a number: {item!r}")
        if not math.isfinite(price_value):
            raise ValueError("a slot's price must be finite")
        slots.append((str(item.get("timeRange")), float(price_value)))
    return slots


def price_cost(station: SimStation) -> list[dict[str, Any]]:
    """The price summary: the buy price now (cents/kWh), a 25 % tax, one fixed fee."""
    local = station.clock.local(station.clock.now())
    return [
        {
            "direction": 2,
            "priceCoefficient": 1.0,
            "priceCost": station.pricing.price_at(local),
            "taxSettings": {
                "enableNegativePriceTax": False,
                "negativePriceTaxRate": None,
                "taxMode": 0,
                "fixedTaxRate": 0.25,
                "touSchedule": [],
            },
            "additionalFeeList": [
                {
                    "feeName": "Network fee",
                    "feeType": 0,
                    "applyTax": True,
                    "fixedValue": 0.1,
                    "touSchedule": [],
                }
            ],
        }
    ]


def spike_problem(record: dict[str, Any]) -> str | None:
    """What is wrong with a spike-load hint (None: nothing)."""
    kind, duration, power = record["loadType"], record["duration"], record["power"]
    if isinstance(kind, bool) or not isinstance(kind, int) or not 0 <= kind <= 27:
        return "loadType must be 0-27"
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        return "duration must be whole minutes"
    if isinstance(power, bool) or not isinstance(power, int | float) or power <= 0:
        return "power must be a positive number"
    if not isinstance(record["startDate"], str) or not isinstance(record["startTime"], str):
        return "startDate and startTime are required"
    return None


class TariffRoutes(AppRoutes):
    """The tariff, the price summary and the spike-load hints."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_post("/device/stationelecsetprice/save", self.save)
        r.add_get("/device/stationelecsetprice/latest/static/price", self.plan)
        r.add_get("/prediction/aipv/elecPrice/get/priceCost", self.price_cost)
        r.add_post("/prediction/aipv/prediction/modify/predictLoad", self.add_spike)
        r.add_get("/prediction/aipv/prediction/get/automationLoadRecord/{station_id}", self.spikes)
        r.add_post("/prediction/aipv/prediction/del/automationLoad", self.remove_spike)

    async def save(self, request: web.Request) -> web.Response:
        """The whole plan, checked (code 1000 and nothing stored when it is not right)."""
        body = await json_object(request)
        if isinstance(body, web.Response):
            return body
        station = authorized_station(self.api, request, body.get("stationId"))
        if isinstance(station, web.Response):
            return station
        if body.get("priceMode") != 1:
            return param_illegal("param illegal: priceMode must be 1")
        try:
            buy = day_prices(slots_of(body.get("buyPrice")))
            sell = day_prices(slots_of(body.get("sellPrice")))
        except (TypeError, ValueError) as err:
            return param_illegal(f"param illegal: {err}")
        if applies(request):
            station.sync()
            station.pricing.save(body, buy, sell)
        return envelope(True)

    async def plan(self, request: web.Request) -> web.Response:
        """The plan as saved (``null`` before the first save)."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        return envelope(station.pricing.body)

    async def price_cost(self, request: web.Request) -> web.Response:
        """The price, tax and fee summary."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        return envelope(price_cost(station))

    async def add_spike(self, request: web.Request) -> web.Response:
        """``loadType``, ``startDate``, ``startTime``, ``duration`` (min), ``power`` (kW)."""
        body = await json_object(request)
        if isinstance(body, web.Response):
            return body
        station = authorized_station(self.api, request, body.get("stationId"))
        if isinstance(station, web.Response):
            return station
        keys = ("loadType", "startDate", "startTime", "duration", "power")
        record = {key: body.get(key) for key in keys}
        problem = spike_problem(record)
        if problem is not None:
            return param_illegal(f"param illegal: {problem}")
        if applies(request):
            station.pricing.add_spike(record)
        return envelope(True)

    async def spikes(self, request: web.Request) -> web.Response:
        """The station's spike-load hints."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        return envelope([dict(item) for item in station.pricing.spike_loads])

    async def remove_spike(self, request: web.Request) -> web.Response:
        """``?stationId=&eventId=`` (an unknown event is code 1000)."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        event_id = request.query.get("eventId", "")
        known = any(item["eventId"] == event_id for item in station.pricing.spike_loads)
        if not known:
            return param_illegal(f"param illegal: no spike load {event_id!r}")
        if applies(request):
            station.pricing.remove_spike(event_id)
        return envelope(True)
