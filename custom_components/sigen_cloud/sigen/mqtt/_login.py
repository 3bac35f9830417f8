"""The northbound side of the MQTT client: the broker password and the onboarding.

The broker password is the northbound access token of the app key. It is renewed
``token_refresh_margin`` before it expires (half-way through a token that does not
live that long). Another login with the same app key (a shared
:class:`NorthboundClient`, or another one in this process: a configuration check) may
make its token the only valid broker password: its token is the one to use, and a
listener cut off waits for such a login to finish rather than log in itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from .._auth import newest_key_token, wait_for_key_logins
from ..errors import SigenAuthError, SigenError
from ..northbound import NorthboundClient

if TYPE_CHECKING:
    import aiohttp

    from ..models import OnboardResult
    from .config import Configured

_LOGGER = logging.getLogger(__name__.rpartition(".")[0])

# Seconds a listener cut off waits for a login with its key in flight (its new token).
LOGIN_WAIT: Final = 30.0


class BrokerPassword:
    """The access token that is the broker password, and the login behind it.

    ``settings`` is the owner, whose ``config`` is read at each use (it may change).
    ``northbound`` is a client to share (its token is the password); without one, one
    is made on first use from the app key and secret, and closed by :meth:`close`.
    """

    def __init__(
        self,
        settings: Configured,
        session: aiohttp.ClientSession | None,
        northbound: NorthboundClient | None,
    ) -> None:
        """Keep what the login needs; nothing is sent yet."""
        self._settings = settings
        self._session = session
        self._northbound = northbound
        self._owns_northbound = northbound is None
        self.clock: Callable[[], float] = time.time  # wall clock of token expiry
        self.force_login = False  # log in again before the next connection
        self.is_new = False  # the token was obtained since the last good connection
        self.obtained_at: float | None = None
        self.used: str | None = None  # the token of the last connection attempt

    @property
    def northbound(self) -> NorthboundClient:
        """The northbound client used for the login (created on first use)."""
        if self._northbound is None:
            config = self._settings.config
            self._northbound = NorthboundClient(
                config.base_url,
                session=self._session,
                app_key=config.app_key,
                app_secret=config.app_secret,
            )
        return self._northbound

    def refresh_delay(self) -> float | None:
        """Seconds until the token should be renewed (None: unknown expiry).

        ``token_refresh_margin`` before expiry, or half-way through the token's life
        when it does not live longer than the margin.
        """
        expires_at = self.northbound.token_expires_at
        if expires_at is None:
            return None
        obtained = self.obtained_at
        lifetime = expires_at - obtained if obtained is not None else None
        margin = self._settings.config.token_refresh_margin
        if lifetime is not None and 0 < lifetime <= margin:
            margin = lifetime / 2
        return max(0.0, expires_at - margin - self.clock())

    async def token(self) -> str:
        """The access token; logs in first when forced, missing, or due for renewal."""
        northbound = self.northbound
        delay = self.refresh_delay() if northbound.access_token is not None else 0.0
        if self.force_login or northbound.access_token is None or delay == 0.0:
            self.force_login = False
            await northbound.login()
            self.obtained_at = self.clock()
            self.is_new = True
        token = self.newest()
        if token is None:  # pragma: no cover - login() raises instead
            raise SigenAuthError("The northbound login returned no access token")
        return token

    def newest(self) -> str | None:
        """The newest access token for this app key in this process.

        Another login with the same key (a second :class:`NorthboundClient`, e.g. a
        configuration check) may have replaced our token as the broker password: its
        token is the one to use (``newest_key_token``); else our own client's.
        """
        northbound = self.northbound
        own = northbound.access_token
        if not northbound.uses_app_key:
            return own
        return newest_key_token(northbound.base_url, self._settings.config.app_key) or own

    async def await_key_logins(self) -> None:
        """Wait (at most :data:`LOGIN_WAIT`) for the logins with our key in flight."""
        northbound = self.northbound
        if northbound.uses_app_key:
            await wait_for_key_logins(
                northbound.base_url, self._settings.config.app_key, LOGIN_WAIT
            )

    def replaced(self) -> bool:
        """Whether a login since our last connection attempt brought a newer token."""
        newest = self.newest()
        return newest is not None and self.used is not None and newest != self.used

    async def close(self) -> None:
        """Close the northbound client if it was made here (a shared one stays open)."""
        if self._owns_northbound and self._northbound is not None:
            await self._northbound.close()


class Onboarding:
    """The systems' onboarding for the app key, and its log lines (each said once).

    A system waiting for the owner's approval is logged once; its data starts after
    the approval.
    """

    def __init__(self) -> None:
        """Start with no result: every system counts as not onboarded yet."""
        self.results: dict[str, OnboardResult] = {}
        self._pending_logged: set[str] = set()

    def is_onboarded(self, system_id: str) -> bool:
        """Whether the cloud onboarded ``system_id`` for the app key."""
        result = self.results.get(system_id)
        return result is not None and result.result

    def waiting(self, system_ids: Iterable[str]) -> bool:
        """Whether any of ``system_ids`` is not onboarded yet."""
        return any(not self.is_onboarded(s) for s in system_ids)

    async def run(self, northbound: NorthboundClient, system_ids: Iterable[str]) -> None:
        """Onboard the systems not onboarded yet; a cloud error is logged, not raised.

        Raises :class:`SigenAuthError` (the app key or secret was refused).
        """
        pending = [s for s in system_ids if not self.is_onboarded(s)]
        if not pending:
            return
        try:
            results = await northbound.onboard(pending)
        except SigenAuthError:
            raise
        except SigenError as err:
            _LOGGER.warning("Onboarding the systems failed (will retry at reconnect): %s", err)
            return
        for result in results:
            self.results[result.system_id] = result
            self._log(result)

    def _log(self, result: OnboardResult) -> None:
        """Say what changed: waiting for approval, approved, or failed."""
        system_id = result.system_id
        if result.pending:
            if system_id not in self._pending_logged:
                self._pending_logged.add(system_id)
                _LOGGER.warning(
                    "System %s is waiting for the owner's approval: accept the "
                    "onboarding request in the mySigen app; its data starts after that",
                    system_id,
                )
        elif result.result:
            if system_id in self._pending_logged:
                _LOGGER.info("System %s was approved by its owner", system_id)
                self._pending_logged.discard(system_id)
        else:
            _LOGGER.warning("Onboarding system %s failed (codes %s)", system_id, result.codes)
