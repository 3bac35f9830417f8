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
| GET / POST | `/_sim/stations/{systemId}/peak-shaving` | read / `{"enabled", "soc", "periods"}` |
| GET / POST | `/_sim/stations/{systemId}/settings` | owner settings / `{"pvLimitKw": 4, ...}` |
| POST / DELETE | `/_sim/stations/{systemId}/manual-control` | `{"mode", "durationMin"}` / stop |
| GET / POST | `/_sim/stations/{systemId}/schedule` | TOU schedule / `{"periods"}` as sent |
| GET / POST / DELETE | `/_sim/stations/{systemId}/controller` | holder / `{"holder"}` / let go |
| POST | `/_sim/change` | `{"systemId", "values": optional}` publish a change message |
| POST | `/_sim/telemetry` | `{"systemId": optional}` publish one period message now |
| POST | `/_sim/alarm` | `{"systemId", "code", "status"}` publish an alarm |
| GET / POST | `/_sim/stations/{systemId}/devices` | device tree and alarms / add a device |
| DELETE | `/_sim/stations/{systemId}/devices/{serial}` | a device leaves the tree |
| POST | `/_sim/stations/{systemId}/alarms` | `{"code", "status"}` app-listed (+ pushed) alarm |
| POST | `/_sim/broker/restart` | `{"downFor": seconds}` |
| POST | `/_sim/mqtt/drop` | disconnect the MQTT clients |

``/_sim/stations/{systemId}/system`` takes fields of the MQTT ``change`` message (the
cut-off SOCs, ``peakShavingStatus``/``stormWatchStatus`` "on"/"off", ``systemStatus``,
``onOffGridStatus``); subscribed clients get a change message at once. ``/_sim/change``
publishes one now (default values: ``mqtt_payloads.system_values(station)``).

The station endpoints are in :mod:`sigen_sim.control_stations`, the settings and manual
control in :mod:`sigen_sim.control_settings`, an outside VPP/NBI controller in
:mod:`sigen_sim.control_controller`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .control_common import error, json_body, ok
from .control_controller import ControllerControl
from .control_devices import DevicesControl
from .control_ev import EvControl
from .control_peak import PeakShavingControl
from .control_schedule import ScheduleControl
from .control_settings import SettingsControl
from .control_stations import StationControl, station_state

if TYPE_CHECKING:
    from .simulator import Simulator


class ControlApi:
    """The control endpoints; one instance per simulator."""

    def __init__(self, sim: Simulator) -> None:
        """The control API of ``sim``."""
        self.sim = sim

    def register(self, app: web.Application) -> None:
        """Add every control route to ``app`` (and the root's redirect)."""
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
        StationControl(self.sim).register(app)
        SettingsControl(self.sim).register(app)
        ControllerControl(self.sim).register(app)
        EvControl(self.sim).register(app)
        DevicesControl(self.sim).register(app)
        ScheduleControl(self.sim).register(app)
        PeakShavingControl(self.sim).register(app)
        r.add_post("/_sim/change", self.change)
        r.add_post("/_sim/telemetry", self.telemetry)
        r.add_post("/_sim/alarm", self.alarm)
        r.add_post("/_sim/broker/restart", self.broker_restart)
        r.add_post("/_sim/mqtt/drop", self.mqtt_drop)

    async def state(self, request: web.Request) -> web.Response:
        """Clock, stations, onboarding, faults, MQTT."""
        sim = self.sim
        return ok(
            {
                "time": sim.clock.now(),
                "shard": sim.shard,
                "localTime": sim.clock.local().isoformat(),
                "timeScale": sim.clock.time_scale,
                "stations": [station_state(s) for s in sim.stations],
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
        """The demo account, the app key, secret and identifier, the URLs."""
        sim = self.sim
        return ok(
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
        """``{"seconds": N}``: move simulated time forward."""
        try:
            seconds = float((await json_body(request)).get("seconds", 0))
            await self.sim.advance(seconds)
        except (ValueError, TypeError) as err:
            return error(f"cannot advance: {err}")
        return ok({"time": self.sim.clock.now()})

    async def approve(self, request: web.Request) -> web.Response:
        """The owner approves the onboarding of a system."""
        try:
            self.sim.approve_onboarding(request.match_info["system_id"])
        except KeyError as err:
            return error(str(err), 404)
        return ok()

    async def faults_list(self, request: web.Request) -> web.Response:
        """The fault switches and rules."""
        return ok(self.sim.faults.to_dict())

    async def faults_add(self, request: web.Request) -> web.Response:
        """Add a fault (``{"kind": ...}``; see :meth:`FaultInjector.add_from_dict`)."""
        try:
            rule = self.sim.faults.add_from_dict(await json_body(request))
        except (ValueError, TypeError) as err:
            return error(f"bad fault: {err}")
        return ok(None if rule is None else rule.to_dict())

    async def faults_clear(self, request: web.Request) -> web.Response:
        """Remove every fault."""
        self.sim.faults.clear()
        return ok()

    async def faults_remove(self, request: web.Request) -> web.Response:
        """Remove one fault rule."""
        try:
            rule_id = int(request.match_info["rule_id"])
        except ValueError:
            return error("the rule id must be an integer")
        if not self.sim.faults.remove(rule_id):
            return error(f"no fault rule {rule_id}", 404)
        return ok()

    async def clear(self, request: web.Request) -> web.Response:
        """Faults, request log, rate limits and lockouts cleared."""
        self.sim.clear()
        return ok()

    async def requests(self, request: web.Request) -> web.Response:
        """The request log (``?path_contains=&method=``)."""
        entries = self.sim.requests(request.query.get("path_contains"), request.query.get("method"))
        return ok([e.to_dict() for e in entries])

    async def requests_clear(self, request: web.Request) -> web.Response:
        """Empty the request log."""
        self.sim.request_log.clear()
        return ok()

    async def password(self, request: web.Request) -> web.Response:
        """``{"password": ...}``: the owner changed the password."""
        try:
            new = (await json_body(request)).get("password")
        except (ValueError, TypeError) as err:
            return error(str(err))
        if not isinstance(new, str) or not new:
            return error("'password' must be a non-empty string")
        self.sim.change_password(new)
        return ok()

    async def change(self, request: web.Request) -> web.Response:
        """``{"systemId", "values"}``: publish a change message now."""
        if self.sim.mqtt is None:
            return error("MQTT is not enabled", 409)
        try:
            body = await json_body(request)
        except (ValueError, TypeError) as err:
            return error(str(err))
        system_id = str(body.get("systemId", self.sim.stations[0].system_id))
        values = body.get("values")
        if values is not None and not isinstance(values, dict):
            return error("'values' must be an object of strings")
        try:
            await self.sim.publish_change(
                system_id, None if values is None else {str(k): str(v) for k, v in values.items()}
            )
        except KeyError as err:
            return error(f"cannot publish the change: {err}", 404)
        return ok()

    async def telemetry(self, request: web.Request) -> web.Response:
        """``{"systemId"}`` (optional): publish one period message now."""
        if self.sim.mqtt is None:
            return error("MQTT is not enabled", 409)
        try:
            system_id = (await json_body(request)).get("systemId")
        except (ValueError, TypeError) as err:
            return error(str(err))
        await self.sim.publish_telemetry(system_id)
        return ok()

    async def alarm(self, request: web.Request) -> web.Response:
        """``{"systemId", "code", "status"}``: publish an alarm."""
        if self.sim.mqtt is None:
            return error("MQTT is not enabled", 409)
        try:
            body = await json_body(request)
            system_id = str(body.get("systemId", self.sim.stations[0].system_id))
            code = str(body.get("code", "1001"))
            status = str(body.get("status", "generation"))
        except (ValueError, TypeError) as err:
            return error(str(err))
        await self.sim.publish_alarm(system_id, code, status)
        return ok()

    async def broker_restart(self, request: web.Request) -> web.Response:
        """``{"downFor": seconds}``: restart the broker."""
        if self.sim.mqtt is None:
            return error("MQTT is not enabled", 409)
        try:
            down_for = float((await json_body(request)).get("downFor", 0.0))
        except (ValueError, TypeError) as err:
            return error(str(err))
        await self.sim.restart_broker(down_for)
        return ok()

    async def mqtt_drop(self, request: web.Request) -> web.Response:
        """Disconnect the app's MQTT clients."""
        if self.sim.mqtt is None:
            return error("MQTT is not enabled", 409)
        await self.sim.mqtt.drop_clients()
        return ok()

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
        return ok(
            {
                "endpoints": [{"method": method, "path": path} for path, method in endpoints],
                "docs": "sigen_sim/control_api.py (the module's docstring)",
            }
        )
