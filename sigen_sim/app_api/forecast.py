"""Sigen's AI forecast: ``GET prediction/predictData/get/predictData/{stationId}``.

``nowTime`` is when the forecast was made and each point's ``time`` is station-local
``"YYYY-MM-DD HH:MM"`` beside its epoch-seconds ``timestamp`` (the two agree here);
PV and load in kW, SOC in %, 15 minutes apart (§7.12 of the API notes). The values come
from :mod:`..model.forecast`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model.forecast import forecast
from ._common import AppRoutes, authorized_station, envelope

if TYPE_CHECKING:
    from ..model import SimStation


def forecast_data(station: SimStation, rel: float) -> dict[str, Any]:
    """The forecast answer's ``data``."""
    station.sync()
    made, points = forecast(station, station.synced_until, rel)

    def local(t: float) -> str:
        return station.clock.local(t).strftime("%Y-%m-%d %H:%M")

    def series(name: str) -> list[dict[str, Any]]:
        return [
            {"time": local(p.t), "timestamp": int(p.t), "value": getattr(p, name)} for p in points
        ]

    return {
        "nowTime": local(made),
        "pvList": series("pv"),
        "loadList": series("load"),
        "socList": series("soc"),
    }


class ForecastRoutes(AppRoutes):
    """The AI forecast."""

    def register(self, app: web.Application) -> None:
        """Add the route to ``app``."""
        app.router.add_get(
            "/prediction/predictData/get/predictData/{station_id}", self.get_forecast
        )

    async def get_forecast(self, request: web.Request) -> web.Response:
        """The station's forecast in force now."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        return envelope(forecast_data(station, self.sim.config.forecast_noise))
