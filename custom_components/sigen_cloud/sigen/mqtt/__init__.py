"""Telemetry push and battery commands over Sigen's MQTT broker (TLS), with aiomqtt.

How a session goes (:meth:`SigenMQTT.listen`):

1. log in to the northbound API with the app key (:class:`NorthboundClient`) and, with
   ``auto_onboard``, onboard the systems (a system waiting for the owner's approval is
   logged once; its data starts after approval) — :mod:`._login`;
2. connect with TLS (MQTT 3.1.1): username = app key, password = the northbound access
   token, a stable client id derived from the app identifier, a persistent session
   (``clean_session=False``). ``broker`` may name several host candidates, tried in
   order; the one that answered (:attr:`SigenMQTT.answered_broker`) is tried first from
   then on — :mod:`._connect`, TLS in :mod:`._tls`, the aiomqtt client hardened against
   cancellation in :mod:`._hardened`;
3. subscribe (QoS 1) to the exact topics, then publish the subscription requests;
4. parse and dispatch every message to the callbacks (sync or async); a callback that
   raises is logged and the listener goes on; a malformed message is skipped with one
   log line — :mod:`._session`;
5. on a lost connection, reconnect after ``reconnect_interval`` (MQTT errors) or
   ``error_reconnect_interval`` (anything unexpected), doubling up to
   ``max_reconnect_interval`` while it keeps failing (:mod:`._backoff`); renew the
   token ``token_refresh_margin`` before it expires; reconnect at once with the token of
   another login with the same key that cut us; onboard systems still awaiting
   approval again every ``onboard_retry_interval`` — :mod:`._listener`.

Battery commands and mode switches (:mod:`._commands`) are validated, published with
QoS 1 and acknowledged; never queued, never re-sent. Neither the token nor the app
secret is ever logged. Everything logs under this package's logger; paho's own lines go
to its ``.paho`` child (see :mod:`._hardened` for the filter it gets at import).

New code builds the client from one :class:`MQTTConfig`
(``SigenMQTT.from_config(config, session=..., northbound=...)``); the original
library's constructor with its many arguments builds that config itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

import aiomqtt

from ..const import MQTT_BROKERS, MQTT_PORT, NB_BASE_URLS, NBMode
from ..errors import SigenError, SigenValidationError
from ..models import BatteryCommand
from ..northbound import NorthboundClient
from ..telemetry import AlarmEvent, SystemData, TelemetryData
from ._commands import COMMAND_TOPIC, MODE_TOPIC, Instructions
from ._connect import Connector
from ._hardened import PAHO_LOGGER, ConnectionLostError, HardenedClient
from ._listener import Listener
from ._login import LOGIN_WAIT, BrokerPassword, Onboarding
from ._session import DATA_TOPIC, SUBSCRIPTION_TOPIC, TOPIC_KINDS, Callback, Dispatcher
from ._tls import build_tls_context
from .config import Configured, MQTTConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp

    from ..models import OnboardResult

__all__ = [
    "COMMAND_TOPIC",
    "DATA_TOPIC",
    "LOGIN_WAIT",
    "MODE_TOPIC",
    "SUBSCRIPTION_TOPIC",
    "TOPIC_KINDS",
    "Callback",
    "ConnectionLostError",
    "HardenedClient",
    "MQTTConfig",
    "SigenMQTT",
]


class SigenMQTT(Configured):
    """Sigen's MQTT push (telemetry, system changes, alarms) and battery commands.

    Its settings are one :class:`MQTTConfig` (:attr:`config`), also readable (and
    settable) as attributes under their own names. ``session`` is an aiohttp session for
    the northbound login; ``northbound`` an already made :class:`NorthboundClient` to
    share (its token is the broker password).
    """

    def __init__(  # noqa: PLR0917  (positional order of the original library)
        self,
        app_key: str,
        app_secret: str,
        app_identifier: str,
        system_ids: str | Iterable[str],
        ca_cert_path: str | os.PathLike[str] | None = None,
        client_cert_path: str | os.PathLike[str] | None = None,
        client_key_path: str | os.PathLike[str] | None = None,
        broker: str | Sequence[str] = MQTT_BROKERS["eu"],
        port: int = MQTT_PORT,
        base_url: str = NB_BASE_URLS["eu"],
        *,
        ca_cert_pem: str | None = None,
        client_cert_pem: str | None = None,
        client_key_pem: str | None = None,
        session: aiohttp.ClientSession | None = None,
        northbound: NorthboundClient | None = None,
        auto_onboard: bool = True,
        reconnect_interval: float = 30.0,
        error_reconnect_interval: float = 60.0,
        max_reconnect_interval: float = 600.0,
        token_refresh_margin: float = 3600.0,
        onboard_retry_interval: float = 600.0,
        publish_timeout: float = 10.0,
        connect_timeout: float = 15.0,
        keepalive: int = 60,
    ) -> None:
        """The original library's constructor: the arguments become an :class:`MQTTConfig`.

        The paths are files and the ``*_pem`` arguments the same as PEM text; ``broker``
        is one host name or several candidates. See :class:`MQTTConfig`.
        """
        config = MQTTConfig(
            app_key=app_key,
            app_secret=app_secret,
            app_identifier=app_identifier,
            system_ids=system_ids if isinstance(system_ids, str) else tuple(system_ids),
            brokers=broker,
            port=port,
            base_url=base_url,
            ca_cert_path=ca_cert_path,
            client_cert_path=client_cert_path,
            client_key_path=client_key_path,
            ca_cert_pem=ca_cert_pem,
            client_cert_pem=client_cert_pem,
            client_key_pem=client_key_pem,
            auto_onboard=auto_onboard,
            reconnect_interval=reconnect_interval,
            error_reconnect_interval=error_reconnect_interval,
            max_reconnect_interval=max_reconnect_interval,
            token_refresh_margin=token_refresh_margin,
            onboard_retry_interval=onboard_retry_interval,
            publish_timeout=publish_timeout,
            connect_timeout=connect_timeout,
            keepalive=keepalive,
        )
        self._setup(config, session, northbound)

    @classmethod
    def from_config(
        cls,
        config: MQTTConfig,
        *,
        session: aiohttp.ClientSession | None = None,
        northbound: NorthboundClient | None = None,
    ) -> Self:
        """A client for ``config`` (the way for new code); see the class doc."""
        self = cls.__new__(cls)  # (``__init__`` takes the original library's arguments)
        self._setup(config, session, northbound)
        return self

    def _setup(
        self,
        config: MQTTConfig,
        session: aiohttp.ClientSession | None,
        northbound: NorthboundClient | None,
    ) -> None:
        """Make the parts; nothing is sent or opened yet."""
        if northbound is None and not config.app_secret:
            raise SigenValidationError("SigenMQTT needs the developer app secret")
        self.config = config
        self._password = BrokerPassword(self, session, northbound)
        self._onboarding = Onboarding()
        self._connector = Connector(self, self._make_client)
        self._dispatcher = Dispatcher()
        self._listener = Listener(
            self, self._password, self._onboarding, self._connector, self._dispatcher
        )
        self._instructions = Instructions(self, self._password, self._connector, self._listener)
        self._listen_task: asyncio.Task[Any] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"SigenMQTT(broker={self.broker!r}, port={self.port}, "
            f"systems={self.system_ids!r}, connected={self.connected})"
        )

    # ------------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        """True while the listener is connected and subscribed."""
        return self._listener.connected

    @property
    def broker(self) -> str:
        """The broker host in use: the one that answered last, else the first candidate.

        Setting it replaces the candidates with this one host.
        """
        return self._connector.broker

    @broker.setter
    def broker(self, host: str) -> None:
        self.config = dataclasses.replace(self.config, brokers=host)
        self._connector.answered = None

    @property
    def answered_broker(self) -> str | None:
        """The candidate that answered last (tried first from then on), or ``None``."""
        return self._connector.answered

    @property
    def session_fallback(self) -> bool:
        """Whether the broker refused the persistent session (or the stable client id).

        If so, this client now connects with a clean session and a random client id.
        """
        return self._listener.fallback_id is not None

    @property
    def northbound(self) -> NorthboundClient:
        """The northbound client used for the login (created on first use)."""
        return self._password.northbound

    @property
    def onboarding(self) -> dict[str, OnboardResult]:
        """The last onboarding result of each system."""
        return self._onboarding.results

    @property
    def latest_telemetry(self) -> dict[str, TelemetryData]:
        """The newest telemetry of each system (merged over the messages)."""
        return self._dispatcher.latest_telemetry

    @property
    def latest_system(self) -> dict[str, SystemData]:
        """The newest system data of each system (merged over the messages)."""
        return self._dispatcher.latest_system

    @property
    def clock(self) -> Callable[[], float]:
        """The wall clock the token expiry is measured with (replaceable in tests)."""
        return self._password.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._password.clock = clock

    @property
    def _force_login(self) -> bool:
        """Whether the next connection logs in first (kept for tests that force it)."""
        return self._password.force_login

    @_force_login.setter
    def _force_login(self, force: bool) -> None:
        self._password.force_login = force

    # --------------------------------------------------------------- connecting

    def build_tls_context(self) -> ssl.SSLContext:
        """The TLS context (blocking: reads files; run it in an executor from a loop).

        Verification stays fully on (``CERT_REQUIRED``, host name checked); only
        ``VERIFY_X509_STRICT`` is cleared because Sigen's CA has no keyUsage extension.
        """
        return build_tls_context(self.config)

    def _make_client(
        self,
        context: ssl.SSLContext,
        token: str,
        *,
        identifier: str,
        clean_session: bool,
        host: str | None = None,
    ) -> aiomqtt.Client:
        """An unconnected client for one attempt (tests override it to watch them)."""
        return HardenedClient(
            host or self.broker,
            self.port,
            username=self.app_key,
            password=token,
            identifier=identifier,
            clean_session=clean_session,
            tls_context=context,
            timeout=self.connect_timeout,
            keepalive=self.keepalive,
            logger=PAHO_LOGGER,
        )

    # ------------------------------------------------------------------ listen

    async def listen(
        self,
        on_telemetry: Callback[TelemetryData],
        on_system: Callback[SystemData] | None = None,
        on_alarm: Callback[AlarmEvent] | None = None,
        on_connection_change: Callback[bool] | None = None,
    ) -> None:
        """Receive telemetry until cancelled (or :meth:`close`); reconnects by itself.

        ``on_telemetry`` gets one :class:`TelemetryData` per system and message, merged
        with the previous values of that system (the cloud may send only what changed);
        ``on_system`` one :class:`SystemData` (merged likewise), ``on_alarm`` one
        :class:`AlarmEvent`, ``on_connection_change`` ``True``/``False``. Callbacks may be
        coroutines. Raises :class:`SigenAuthError` when the cloud refuses the app key or
        secret (retrying cannot help); every other failure is logged and retried.
        """
        if self._listen_task is not None and not self._listen_task.done():
            raise SigenError("This SigenMQTT is already listening")
        if self._closed:
            raise SigenError("This SigenMQTT is closed")
        self._listen_task = asyncio.current_task()
        handlers = self._dispatcher.handlers(on_telemetry, on_system, on_alarm)
        try:
            await self._listener.run(handlers, on_connection_change)
        finally:
            self._listen_task = None

    async def _dispatch_telemetry(self, payload: Any, callback: Callback[TelemetryData]) -> None:
        """Handle one telemetry payload as if it had arrived (the benchmark's entry)."""
        await self._dispatcher.telemetry(payload, callback)

    # ---------------------------------------------------------------- commands

    async def send_battery_commands(
        self, commands: Sequence[BatteryCommand | Mapping[str, Any]]
    ) -> None:
        """Validate, publish (QoS 1) and wait for the broker's acknowledgement.

        ``commands`` are :class:`BatteryCommand` objects or the cloud's camelCase dicts
        (as the original library takes them). A command may name a system this client
        does not listen to (the original library's README does): it is sent, and the
        cloud applies it to any system onboarded for the app key.

        Raises :class:`SigenValidationError` for a bad command (nothing is sent), and
        :class:`SigenMQTTError` when the broker cannot be reached or does not acknowledge
        in ``publish_timeout`` seconds. Never queued for later, never re-sent.
        """
        await self._instructions.battery_commands(commands)

    async def switch_mode(self, system_id: str, mode: NBMode | int | str) -> None:
        """Switch a system's northbound mode over MQTT (MSC, FFG, VPP or NBI).

        Unlike the REST switch this can enter VPP and NBI. Acknowledged like a command.
        """
        await self._instructions.switch_mode(system_id, mode)

    # ------------------------------------------------------------------ checks

    async def check_connection(self) -> None:
        """Log in and open one TLS connection to the broker, then close it.

        For a configuration check: raises :class:`SigenAuthError` (app key/secret),
        :class:`SigenValidationError` (certificates that cannot be loaded) or
        :class:`SigenMQTTError` (broker unreachable, TLS refused, credentials refused).
        """
        await self._connector.check(await self._password.token())

    async def close(self) -> None:
        """Stop :meth:`listen` (if running elsewhere) and close what this object opened."""
        self._closed = True
        task = self._listen_task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._password.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
