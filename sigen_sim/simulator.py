"""The :class:`Simulator`: one aiohttp server with the app API, the northbound API and the
control API, the station model, fault injection, the request log and (optionally) MQTT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from .app_api import AppApi, read_text, unauthorized
from .clock import SimClock
from .faults import (
    FIREWALL_403_HTML,
    POST_KINDS,
    PRE_KINDS,
    RATE_LIMIT_MESSAGES,
    FaultInjector,
    drop_keys,
)
from .model import SimStation
from .request_log import LoggedRequest, RequestLog, redact_body, redact_headers, redact_query
from .tokens import TokenStore

if TYPE_CHECKING:
    from types import TracebackType

    from .certs import CertBundle
    from .mqtt_side import MqttSide

_LOGGER = logging.getLogger(__name__)

OnboardState = Literal["pending", "approved"]
TelemetryShape = Literal["captured", "official"]
# The PV power key of each telemetry shape.
TELEMETRY_PV_KEYS: dict[str, str] = {"captured": "PV power", "official": "pvPowerW"}


@dataclass
class SimConfig:
    """Everything that can be tuned about a simulator instance."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port
    stations: int = 1
    username: str = "demo@sigen.invalid"
    password: str = "demo-password"
    # the shard (region) holding the account: a request's shard is its client-server
    # header, else the api-<shard>.sigencloud.com Host name, else this one; another
    # shard answers a login like a wrong password (not counted towards the lockout)
    shard: str = "eu"
    app_key: str = "sim-app-key"
    app_secret: str = "sim-app-secret"
    app_identifier: str = "sim-app"
    user_id: int = 1000001
    login_includes_user_id: bool = False
    # clock and model
    time_scale: float = 1.0  # simulated seconds per real second (0 = only advance() moves time)
    start_time: float | None = None  # simulated epoch seconds at start (None = now)
    timezone: str = "Europe/Dublin"
    seed: int = 1234
    initial_soc: float = 50.0
    pv_capacity: float = 10.3
    battery_capacity: float = 10.0
    # MQTT telemetry: "captured" (as a real capture: the "PV power" key, and after a
    # full first message per subscription only the fields that changed) or "official"
    # (the documented pvPowerW, every field in every message)
    telemetry_shape: TelemetryShape = "captured"
    telemetry_pv_key: str | None = None  # the PV key; None: the shape's
    commands_need_remote_mode: bool = False
    # auth
    access_token_lifetime: float = 43199.0
    refresh_token_lifetime: float = 30 * 86400.0
    nb_token_lifetime: float = 43199.0
    # bad app-API credentials: HTTP 200 envelope with code 11003 ("envelope") or
    # HTTP 400 {"error": "invalid_grant"} ("oauth"); lockout is code 11002 in both
    login_error_style: Literal["envelope", "oauth"] = "envelope"
    rotate_refresh_tokens: bool = True  # False: a refresh answers the same refresh token
    station_id_as_string: bool = False  # station/home stationId as "2024..." (a variant)
    # station/home carries stationCode (= the systemId); False: a station whose home
    # data lacks it (the library must find it in the northbound system list)
    station_code_in_home: bool = True
    # indices of stations that start offline (energy flow: stationStatus 4, null powers)
    offline_stations: tuple[int, ...] = ()
    lockout_attempts: int = 5
    lockout_window: float = 3600.0
    lockout_duration: float = 180.0
    # northbound
    nb_rate_limits: bool = True
    nb_rate_limit_interval: float = 300.0
    nb_system_items_as_strings: bool = False  # /openapi/system items as JSON strings
    nb_double_encode_all: bool = False  # every northbound ``data`` object as a JSON string
    auto_approve: bool = False
    # the northbound password login accepts the password "plain" or "aes"-encrypted
    # (sources disagree; the other form answers authentication failed and counts)
    nb_password_form: Literal["plain", "aes"] = "plain"
    # the REST mode switch accepts MSC, FFG and NBI (refuses VPP); True: MSC and FFG only
    nb_rest_msc_ffg_only: bool = False
    # faults
    block_aiohttp_user_agent: bool = True
    # MQTT
    mqtt: bool = False
    require_client_cert: bool = False
    telemetry_interval: float = 300.0
    mqtt_port: int = 0  # the broker's TLS port; 0 = a free one
    # A northbound login makes its token the app key's only broker password (older
    # tokens are refused, connections using them cut), as mosquitto's password change
    # does; False: every unexpired token stays a valid broker password (no cut). Which
    # one the real cloud does is unknown. (REST calls accept any unexpired token.)
    nb_one_token_per_key: bool = True
    # The broker answers CONNACK 2 (identifier rejected) to a persistent session
    # (clean session 0), and to these client ids (sigen_sim/mqtt_gate.py).
    mqtt_refuse_persistent_sessions: bool = False
    mqtt_refused_client_ids: tuple[str, ...] = ()
    # Keep the MQTT certificates here and reuse a valid set found there (None: new ones
    # in a temporary directory, removed at stop).
    cert_dir: str | None = None
    state_dir: str | None = None  # python -m sigen_sim --state-dir: where files are written
    # names of the account's things, for examples that name them (the original library's
    # README): the stations' systemIds in order (None: SIMSYS00000001, ...; at most one
    # per station, the others keep the default form), and every station's smart loads
    # as (name, path, power kW) (None: ("Immersion", 1, 3.0), ("Pool pump", 2, 1.2))
    system_ids: tuple[str, ...] | None = None
    smart_loads: tuple[tuple[str, int, float], ...] | None = None


def _check_system_ids(system_ids: tuple[str, ...] | None, stations: int) -> None:
    """``SimConfig.system_ids``: at most one per station, distinct, usable in a topic."""
    if system_ids is None:
        return
    if len(system_ids) > stations:
        raise ValueError(f"{len(system_ids)} system ids for {stations} station(s)")
    if len(set(system_ids)) != len(system_ids):
        raise ValueError("the system ids must be distinct")
    for system_id in system_ids:
        if not system_id or any(ch in system_id for ch in "/+# "):
            raise ValueError(f"{system_id!r} cannot be a system id (empty, or in no topic)")


class Simulator:
    """A local Sigen cloud. ``async with Simulator(SimConfig()) as sim: ...``."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        cfg = self.config
        if cfg.stations < 1:
            raise ValueError("a simulator needs at least one station")
        if cfg.telemetry_shape not in TELEMETRY_PV_KEYS:
            raise ValueError(
                f"telemetry_shape must be one of {', '.join(TELEMETRY_PV_KEYS)}, "
                f"not {cfg.telemetry_shape!r}"
            )
        _check_system_ids(cfg.system_ids, cfg.stations)
        self.clock = SimClock(
            start=cfg.start_time, time_scale=cfg.time_scale, timezone=cfg.timezone
        )
        self.stations: list[SimStation] = [self._make_station(i) for i in range(cfg.stations)]
        self.tokens = TokenStore(
            self.clock,
            access_lifetime=cfg.access_token_lifetime,
            refresh_lifetime=cfg.refresh_token_lifetime,
            nb_lifetime=cfg.nb_token_lifetime,
            lockout_attempts=cfg.lockout_attempts,
            lockout_window=cfg.lockout_window,
            lockout_duration=cfg.lockout_duration,
        )
        self.faults = FaultInjector(self, block_aiohttp_user_agent=cfg.block_aiohttp_user_agent)
        self.request_log = RequestLog()
        self.username = cfg.username
        self.password = cfg.password
        self.shard = cfg.shard.strip().lower()
        self.app_key = cfg.app_key
        self.app_secret = cfg.app_secret
        self.app_identifier = cfg.app_identifier
        self.onboarding: dict[str, OnboardState] = {}
        self._onboarded: set[str] = set()
        self._nb_rate: dict[tuple[str, str], float] = {}
        self.mqtt: MqttSide | None = None
        self.host = cfg.host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._started = False

    # ------------------------------------------------------------------ URLs
    @property
    def api_url(self) -> str:
        """App API base URL (ends with "/")."""
        return f"http://{self.host}:{self.port}/"

    @property
    def nb_url(self) -> str:
        """Northbound base URL (same server; paths start with /openapi/)."""
        return f"http://{self.host}:{self.port}/"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.port}/_sim/"

    @property
    def mqtt_host(self) -> str:
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        return self.mqtt.host

    @property
    def mqtt_port(self) -> int:
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        return self.mqtt.port

    @property
    def certs(self) -> CertBundle:
        """The MQTT side's certificates (CA, server, client; PEM text and paths)."""
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        return self.mqtt.certs

    @property
    def mqtt_received(self) -> list[tuple[str, Any]]:
        return [] if self.mqtt is None else self.mqtt.received

    def _make_station(self, index: int) -> SimStation:
        cfg = self.config
        station = SimStation(
            index,
            self.clock,
            seed=cfg.seed,
            pv_capacity=cfg.pv_capacity,
            battery_capacity=cfg.battery_capacity,
            initial_soc=cfg.initial_soc,
            telemetry_pv_key=cfg.telemetry_pv_key or TELEMETRY_PV_KEYS[cfg.telemetry_shape],
            commands_need_remote_mode=cfg.commands_need_remote_mode,
        )
        station.station_code_in_home = cfg.station_code_in_home
        station.offline = index in cfg.offline_stations
        if cfg.system_ids is not None and index < len(cfg.system_ids):
            station.system_id = cfg.system_ids[index]
        if cfg.smart_loads is not None:
            station.set_smart_loads(cfg.smart_loads)
        return station

    # ------------------------------------------------------------------ lookups
    def station_by_id(self, station_id: int | str) -> SimStation | None:
        try:
            sid = int(station_id)
        except (TypeError, ValueError):
            return None
        return next((s for s in self.stations if s.station_id == sid), None)

    def station_by_system_id(self, system_id: str) -> SimStation | None:
        return next((s for s in self.stations if s.system_id == system_id), None)

    def add_station(self) -> SimStation:
        """A new station appears on the account (next ids).

        With MQTT, the app key may subscribe to its topics once the broker applied the
        change (in the background: ``await sim.mqtt.acl_synced()`` waits for it); its
        telemetry flows after the client's next subscription request.
        """
        index = max(s.index for s in self.stations) + 1
        station = self._make_station(index)
        self.stations.append(station)
        if self.mqtt is not None:
            self.mqtt.station_added(station.system_id)
        return station

    def remove_station(self, system_id: str) -> None:
        """A station disappears from the account (the first one cannot be removed)."""
        station = self.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        if station is self.stations[0]:
            raise ValueError("the account's home station cannot be removed")
        self.stations.remove(station)
        self._onboarded.discard(system_id)
        self.onboarding.pop(system_id, None)
        if self.mqtt is not None:
            self.mqtt.station_removed(system_id)

    # ------------------------------------------------------------------ onboarding
    def onboarded(self, system_id: str) -> bool:
        """Telemetry flows only for onboarded, owner-approved systems."""
        return system_id in self._onboarded

    def onboard(self, system_id: str) -> tuple[bool, list[int]]:
        """Northbound onboard of one system: (result, codeList)."""
        if self.station_by_system_id(system_id) is None:
            return False, [1106]
        if self.config.auto_approve:
            self.onboarding[system_id] = "approved"
        if self.onboarding.get(system_id) == "approved":
            self._onboarded.add(system_id)
            return True, []
        self.onboarding[system_id] = "pending"
        return False, [1116]

    def offboard(self, system_id: str) -> tuple[bool, list[int]]:
        if self.station_by_system_id(system_id) is None:
            return False, [1106]
        self._onboarded.discard(system_id)
        return True, []

    def reset_onboarding(self, system_id: str | None = None) -> None:
        """Forget onboarding and approval (of one system or all): the next onboard is
        pending again.
        """
        if system_id is None:
            self.onboarding.clear()
            self._onboarded.clear()
        else:
            self.onboarding.pop(system_id, None)
            self._onboarded.discard(system_id)

    def approve_onboarding(self, system_id: str) -> None:
        """The owner accepts the onboarding request (a pending onboard completes)."""
        if self.station_by_system_id(system_id) is None:
            raise KeyError(f"No simulated system {system_id!r}")
        was_pending = self.onboarding.get(system_id) == "pending"
        self.onboarding[system_id] = "approved"
        if was_pending:
            self._onboarded.add(system_id)

    # ------------------------------------------------------------------ account
    def change_password(self, new_password: str) -> None:
        """The owner changed the password elsewhere; old logins fail from now on."""
        self.password = new_password

    def move_account(self, shard: str) -> None:
        """The account moves to another shard: logins and tokens there only from now on."""
        self.shard = shard.strip().lower()

    def nb_rate_ok(self, bucket: str, key: str) -> bool:
        """One call per ``nb_rate_limit_interval`` simulated seconds per (bucket, key)."""
        if not self.config.nb_rate_limits:
            return True
        now = self.clock.now()
        last = self._nb_rate.get((bucket, key))
        if last is not None and now - last < self.config.nb_rate_limit_interval:
            return False
        self._nb_rate[(bucket, key)] = now
        return True

    def reset_rate_limits(self) -> None:
        self._nb_rate.clear()

    # ------------------------------------------------------------------ time
    async def advance(self, seconds: float) -> None:
        """Move simulated time forward; the model integrates up to the new time."""
        self.clock.advance(seconds)
        for station in self.stations:
            station.sync()
            await asyncio.sleep(0)
        hook = getattr(self.mqtt, "on_time_advanced", None)
        if hook is not None:
            await hook(seconds)

    # ------------------------------------------------------------------ MQTT delegation
    async def publish_telemetry(self, system_id: str | None = None, *, full: bool = False) -> None:
        """Push a ``period`` message now (``full``: every field, also in the captured
        shape, which otherwise sends only what changed).
        """
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        await self.mqtt.publish_telemetry(system_id, full=full)

    async def restart_broker(self, down_for: float = 0.0) -> None:
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        await self.mqtt.restart_broker(down_for)

    async def publish_change(self, system_id: str, values: dict[str, str] | None = None) -> None:
        """Push a ``change`` message (default: the station's current system values)."""
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        station = self.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        await self.mqtt.publish_change(
            system_id, station.system_values() if values is None else values
        )

    async def publish_alarm(
        self, system_id: str, code: str, status: str = "generation", text: str | None = None
    ) -> None:
        """Push an alarm (``status`` "generation" or "recovery"; ``text`` its name)."""
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        await self.mqtt.publish_alarm(system_id, code, status, text)

    # ------------------------------------------------------------------ request log
    def requests(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[LoggedRequest]:
        return self.request_log.filter(path_contains, method)

    def count(self, path_contains: str | None = None, method: str | None = None) -> int:
        return self.request_log.count(path_contains, method)

    def clear_requests(self) -> None:
        self.request_log.clear()

    def clear(self) -> None:
        """Faults, request log, northbound rate limits and login lockouts all cleared."""
        self.faults.clear()
        self.request_log.clear()
        self.reset_rate_limits()
        self.tokens.clear_locks()

    # ------------------------------------------------------------------ lifecycle
    def build_app(self) -> web.Application:
        from .control_api import ControlApi  # noqa: PLC0415
        from .northbound_api import NorthboundApi  # noqa: PLC0415

        app = web.Application(middlewares=[self._middleware])
        AppApi(self).register(app)
        NorthboundApi(self).register(app)
        ControlApi(self).register(app)
        return app

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("the simulator is already running")
        self._started = True
        try:
            self._runner = web.AppRunner(
                self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
            )
            await self._runner.setup()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.config.host, self.config.port))
            self.port = sock.getsockname()[1]
            site = web.SockSite(self._runner, sock)
            await site.start()
            if self.config.mqtt:
                from .mqtt_side import MqttSide  # noqa: PLC0415

                self.mqtt = MqttSide(self, require_client_cert=self.config.require_client_cert)
                await self.mqtt.start()
        except BaseException:
            await self.stop()
            raise
        _LOGGER.debug("Sigen simulator listening on %s", self.api_url)

    async def stop(self) -> None:
        """Stop everything this simulator started (broker included); safe to call twice."""
        self.faults.release_hangs()
        mqtt, self.mqtt = self.mqtt, None
        if mqtt is not None:
            try:
                await mqtt.stop()
            except Exception:
                _LOGGER.exception("Stopping the simulator's MQTT side failed")
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._started = False

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sim/"):
            resp: web.StreamResponse = await handler(request)
            return resp
        raw = await read_text(request) if request.body_exists else ""
        entry = LoggedRequest(
            method=request.method,
            path=path,
            query=redact_query(dict(request.query)),
            headers=redact_headers(dict(request.headers)),
            body=redact_body(raw, request.content_type),
            time=self.clock.now(),
        )
        self.request_log.append(entry)
        resp = await self._answer(request, handler)
        entry.status = resp.status
        return resp

    async def _answer(self, request: web.Request, handler: Any) -> web.StreamResponse:
        faults = self.faults
        method, path = request.method, request.path
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        user_agent = request.headers.get("User-Agent", "")
        if faults.block_aiohttp_user_agent and "aiohttp" in user_agent.lower():
            return web.Response(status=403, text=FIREWALL_403_HTML, content_type="text/html")
        rule = faults.take(PRE_KINDS, method, path)
        if rule is not None:
            if rule.kind == "timeout":
                await faults.hang()
                return web.json_response(
                    {"code": 504, "msg": "Gateway Timeout", "data": None}, status=504
                )
            if rule.kind == "rate_limit":
                if rule.code is None:
                    return web.json_response(
                        {"code": 429, "msg": "Too Many Requests", "data": None},
                        status=429,
                        headers={"Retry-After": "60"},
                    )
                return web.json_response(
                    {"code": rule.code, "msg": RATE_LIMIT_MESSAGES[rule.code], "data": None}
                )
            if rule.status == 401:
                return unauthorized("injected fault")
            return web.json_response(
                {
                    "timestamp": int(self.clock.now() * 1000),
                    "status": rule.status,
                    "error": "Injected fault",
                    "path": path,
                },
                status=rule.status,
            )
        try:
            resp: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:  # 404, 405, ...: a JSON answer like the cloud's
            resp = web.json_response(
                {"code": exc.status, "msg": exc.reason, "data": None}, status=exc.status
            )
        except Exception:
            _LOGGER.exception("Simulator handler for %s %s failed", method, path)
            resp = web.json_response(
                {"code": 500, "msg": "internal error", "data": None}, status=500
            )
        post = faults.take(POST_KINDS, method, path)
        if post is not None and isinstance(resp, web.Response) and resp.text:
            text = resp.text
            if post.kind == "malformed":
                return web.Response(
                    status=resp.status,
                    text=text[: max(1, len(text) // 2)],
                    content_type="application/json",
                )
            try:
                body = json.loads(text)
            except ValueError:
                return resp
            if isinstance(body, dict) and "data" in body:
                body["data"] = drop_keys(body["data"], post.keys)
            else:
                body = drop_keys(body, post.keys)
            return web.json_response(body, status=resp.status)
        return resp
