"""Smart loads: the device cards, one load's detail and consumption, the manual switch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._common import (
    AppRoutes,
    applies,
    authorized_station,
    envelope,
    param_illegal,
    station_not_found,
    to_int,
    unauthorized,
)

if TYPE_CHECKING:
    from ..model import SimStation, SmartLoad


def device_cards(station: SimStation) -> list[dict[str, Any]]:
    """The ``systemDevice/card`` ``data`` list: one card per smart load."""
    station.sync()
    return [
        {
            "name": sl.name,
            "path": sl.path,
            "valueWithUnit": f"{sl.current_kw:.2f} kW",
            "manualSwitch": 1 if sl.on else 0,
        }
        for sl in station.smart_loads
    ]


def smart_load_detail(smart_load: SmartLoad) -> dict[str, Any]:
    """The ``tp-device/smart-loads`` ``data`` object of one load."""
    return {
        "smartLoadId": smart_load.smart_load_id,
        "name": smart_load.name,
        "loadPath": smart_load.path,
        "ratedPower": f"{smart_load.power_kw:.2f}",
    }


def smart_load_consumption(smart_load: SmartLoad) -> dict[str, Any]:
    """The ``real-time-consumption`` ``data`` object of one load."""
    return {
        "todayConsumption": f"{smart_load.today_kwh:.2f} kWh",
        "monthConsumption": f"{smart_load.month_kwh:.2f} kWh",
        "lifetimeConsumption": f"{smart_load.lifetime_kwh:.2f} kWh",
    }


class SmartLoadRoutes(AppRoutes):
    """The smart-load endpoints (``stationId`` and ``loadPath`` in the query)."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/device/system/device/systemDevice/card", self.device_cards)
        r.add_get("/device/tp-device/smart-loads", self.smart_load_detail)
        r.add_get(
            "/data-process/sigen/station/statistics/real-time-consumption",
            self.smart_load_consumption,
        )
        r.add_patch(
            "/device/tp-device/smart-loads/control-mode/manual/switch", self.smart_load_switch
        )

    def _smart_load_args(self, request: web.Request) -> tuple[SimStation, int] | web.Response:
        """The station and load path of the query, or the refusal."""
        station = self.api.station(request.query.get("stationId"))
        if station is None:
            return station_not_found()
        path = to_int(request.query.get("loadPath"))
        if path is None or path not in {sl.path for sl in station.smart_loads}:
            return param_illegal(f"param illegal: unknown loadPath {request.query.get('loadPath')}")
        return station, path

    async def device_cards(self, request: web.Request) -> web.Response:
        """``GET device/system/device/systemDevice/card?stationId=``."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        return envelope(device_cards(station))

    async def smart_load_detail(self, request: web.Request) -> web.Response:
        """``GET device/tp-device/smart-loads?stationId=&loadPath=``."""
        if not self.api.authorized(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        return envelope(smart_load_detail(station.smart_load(path)))

    async def smart_load_consumption(self, request: web.Request) -> web.Response:
        """``GET .../real-time-consumption?stationId=&loadPath=&smartLoadId=``."""
        if not self.api.authorized(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        station.sync()
        sl = station.smart_load(path)
        if to_int(request.query.get("smartLoadId")) != sl.smart_load_id:
            return param_illegal("param illegal: smartLoadId does not match loadPath")
        return envelope(smart_load_consumption(sl))

    async def smart_load_switch(self, request: web.Request) -> web.Response:
        """``PATCH .../control-mode/manual/switch?stationId=&loadPath=&manualSwitch=0|1``."""
        if not self.api.authorized(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        switch = request.query.get("manualSwitch")
        if switch not in ("0", "1"):
            return param_illegal("param illegal: manualSwitch must be 0 or 1")
        if applies(request):  # else acknowledged but not applied (a fault)
            station.set_smart_load(path, switch == "1")
        return envelope(None)
