"""Telemetry push and battery commands over Sigen's MQTT broker (TLS), with aiomqtt.

How a session goes (:meth:`SigenMQTT.listen`):

1. log in to the northbound API with the app key (:class:`NorthboundClient`) and, with
   ``auto_onboard``, onboard the systems (a system waiting for the owner's approval is
   logged once; its data starts after approval);
2. connect with TLS: username = app key, password = the northbound access token, a
   stable client id derived from the app identifier, a persistent session
   (``clean_session=False``) so messages queued by the broker during a short outage
   still arrive;
3. subscribe (QoS 1) to the exact topics
   ``openapi/{period,change,alarm}/{app_key}/{system_id}`` (no wildcards) and, once
   the broker granted them (SUBACK), publish the subscription requests
   ``openapi/subscription/{period,change,alarm}`` ``{"accessToken", "systemIdList"}``:
   in this order the first push the cloud sends in answer to a request cannot reach
   the broker before our subscription and be lost;
4. parse and dispatch every message to the callbacks (sync or async); a callback that
   raises is logged with its traceback and the listener goes on; a malformed message
   is skipped with one log line;
5. on a lost connection, reconnect after ``reconnect_interval`` (MQTT errors) or
   ``error_reconnect_interval`` (anything unexpected), doubling up to
   ``max_reconnect_interval`` while it keeps failing; the delay resets after a good
   connection; ``token_refresh_margin`` seconds (an hour) before the token expires,
   log in again and reconnect with the new password; while a system still waits for
   its owner's approval, onboard it again every ``onboard_retry_interval`` seconds
   (10 minutes) and renew the subscription requests.

TLS: ``ssl.create_default_context`` with the given CA (a file, or PEM text through
``cadata``), the optional client certificate, and **only** ``VERIFY_X509_STRICT``
cleared: Sigen's CA certificate lacks the keyUsage extension, which strict mode
refuses. Certificate and host name verification stay on. A client certificate given
as PEM text is written to a private temporary directory (mode 0600), loaded, and
deleted at once (``load_cert_chain`` only reads files).

Battery commands (:meth:`SigenMQTT.send_battery_commands`) are validated first, then
published with QoS 1; the call returns once the broker acknowledged (PUBACK). Nothing
is queued for later and nothing is re-sent: a command that cannot be handed to the
broker raises :class:`SigenMQTTError`.

Neither the token nor the app secret is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import re
import secrets
import shutil
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Self

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from .const import MQTT_BROKERS, MQTT_PORT, NB_BASE_URLS, NBMode
from .errors import (
    SigenAccountLockedError,
    SigenAuthError,
    SigenError,
    SigenMQTTError,
    SigenValidationError,
)
from .models import OnboardResult
from .northbound import NorthboundClient
from .telemetry import (
    AlarmEvent,
    BatteryCommand,
    SystemData,
    TelemetryData,
    validate_commands,
)

if TYPE_CHECKING:
    from types import TracebackType

    import aiohttp
    import paho.mqtt.client as paho
    from aiomqtt.types import PahoSocket

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger(f"{__name__}.paho")


class _DroppedConnectionIsDebug(logging.Filter):
    """paho logs a connection the broker dropped as an error ("failed to receive on
    socket: [Errno 104] Connection reset by peer"); the listener reports each loss once
    itself, as a warning with the time of the next try. paho's line becomes debug; its
    other errors (an exception in a callback) stay errors."""

    _PREFIXES: Final = ("failed to receive on socket", "timeout on socket")

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno == logging.ERROR
            and isinstance(record.msg, str)
            and record.msg.startswith(self._PREFIXES)
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_PAHO_LOGGER.addFilter(_DroppedConnectionIsDebug())

TOPIC_KINDS: Final = ("period", "change", "alarm")
SUBSCRIPTION_TOPIC: Final = "openapi/subscription/{kind}"
DATA_TOPIC: Final = "openapi/{kind}/{app_key}/{system_id}"
COMMAND_TOPIC: Final = "openapi/instruction/command"
MODE_TOPIC: Final = "openapi/instruction/mode"
# MQTT CONNACK codes meaning "your credentials were refused" (3.1.1 and 5).
_AUTH_REFUSED_CODES: Final = frozenset({4, 5, 134, 135})

type Callback[T] = Callable[[T], Awaitable[None] | None]


class _RefreshDue(Exception):
    """Internal: the token is about to expire; log in again and reconnect."""


class _RecheckOnboarding(Exception):
    """Internal: systems await approval; onboard again and renew the subscriptions."""


class HardenedClient(aiomqtt.Client):
    """aiomqtt's client, safe to cancel (or to fail) at any moment while it connects.

    Used by :class:`SigenMQTT` for every connection, and by the simulator's cloud side,
    whose connection dies with every broker restart of the fault tests.

    aiomqtt 2.x connects in two steps inside ``__aenter__``: paho's blocking ``connect``
    (TCP, TLS handshake) in an executor thread, then a wait for the CONNACK on the
    ``_connected`` future. Cancelling the task there (an unload during the connect)
    goes wrong three ways:

    * the executor thread cannot be stopped: it finishes the connect after the task is
      gone, registers the socket's reader and starts the ``loop_misc`` task, and since
      ``__aenter__`` failed nobody ever calls ``__aexit__``: socket, reader, task and
      the client's lock stay behind;
    * the wait for the CONNACK cancels the shared ``_connected`` future itself, and
      when paho later reports the disconnection, ``_on_disconnect`` calls
      ``self._connected.exception()`` on that cancelled future, which *raises*
      ``CancelledError`` inside a loop callback (the socket reader or the misc task),
      so it lands in the event loop's exception handler;
    * a CONNACK that times out or is negative also leaves the socket open.

    Here the connect runs in its own task that the caller's cancellation does not
    reach: on cancellation the attempt is cut short (the
    ``_connected`` future gets an error, so aiomqtt stops waiting for the CONNACK),
    the task is waited for (at most the rest of paho's TCP/TLS connect, which cannot be
    interrupted), then the socket is closed, the reader and misc task removed, and
    the ``CancelledError`` re-raised. Any other failure of the connect closes the
    socket the same way before the error propagates, and leaving the context (even
    when the disconnect is interrupted) waits until socket and misc task are gone.
    """

    async def __aenter__(self) -> Self:
        enter = asyncio.ensure_future(super().__aenter__())
        try:
            # (asyncio.wait, not shield: it never cancels ``enter`` and, unlike shield on
            # Python 3.14, reports nothing to the loop when ``enter`` fails afterwards.)
            await asyncio.wait([enter])
            return enter.result()
        except asyncio.CancelledError:
            if not enter.done() and not self._connected.done():
                self._connected.set_exception(aiomqtt.MqttError("connection attempt cancelled"))
            await _finish(enter)
            await self._abandon()
            raise
        except BaseException:
            await self._abandon()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # aiomqtt only *schedules* the misc task's cancellation, and a disconnect that is
        # itself cancelled or fails leaves the socket open: finish both here.
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            await self._abandon()
            # A drop outside a publish or the message loop leaves its reason unread in
            # ``_disconnected`` ("Future exception was never retrieved" in the loop's
            # handler); the caller reports the disconnection itself: mark it read.
            disconnected = self._disconnected
            if disconnected.done() and not disconnected.cancelled():
                disconnected.exception()

    def _on_socket_register_write(
        self, client: paho.Client, userdata: Any, sock: PahoSocket
    ) -> None:
        # paho asks (from any thread) to watch the socket for writing; aiomqtt schedules
        # ``add_writer`` with the descriptor taken now, and when the connection dies in
        # between, the scheduled call raised "OSError: Bad file descriptor" inside a loop
        # callback. Take the descriptor when the call runs; a closed socket counts as
        # the disconnection it is.
        loop = self._loop

        def write() -> None:
            try:
                client.loop_write()
            except Exception as err:  # a broken connection, as in aiomqtt
                self._fail(err)

        def register() -> None:
            fileno = sock.fileno()
            if fileno < 0:
                return
            try:
                loop.add_writer(fileno, write)
            except (OSError, ValueError) as err:
                self._fail(err)

        loop.call_soon_threadsafe(register)

    def _fail(self, err: BaseException) -> None:
        if not self._disconnected.done():
            self._disconnected.set_exception(err)

    def _on_disconnect(self, *args: Any, **kwargs: Any) -> None:
        # Never let a cancelled connect future turn into a CancelledError in a callback.
        if self._connected.cancelled():
            return
        super()._on_disconnect(*args, **kwargs)

    async def _abandon(self) -> None:
        """Close the socket if still open (no DISCONNECT sent) and end the misc task."""
        # paho's own socket close: unregisters the writer, calls aiomqtt's
        # _on_socket_close (removes the reader, cancels the misc task), closes the socket.
        self._client._sock_close()
        task = self._misc_task
        if task is not None and not task.done():
            task.cancel()
            await _finish(task)
        if self._lock.locked():
            self._lock.release()


async def _finish(future: asyncio.Future[Any]) -> None:
    """Wait until ``future`` is done, through further cancellations, and retrieve its result.

    Only for short clean-ups the caller must not skip; the caller re-raises its
    ``CancelledError`` afterwards.
    """
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([future])
    if not future.cancelled():
        future.exception()  # retrieved: never "exception was never retrieved"


def _client_id(app_identifier: str, app_key: str) -> str:
    """A stable MQTT client id for this application (needed for a persistent session)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "", app_identifier)[:48]
    if not cleaned:
        import hashlib  # noqa: PLC0415

        cleaned = hashlib.sha256(app_key.encode()).hexdigest()[:16]
    return f"sigen-{cleaned}"


def _describe_mqtt_error(err: BaseException) -> str:
    """A human sentence for an aiomqtt/ssl error (never containing credentials)."""
    if isinstance(err, MqttConnectError):
        code = _code(err.rc)
        if code in (4, 134):
            return "the broker refused the app key or access token (bad username or password)"
        if code in (5, 135):
            return "the broker refused the connection (not authorised)"
        return f"the broker refused the connection ({err})"
    text = str(err)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return f"the broker's TLS certificate was not accepted ({text}); check the CA certificate"
    if "certificate required" in text.lower() or "TLSV13_ALERT_CERTIFICATE_REQUIRED" in text:
        return "the broker requires a client certificate; give the client certificate and key"
    return text or type(err).__name__


def _is_auth_refusal(err: BaseException) -> bool:
    return isinstance(err, MqttConnectError) and _code(err.rc) in _AUTH_REFUSED_CODES


def _code(value: object) -> int:
    """An MQTT reason code (a paho ``ReasonCode`` or an int) as an int (-1 if unknown)."""
    raw = getattr(value, "value", value)
    return raw if isinstance(raw, int) else -1


async def _call(callback: Callable[[Any], Any], value: Any, what: str) -> None:
    """Run a user callback (sync or async); log, never raise, what it raises."""
    try:
        result = callback(value)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("The %s callback raised an exception (the listener goes on)", what)


class SigenMQTT:
    """Sigen's MQTT push (telemetry, system changes, alarms) and battery commands.

    ``ca_cert_path``/``client_cert_path``/``client_key_path`` are files;
    ``ca_cert_pem``/``client_cert_pem``/``client_key_pem`` the same as PEM text (as Home
    Assistant stores them). Without a CA the system's trust store is used. ``session``
    is an aiohttp session for the northbound login; ``northbound`` an already made
    :class:`NorthboundClient` to share (its token is the broker password).
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
        broker: str = MQTT_BROKERS["eu"],
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
        if not isinstance(app_key, str) or not app_key.strip():
            raise SigenValidationError("SigenMQTT needs the developer app key")
        if northbound is None and (not isinstance(app_secret, str) or not app_secret):
            raise SigenValidationError("SigenMQTT needs the developer app secret")
        ids = [system_ids] if isinstance(system_ids, str) else list(system_ids)
        if not ids or not all(isinstance(i, str) and i.strip() for i in ids):
            raise SigenValidationError(
                "SigenMQTT needs at least one system id (a non-empty string each)"
            )
        if any(ch in i for i in ids for ch in "+#/"):
            raise SigenValidationError("A system id must not contain '/', '+' or '#'")
        if ca_cert_path is not None and ca_cert_pem is not None:
            raise SigenValidationError("Give the CA certificate as a path or as PEM text, not both")
        has_cert = client_cert_path is not None or client_cert_pem is not None
        has_key = client_key_path is not None or client_key_pem is not None
        if has_cert != has_key:
            raise SigenValidationError(
                "A client certificate needs its private key (and a key its certificate)"
            )
        if client_cert_path is not None and client_cert_pem is not None:
            raise SigenValidationError("Give the client certificate as a path or PEM, not both")
        if client_key_path is not None and client_key_pem is not None:
            raise SigenValidationError("Give the client key as a path or PEM text, not both")
        for name, value in (
            ("reconnect_interval", reconnect_interval),
            ("error_reconnect_interval", error_reconnect_interval),
            ("max_reconnect_interval", max_reconnect_interval),
            ("publish_timeout", publish_timeout),
            ("connect_timeout", connect_timeout),
            ("onboard_retry_interval", onboard_retry_interval),
        ):
            if not value > 0:
                raise SigenValidationError(f"{name} must be a positive number of seconds")
        if token_refresh_margin < 0:
            raise SigenValidationError("token_refresh_margin must not be negative")

        self.app_key = app_key.strip()
        self._app_secret = app_secret
        self.app_identifier = app_identifier
        self.system_ids: list[str] = [i.strip() for i in dict.fromkeys(ids)]
        self.broker = broker
        self.port = int(port)
        self.base_url = base_url
        self._ca_cert_path = os.fspath(ca_cert_path) if ca_cert_path is not None else None
        self._client_cert_path = (
            os.fspath(client_cert_path) if client_cert_path is not None else None
        )
        self._client_key_path = os.fspath(client_key_path) if client_key_path is not None else None
        self._ca_cert_pem = ca_cert_pem
        self._has_client_cert = has_cert
        self._client_cert_pem = client_cert_pem
        self._client_key_pem = client_key_pem
        self._session = session
        self._northbound = northbound
        self._owns_northbound = northbound is None
        self.auto_onboard = auto_onboard
        self.reconnect_interval = float(reconnect_interval)
        self.error_reconnect_interval = float(error_reconnect_interval)
        self.max_reconnect_interval = float(max_reconnect_interval)
        self.token_refresh_margin = float(token_refresh_margin)
        self.onboard_retry_interval = float(onboard_retry_interval)
        self.publish_timeout = float(publish_timeout)
        self.connect_timeout = float(connect_timeout)
        self.keepalive = int(keepalive)
        self.client_id = _client_id(app_identifier, self.app_key)
        self.onboarding: dict[str, OnboardResult] = {}
        self.latest_telemetry: dict[str, TelemetryData] = {}
        self.latest_system: dict[str, SystemData] = {}
        self.clock: Callable[[], float] = time.time  # wall clock of token expiry
        self._tls_context: ssl.SSLContext | None = None
        self._client: aiomqtt.Client | None = None
        self._connected = False
        self._listen_task: asyncio.Task[Any] | None = None
        self._send_lock = asyncio.Lock()
        self._pending_logged: set[str] = set()
        self._fields_logged: set[str] = set()
        self._refused_logged: set[str] = set()  # systems whose refusal was last logged
        self._on_connection_change: Callback[bool] | None = None
        self._closed = False
        self._force_login = False
        self._token_is_new = False  # the token was obtained since the last good connection
        self._session_connected = False
        self._outage_logged = False
        self._token_obtained_at: float | None = None

    def __repr__(self) -> str:
        return (
            f"SigenMQTT(broker={self.broker!r}, port={self.port}, "
            f"systems={self.system_ids!r}, connected={self._connected})"
        )

    # ------------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        """True while the listener is connected and subscribed."""
        return self._connected

    @property
    def northbound(self) -> NorthboundClient:
        """The northbound client used for the login (created on first use)."""
        if self._northbound is None:
            self._northbound = NorthboundClient(
                self.base_url,
                session=self._session,
                app_key=self.app_key,
                app_secret=self._app_secret,
            )
        return self._northbound

    async def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        callback = self._on_connection_change
        if callback is not None:
            await _call(callback, connected, "connection change")

    # ------------------------------------------------------------------- TLS

    def build_tls_context(self) -> ssl.SSLContext:
        """The TLS context (blocking: reads files; run it in an executor from a loop).

        Verification stays fully on (``CERT_REQUIRED``, host name checked); only
        ``VERIFY_X509_STRICT`` is cleared because Sigen's CA has no keyUsage extension.
        """
        try:
            if self._ca_cert_pem is not None:
                context = ssl.create_default_context(cadata=self._ca_cert_pem)
            else:
                context = ssl.create_default_context(cafile=self._ca_cert_path)
        except (ssl.SSLError, OSError, ValueError) as err:
            raise SigenValidationError(
                f"Cannot load the MQTT CA certificate: {err}; give the PEM file or text "
                "from the Sigen developer portal"
            ) from None
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        if self._client_cert_path is not None and self._client_key_path is not None:
            self._load_client_cert(context, self._client_cert_path, self._client_key_path)
        elif self._client_cert_pem is not None and self._client_key_pem is not None:
            directory = tempfile.mkdtemp(prefix="sigen-mqtt-")  # mode 0700
            try:
                cert_path = os.path.join(directory, "client.crt")
                key_path = os.path.join(directory, "client.key")
                for path, text in (
                    (cert_path, self._client_cert_pem),
                    (key_path, self._client_key_pem),
                ):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as handle:
                        handle.write(text)
                self._load_client_cert(context, cert_path, key_path)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
        return context

    @staticmethod
    def _load_client_cert(context: ssl.SSLContext, cert: str, key: str) -> None:
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as err:
            raise SigenValidationError(
                f"Cannot load the MQTT client certificate and key: {err}; check that the "
                "key belongs to the certificate"
            ) from None

    async def _get_tls_context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            loop = asyncio.get_running_loop()
            self._tls_context = await loop.run_in_executor(None, self.build_tls_context)
        return self._tls_context

    def _make_client(
        self, context: ssl.SSLContext, token: str, *, identifier: str, clean_session: bool
    ) -> aiomqtt.Client:
        return HardenedClient(
            self.broker,
            self.port,
            username=self.app_key,
            password=token,
            identifier=identifier,
            clean_session=clean_session,
            tls_context=context,
            timeout=self.connect_timeout,
            keepalive=self.keepalive,
            logger=_PAHO_LOGGER,
        )

    # ------------------------------------------------------------------ login

    async def _onboard(self) -> None:
        pending = [s for s in self.system_ids if not self._is_onboarded(s)]
        if not pending:
            return
        try:
            results = await self.northbound.onboard(pending)
        except SigenAuthError:
            raise
        except SigenError as err:
            _LOGGER.warning("Onboarding the systems failed (will retry at reconnect): %s", err)
            return
        for result in results:
            self.onboarding[result.system_id] = result
            if result.pending:
                if result.system_id not in self._pending_logged:
                    self._pending_logged.add(result.system_id)
                    _LOGGER.warning(
                        "System %s is waiting for the owner's approval: accept the "
                        "onboarding request in the mySigen app; its data starts after that",
                        result.system_id,
                    )
            elif result.result:
                if result.system_id in self._pending_logged:
                    _LOGGER.info("System %s was approved by its owner", result.system_id)
                    self._pending_logged.discard(result.system_id)
            else:
                _LOGGER.warning(
                    "Onboarding system %s failed (codes %s)", result.system_id, result.codes
                )

    def _is_onboarded(self, system_id: str) -> bool:
        result = self.onboarding.get(system_id)
        return result is not None and result.result

    def _refresh_delay(self) -> float | None:
        """Seconds until the token should be renewed (None: unknown expiry).

        ``token_refresh_margin`` before expiry, or half-way through the token's life
        when it does not live longer than the margin.
        """
        expires_at = self.northbound.token_expires_at
        if expires_at is None:
            return None
        obtained = self._token_obtained_at
        lifetime = expires_at - obtained if obtained is not None else None
        margin = self.token_refresh_margin
        if lifetime is not None and 0 < lifetime <= margin:
            margin = lifetime / 2
        return max(0.0, expires_at - margin - self.clock())

    async def _token(self) -> str:
        """The access token; logs in first when forced, missing, or due for renewal."""
        delay = self._refresh_delay() if self.northbound.access_token is not None else 0.0
        if self._force_login or self.northbound.access_token is None or delay == 0.0:
            self._force_login = False
            await self.northbound.login()
            self._token_obtained_at = self.clock()
            self._token_is_new = True
        token = self.northbound.access_token
        if token is None:  # pragma: no cover - login() raises instead
            raise SigenAuthError("The northbound login returned no access token")
        return token

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
        self._on_connection_change = on_connection_change
        handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            "period": lambda payload: self._dispatch_telemetry(payload, on_telemetry),
            "change": lambda payload: self._dispatch_system(payload, on_system),
            "alarm": lambda payload: self._dispatch_alarm(payload, on_alarm),
        }
        failures = 0
        try:
            while True:
                retry_now = False
                try:
                    await self._session_once(handlers)
                except _RefreshDue:
                    _LOGGER.debug("Renewing the access token and reconnecting")
                    self._force_login = True
                    failures = 0
                    continue
                except _RecheckOnboarding:
                    _LOGGER.debug("Checking the onboarding of pending systems again")
                    failures = 0
                    continue
                except asyncio.CancelledError:
                    raise
                except SigenAccountLockedError as err:
                    base, what = self.error_reconnect_interval, str(err)
                except SigenAuthError:
                    _LOGGER.error(  # noqa: TRY400  (the traceback would not help)
                        "The Sigen cloud refused the app key or secret; check them in the "
                        "developer portal"
                    )
                    raise
                except (aiomqtt.MqttError, SigenMQTTError) as err:
                    base, what = self.reconnect_interval, _describe_mqtt_error(err)
                    if _is_auth_refusal(err) and not self._token_is_new:
                        # Another login may have replaced our token: get a new one now.
                        self._force_login = retry_now = True
                except SigenError as err:
                    base, what = self.reconnect_interval, str(err)
                except Exception as err:
                    _LOGGER.exception("Unexpected error in the MQTT listener")
                    base, what = self.error_reconnect_interval, type(err).__name__
                if self._session_connected:
                    failures = 0  # it worked for a while: start the backoff again
                await self._set_connected(False)
                delay = 0.0 if retry_now else min(base * 2**failures, self.max_reconnect_interval)
                if not retry_now:
                    failures += 1
                if not self._outage_logged:
                    self._outage_logged = True
                    _LOGGER.warning(
                        "MQTT connection to %s:%s lost or refused: %s; retrying in %g s",
                        self.broker,
                        self.port,
                        what,
                        delay,
                    )
                else:
                    _LOGGER.debug("MQTT still unavailable (%s); retrying in %g s", what, delay)
                await asyncio.sleep(delay)
        finally:
            self._client = None
            self._connected = False
            self._listen_task = None
            self._on_connection_change = None

    async def _session_once(self, handlers: Mapping[str, Callable[[Any], Awaitable[None]]]) -> None:
        """One connection: login, onboard, connect, subscribe, receive until it breaks."""
        self._session_connected = False
        token = await self._token()
        if self.auto_onboard:
            await self._onboard()
        context = await self._get_tls_context()
        loop = asyncio.get_running_loop()
        refresh = self._refresh_delay()
        # (At least a second: a cloud handing out absurdly short tokens is not hammered.)
        deadline = None if refresh is None else loop.time() + max(refresh, 1.0)
        recheck = None
        if self.auto_onboard and any(not self._is_onboarded(s) for s in self.system_ids):
            recheck = loop.time() + self.onboard_retry_interval
        wake = min((t for t in (deadline, recheck) if t is not None), default=None)
        async with self._make_client(
            context, token, identifier=self.client_id, clean_session=False
        ) as client:
            try:
                # Every exact topic in one SUBSCRIBE first, then the three requests in
                # flight together (QoS 1, each acknowledged): 2 round trips, not 3 + 3 x N,
                # and the cloud's answer to a request finds the subscription in place.
                wanted = [
                    (kind, system_id) for kind in TOPIC_KINDS for system_id in self.system_ids
                ]
                topics = [
                    (DATA_TOPIC.format(kind=kind, app_key=self.app_key, system_id=system_id), 1)
                    for kind, system_id in wanted
                ]
                granted = list(await client.subscribe(topics))
                refused = sorted(
                    {
                        system_id
                        for (_kind, system_id), code in zip(wanted, granted, strict=False)
                        if _code(code) >= 128
                    }
                )
                if len(granted) != len(wanted) or len(refused) == len(self.system_ids):
                    raise SigenMQTTError(
                        "the broker refused the subscription to the data of system(s) "
                        f"{', '.join(refused or self.system_ids)} (are they onboarded for "
                        "this app key?)"
                    )
                body = json.dumps({"accessToken": token, "systemIdList": self.system_ids})
                await asyncio.gather(
                    *(
                        client.publish(SUBSCRIPTION_TOPIC.format(kind=kind), body, qos=1)
                        for kind in TOPIC_KINDS
                    )
                )
                if refused and set(refused) != self._refused_logged:
                    _LOGGER.warning(
                        "The broker refused the subscription to the data of system(s) %s "
                        "(are they onboarded for this app key?); receiving the others",
                        ", ".join(refused),
                    )
                self._refused_logged = set(refused)
                self._client = client
                self._session_connected = True
                self._token_is_new = False
                if self._outage_logged:
                    self._outage_logged = False
                    _LOGGER.info("MQTT connection to %s:%s restored", self.broker, self.port)
                _LOGGER.debug(
                    "Connected to %s:%s, subscribed for %d system(s)",
                    self.broker,
                    self.port,
                    len(self.system_ids),
                )
                await self._set_connected(True)
                try:
                    async with asyncio.timeout_at(wake):
                        async for message in client.messages:
                            await self._dispatch(str(message.topic), message.payload, handlers)
                except TimeoutError:
                    if deadline is not None and loop.time() >= deadline:
                        raise _RefreshDue from None
                    if recheck is not None and loop.time() >= recheck:
                        raise _RecheckOnboarding from None
                    raise
            finally:
                self._client = None
        raise SigenMQTTError("the broker ended the connection")

    async def _dispatch(
        self,
        topic: str,
        payload: Any,
        handlers: Mapping[str, Callable[[Any], Awaitable[None]]],
    ) -> None:
        parts = topic.split("/")
        kind = parts[1] if len(parts) == 4 else ""
        handler = handlers.get(kind)
        if handler is None:
            _LOGGER.debug("Ignoring a message on an unexpected topic")
            return
        if kind not in self._fields_logged:
            self._fields_logged.add(kind)
            _LOGGER.debug("First %s message; fields: %s", kind, _field_names(payload))
        try:
            await handler(payload)
        except asyncio.CancelledError:
            raise
        except Exception:  # parsers do not raise; this is a safety net
            _LOGGER.exception("Skipping a %s message that could not be handled", kind)

    async def _dispatch_telemetry(self, payload: Any, callback: Callback[TelemetryData]) -> None:
        for data in TelemetryData.from_mqtt_payload(payload):
            previous = self.latest_telemetry.get(data.system_id)
            merged = previous.merge(data) if previous is not None else data
            self.latest_telemetry[data.system_id] = merged
            await _call(callback, merged, "telemetry")

    async def _dispatch_system(self, payload: Any, callback: Callback[SystemData] | None) -> None:
        for data in SystemData.from_mqtt_payload(payload):
            previous = self.latest_system.get(data.system_id)
            merged = previous.merge(data) if previous is not None else data
            self.latest_system[data.system_id] = merged
            if callback is not None:
                await _call(callback, merged, "system")

    async def _dispatch_alarm(self, payload: Any, callback: Callback[AlarmEvent] | None) -> None:
        for event in AlarmEvent.from_mqtt_payload(payload):
            if callback is not None:
                await _call(callback, event, "alarm")

    # ------------------------------------------------------------------ commands

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
        checked = validate_commands(commands)
        others = sorted({c.system_id for c in checked} - set(self.system_ids))
        if others:
            _LOGGER.info(
                "Sending battery commands for system(s) %s, which this client does not "
                "listen to; the cloud applies them only to systems onboarded for the app key",
                ", ".join(others),
            )
        items = [command.to_payload() for command in checked]
        await self._publish_instruction(
            COMMAND_TOPIC,
            lambda token: {"accessToken": token, "commands": items},
            f"{len(items)} battery command(s)",
        )

    async def switch_mode(self, system_id: str, mode: NBMode | int | str) -> None:
        """Switch a system's northbound mode over MQTT (MSC, FFG, VPP or NBI).

        Unlike the REST switch this can enter VPP and NBI. Acknowledged like a command.
        """
        if not isinstance(system_id, str) or not system_id.strip():
            raise SigenValidationError("switch_mode needs a system id")
        try:
            if isinstance(mode, str):
                name = NBMode[mode.strip().upper()].name
            else:
                name = NBMode(int(mode)).name
        except (KeyError, ValueError, TypeError):
            raise SigenValidationError(
                f"Unknown mode {mode!r}; use one of MSC, FFG, VPP, NBI (or 0, 5, 6, 8)"
            ) from None
        system = system_id.strip()
        await self._publish_instruction(
            MODE_TOPIC,
            lambda token: {"accessToken": token, "systemId": system, "mode": name},
            f"mode switch of {system} to {name}",
        )

    async def _publish_instruction(
        self, topic: str, build: Callable[[str], dict[str, Any]], what: str
    ) -> None:
        async with self._send_lock:
            token = await self._token()
            body = json.dumps(build(token))
            client = self._client if self._connected else None
            if client is not None:
                try:
                    await client.publish(topic, body, qos=1, timeout=self.publish_timeout)
                except aiomqtt.MqttError as err:
                    raise SigenMQTTError(
                        f"The broker did not acknowledge the {what} ({_describe_mqtt_error(err)}); "
                        "it was not re-sent: check the system before trying again"
                    ) from None
                _LOGGER.debug("Sent %s (acknowledged by the broker)", what)
                return
            context = await self._get_tls_context()
            identifier = f"{self.client_id}-cmd-{secrets.token_hex(3)}"
            try:
                async with self._make_client(
                    context, token, identifier=identifier, clean_session=True
                ) as once:
                    await once.publish(topic, body, qos=1, timeout=self.publish_timeout)
            except aiomqtt.MqttError as err:
                raise SigenMQTTError(
                    f"Could not send the {what}: cannot reach the MQTT broker "
                    f"{self.broker}:{self.port} ({_describe_mqtt_error(err)})"
                ) from None
            _LOGGER.debug("Sent %s over a short-lived connection (acknowledged)", what)

    # ------------------------------------------------------------------ checks

    async def check_connection(self) -> None:
        """Log in and open one TLS connection to the broker, then close it.

        For a configuration check: raises :class:`SigenAuthError` (app key/secret),
        :class:`SigenValidationError` (certificates that cannot be loaded) or
        :class:`SigenMQTTError` (broker unreachable, TLS refused, credentials refused).
        """
        token = await self._token()
        context = await self._get_tls_context()
        try:
            async with self._make_client(
                context, token, identifier=f"{self.client_id}-check", clean_session=True
            ):
                pass
        except aiomqtt.MqttError as err:
            reason = _describe_mqtt_error(err)
            if "timed out" in reason and not self._has_client_cert:
                reason += (
                    "; if the broker requires a client certificate (Sigen's does), give the "
                    "client certificate and key"
                )
            raise SigenMQTTError(
                f"Cannot connect to the MQTT broker {self.broker}:{self.port}: {reason}"
            ) from None

    async def close(self) -> None:
        """Stop :meth:`listen` (if running elsewhere) and close what this object opened."""
        self._closed = True
        task = self._listen_task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_northbound and self._northbound is not None:
            await self._northbound.close()

    async def __aenter__(self) -> SigenMQTT:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _field_names(payload: Any) -> list[str]:
    """The raw field names of a message (for the first-message debug log)."""
    try:
        data = json.loads(payload) if isinstance(payload, bytes | bytearray | str) else payload
    except (ValueError, RecursionError):
        return ["<not JSON>"]
    names: set[str] = set()
    items = data if isinstance(data, list) else [data]
    for item in items[:10]:
        if isinstance(item, Mapping):
            names.update(str(k) for k in item)
            value = item.get("value")
            if isinstance(value, Mapping):
                names.update(f"value.{k}" for k in value)
    return sorted(names)[:100]
