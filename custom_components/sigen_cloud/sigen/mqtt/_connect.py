"""Opening a connection to the broker, and what its failures mean.

``brokers`` may name several host candidates (where the sources do not settle the
host, as for Australia): they are tried in order, the one that answered last first. A
host that does not resolve, refuses the TCP connection, does not answer in
``connect_timeout``, closes before the CONNACK or shows a certificate that does not
verify moves on to the next (:func:`is_unreachable`); a refusal by a broker (CONNACK,
or a TLS alert about our client certificate) does not: every host would say the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Final, Protocol

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from .._parse import parse_reason_code
from ..errors import SigenMQTTError
from ._hardened import ConnectionLostError
from ._tls import build_tls_context

if TYPE_CHECKING:
    from .config import Configured

_LOGGER = logging.getLogger(__name__.rpartition(".")[0])

# MQTT CONNACK codes meaning "your credentials were refused" (3.1.1 and 5).
AUTH_REFUSED_CODES: Final = frozenset({4, 5, 134, 135})
# CONNACK "identifier rejected": 2 in MQTT 3.1.1 (the protocol used here; paho reports it
# as MQTT 5's 133, "client identifier not valid"). A broker that will not keep a
# persistent session (or this client id) answers it.
ID_REFUSED_CODES: Final = frozenset({2, 133})
# TLS alerts a server sends about the client's certificate (OpenSSL's wording).
_CLIENT_CERT_ALERT: Final = re.compile(
    r"alert (unknown ca|bad certificate|certificate unknown|certificate expired|"
    r"certificate revoked|unsupported certificate|access denied)",
    re.IGNORECASE,
)


class MakeClient(Protocol):
    """Makes the (not yet connected) client of one connection attempt."""

    def __call__(
        self,
        context: ssl.SSLContext,
        token: str,
        *,
        identifier: str,
        clean_session: bool,
        host: str | None = None,
    ) -> aiomqtt.Client: ...


class Connector:
    """The way to the broker: the TLS context (built once) and the host candidates.

    ``settings`` is the owner, whose ``config`` is read at each use (it may change).
    """

    def __init__(self, settings: Configured, make_client: MakeClient) -> None:
        """Remember where the settings and the clients come from; nothing connects yet."""
        self._settings = settings
        self._make_client = make_client
        self._tls_context: ssl.SSLContext | None = None
        self.answered: str | None = None  # the candidate that answered last

    @property
    def broker(self) -> str:
        """The host in use: the one that answered last, else the first candidate."""
        return self.answered or self._settings.config.brokers[0]

    async def tls_context(self) -> ssl.SSLContext:
        """The TLS context, built in an executor on first use (it reads files)."""
        if self._tls_context is None:
            loop = asyncio.get_running_loop()
            self._tls_context = await loop.run_in_executor(
                None, build_tls_context, self._settings.config
            )
        return self._tls_context

    @contextlib.asynccontextmanager
    async def connection(
        self, token: str, *, identifier: str, clean_session: bool
    ) -> AsyncIterator[aiomqtt.Client]:
        """A connected client, the candidates tried in order (see the module doc).

        The host that answered is remembered (:attr:`answered`) and tried first from
        then on. Raises ``aiomqtt.MqttError`` when no candidate answered, or at once
        when one refused.
        """
        context = await self.tls_context()

        def make(host: str) -> aiomqtt.Client:
            return self._make_client(
                context, token, identifier=identifier, clean_session=clean_session, host=host
            )

        client = await self._open(make)
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_exit(client)
            yield client

    async def check(self, token: str) -> None:
        """Open one connection and close it (a configuration check).

        Raises :class:`SigenMQTTError` saying why it failed.
        """
        config = self._settings.config
        identifier = f"{config.client_id}-check"
        try:
            async with self.connection(token, identifier=identifier, clean_session=True):
                pass
        except aiomqtt.MqttError as err:
            reason = describe_mqtt_error(err)
            if "timed out" in reason and not config.has_client_cert:
                reason += (
                    "; if the broker requires a client certificate (Sigen's does), give the "
                    "client certificate and key"
                )
            raise SigenMQTTError(
                f"Cannot connect to the MQTT broker {self.broker}:{config.port}: {reason}"
            ) from None

    def _hosts_to_try(self) -> list[str]:
        """The candidates in order, the one that answered last first."""
        hosts = list(self._settings.config.brokers)
        if self.answered in hosts:
            hosts.remove(self.answered)
            hosts.insert(0, self.answered)
        return hosts

    async def _open(self, make: Callable[[str], aiomqtt.Client]) -> aiomqtt.Client:
        """Enter the client of the first candidate that answers."""
        hosts = self._hosts_to_try()
        port = self._settings.config.port
        failed: dict[str, str] = {}  # host -> why it did not answer
        for number, host in enumerate(hosts, 1):
            client = make(host)
            try:
                await client.__aenter__()
            except aiomqtt.MqttError as err:
                if len(hosts) == 1 or not is_unreachable(err):
                    raise
                reason = failed[host] = describe_mqtt_error(err)
                if number < len(hosts):
                    _LOGGER.debug(
                        "MQTT broker %s:%s did not answer (%s); trying %s",
                        host,
                        port,
                        reason,
                        hosts[number],
                    )
                continue
            if host != self.answered and (failed or self.answered is not None):
                _LOGGER.info(
                    "Using the MQTT broker %s:%s (%s did not answer)",
                    host,
                    port,
                    ", ".join(failed) or "the previous one",
                )
            self.answered = host
            return client
        reasons = "; ".join(f"{host}: {reason}" for host, reason in failed.items())
        raise aiomqtt.MqttError(f"no broker answered ({reasons})")


def describe_mqtt_error(err: BaseException) -> str:
    """A human sentence for an aiomqtt/ssl error (never containing credentials)."""
    if isinstance(err, MqttConnectError):
        return _describe_refusal(err)
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


def _describe_refusal(err: MqttConnectError) -> str:
    """A human sentence for a negative CONNACK."""
    code = parse_reason_code(err.rc)
    if code in (4, 134):
        return "the broker refused the app key or access token (bad username or password)"
    if code in (5, 135):
        return "the broker refused the connection (not authorised)"
    if code in ID_REFUSED_CODES:
        return "the broker refused the client id or its persistent session"
    return f"the broker refused the connection ({err})"


def is_auth_refusal(err: BaseException) -> bool:
    """The broker refused the credentials (the app key or the token)."""
    return isinstance(err, MqttConnectError) and parse_reason_code(err.rc) in AUTH_REFUSED_CODES


def is_id_refusal(err: BaseException) -> bool:
    """The broker refused the client id (or the persistent session that goes with it)."""
    return isinstance(err, MqttConnectError) and parse_reason_code(err.rc) in ID_REFUSED_CODES


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


def is_unreachable(err: BaseException) -> bool:
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
