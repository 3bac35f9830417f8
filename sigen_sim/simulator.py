"""The :class:`Simulator`: the cloud's life cycle and the handles tests and demos use.

One aiohttp server answers the app API (:mod:`sigen_sim.app_api`), the northbound API
(:mod:`sigen_sim.northbound_api`) and the control API (:mod:`sigen_sim.control_api`),
around the live model (:mod:`sigen_sim.model`), with fault injection and a request log
(:mod:`sigen_sim.middleware`) and, optionally, MQTT (:mod:`sigen_sim.mqtt_side`). The
configuration is :class:`~sigen_sim.config.SimConfig`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app_api import AppApi
from .clock import SimClock
from .config import TELEMETRY_PV_KEYS, SimConfig, TelemetryShape, check_config, make_station
from .faults import FaultInjector
from .middleware import CloudMiddleware
from .model import SimStation
from .model.history import HistoryArchive
from .mqtt_payloads import system_values
from .onboarding import Onboarding, OnboardState
from .rate_limits import RateLimits
from .request_log import LoggedRequest, RequestLog
from .tokens import TokenStore

if TYPE_CHECKING:
    from types import TracebackType

    from .certs import CertBundle
    from .mqtt_side import MqttSide

__all__ = [
    "TELEMETRY_PV_KEYS",
    "OnboardState",
    "SimConfig",
    "Simulator",
    "TelemetryShape",
]

_LOGGER = logging.getLogger(__name__)


class Simulator:
    """A local Sigen cloud. ``async with Simulator(SimConfig()) as sim: ...``."""

    def __init__(self, config: SimConfig | None = None) -> None:
        """A simulator for ``config`` (the defaults without one); :meth:`start` runs it."""
        self.config = config or SimConfig()
        cfg = self.config
        check_config(cfg)
        self.clock = SimClock(
            start=cfg.start_time, time_scale=cfg.time_scale, timezone=cfg.timezone
        )
        self.stations: list[SimStation] = [
            make_station(cfg, self.clock, i) for i in range(cfg.stations)
        ]
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
        self.boarding = Onboarding(
            cfg, lambda system_id: self.station_by_system_id(system_id) is not None
        )
        self.rate_limits = RateLimits(self.clock, cfg)
        self.history = HistoryArchive(self.clock, cfg)
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
        """Control API base URL (``/_sim/``)."""
        return f"http://{self.host}:{self.port}/_sim/"

    def _side(self) -> MqttSide:
        """The MQTT side (RuntimeError when MQTT is off)."""
        if self.mqtt is None:
            raise RuntimeError("MQTT is not enabled (SimConfig(mqtt=True))")
        return self.mqtt

    @property
    def mqtt_host(self) -> str:
        """The host the app's MQTT clients connect to."""
        return self._side().host

    @property
    def mqtt_port(self) -> int:
        """The TLS port the app's MQTT clients connect to."""
        return self._side().port

    @property
    def certs(self) -> CertBundle:
        """The MQTT side's certificates (CA, server, client; PEM text and paths)."""
        return self._side().certs

    @property
    def mqtt_received(self) -> list[tuple[str, Any]]:
        """Everything MQTT clients sent the cloud (empty without MQTT)."""
        return [] if self.mqtt is None else self.mqtt.received

    # ------------------------------------------------------------------ stations
    def station_by_id(self, station_id: int | str) -> SimStation | None:
        """The station with this app-API ``stationId`` (None when there is none)."""
        try:
            sid = int(station_id)
        except (TypeError, ValueError):
            return None
        return next((s for s in self.stations if s.station_id == sid), None)

    def station_by_system_id(self, system_id: str) -> SimStation | None:
        """The station with this northbound ``systemId`` (None when there is none)."""
        return next((s for s in self.stations if s.system_id == system_id), None)

    def add_station(self) -> SimStation:
        """A new station appears on the account (next ids).

        With MQTT, the app key may subscribe to its topics once the broker applied the
        change (in the background: ``await sim.mqtt.acl_synced()`` waits for it); its
        telemetry flows after the client's next subscription request.
        """
        index = max(s.index for s in self.stations) + 1
        station = make_station(self.config, self.clock, index)
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
        self.boarding.reset(system_id)
        if self.mqtt is not None:
            self.mqtt.station_removed(system_id)

    # ------------------------------------------------------------------ onboarding
    @property
    def onboarding(self) -> dict[str, OnboardState]:
        """System id -> "pending" or "approved" (the owner's answer)."""
        return self.boarding.states

    def onboarded(self, system_id: str) -> bool:
        """Telemetry flows only for onboarded, owner-approved systems."""
        return system_id in self.boarding.onboarded

    def onboard(self, system_id: str) -> tuple[bool, list[int]]:
        """Northbound onboard of one system: (result, codeList)."""
        return self.boarding.onboard(system_id)

    def offboard(self, system_id: str) -> tuple[bool, list[int]]:
        """Northbound offboard of one system: (result, codeList)."""
        return self.boarding.offboard(system_id)

    def reset_onboarding(self, system_id: str | None = None) -> None:
        """Forget onboarding and approval (of one system or all): the next onboard is pending."""
        self.boarding.reset(system_id)

    def approve_onboarding(self, system_id: str) -> None:
        """The owner accepts the onboarding request (a pending onboard completes)."""
        self.boarding.approve(system_id)

    # ------------------------------------------------------------------ account
    def change_password(self, new_password: str) -> None:
        """The owner changed the password elsewhere; old logins fail from now on."""
        self.password = new_password

    def move_account(self, shard: str) -> None:
        """The account moves to another shard: logins and tokens there only from now on."""
        self.shard = shard.strip().lower()

    def nb_rate_ok(self, bucket: str, key: str) -> bool:
        """One call per ``nb_rate_limit_interval`` simulated seconds per (bucket, key)."""
        return self.rate_limits.allow(bucket, key)

    def reset_rate_limits(self) -> None:
        """Forget the northbound calls made so far (the next one of each is allowed)."""
        self.rate_limits.reset()

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
        """Push a ``period`` message now.

        ``full``: every field, also in the captured shape, which otherwise sends only
        what changed.
        """
        await self._side().publish_telemetry(system_id, full=full)

    async def restart_broker(self, down_for: float = 0.0) -> None:
        """Restart the broker, down for ``down_for`` real seconds."""
        await self._side().restart_broker(down_for)

    async def publish_change(self, system_id: str, values: dict[str, str] | None = None) -> None:
        """Push a ``change`` message (default: the station's current system values)."""
        side = self._side()
        station = self.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        await side.publish_change(system_id, system_values(station) if values is None else values)

    async def publish_alarm(
        self, system_id: str, code: str, status: str = "generation", text: str | None = None
    ) -> None:
        """Push an alarm (``status`` "generation" or "recovery"; ``text`` its name)."""
        await self._side().publish_alarm(system_id, code, status, text)

    # ------------------------------------------------------------------ request log
    def requests(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[LoggedRequest]:
        """The logged requests, optionally filtered by path part and method."""
        return self.request_log.filter(path_contains, method)

    def count(self, path_contains: str | None = None, method: str | None = None) -> int:
        """How many logged requests match (see :meth:`requests`)."""
        return self.request_log.count(path_contains, method)

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.request_log.clear()

    def clear(self) -> None:
        """Faults, request log, northbound rate limits and login lockouts all cleared."""
        self.faults.clear()
        self.request_log.clear()
        self.reset_rate_limits()
        self.tokens.clear_locks()

    # ------------------------------------------------------------------ lifecycle
    def build_app(self) -> web.Application:
        """The aiohttp application with every API's routes and the middleware."""
        from .control_api import ControlApi  # noqa: PLC0415
        from .northbound_api import NorthboundApi  # noqa: PLC0415

        app = web.Application(middlewares=[CloudMiddleware(self).handle])
        AppApi(self).register(app)
        NorthboundApi(self).register(app)
        ControlApi(self).register(app)
        return app

    async def start(self) -> None:
        """Serve on the configured host and port (and start MQTT when configured)."""
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
        """Start; the simulator stops when the block ends."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop everything."""
        await self.stop()
