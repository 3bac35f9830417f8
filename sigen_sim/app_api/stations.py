"""Stations: the account's home station and a station's live energy flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._common import AppRoutes, envelope, param_illegal, station_not_found, unauthorized

if TYPE_CHECKING:
    from ..model import SimStation


def station_home(station: SimStation) -> dict[str, Any]:
    """The ``station/home`` ``data`` object (stationId as an int).

    ``stationCode`` is the northbound/MQTT systemId (left out when
    ``station_code_in_home`` is False); ``stationSnCode`` is the numeric serial.
    """
    data: dict[str, Any] = {
        "stationId": station.station_id,
        "stationName": station.name,
        "stationCode": station.system_id,
        "stationSnCode": station.sn_code,
        "hasPv": True,
        "hasEv": False,
        "hasAcCharger": True,
        "acSnList": [station.ac_sn],
        "dcSnList": [],
        "onGrid": True,
        "pvCapacity": station.pv_capacity,
        "batteryCapacity": station.battery_capacity,
        "timeZoneName": station.clock.timezone,
    }
    if not station.station_code_in_home:
        del data["stationCode"]
    chargers = station.chargers
    if chargers:  # with SimConfig.ev_chargers: the chargers there are
        data["hasEv"], data["hasAcCharger"] = True, chargers.ac is not None
        data["acSnList"] = [] if chargers.ac is None else [chargers.ac.serial]
        data["dcSnList"] = [] if chargers.dc is None else [chargers.dc.serial]
    return data


def energy_flow(station: SimStation) -> dict[str, Any]:
    """The energy-flow ``data`` object (the offline form when the station is offline)."""
    if station.offline:
        return offline_energy_flow(station)
    s = station.sample()
    return {
        "acPower": 0.0,
        "acRunStatus": None,
        "batteryPower": s.battery,
        "batterySoc": s.soc,
        "buySellPower": s.buy_sell,
        "dateCurrTimeStamp": "",
        "evPower": s.ev,
        "generatorPower": 0.0,
        "heatPumpPower": 0.0,
        "loadPower": s.load,
        "onGrid": True,
        "onOffGridStatus": 0,
        "pvDayNrg": round(station.pv_day_kwh, 2),
        "pvPower": s.pv,
        "showHibernateStatus": None,
        "stationSnCode": station.sn_code,
        "stationStatus": 1,
        "thirdPvPower": 0.0,
        "greenSourceInfos": [
            {"sourceId": "FROM_SOLAR", "currentPower": s.pv, "soc": 0.0},
            {"sourceId": "FROM_THIRD_PARTY_INV", "currentPower": 0.0, "soc": 0.0},
            {"sourceId": "FROM_GRID", "currentPower": max(-s.buy_sell, 0.0), "soc": 0.0},
            {"sourceId": "FROM_GENERATOR", "currentPower": 0.0, "soc": 0.0},
            {"sourceId": "FROM_EVDC", "currentPower": 0.0, "soc": 0.0},
        ],
    }


def offline_energy_flow(station: SimStation) -> dict[str, Any]:
    """The energy flow of an offline station as captured.

    ``stationStatus`` 4, every power (and the SOC) ``null``, no ``greenSourceInfos``.
    """
    station.sync()
    return {
        "acPower": None,
        "acRunStatus": None,
        "batteryPower": None,
        "batterySoc": None,
        "buySellPower": None,
        "dateCurrTimeStamp": "",
        "evPower": None,
        "generatorPower": None,
        "heatPumpPower": None,
        "loadPower": None,
        "onGrid": True,
        "onOffGridStatus": 0,
        "pvDayNrg": None,
        "pvPower": None,
        "showHibernateStatus": None,
        "stationSnCode": station.sn_code,
        "stationStatus": 4,
        "thirdPvPower": None,
        "greenSourceInfos": [],
    }


class StationRoutes(AppRoutes):
    """``station/home`` and ``station/energyflow``."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/device/owner/station/home", self.station_home)
        app.router.add_get("/device/sigen/station/energyflow", self.energy_flow)

    async def station_home(self, request: web.Request) -> web.Response:
        """``GET device/owner/station/home``: the account's first station."""
        if not self.api.authorized(request):
            return unauthorized()
        data = station_home(self.sim.stations[0])
        data["stationOpenTime"] = self.sim.history.commissioning.isoformat()
        if self.sim.config.station_id_as_string:
            data["stationId"] = str(data["stationId"])
        return envelope(data)

    async def energy_flow(self, request: web.Request) -> web.Response:
        """``GET device/sigen/station/energyflow?id=``: live powers of a station."""
        if not self.api.authorized(request):
            return unauthorized()
        if "id" not in request.query:
            return param_illegal("param illegal: id is required")
        station = self.api.station(request.query["id"])
        if station is None:
            return station_not_found()
        return envelope(energy_flow(station))
