"""The listener's loop: one session after another, until cancelled.

Each session logs in (or reuses the token), onboards the systems not onboarded yet,
connects with a stable client id and a persistent session (``clean_session=False``:
messages the broker queued during a short outage still arrive), subscribes and
receives (:mod:`._session`). A broker that refuses the persistent session or the
client id (CONNACK 2, "identifier rejected"; paho reports MQTT 5's 133) gets a clean
session with a random client id of letters and digits from then on, logged once.

Between sessions it waits as :mod:`._backoff` says. A connection cut by another login
with the same app key (its token replaces ours as the broker password) waits for that
login and reconnects at once with its token, neither after the back-off nor with a
login of its own; a refusal of a token we just obtained still backs off.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

import aiomqtt

from ..errors import SigenAccountLockedError, SigenAuthError, SigenError, SigenMQTTError
from ._backoff import ReconnectBackoff, Retry, base_interval
from ._connect import describe_mqtt_error, is_auth_refusal, is_id_refusal
from ._session import (
    Callback,
    Deadlines,
    Dispatcher,
    Handlers,
    RecheckOnboarding,
    RefreshDue,
    call,
    receive,
    subscribe,
)

if TYPE_CHECKING:
    from ._connect import Connector
    from ._login import BrokerPassword, Onboarding
    from .config import Configured

_LOGGER = logging.getLogger(__name__.rpartition(".")[0])


class Listener:
    """Runs sessions until cancelled, and knows whether one is up.

    ``settings`` is the owner, whose ``config`` is read at each use (it may change).
    """

    def __init__(
        self,
        settings: Configured,
        password: BrokerPassword,
        onboarding: Onboarding,
        connector: Connector,
        dispatcher: Dispatcher,
    ) -> None:
        """Share the owner's login, onboarding, connector and dispatcher."""
        self._settings = settings
        self._password = password
        self._onboarding = onboarding
        self._connector = connector
        self._dispatcher = dispatcher
        self.client: aiomqtt.Client | None = None  # while connected and subscribed
        self.connected = False
        self.fallback_id: str | None = None  # set once the broker refused our session
        self._on_connection_change: Callback[bool] | None = None
        self._session_connected = False
        self._outage_logged = False
        self._refused_logged: set[str] = set()  # systems whose refusal was last logged

    async def run(self, handlers: Handlers, on_connection_change: Callback[bool] | None) -> None:
        """Receive until cancelled; raises :class:`SigenAuthError` (refused app key)."""
        self._on_connection_change = on_connection_change
        backoff = ReconnectBackoff()
        try:
            while True:
                try:
                    await self._session(handlers)
                except RefreshDue:
                    _LOGGER.debug("Renewing the access token and reconnecting")
                    self._password.force_login = True
                    backoff.reset()
                    continue
                except RecheckOnboarding:
                    _LOGGER.debug("Checking the onboarding of pending systems again")
                    backoff.reset()
                    continue
                except SigenAuthError as err:
                    if not isinstance(err, SigenAccountLockedError):
                        _LOGGER.error(  # noqa: TRY400  (the traceback would not help)
                            "The Sigen cloud refused the app key or secret; check them in "
                            "the developer portal"
                        )
                        raise
                    retry = await self._retry_for(err)
                except Exception as err:  # every other failure is retried
                    retry = await self._retry_for(err)
                if self._session_connected:
                    backoff.reset()  # it worked for a while: start the backoff again
                await self._set_connected(False)
                delay = backoff.next_delay(retry, self._settings.config.max_reconnect_interval)
                self._log_retry(retry, delay)
                await asyncio.sleep(delay)
        finally:
            self.client = None
            self.connected = False
            self._on_connection_change = None

    async def _session(self, handlers: Handlers) -> None:
        """One connection: login, onboard, connect, subscribe, receive until it breaks.

        The onboarding (a northbound request) goes out while the broker connection
        opens, and the subscription waits for both: one round trip less before the
        first message (issue 21).
        """
        self._session_connected = False
        config = self._settings.config
        password = self._password
        token = password.used = await password.token()
        onboarding = (
            asyncio.create_task(self._onboarding.run(password.northbound, config.system_ids))
            if config.auto_onboard
            else None
        )
        if self.fallback_id is not None:
            identifier, clean = self.fallback_id, True
        else:
            identifier, clean = config.client_id, False
        try:
            connection = self._connector.connection(
                token, identifier=identifier, clean_session=clean
            )
            async with connection as client:
                try:
                    if onboarding is not None:
                        await onboarding
                    refused = await subscribe(client, config.app_key, config.system_ids, token)
                    await self._went_up(client, refused)
                    await receive(client, self._dispatcher, handlers, self._deadlines())
                finally:
                    self.client = None
        finally:
            _settle(onboarding)
        raise SigenMQTTError("the broker ended the connection")

    def _deadlines(self) -> Deadlines:
        """When the session that starts now ends by itself (the onboarding is done)."""
        config = self._settings.config
        waiting = config.auto_onboard and self._onboarding.waiting(config.system_ids)
        return Deadlines.start(
            asyncio.get_running_loop().time(),
            self._password.refresh_delay(),
            config.onboard_retry_interval if waiting else None,
        )

    async def _went_up(self, client: aiomqtt.Client, refused: list[str]) -> None:
        """Subscribed: log what changed and report the connection."""
        config = self._settings.config
        if refused and set(refused) != self._refused_logged:
            _LOGGER.warning(
                "The broker refused the subscription to the data of system(s) %s "
                "(are they onboarded for this app key?); receiving the others",
                ", ".join(refused),
            )
        self._refused_logged = set(refused)
        self.client = client
        self._session_connected = True
        self._password.is_new = False
        if self._outage_logged:
            self._outage_logged = False
            _LOGGER.info("MQTT connection to %s:%s restored", self._connector.broker, config.port)
        _LOGGER.debug(
            "Connected to %s:%s, subscribed for %d system(s)",
            self._connector.broker,
            config.port,
            len(config.system_ids),
        )
        await self._set_connected(True)

    async def _retry_for(self, err: Exception) -> Retry:
        """What to do after a failed session (an unexpected error is logged in full)."""
        config = self._settings.config
        base = base_interval(
            err,
            reconnect_interval=config.reconnect_interval,
            error_reconnect_interval=config.error_reconnect_interval,
        )
        if isinstance(err, aiomqtt.MqttError | SigenMQTTError):
            return await self._after_broker_error(err, base)
        if isinstance(err, SigenError):
            return Retry(base, str(err))
        _LOGGER.error("Unexpected error in the MQTT listener", exc_info=err)
        return Retry(base, type(err).__name__)

    async def _after_broker_error(self, err: Exception, base: float) -> Retry:
        """A lost or refused connection: at once when a new token or client id may help."""
        what = describe_mqtt_error(err)
        # A login with our key may be what cut us (its token replaces ours as the broker
        # password before its answer arrives): wait for it.
        await self._password.await_key_logins()
        if is_id_refusal(err) and self.fallback_id is None:
            # Once, for this client's life: later reconnects keep the fallback.
            self.fallback_id = f"sigen{secrets.token_hex(8)}"
            _LOGGER.warning(
                "The MQTT broker refused the persistent session of client id %s (%s); "
                "connecting with a clean session and a random client id from now on "
                "(messages sent during an outage are not kept)",
                self._settings.config.client_id,
                what,
            )
            return Retry(base, what, now=True, quiet=True)
        if self._password.replaced():
            # Another login (ours or another client's with the same key) replaced the
            # broker password: reconnect with it now.
            _LOGGER.debug(
                "MQTT connection ended (%s) after a new login; reconnecting with the new "
                "token at once",
                what,
            )
            return Retry(base, what, now=True, quiet=True)
        if is_auth_refusal(err) and not self._password.is_new:
            # Another login may have replaced our token: get a new one now.
            self._password.force_login = True
            return Retry(base, what, now=True)
        return Retry(base, what)

    def _log_retry(self, retry: Retry, delay: float) -> None:
        """Warn once per outage; later failures of the same outage are debug."""
        if retry.quiet:
            return  # an expected reconnect, not an outage
        if not self._outage_logged:
            self._outage_logged = True
            _LOGGER.warning(
                "MQTT connection to %s:%s lost or refused: %s; retrying in %g s",
                self._connector.broker,
                self._settings.config.port,
                retry.what,
                delay,
            )
        else:
            _LOGGER.debug("MQTT still unavailable (%s); retrying in %g s", retry.what, delay)

    async def _set_connected(self, connected: bool) -> None:
        """Note the state and tell the callback when it changed."""
        if connected == self.connected:
            return
        self.connected = connected
        callback = self._on_connection_change
        if callback is not None:
            await call(callback, connected, "connection change")


def _settle(onboarding: asyncio.Task[None] | None) -> None:
    """End the session's onboarding: a refused app key it met is raised.

    It is raised as it was when the onboarding ran before the connection (the listener
    stops on it, or backs off for a locked account); an onboarding still running (the
    connection failed first) is cancelled, and the next session onboards again.
    """
    if onboarding is None:
        return
    if not onboarding.done():
        onboarding.cancel()
        onboarding.add_done_callback(_retrieve)
        return
    if not onboarding.cancelled() and isinstance(err := onboarding.exception(), SigenAuthError):
        raise err


def _retrieve(task: asyncio.Task[None]) -> None:
    """Take a cancelled onboarding's outcome, so that it is not reported as lost."""
    if not task.cancelled():
        task.exception()
