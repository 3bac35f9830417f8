"""The simulator's own control API under ``/_sim/`` (JSON), for the demo and e2e tests.

| method | path | body / effect |
|---|---|---|
| GET | `/_sim/` | this list: every control endpoint (method, path) |
| GET | `/_sim/state` | clock, stations, onboarding, faults, MQTT |
| GET | `/_sim/credentials` | demo account, app key/secret/identifier, URLs |
| POST | `/_sim/advance` | `{"seconds": N}` moves simulated time |
| POST | `/_sim/onboarding/{systemId}/approve` | the owner approves the onboarding |
| GET / POST / DELETE | `/_sim/faults` | list / add (`{"kind": ...}`) / clear all |
| DELETE | `/_sim/faults/{id}` | remove one rule |
| POST | `/_sim/clear` | faults, request log, rate limits and lockouts cleared |
| GET / DELETE | `/_sim/requests` | request log (`?path_contains=&method=`) / clear it |
| POST | `/_sim/password` | `{"password": ...}` change the account password |
| POST | `/_sim/stations/{systemId}/mode` | `{"mode": int, "profileId": int}` |
| POST | `/_sim/stations/{systemId}/smart-loads/{path}` | `{"on": bool}` |
| POST | `/_sim/stations` | a new station appears |
| DELETE | `/_sim/stations/{systemId}` | a station disappears |
| POST | `/_sim/stations/{systemId}/smart-loads` | `{"name", "powerKw"}` a new smart load |
| DELETE | `/_sim/stations/{systemId}/smart-loads/{path}` | a smart load disappears |
| POST | `/_sim/stations/{systemId}/system` | `{"backupCutOffSOC%": 30, ...}` settings |
| POST | `/_sim/stations/{systemId}/offline` | `{"offline": bool}` the station goes off/online |
| POST | `/_sim/change` | `{"systemId", "values": optional}` publish a change message |
| POST | `/_sim/telemetry` | `{"systemId": optional}` publish one period message now |
| POST | `/_sim/alarm` | `{"systemId", "code", "status"}` publish an alarm |
| POST | `/_sim/broker/restart` | `{"downFor": seconds}` |
| POST | `/_sim/mqtt/drop` | disconnect the MQTT clients |

``/_sim/stations/{systemId}/system`` takes fields of the MQTT ``change`` message (the
cut-off SOCs, ``peakShavingStatus``/``stormWatchStatus`` "on"/"off", ``systemStatus``,
``onOffGridStatus``); subscribed clients get a change message at once. ``/_sim/change``
publishes one now (default values: the station's ``system_values()``).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app_api import read_text

if TYPE_CHECKING:
    from .simulator import Simulator

_LOGGER = logging.getLogger(__name__)


def _ok(data: Any = None) -> web.Response:
    return web.json_response({"ok": True, "data": data})


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


class ControlApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/_sim/", self.index)
        # The web app's address of a server is its root (a device's "Visit" link).
        r.add_get("/", self.root)
        r.add_get("/_sim/state", self.state)
        r.add_get("/_sim/credentials", self.credentials)
        r.add_post("/_sim/advance", self.advance)
        r.add_post("/_sim/onboarding/{system_id}/approve", self.approve)
        r.add_get("/_sim/faults", self.faults_list)
        r.add_post("/_sim/faults", self.faults_add)
        r.add_delete("/_sim/faults", self.faults_clear)
        r.add_delete("/_sim/faults/{rule_id}", self.faults_remove)
        r.add_post("/_sim/clear", self.clear)
        r.add_get("/_sim/requests", self.requests)
        r.add_delete("/_sim/requests", self.requests_clear)
        r.add_post("/_sim/password", self.password)
        r.add_post("/_sim/stations/{system_id}/mode", self.station_mode)
        r.add_post("/_sim/stations/{system_id}/smart-loads/{path}", self.smart_load)
        r.add_post("/_sim/stations/{system_id}/system", self.system_values)
        r.add_post("/_sim/stations/{system_id}/offline", self.station_offline)
        r.add_post("/_sim/stations", self.station_add)
        r.add_delete("/_sim/stations/{system_id}", self.station_remove)
        r.add_post("/_sim/stations/{system_id}/smart-loads", self.smart_load_add)
        r.add_delete("/_sim/stations/{system_id}/smart-loads/{path}", self.smart_load_remove)
        r.add_post("/_sim/change", self.change)
        r.add_post("/_sim/telemetry", self.telemetry)
        r.add_post("/_sim/alarm", self.alarm)
        r.add_post("/_sim/broker/restart", self.broker_restart)
        r.add_post("/_sim/mqtt/drop", self.mqtt_drop)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        text = await read_text(request)
        if not text.strip():
            return {}
        try:
            body = json.loads(text)
        except RecursionError as err:
            raise ValueError("the body is nested too deeply") from err
        if not isinstance(body, dict):
            raise TypeError("the body must be a JSON object")
        return body

    async def state(self, request: web.Request) -> web.Response:
        sim = self.sim
        return _ok(
            {
                "time": sim.clock.now(),
                "shard": sim.shard,
                "localTime": sim.clock.local().isoformat(),
                "timeScale": sim.clock.time_scale,
                "stations": [s.state() for s in sim.stations],
                "onboarding": dict(sim.onboarding),
                "onboarded": [s.system_id for s in sim.stations if sim.onboarded(s.system_id)],
                "faults": sim.faults.to_dict(),
                "mqtt": None
                if sim.mqtt is None
                else {
                    "host": sim.mqtt.host,
                    "port": sim.mqtt.port,
                    "received": len(sim.mqtt.received),
                },
                "requests": len(sim.request_log),
                "activeTokens": {
                    kind: len(sim.tokens.active(kind)) for kind in ("app", "refresh", "nb")
                },
            }
        )

    async def credentials(self, request: web.Request) -> web.Response:
        sim = self.sim
        return _ok(
            {
                "apiUrl": sim.api_url,
                "nbUrl": sim.nb_url,
                "username": sim.username,
                "password": sim.password,
                "shard": sim.shard,
                "appKey": sim.app_key,
                "appSecret": sim.app_secret,
                "appIdentifier": sim.app_identifier,
                "systemIds": [s.system_id for s in sim.stations],
                "stationIds": [s.station_id for s in sim.stations],
            }
        )

    async def advance(self, request: web.Request) -> web.Response:
        try:
            seconds = float((await self._body(request)).get("seconds", 0))
            await self.sim.advance(seconds)
        except (ValueError, TypeError) as err:
            return _error(f"cannot advance: {err}")
        return _ok({"time": self.sim.clock.now()})

    async def approve(self, request: web.Request) -> web.Response:
        try:
            self.sim.approve_onboarding(request.match_info["system_id"])
        except KeyError as err:
            return _error(str(err), 404)
        return _ok()

    async def faults_list(self, request: web.Request) -> web.Response:
        return _ok(self.sim.faults.to_dict())

    async def faults_add(self, request: web.Request) -> web.Response:
        try:
            rule = self.sim.faults.add_from_dict(await self._body(request))
        except (ValueError, TypeError) as err:
            return _error(f"bad fault: {err}")
        return _ok(None if rule is None else rule.to_dict())

    async def faults_clear(self, request: web.Request) -> web.Response:
        self.sim.faults.clear()
        return _ok()

    async def faults_remove(self, request: web.Request) -> web.Response:
        try:
            rule_id = int(request.match_info["rule_id"])
        except ValueError:
            return _error("the rule id must be an integer")
        if not self.sim.faults.remove(rule_id):
            return _error(f"no fault rule {rule_id}", 404)
        return _ok()

    async def clear(self, request: web.Request) -> web.Response:
        self.sim.clear()
        return _ok()

    async def requests(self, request: web.Request) -> web.Response:
        entries = self.sim.requests(request.query.get("path_contains"), request.query.get("method"))
        return _ok([e.to_dict() for e in entries])

    async def requests_clear(self, request: web.Request) -> web.Response:
        self.sim.request_log.clear()
        return _ok()

    async def password(self, request: web.Request) -> web.Response:
        try:
            new = (await self._body(request)).get("password")
        except (ValueError, TypeError) as err:
            return _error(str(err))
        if not isinstance(new, str) or not new:
            return _error("'password' must be a non-empty string")
        self.sim.change_password(new)
        return _ok()

    async def station_mode(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            body = await self._body(request)
            station.set_mode(int(body["mode"]), int(body.get("profileId", -1)))
        except (KeyError, ValueError, TypeError) as err:
            return _error(f"cannot set the mode: {err}")
        return _ok(station.state())

    async def smart_load(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            body = await self._body(request)
            station.set_smart_load(int(request.match_info["path"]), bool(body.get("on", True)))
        except (KeyError, ValueError, TypeError) as err:
            return _error(f"cannot switch the smart load: {err}")
        return _ok(station.state())

    async def system_values(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            station.set_system_values(await self._body(request))
        except (ValueError, TypeError) as err:
            return _error(f"cannot change the system settings: {err}")
        if self.sim.mqtt is not None:
            await self.sim.mqtt.publish_changes()  # at once rather than at the next tick
        return _ok(station.system_values())

    async def station_offline(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            offline = (await self._body(request)).get("offline", True)
        except (ValueError, TypeError) as err:
            return _error(str(err))
        if not isinstance(offline, bool):
            return _error("'offline' must be true or false")
        station.offline = offline
        return _ok(station.state())

    async def station_add(self, request: web.Request) -> web.Response:
        station = self.sim.add_station()
        if self.sim.mqtt is not None:
            await self.sim.mqtt.acl_synced()  # the broker lets the app subscribe once we answer
        return _ok(station.state())

    async def station_remove(self, request: web.Request) -> web.Response:
        try:
            self.sim.remove_station(request.match_info["system_id"])
        except KeyError as err:
            return _error(str(err), 404)
        except ValueError as err:
            return _error(str(err))
        if self.sim.mqtt is not None:
            await self.sim.mqtt.acl_synced()
        return _ok()

    async def smart_load_add(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            body = await self._body(request)
            smart_load = station.add_smart_load(
                str(body.get("name", "")), float(body.get("powerKw", 1.0)), on=bool(body.get("on"))
            )
        except (ValueError, TypeError) as err:
            return _error(f"cannot add the smart load: {err}")
        return _ok({"name": smart_load.name, "path": smart_load.path})

    async def smart_load_remove(self, request: web.Request) -> web.Response:
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return _error("unknown system", 404)
        try:
            station.remove_smart_load(int(request.match_info["path"]))
        except (KeyError, ValueError) as err:
            return _error(f"cannot remove the smart load: {err}", 404)
        return _ok()

    async def change(self, request: web.Request) -> web.Response:
        if self.sim.mqtt is None:
            return _error("MQTT is not enabled", 409)
        try:
            body = await self._body(request)
        except (ValueError, TypeError) as err:
            return _error(str(err))
        system_id = str(body.get("systemId", self.sim.stations[0].system_id))
        values = body.get("values")
        if values is not None and not isinstance(values, dict):
            return _error("'values' must be an object of strings")
        try:
            await self.sim.publish_change(
                system_id, None if values is None else {str(k): str(v) for k, v in values.items()}
            )
        except KeyError as err:
            return _error(f"cannot publish the change: {err}", 404)
        return _ok()

    async def telemetry(self, request: web.Request) -> web.Response:
        if self.sim.mqtt is None:
            return _error("MQTT is not enabled", 409)
        try:
            system_id = (await self._body(request)).get("systemId")
        except (ValueError, TypeError) as err:
            return _error(str(err))
        await self.sim.publish_telemetry(system_id)
        return _ok()

    async def alarm(self, request: web.Request) -> web.Response:
        if self.sim.mqtt is None:
            return _error("MQTT is not enabled", 409)
        try:
            body = await self._body(request)
            system_id = str(body.get("systemId", self.sim.stations[0].system_id))
            code = str(body.get("code", "1001"))
            status = str(body.get("status", "generation"))
        except (ValueError, TypeError) as err:
            return _error(str(err))
        await self.sim.publish_alarm(system_id, code, status)
        return _ok()

    async def broker_restart(self, request: web.Request) -> web.Response:
        if self.sim.mqtt is None:
            return _error("MQTT is not enabled", 409)
        try:
            down_for = float((await self._body(request)).get("downFor", 0.0))
        except (ValueError, TypeError) as err:
            return _error(str(err))
        await self.sim.restart_broker(down_for)
        return _ok()

    async def mqtt_drop(self, request: web.Request) -> web.Response:
        if self.sim.mqtt is None:
            return _error("MQTT is not enabled", 409)
        await self.sim.mqtt.drop_clients()
        return _ok()

    async def root(self, request: web.Request) -> web.Response:
        """The server's root, where the real cloud has its web app: the control index."""
        return web.Response(status=302, headers={"Location": "/_sim/"})

    async def index(self, request: web.Request) -> web.Response:
        """Every control endpoint (method and path), read from the router itself."""
        endpoints = sorted(
            {
                (route.resource.canonical, route.method)
                for route in request.app.router.routes()
                if route.resource is not None
                and route.resource.canonical.startswith("/_sim/")
                and route.method != "HEAD"
            }
        )
        return _ok(
            {
                "endpoints": [{"method": method, "path": path} for path, method in endpoints],
                "docs": "sigen_sim/control_api.py (the module's docstring)",
            }
        )
