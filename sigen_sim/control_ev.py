"""The control API's view of the EV chargers, the tariff and the forecast (issue 20).

``GET /_sim/stations/{systemId}/ev`` shows every charger and its car (kW, kWh, %);
``POST /_sim/stations/{systemId}/ev/{serial}/car`` plugs the car in or out and may set
its SOC and size (``{"plugged": true, "soc": 30, "capacityKwh": 60}``).
``GET /_sim/stations/{systemId}/pricing`` shows the stored tariff (48 buy and sell
prices, cents/kWh, from 00:00), whether now is a cheap slot, and the spike loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.ev import AcCharger, DcCharger

if TYPE_CHECKING:
    from .model import SimStation


def ev_state(station: SimStation) -> dict[str, Any]:
    """Every charger of a station and its car, as plain JSON."""
    station.sync()
    t = station.synced_until
    chargers: list[dict[str, Any]] = []
    for charger in station.chargers.all():
        car = charger.car
        item: dict[str, Any] = {
            "serial": charger.serial,
            "kind": "ac" if isinstance(charger, AcCharger) else "dc",
            "powerKw": round(charger.power_kw(t), 3),
            "sessionKwh": round(charger.session_kwh, 3),
            "car": {
                "plugged": car.plugged,
                "soc": round(car.soc, 2),
                "capacityKwh": car.capacity_kwh,
            },
        }
        if isinstance(charger, AcCharger):
            item |= {"currentA": charger.current, "phases": charger.phases, "dlm": charger.dlm}
        if isinstance(charger, DcCharger):
            item |= {
                "charging": charger.charging,
                "allowedKw": charger.allowed_kw,
                "v2xActive": charger.v2x_active(t),
                "v2xEnd": charger.v2x_end,
                "v2xCapKw": charger.v2x_cap_kw,
                "totalChargeKwh": round(charger.total_charge_kwh, 3),
                "totalDischargeKwh": round(charger.total_discharge_kwh, 3),
            }
        chargers.append(item)
    return {"evPowerKw": round(station.chargers.power_kw(t), 3), "chargers": chargers}


def change_car(station: SimStation, serial: str, body: dict[str, Any]) -> None:
    """Plug the car of ``serial`` in or out, set its SOC and size (ValueError/TypeError)."""
    charger = station.chargers.by_serial(serial)
    if charger is None:
        raise KeyError(serial)
    capacity = body.get("capacityKwh")
    if capacity is not None and float(capacity) <= 0:
        raise ValueError("capacityKwh must be positive")
    plugged = body.get("plugged", charger.car.plugged)
    if not isinstance(plugged, bool):
        raise TypeError("plugged must be true or false")
    soc = body.get("soc")
    station.sync()
    if capacity is not None:
        charger.car.capacity_kwh = float(capacity)
    station.chargers.plug(serial, plugged, station.clock.now(), None if soc is None else float(soc))


class EvControl(StationRoutes):
    """Cars plugged in and out; the chargers, the tariff and spike loads shown."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/_sim/stations/{system_id}/ev", self.get_ev)
        r.add_post("/_sim/stations/{system_id}/ev/{serial}/car", self.car)
        r.add_get("/_sim/stations/{system_id}/pricing", self.pricing)

    @for_station
    async def get_ev(self, request: web.Request, station: SimStation) -> web.Response:
        """The chargers and cars of a station."""
        return ok(ev_state(station))

    @for_station
    async def car(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"plugged", "soc", "capacityKwh"}`` (each optional): the car changes."""
        serial = request.match_info["serial"]
        if station.chargers.by_serial(serial) is None:
            return error(f"no charger {serial!r}", 404)
        try:
            change_car(station, serial, await json_body(request))
        except (ValueError, TypeError) as err:
            return error(f"cannot change the car: {err}")
        return ok(ev_state(station))

    @for_station
    async def pricing(self, request: web.Request, station: SimStation) -> web.Response:
        """The stored tariff, whether now is cheap, and the spike loads."""
        pricing = station.pricing
        local = station.clock.local(station.clock.now())
        return ok(
            {
                "buy": pricing.buy,
                "sell": pricing.sell,
                "buyNow": pricing.price_at(local),
                "sellNow": pricing.price_at(local, sell=True),
                "cheapNow": pricing.cheap_at(local),
                "spikeLoads": pricing.spike_loads,
            }
        )
