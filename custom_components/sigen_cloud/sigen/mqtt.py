"""Telemetry push and battery commands over Sigen's MQTT broker (TLS), with aiomqtt.

How a session goes (:meth:`SigenMQTT.listen`):

1. log in to the northbound API with the app key (:class:`NorthboundClient`) and, with
   ``auto_onboard``, onboard the systems (a system waiting for the owner's approval is
   logged once; its data starts after approval);
2. connect with TLS (MQTT 3.1.1): username = app key, password = the northbound access
   token, a stable client id derived from the app identifier, a persistent session
   (``clean_session=False``) so messages queued by the broker during a short outage
   still arrive. ``broker`` may name several host candidates (where the sources do not
   settle the host, as for Australia): they are tried in order, a host that does not
   resolve, refuses the TCP connection, does not answer in ``connect_timeout``, closes
   before the CONNACK or shows a certificate that does not verify moves on to the next;
   a refusal by a broker (CONNACK, or a TLS alert about our client certificate) does
   not. The host that answered is remembered (:attr:`SigenMQTT.answered_broker`) and
   tried first from then on. A broker that refuses the persistent session or the client
   id (CONNACK 2, "identifier rejected"; paho reports MQTT 5's 133) gets a clean session
   with a random client id of letters and digits from then on, logged once;
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
   log in again and reconnect with the new password. Another login with the same app
   key (the shared :class:`NorthboundClient`, or another one in this process: a
   configuration check) may make its token the only valid broker password and cut our
   connection: the listener waits for that login to finish and reconnects at once with
   its token, neither after the back-off nor with a login of its own; a refusal of a
   token we just obtained still backs off. While a system still waits for
   its owner's approval, onboard it again every ``onboard_retry_interval`` seconds
   (10 minutes) and renew the subscription requests.

A connection that dies before the CONNACK fails the connect at once with what the
socket said (:class:`ConnectionLostError`): a client certificate the broker refuses is
reported as soon as its TLS alert arrives (TLS 1.3 sends it after the handshake), not
at ``connect_timeout``.

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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Self

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from ._parse import parse_reason_code
from .const import MQTT_BROKERS, MQTT_PORT, NB_BASE_URLS, NBMode
from .errors import (
    SigenAccountLockedError,
    SigenAuthError,
    SigenError,
    SigenMQTTError,
    SigenValidationError,
)
from .models import OnboardResult
from .northbound import NorthboundClient, newest_key_token, wait_for_key_logins
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
    other errors (an exception in a callback) stay errors.
    """

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
# CONNACK "identifier rejected": 2 in MQTT 3.1.1 (the protocol used here; paho reports it
# as MQTT 5's 133, "client identifier not valid"). A broker that will not keep a
# persistent session (or this client id) answers it.
_ID_REFUSED_CODES: Final = frozenset({2, 133})

# Seconds a listener cut off waits for a login with its key in flight (its new token).
LOGIN_WAIT: Final = 30.0

type Callback[T] = Callable[[T], Awaitable[None] | None]


class _RefreshDue(Exception):
    """Internal: the token is about to expire; log in again and reconnect."""


class _RecheckOnboarding(Exception):
    """Internal: systems await approval; onboard again and renew the subscriptions."""


class ConnectionLostError(aiomqtt.MqttError):
    """The connection died before the broker's CONNACK; ``cause`` is what the socket
    raised (a TLS alert, a reset), ``None`` when it was simply closed.
    """

    def __init__(self, cause: OSError | None) -> None:
        self.cause = cause
        reason = str(cause) if cause is not None else "the broker closed the connection"
        super().__init__(f"{reason} (before answering the CONNECT)")


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

    aiomqtt also ignores a connection that dies before the CONNACK (it waits the whole
    connect timeout): a TLS alert the broker sends after the handshake (TLS 1.3: a
    refused or missing client certificate), a reset, a closed socket. Here the connect
    fails at once with what the socket said (:class:`ConnectionLostError`).

    Here the connect runs in its own task that the caller's cancellation does not
    reach: on cancellation the attempt is cut short (the
    ``_connected`` future gets an error, so aiomqtt stops waiting for the CONNACK),
    the task is waited for (at most the rest of paho's TCP/TLS connect, which cannot be
    interrupted), then the socket is closed, the reader and misc task removed, and
    the ``CancelledError`` re-raised. Any other failure of the connect closes the
    socket the same way before the error propagates, and leaving the context (even
    when the disconnect is interrupted) waits until socket and misc task are gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._socket_error: OSError | None = None
        paho_client = self._client
        receive = paho_client._sock_recv

        def recording_receive(bufsize: int) -> bytes:
            # paho logs a read error and reports only "connection lost": keep the error
            # (a TLS alert names the certificate problem) for the failed connect.
            try:
                return receive(bufsize)
            except BlockingIOError:
                raise
            except OSError as err:
                self._socket_error = err
                raise

        paho_client._sock_recv = recording_receive  # type: ignore[method-assign]

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
        if not self._connected.done():
            # Lost before the CONNACK: fail the connect now, not at its timeout.
            error = ConnectionLostError(self._socket_error)
            self._loop.call_soon_threadsafe(_fail_future, self._connected, error)
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


def _fail_future(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


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


def _broker_hosts(broker: object) -> tuple[str, ...]:
    """The broker host candidates: one host name, or several in the order to try."""
    items = [broker] if isinstance(broker, str) else broker
    if not isinstance(items, Iterable):
        items = [items]
    names = list(items)
    if not names or not all(isinstance(h, str) and h.strip() for h in names):
        raise SigenValidationError(
            "broker must be a host name or a list of host names (non-empty strings)"
        )
    return tuple(dict.fromkeys(h.strip() for h in names))


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
        code = parse_reason_code(err.rc)
        if code in (4, 134):
            return "the broker refused the app key or access token (bad username or password)"
        if code in (5, 135):
            return "the broker refused the connection (not authorised)"
        if code in _ID_REFUSED_CODES:
            return "the broker refused the client id or its persistent session"
        return f"the broker refused the connection ({err})"
    text = str(err)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return f"the broker's TLS certificate was not accepted ({text}); check the CA certificate"
    if "certificate required" in text.lower() or "TLSV13_ALERT_CERTIFICATE_REQUIRED" in text:
        return "the broker requires a client certificate; give the client certificate and key"
    alert = _CLIENT_CERT_ALERT.search(text)
    if alert is not None:
        return (
            f"the broker refused the client certificate (TLS alert: {alert.group(1).lower()}); "
            "give the client certificate and key issued for this app key"
        )
    return text or type(err).__name__


# TLS alerts a server sends about the client's certificate (OpenSSL's wording).
_CLIENT_CERT_ALERT: Final = re.compile(
    r"alert (unknown ca|bad certificate|certificate unknown|certificate expired|"
    r"certificate revoked|unsupported certificate|access denied)",
    re.IGNORECASE,
)


def _is_auth_refusal(err: BaseException) -> bool:
    return isinstance(err, MqttConnectError) and parse_reason_code(err.rc) in _AUTH_REFUSED_CODES


def _is_id_refusal(err: BaseException) -> bool:
    """The broker refused the client id (or the persistent session that goes with it)."""
    return isinstance(err, MqttConnectError) and parse_reason_code(err.rc) in _ID_REFUSED_CODES


def _socket_cause(err: BaseException) -> BaseException | None:
    """The OS/TLS error behind an aiomqtt error (aiomqtt re-raises it as text)."""
    if isinstance(err, ConnectionLostError):
        return err.cause
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _is_unreachable(err: BaseException) -> bool:
    """Whether the host did not answer as our broker (try the next candidate).

    Unreachable: a name that does not resolve, a refused or reset connection, a
    timeout, a connection closed before the CONNACK, a server certificate that does
    not verify (not the broker we trust). Not unreachable: a CONNACK refusal (the
    broker answered: the credentials, client id or session), a TLS alert about our
    client certificate (every host would say the same).
    """
    if isinstance(err, MqttConnectError):
        return False
    cause = _socket_cause(err)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return True
    if isinstance(cause, ssl.SSLError):
        return _CLIENT_CERT_ALERT.search(str(cause)) is None and (
            "certificate required" not in str(cause).lower()
        )
    return True


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
    Assistant stores them). Without a CA the system's trust store is used. ``broker``
    is one host name or several candidates tried in order (see the module doc);
    ``port`` is the same for all. ``session`` is an aiohttp session for the northbound
    login; ``northbound`` an already made :class:`NorthboundClient` to share (its token
    is the broker password).
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
        hosts = _broker_hosts(broker)

        self.app_key = app_key.strip()
        self._app_secret = app_secret
        self.app_identifier = app_identifier
        self.system_ids: list[str] = [i.strip() for i in dict.fromkeys(ids)]
        self._brokers = hosts
        self._answered_broker: str | None = None
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
        self._used_token: str | None = None  # the token of the last connection attempt
        self._fallback_id: str | None = None  # set once the broker refused our session

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
    def brokers(self) -> tuple[str, ...]:
        """The broker host candidates, in the order given."""
        return self._brokers

    @property
    def broker(self) -> str:
        """The broker host in use: the one that answered last, else the first candidate.

        Setting it replaces the candidates with this one host.
        """
        return self._answered_broker or self._brokers[0]

    @broker.setter
    def broker(self, host: str) -> None:
        self._brokers = _broker_hosts(host)
        self._answered_broker = None

    @property
    def answered_broker(self) -> str | None:
        """The candidate that answered last (tried first from then on), or ``None``."""
        return self._answered_broker

    @property
    def session_fallback(self) -> bool:
        """Whether the broker refused the persistent session (or the stable client id)
        and this client now connects with a clean session and a random client id.
        """
        return self._fallback_id is not None

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
        self,
        context: ssl.SSLContext,
        token: str,
        *,
        identifier: str,
        clean_session: bool,
        host: str | None = None,
    ) -> aiomqtt.Client:
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
            logger=_PAHO_LOGGER,
        )

    def _hosts_to_try(self) -> list[str]:
        """The candidates in order, the one that answered last first."""
        hosts = list(self._brokers)
        if self._answered_broker in hosts:
            hosts.remove(self._answered_broker)
            hosts.insert(0, self._answered_broker)
        return hosts

    async def _open(
        self, context: ssl.SSLContext, token: str, *, identifier: str, clean_session: bool
    ) -> aiomqtt.Client:
        """Connect to the first candidate that answers (see :meth:`_connection`)."""
        hosts = self._hosts_to_try()
        failed: dict[str, str] = {}  # host -> why it did not answer
        for number, host in enumerate(hosts, 1):
            client = self._make_client(
                context, token, identifier=identifier, clean_session=clean_session, host=host
            )
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as err:
                if len(hosts) == 1 or not _is_unreachable(err):
                    raise
                reason = failed[host] = _describe_mqtt_error(err)
                if number < len(hosts):
                    _LOGGER.debug(
                        "MQTT broker %s:%s did not answer (%s); trying %s",
                        host,
                        self.port,
                        reason,
                        hosts[number],
                    )
                continue
            if host != self._answered_broker and (failed or self._answered_broker is not None):
                _LOGGER.info(
                    "Using the MQTT broker %s:%s (%s did not answer)",
                    host,
                    self.port,
                    ", ".join(failed) or "the previous one",
                )
            self._answered_broker = host
            return client
        reasons = "; ".join(f"{host}: {reason}" for host, reason in failed.items())
        raise aiomqtt.MqttError(f"no broker answered ({reasons})")

    @contextlib.asynccontextmanager
    async def _connection(
        self, context: ssl.SSLContext, token: str, *, identifier: str, clean_session: bool
    ) -> AsyncIterator[aiomqtt.Client]:
        """A connected client: the candidates in order, the one that answered last first.

        A host that cannot be resolved or reached, that does not answer in
        ``connect_timeout`` or whose certificate does not verify moves on to the next
        candidate; a refusal by a broker (credentials, client id, client certificate)
        does not. The host that answered is remembered (:attr:`answered_broker`).
        """
        client = await self._open(
            context, token, identifier=identifier, clean_session=clean_session
        )
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_exit(client)
            yield client

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
        token = self._newest_token()
        if token is None:  # pragma: no cover - login() raises instead
            raise SigenAuthError("The northbound login returned no access token")
        return token

    def _newest_token(self) -> str | None:
        """The newest access token for this app key in this process.

        Another login with the same key (a second :class:`NorthboundClient`, e.g. a
        configuration check) may have replaced our token as the broker password: its
        token is the one to use (``newest_key_token``); else our own client's.
        """
        northbound = self.northbound
        own = northbound.access_token
        if not northbound.uses_app_key:
            return own
        return newest_key_token(northbound.base_url, self.app_key) or own

    async def _await_key_logins(self) -> None:
        northbound = self.northbound
        if northbound.uses_app_key:
            await wait_for_key_logins(northbound.base_url, self.app_key, LOGIN_WAIT)

    def _token_replaced(self) -> bool:
        """Whether a login since our last connection attempt brought a newer token."""
        newest = self._newest_token()
        return newest is not None and self._used_token is not None and newest != self._used_token

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
                retry_now = quiet = False
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
                    # A login with our key may be what cut us (its token replaces ours
                    # as the broker password before its answer arrives): wait for it.
                    await self._await_key_logins()
                    if _is_id_refusal(err) and self._fallback_id is None:
                        # Once, for this client's life: later reconnects keep the fallback.
                        self._fallback_id = f"sigen{secrets.token_hex(8)}"
                        _LOGGER.warning(
                            "The MQTT broker refused the persistent session of client id "
                            "%s (%s); connecting with a clean session and a random client "
                            "id from now on (messages sent during an outage are not kept)",
                            self.client_id,
                            what,
                        )
                        retry_now = quiet = True
                    elif self._token_replaced():
                        # Another login (ours or another client's with the same key)
                        # replaced the broker password: reconnect with it now.
                        _LOGGER.debug(
                            "MQTT connection ended (%s) after a new login; reconnecting "
                            "with the new token at once",
                            what,
                        )
                        retry_now = quiet = True
                    elif _is_auth_refusal(err) and not self._token_is_new:
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
                if quiet:
                    pass  # an expected reconnect, not an outage
                elif not self._outage_logged:
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
        token = self._used_token = await self._token()
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
        if self._fallback_id is not None:
            identifier, clean = self._fallback_id, True
        else:
            identifier, clean = self.client_id, False
        async with self._connection(
            context, token, identifier=identifier, clean_session=clean
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
                        if parse_reason_code(code) >= 128
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
                async with self._connection(
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
            async with self._connection(
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
