"""The northbound (developer) OpenAPI of the simulated cloud, under ``/openapi/`` (§2)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app_api import bearer_token, decrypt_password, read_form, read_text, unauthorized
from .app_api._common import applies
from .northbound_history import NorthboundHistoryRoutes

if TYPE_CHECKING:
    from .model import SimStation
    from .simulator import Simulator
    from .tokens import Token

_LOGGER = logging.getLogger(__name__)

#: Modes the REST switch accepts: MSC, FFG and NBI, as the original library documents;
#: VPP is refused, as Predbat found (it moved to MQTT for it).
NB_ALLOWED_MODES = (0, 5, 8)
#: With ``SimConfig.nb_rest_msc_ffg_only``: only MSC and FFG, as one digest of the
#: official documentation says.
NB_MSC_FFG_MODES = (0, 5)


def nb_system(station: SimStation) -> dict[str, Any]:
    """One item of ``/openapi/system``."""
    return {
        "systemId": station.system_id,
        "systemName": station.name,
        "addr": "*** Dublin Ireland",
        "status": "normal",
        "isActivate": True,
        "onOffGridStatus": "onGrid",
        "timeZone": station.clock.timezone,
        "gridConnectTime": station.grid_connect_time,
        "pvCapacity": station.pv_capacity,
        "batteryCapacity": station.battery_capacity,
    }


def nb_energy_flow(station: SimStation) -> dict[str, Any]:
    """Northbound energy flow: gridPower + = export, batteryPower + = charging."""
    s = station.sample()
    return {
        "pvPower": s.pv,
        "gridPower": s.buy_sell,
        "evPower": 0.0,
        "loadPower": s.load,
        "heatPumpPower": 0.0,
        "batteryPower": s.battery,
        "batterySoc": s.soc,
    }


def nb_summary(station: SimStation) -> dict[str, Any]:
    """The ``summary`` ``data`` object: PV energy per day, month, year and lifetime."""
    station.sync()
    return {
        "dailyPowerGeneration": round(station.pv_day_kwh, 2),
        "monthlyPowerGeneration": round(station.pv_month_kwh, 2),
        "annualPowerGeneration": round(station.pv_year_kwh, 2),
        "lifetimePowerGeneration": round(station.pv_lifetime_kwh, 2),
        "lifetimeCo2": round(station.pv_lifetime_kwh * 0.000475, 2),
        "lifetimeCoal": round(station.pv_lifetime_kwh * 0.0004, 2),
        "lifetimeTreeEquivalent": round(station.pv_lifetime_kwh * 0.00065, 2),
    }


class NorthboundApi:
    """Route handlers; one instance per simulator."""

    def __init__(self, sim: Simulator) -> None:
        """The northbound API of ``sim``."""
        self.sim = sim

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_post("/openapi/auth/login/key", self.login_key)
        r.add_post("/openapi/auth/login/password", self.login_password)
        r.add_get("/openapi/system", self.systems)
        r.add_get("/openapi/systems/{system_id}/energyFlow", self.energy_flow)
        r.add_get("/openapi/systems/{system_id}/summary", self.summary)
        r.add_get("/openapi/instruction/{system_id}/settings", self.get_settings)
        r.add_post("/openapi/instruction/{system_id}/settings", self.post_settings)
        r.add_put("/openapi/instruction/settings", self.put_settings)
        r.add_post("/openapi/board/onboard", self.onboard)
        r.add_post("/openapi/board/offboard", self.offboard)
        NorthboundHistoryRoutes(self.sim).register(app)

    # ------------------------------------------------------------------ helpers
    def _env(self, data: Any = None, code: int = 0, msg: str = "success") -> web.Response:
        if self.sim.config.nb_double_encode_all and isinstance(data, dict | list):
            data = json.dumps(data)  # the variant where every ``data`` is a JSON string
        return web.json_response(
            {"code": code, "msg": msg, "timestamp": int(self.sim.clock.now()), "data": data}
        )

    def _auth(self, request: web.Request) -> Token | None:
        return self.sim.tokens.lookup(bearer_token(request), "nb")

    def _rate_limited(self) -> web.Response:
        return self._env(None, 1201, "access restriction")

    def _station(self, system_id: str) -> SimStation | None:
        return self.sim.station_by_system_id(system_id)

    async def _json(self, request: web.Request) -> Any:
        text = await read_text(request)
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None

    async def _issue(self, subject: str) -> web.Response:
        token = self.sim.tokens.issue("nb", subject)
        self.sim.tokens.record_success(subject)
        if self.sim.mqtt is not None:
            await self.sim.mqtt.set_password(self.sim.app_key, token.value)
        data = {
            "tokenType": "Bearer",
            "accessToken": token.value,
            "expiresIn": int(self.sim.tokens.nb_lifetime),
        }
        return self._env(json.dumps(data))  # double-encoded, as the real API does

    def _login_failed(self, subject: str) -> web.Response:
        if self.sim.tokens.record_failure(subject):
            return self._locked(subject)
        return self._env(None, 11003, "authentication failed")

    def _locked(self, subject: str) -> web.Response:
        minutes = max(1, round(self.sim.tokens.lock_remaining(subject) / 60))
        return self._env(None, 11002, f"account locked, try again in {minutes} minutes")

    # ------------------------------------------------------------------ auth
    async def login_key(self, request: web.Request) -> web.Response:
        """``POST auth/login/key`` with ``{"key": base64("appKey:appSecret")}``."""
        body = await self._json(request)
        key = body.get("key") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return self._env(None, 1000, "param illegal: key is required")
        try:
            decoded = base64.b64decode(key.encode("ascii"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeError, ValueError):
            decoded = ""
        app_key, _, secret = decoded.partition(":")
        subject = f"key:{app_key}"
        if self.sim.tokens.locked(subject):
            return self._locked(subject)
        if app_key != self.sim.app_key or secret != self.sim.app_secret:
            return self._login_failed(subject)
        return await self._issue(subject)

    async def login_password(self, request: web.Request) -> web.Response:
        """``POST auth/login/password`` (JSON or form) with the account's credentials."""
        if request.content_type == "application/x-www-form-urlencoded":
            body: Any = await read_form(request)
        else:
            body = await self._json(request)
        if not isinstance(body, dict):
            return self._env(None, 1000, "param illegal: username and password are required")
        username = str(body.get("username", "")).strip()
        password = body.get("password")
        subject = username.lower()
        if self.sim.tokens.locked(subject):
            return self._locked(subject)
        if subject != self.sim.username.lower() or not self._password_ok(password):
            return self._login_failed(subject)
        return await self._issue(subject)

    def _password_ok(self, password: Any) -> bool:
        """Whether the password is right, in the form this run accepts.

        ``SimConfig.nb_password_form``: plain, or AES-encrypted as the app login sends
        it; the other form fails.
        """
        if not isinstance(password, str):
            return False
        if self.sim.config.nb_password_form == "aes":
            return decrypt_password(password) == self.sim.password
        return password == self.sim.password

    # ------------------------------------------------------------------ queries
    async def systems(self, request: web.Request) -> web.Response:
        """``GET system``: the account's systems (rate-limited per account)."""
        token = self._auth(request)
        if token is None:
            return unauthorized()
        if not self.sim.nb_rate_ok("system", token.subject):
            return self._rate_limited()
        items: list[Any] = [nb_system(s) for s in self.sim.stations]
        if self.sim.config.nb_system_items_as_strings:
            items = [json.dumps(item) for item in items]
        return self._env(items)

    async def energy_flow(self, request: web.Request) -> web.Response:
        """``GET systems/{id}/energyFlow``."""
        if self._auth(request) is None:
            return unauthorized()
        station = self._station(request.match_info["system_id"])
        if station is None:
            return self._env(None, 1106, "station not found")
        if not self.sim.nb_rate_ok("energyFlow", station.system_id):
            return self._rate_limited()
        return self._env(nb_energy_flow(station))

    async def summary(self, request: web.Request) -> web.Response:
        """``GET systems/{id}/summary``."""
        if self._auth(request) is None:
            return unauthorized()
        station = self._station(request.match_info["system_id"])
        if station is None:
            return self._env(None, 1106, "station not found")
        if not self.sim.nb_rate_ok("summary", station.system_id):
            return self._rate_limited()
        return self._env(nb_summary(station))

    async def get_settings(self, request: web.Request) -> web.Response:
        """``GET instruction/{id}/settings``: the current operational mode."""
        if self._auth(request) is None:
            return unauthorized()
        station = self._station(request.match_info["system_id"])
        if station is None:
            return self._env(False, 1000, "param illegal")
        if not self.sim.nb_rate_ok("settings", station.system_id):
            return self._rate_limited()
        return self._env({"energyStorageOperationMode": station.mode})

    async def _switch(self, system_id: Any, mode: Any, *, apply: bool = True) -> web.Response:
        station = self._station(system_id) if isinstance(system_id, str) else None
        if (
            station is None
            or isinstance(mode, bool)
            or not isinstance(mode, int)
            or mode not in self._allowed_modes()
        ):
            return self._env(False, 1000, "param illegal")
        if self.sim.config.peak_shaving_refuses_nb and station.peak_shaving.enabled:
            return self._env(False, 1504, "peak shaving enabled")  # §2.3's code, a variant
        if apply:  # else acknowledged but not applied (a fault)
            station.set_mode(mode)
        return self._env(True)

    def _allowed_modes(self) -> tuple[int, ...]:
        return NB_MSC_FFG_MODES if self.sim.config.nb_rest_msc_ffg_only else NB_ALLOWED_MODES

    async def put_settings(self, request: web.Request) -> web.Response:
        """``PUT instruction/settings``: switch the mode (MSC, FFG, NBI; see the variants)."""
        if self._auth(request) is None:
            return unauthorized()
        body = await self._json(request)
        if not isinstance(body, dict):
            return self._env(False, 1000, "param illegal")
        return await self._switch(
            body.get("systemId"), body.get("energyStorageOperationMode"), apply=applies(request)
        )

    async def post_settings(self, request: web.Request) -> web.Response:
        """A variant seen in the wild: POST /openapi/instruction/{systemId}/settings."""
        if self._auth(request) is None:
            return unauthorized()
        body = await self._json(request)
        if not isinstance(body, dict):
            return self._env(False, 1000, "param illegal")
        system_id = body.get("systemId", request.match_info["system_id"])
        if system_id != request.match_info["system_id"]:
            return self._env(False, 1000, "param illegal")
        return await self._switch(
            system_id, body.get("energyStorageOperationMode"), apply=applies(request)
        )

    # ------------------------------------------------------------------ onboarding
    async def _board(self, request: web.Request, *, onboard: bool) -> web.Response:
        if self._auth(request) is None:
            return unauthorized()
        body = await self._json(request)
        if not isinstance(body, list) or not body or not all(isinstance(i, str) for i in body):
            return self._env(None, 1000, "param illegal: a JSON array of system ids is required")
        results = []
        for system_id in body:
            ok, codes = self.sim.onboard(system_id) if onboard else self.sim.offboard(system_id)
            results.append({"systemId": system_id, "result": ok, "codeList": codes})
        return self._env(results)

    async def onboard(self, request: web.Request) -> web.Response:
        """``POST board/onboard`` with a JSON array of system ids."""
        return await self._board(request, onboard=True)

    async def offboard(self, request: web.Request) -> web.Response:
        """``POST board/offboard`` with a JSON array of system ids."""
        return await self._board(request, onboard=False)
