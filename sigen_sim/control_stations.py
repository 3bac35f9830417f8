"""The control API's station endpoints (``/_sim/stations...``; see :mod:`.control_api`).

:func:`station_state` is the control API's JSON view of a station (``/_sim/state``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .mqtt_payloads import system_values

if TYPE_CHECKING:
    from .model import SimStation


def station_state(station: SimStation) -> dict[str, Any]:
    """A JSON-friendly view of a station for the control API."""
    s = station.sample()
    t = station.synced_until
    active = station.active_command(t)
    return {
        "stationId": station.station_id,
        "systemId": station.system_id,
        "snCode": station.sn_code,
        "offline": station.offline,
        "name": station.name,
        "time": t,
        "localTime": station.local(t).isoformat(),
        "mode": station.mode,
        "profileId": station.profile_id,
        "modeLabel": station.mode_label(),
        "pvPower": s.pv,
        "loadPower": s.load,
        "batteryPower": s.battery,
        "buySellPower": s.buy_sell,
        "batterySoc": s.soc,
        "pvDayNrg": round(station.pv_day_kwh, 3),
        "smartLoads": [
            {
                "name": sl.name,
                "path": sl.path,
                "on": sl.on,
                "powerKw": sl.power_kw,
                "todayKwh": round(sl.today_kwh, 3),
                "lifetimeKwh": round(sl.lifetime_kwh, 3),
            }
            for sl in station.smart_loads
        ],
        "activeCommand": None if active is None else dict(active.raw),
        "appliedCommands": list(station.applied_commands),
    }


class StationControl(StationRoutes):
    """Stations and their smart loads, settings and connection, changed from outside."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_post("/_sim/stations/{system_id}/mode", self.station_mode)
        r.add_post("/_sim/stations/{system_id}/smart-loads/{path}", self.smart_load)
        r.add_post("/_sim/stations/{system_id}/system", self.system_values)
        r.add_post("/_sim/stations/{system_id}/offline", self.station_offline)
        r.add_post("/_sim/stations", self.station_add)
        r.add_delete("/_sim/stations/{system_id}", self.station_remove)
        r.add_post("/_sim/stations/{system_id}/smart-loads", self.smart_load_add)
        r.add_delete("/_sim/stations/{system_id}/smart-loads/{path}", self.smart_load_remove)

    @for_station
    async def station_mode(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"mode": int, "profileId": int}``: switch the operational mode."""
        try:
            body = await json_body(request)
            station.set_mode(int(body["mode"]), int(body.get("profileId", -1)))
        except (KeyError, ValueError, TypeError) as err:
            return error(f"cannot set the mode: {err}")
        return ok(station_state(station))

    @for_station
    async def smart_load(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"on": bool}``: switch a smart load."""
        try:
            body = await json_body(request)
            station.set_smart_load(int(request.match_info["path"]), bool(body.get("on", True)))
        except (KeyError, ValueError, TypeError) as err:
            return error(f"cannot switch the smart load: {err}")
        return ok(station_state(station))

    @for_station
    async def system_values(self, request: web.Request, station: SimStation) -> web.Response:
        """Change fields (``{"backupCutOffSOC%": 30, ...}``): change the system settings."""
        try:
            station.set_system_values(await json_body(request))
        except (ValueError, TypeError) as err:
            return error(f"cannot change the system settings: {err}")
        if self.sim.mqtt is not None:
            await self.sim.mqtt.publish_changes()  # at once rather than at the next tick
        return ok(system_values(station))

    @for_station
    async def station_offline(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"offline": bool}``: the station goes off or on line."""
        try:
            offline = (await json_body(request)).get("offline", True)
        except (ValueError, TypeError) as err:
            return error(str(err))
        if not isinstance(offline, bool):
            return error("'offline' must be true or false")
        station.offline = offline
        return ok(station_state(station))

    async def station_add(self, request: web.Request) -> web.Response:
        """A new station appears on the account."""
        station = self.sim.add_station()
        if self.sim.mqtt is not None:
            await self.sim.mqtt.acl_synced()  # the broker lets the app subscribe once we answer
        return ok(station_state(station))

    async def station_remove(self, request: web.Request) -> web.Response:
        """A station disappears from the account."""
        try:
            self.sim.remove_station(request.match_info["system_id"])
        except KeyError as err:
            return error(str(err), 404)
        except ValueError as err:
            return error(str(err))
        if self.sim.mqtt is not None:
            await self.sim.mqtt.acl_synced()
        return ok()

    @for_station
    async def smart_load_add(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"name", "powerKw", "on"}``: a new smart load appears on the station."""
        try:
            body = await json_body(request)
            smart_load = station.add_smart_load(
                str(body.get("name", "")), float(body.get("powerKw", 1.0)), on=bool(body.get("on"))
            )
        except (ValueError, TypeError) as err:
            return error(f"cannot add the smart load: {err}")
        return ok({"name": smart_load.name, "path": smart_load.path})

    @for_station
    async def smart_load_remove(self, request: web.Request, station: SimStation) -> web.Response:
        """A smart load disappears from the station."""
        try:
            station.remove_smart_load(int(request.match_info["path"]))
        except (KeyError, ValueError) as err:
            return error(f"cannot remove the smart load: {err}", 404)
        return ok()
