"""The end-user ("app") REST API of the simulated cloud (§1 and §5 of the API notes)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web
from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad

from .model import DEFAULT_WORKING_MODES, MODE_CUSTOM, SimStation

if TYPE_CHECKING:
    from .simulator import Simulator

_LOGGER = logging.getLogger(__name__)

BASIC_CLIENT = "sigen:sigen"
_AES_KEY = b"sigensigensigenp"
#: The cloud's shards (regions); ``SimConfig.shard`` names the one holding the account.
SHARDS = ("eu", "apac", "aus", "us", "jp", "cn")
_SHARD_HOST = re.compile(r"api-([a-z0-9-]+)\.sigencloud\.com\.?(?::\d+)?")


def decrypt_password(encrypted: str) -> str | None:
    """Reverse the app's AES-128-CBC password encryption; None when it is not valid."""
    try:
        raw = base64.b64decode(encrypted.encode("ascii"), validate=True)
        if not raw or len(raw) % 16:
            return None
        cipher = AES.new(_AES_KEY, AES.MODE_CBC, iv=_AES_KEY)
        return unpad(cipher.decrypt(raw), 16, style="pkcs7").decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None


async def read_text(request: web.Request) -> str:
    """The request body as text; undecodable bytes are replaced, never an exception."""
    return (await request.read()).decode("utf-8", errors="replace")


async def read_form(request: web.Request) -> dict[str, str]:
    """A form body as a dict of strings (garbage gives an empty or partial dict)."""
    return {k: v for k, v in parse_qsl(await read_text(request), keep_blank_values=True)}


def envelope(
    data: Any = None, code: int = 0, msg: str = "success", status: int = 200
) -> web.Response:
    """The cloud's ``{"code", "msg", "data"}`` answer."""
    return web.json_response({"code": code, "msg": msg, "data": data}, status=status)


def param_illegal(msg: str = "param illegal") -> web.Response:
    return envelope(None, 1000, msg)


def unauthorized(reason: str = "the access token is missing, expired or unknown") -> web.Response:
    return web.json_response(
        {"code": 401, "msg": f"Unauthorized: {reason}", "data": None}, status=401
    )


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class AppApi:
    """Route handlers; one instance per simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/auth/oauth/token", self.token)
        r.add_get("/device/owner/station/home", self.station_home)
        r.add_get("/device/sigen/station/energyflow", self.energy_flow)
        r.add_get("/device/energy-profile/mode/all/{station_id}", self.modes_all)
        r.add_get("/device/energy-profile/mode/current/{station_id}", self.mode_current)
        r.add_put("/device/energy-profile/mode", self.set_mode)
        r.add_get("/device/system/device/systemDevice/card", self.device_cards)
        r.add_get("/device/tp-device/smart-loads", self.smart_load_detail)
        r.add_get(
            "/data-process/sigen/station/statistics/real-time-consumption",
            self.smart_load_consumption,
        )
        r.add_patch(
            "/device/tp-device/smart-loads/control-mode/manual/switch", self.smart_load_switch
        )

    # ------------------------------------------------------------------ helpers
    def request_shard(self, request: web.Request) -> str:
        """The shard a request is for: its ``client-server`` header, else the shard of
        the host name it asked for (``api-<shard>.sigencloud.com``), else the
        account's own shard (a client that sends neither).
        """
        header = request.headers.get("client-server", "").strip().lower()
        if header:
            return header
        match = _SHARD_HOST.fullmatch(request.headers.get("Host", "").strip().lower())
        if match is not None:
            return match.group(1)
        return self.sim.shard

    def _auth(self, request: web.Request) -> bool:
        # the app token, or (as one client reports) a northbound password-login token;
        # an app token only on the shard that issued it, and only the account's shard
        token = self.sim.tokens.lookup(bearer_token(request), "app", "nb")
        if token is None:
            return False
        shard = self.request_shard(request)
        return shard == self.sim.shard and token.shard in ("", shard)

    def _station(self, raw: Any) -> SimStation | None:
        sid = _int(raw)
        if sid is None:
            return None
        return self.sim.station_by_id(sid)

    def _login_error(self, *, locked: bool, reason: str, subject: str = "") -> web.Response:
        remaining = 0.0
        if locked:
            remaining = self.sim.tokens.lock_remaining(subject)
        minutes = max(1, round(remaining / 60))
        if self.sim.config.login_error_style == "oauth":
            if locked:
                return web.json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": f"account locked, try again in {minutes} minutes",
                        "code": 11002,
                    },
                    status=400,
                )
            return web.json_response(
                {"error": "invalid_grant", "error_description": reason}, status=400
            )
        if locked:
            return envelope(None, 11002, f"account locked, try again in {minutes} minutes")
        return envelope(None, 11003, reason)

    # ------------------------------------------------------------------ login
    async def token(self, request: web.Request) -> web.Response:
        basic = request.headers.get("Authorization", "")
        scheme, _, value = basic.partition(" ")
        try:
            client = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeError, ValueError):
            client = ""
        if scheme.lower() != "basic" or client != BASIC_CLIENT:
            return web.json_response(
                {"error": "unauthorized", "error_description": "Bad client credentials"},
                status=401,
            )
        form = await read_form(request)
        grant = str(form.get("grant_type", ""))
        tokens = self.sim.tokens
        shard = self.request_shard(request)
        if grant == "password":
            username = str(form.get("username", "")).strip()
            subject = username.lower()
            if shard != self.sim.shard:
                # This shard does not hold the account: "authentication failed", like a
                # wrong password, and nothing to count (it cannot lock the account).
                return self._login_error(locked=False, reason="Incorrect username or password")
            if tokens.locked(subject):
                return self._login_error(locked=True, reason="account locked", subject=subject)
            plain = decrypt_password(str(form.get("password", "")))
            if subject != self.sim.username.lower() or plain != self.sim.password:
                if tokens.record_failure(subject):
                    return self._login_error(locked=True, reason="account locked", subject=subject)
                return self._login_error(locked=False, reason="Incorrect username or password")
            tokens.record_success(subject)
            return self._issue(subject, shard)
        if grant == "refresh_token":
            old = tokens.lookup(str(form.get("refresh_token", "")), "refresh")
            if old is None or shard != self.sim.shard or old.shard not in ("", shard):
                return self._login_error(locked=False, reason="Invalid refresh token")
            if not self.sim.config.rotate_refresh_tokens:
                return self._issue(old.subject, shard, refresh_token=old.value)
            tokens.revoke(old.value)
            return self._issue(old.subject, shard)
        return web.json_response(
            {
                "error": "unsupported_grant_type",
                "error_description": f"Unsupported grant type: {grant or '(none)'}",
            },
            status=400,
        )

    def _issue(self, subject: str, shard: str, *, refresh_token: str | None = None) -> web.Response:
        access = self.sim.tokens.issue("app", subject, shard=shard)
        if refresh_token is None:
            refresh_token = self.sim.tokens.issue("refresh", subject, shard=shard).value
        data: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "expires_in": int(self.sim.tokens.access_lifetime),
            "scope": "server",
        }
        if self.sim.config.login_includes_user_id:
            data["userId"] = self.sim.config.user_id
        return envelope(data)

    # ------------------------------------------------------------------ station
    async def station_home(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        data = self.sim.stations[0].station_home()
        if self.sim.config.station_id_as_string:
            data["stationId"] = str(data["stationId"])
        return envelope(data)

    async def energy_flow(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        if "id" not in request.query:
            return param_illegal("param illegal: id is required")
        station = self._station(request.query["id"])
        if station is None:
            return envelope(None, 1106, "station not found")
        return envelope(station.energy_flow())

    # ------------------------------------------------------------------ modes
    async def modes_all(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        station = self._station(request.match_info["station_id"])
        if station is None:
            return envelope(None, 1106, "station not found")
        modes: list[dict[str, Any]] = []
        for i, (label, value) in enumerate(DEFAULT_WORKING_MODES):
            item: dict[str, Any] = {"label": label, "value": str(value)}
            if i % 2 == 0:  # older payloads carry these on some items
                item["sortOrder"] = i + 1
                item["remarks"] = None
            modes.append(item)
        profiles = [
            {"name": name, "profileId": pid, "value": MODE_CUSTOM} for name, pid in station.profiles
        ]
        return envelope({"defaultWorkingModes": modes, "energyProfileItems": profiles})

    async def mode_current(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        station = self._station(request.match_info["station_id"])
        if station is None:
            return envelope(None, 1106, "station not found")
        return envelope({"currentMode": station.mode, "currentProfileId": station.profile_id})

    async def set_mode(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        try:
            body = json.loads(await read_text(request))
        except (ValueError, RecursionError):
            return param_illegal("param illegal: the body is not JSON")
        if not isinstance(body, dict):
            return param_illegal("param illegal: the body must be an object")
        station = self._station(body.get("stationId"))
        if station is None:
            return envelope(None, 1106, "station not found")
        mode = _int(body.get("operationMode"))
        profile = _int(body.get("profileId", -1))
        defaults = {value for _, value in DEFAULT_WORKING_MODES}
        if mode is None or profile is None:
            return param_illegal("param illegal: operationMode and profileId must be integers")
        if mode == MODE_CUSTOM:
            if profile not in {pid for _, pid in station.profiles}:
                return param_illegal(f"param illegal: unknown profileId {profile}")
        elif mode not in defaults or profile != -1:
            return param_illegal(f"param illegal: unknown operationMode {mode}/{profile}")
        station.set_mode(mode, profile)
        return envelope(None)

    # ------------------------------------------------------------------ smart loads
    async def device_cards(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        station = self._station(request.query.get("stationId"))
        if station is None:
            return envelope(None, 1106, "station not found")
        station.sync()
        return envelope(
            [
                {
                    "name": sl.name,
                    "path": sl.path,
                    "valueWithUnit": f"{sl.current_kw:.2f} kW",
                    "manualSwitch": 1 if sl.on else 0,
                }
                for sl in station.smart_loads
            ]
        )

    def _smart_load_args(self, request: web.Request) -> tuple[SimStation, int] | web.Response:
        station = self._station(request.query.get("stationId"))
        if station is None:
            return envelope(None, 1106, "station not found")
        path = _int(request.query.get("loadPath"))
        if path is None or path not in {sl.path for sl in station.smart_loads}:
            return param_illegal(f"param illegal: unknown loadPath {request.query.get('loadPath')}")
        return station, path

    async def smart_load_detail(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        sl = station.smart_load(path)
        return envelope(
            {
                "smartLoadId": sl.smart_load_id,
                "name": sl.name,
                "loadPath": sl.path,
                "ratedPower": f"{sl.power_kw:.2f}",
            }
        )

    async def smart_load_consumption(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        station.sync()
        sl = station.smart_load(path)
        if _int(request.query.get("smartLoadId")) != sl.smart_load_id:
            return param_illegal("param illegal: smartLoadId does not match loadPath")
        return envelope(
            {
                "todayConsumption": f"{sl.today_kwh:.2f} kWh",
                "monthConsumption": f"{sl.month_kwh:.2f} kWh",
                "lifetimeConsumption": f"{sl.lifetime_kwh:.2f} kWh",
            }
        )

    async def smart_load_switch(self, request: web.Request) -> web.Response:
        if not self._auth(request):
            return unauthorized()
        args = self._smart_load_args(request)
        if isinstance(args, web.Response):
            return args
        station, path = args
        switch = request.query.get("manualSwitch")
        if switch not in ("0", "1"):
            return param_illegal("param illegal: manualSwitch must be 0 or 1")
        station.set_smart_load(path, switch == "1")
        return envelope(None)
