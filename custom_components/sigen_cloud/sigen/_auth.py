"""Tokens of both REST clients: keeping one fresh, and not locking the account.

:class:`TokenKeeper` is the one state machine behind the app client (``Sigen``) and the
northbound client: a lock so that concurrent calls share one login, "is the token
fresh?", renewal ahead of expiry, and one renewal after the cloud rejected a token.
:class:`RefusedCredentials` and :class:`LoginBudget` keep implicit logins from counting
towards the cloud's account lock (5 failed logins in an hour).

The app-key registry at the end is process-wide: the cloud may keep one token per
developer app key, so that an MQTT listener cut off by another login of the same key
reconnects with that login's token (:func:`newest_key_token`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypedDict

from .errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenRateLimitError,
    SigenTokenExpiredError,
)

_LOGGER = logging.getLogger(__name__)

#: Refused logins (every password form counts) one northbound client makes per
#: :data:`LOGIN_FAILURE_WINDOW` seconds; the cloud locks the account after 5 in an hour.
LOGIN_FAILURE_BUDGET: Final = 4
LOGIN_FAILURE_WINDOW: Final = 3600.0


@dataclass(frozen=True, slots=True)
class Token:
    """An access token, when it expires and when to renew it (epoch seconds)."""

    access: str
    expires_at: float
    renew_at: float
    refresh: str | None = None
    scheme: str = "Bearer"

    @classmethod
    def issue(
        cls,
        access: str,
        lifetime: float,
        *,
        margin: float,
        refresh: str | None = None,
        scheme: str = "Bearer",
    ) -> Token:
        """A token valid for ``lifetime`` seconds from now.

        It is renewed ``margin`` seconds before it expires, or half-way through when it
        lives shorter than that (so that a short-lived token is not renewed on every call).
        """
        now = time.time()
        renew_at = now + max(lifetime - margin, lifetime / 2)
        return cls(access, now + lifetime, renew_at, refresh, scheme)

    def is_fresh(self) -> bool:
        """Whether the token may still be used as it is."""
        return time.time() < self.renew_at


class TokenState(TypedDict):
    """A client's token as :meth:`TokenStateOwner.token_state` exports it (JSON-ready).

    It grants access to the account: keep it where only its owner reads it, never in
    a log. Times are epoch seconds; ``refresh`` is ``None`` for the northbound API.
    """

    access: str
    expires_at: float
    renew_at: float
    refresh: str | None
    scheme: str


def _seconds(value: object) -> float | None:
    """An exported time as a float, or ``None`` when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _token_from_state(state: Mapping[str, Any] | None) -> Token | None:
    """The token of an exported state, or ``None`` when it is not one (any version)."""
    if not isinstance(state, Mapping):
        return None
    access, refresh, scheme = state.get("access"), state.get("refresh"), state.get("scheme")
    expires_at, renew_at = _seconds(state.get("expires_at")), _seconds(state.get("renew_at"))
    if (
        not isinstance(access, str)
        or not access
        or expires_at is None
        or renew_at is None
        or not (refresh is None or isinstance(refresh, str))
        or not isinstance(scheme, str)
    ):
        return None
    return Token(access, expires_at, min(renew_at, expires_at), refresh or None, scheme)


class RefusedCredentials:
    """Remembers that the cloud refused the credentials, so that logins stop.

    After a refusal only an explicit login (``retry_call``, named in the error) tries
    the credentials again: implicit logins from data calls would count towards the
    account lock (5 failures). A lock itself is not remembered; a success forgets.
    """

    def __init__(self, retry_call: str) -> None:
        """``retry_call`` is the call the error message tells the user to make."""
        self._retry_call = retry_call
        self._refused: SigenAuthError | None = None

    def check(self, *, explicit: bool) -> None:
        """Raise :class:`SigenAuthError` for an implicit login after a refusal."""
        if self._refused is not None and not explicit:
            raise SigenAuthError(
                f"{self._refused} (not logging in again automatically, so that "
                f"the account does not get locked; call {self._retry_call} to try again)"
            )

    async def login[T](self, do_login: Callable[[], Awaitable[T]]) -> T:
        """Run ``do_login``, remembering whether the cloud refused the credentials."""
        try:
            result = await do_login()
        except SigenAccountLockedError:
            raise
        except SigenAuthError as err:
            self._refused = err
            raise
        self._refused = None
        return result


class LoginBudget:
    """Counts refused logins so that one client never locks the account.

    At most :data:`LOGIN_FAILURE_BUDGET` refusals per :data:`LOGIN_FAILURE_WINDOW`;
    once spent, :meth:`attempt` refuses to try before the window has passed.
    """

    def __init__(self) -> None:
        """Start with the whole budget."""
        self.failures: list[float] = []

    def recent(self) -> int:
        """Refused attempts in the last window."""
        now = time.monotonic()
        self.failures = [t for t in self.failures if now - t < LOGIN_FAILURE_WINDOW]
        return len(self.failures)

    def may_try(self) -> bool:
        """Whether another attempt stays within the budget."""
        return self.recent() < LOGIN_FAILURE_BUDGET

    async def attempt[T](self, what: str, hint: str, login: Callable[[], Awaitable[T]]) -> T:
        """Run one login attempt within the budget; a refusal (or lock) counts."""
        if not self.may_try():
            raise SigenAuthError(
                f"{what}: not trying again now, {self.recent()} logins were "
                "refused in the last hour and the cloud locks the account after 5; "
                f"{hint}, then try again later"
            )
        try:
            result = await login()
        except SigenAuthError:  # a lock is one too
            self.failures.append(time.monotonic())
            raise
        self.failures.clear()
        return result


class TokenKeeper:
    """The token of one REST client, renewed when needed, one renewal at a time.

    ``login`` gets a new token with the credentials; ``refresh`` (app API only) trades
    a token's refresh token for a new one. Without ``refresh`` every renewal is a login
    (the northbound API has no refresh token).
    """

    def __init__(
        self,
        login: Callable[[], Awaitable[Token]],
        *,
        refresh: Callable[[Token], Awaitable[Token]] | None = None,
        retry_call: str,
    ) -> None:
        """``retry_call`` names the explicit login a refused user should call."""
        self._login = login
        self._refresh = refresh
        self._lock = asyncio.Lock()
        self._refused = RefusedCredentials(retry_call)
        self.token: Token | None = None
        #: Called after every new token (login or refresh), e.g. to keep it.
        self.listener: Callable[[], None] | None = None

    @property
    def access(self) -> str | None:
        """The current access token, or ``None``."""
        return None if self.token is None else self.token.access

    def is_fresh(self) -> bool:
        """Whether there is a token that needs no renewal yet."""
        return self.token is not None and self.token.is_fresh()

    def export(self) -> TokenState | None:
        """The current token as a :class:`TokenState` (``None`` before a login)."""
        token = self.token
        if token is None or not token.access:
            return None
        return TokenState(
            access=token.access,
            expires_at=token.expires_at,
            renew_at=token.renew_at,
            refresh=token.refresh,
            scheme=token.scheme,
        )

    def restore(self, state: Mapping[str, Any] | None) -> bool:
        """Take over an exported token; ``False`` (and nothing changes) when unusable.

        A token past its renewal time is refreshed (or replaced by a login) on first
        use, and one the cloud rejects is renewed once, as any other token.
        """
        token = _token_from_state(state)
        if token is None:
            return False
        self.token = token
        return True

    async def ensure(self, *, explicit: bool = False) -> Token:
        """A fresh token, renewing it first when it is due.

        ``explicit`` (a login the user asked for) tries again after the cloud refused
        the credentials; implicit renewals stop there.
        """
        if self.token is None or not self.token.is_fresh():
            async with self._lock:
                if self.token is None or not self.token.is_fresh():
                    await self._renew_locked(explicit=explicit)
        assert self.token is not None
        return self.token

    async def renew(self, *, explicit: bool = True) -> None:
        """Renew now, fresh or not (an explicit login)."""
        async with self._lock:
            await self._renew_locked(explicit=explicit)

    async def rejected(self, access: str | None) -> None:
        """The cloud rejected ``access``: renew once, unless another call already did."""
        async with self._lock:
            current = self.token
            if current is not None and current.access != access:
                return  # another request renewed the token meanwhile
            if current is not None:
                # A refreshable token is refreshed; without a refresh grant it is worthless.
                self.token = replace(current, renew_at=0.0) if self._refresh else None
            await self._renew_locked()

    async def _renew_locked(self, *, explicit: bool = False) -> None:
        """Refresh the token, or log in (again); the caller holds the lock."""
        self._refused.check(explicit=explicit)
        current = self.token
        if current is None or self._refresh is None:
            self.token = await self._refused.login(self._login)
        elif current.refresh is None:
            self.token = await self._login_after_failed_refresh(None)
        else:
            try:
                self.token = await self._refresh(current)
            except (SigenAuthError, SigenAPIError) as err:
                if isinstance(err, SigenRateLimitError | SigenAccountLockedError):
                    raise
                _LOGGER.debug("Refreshing the token failed (%s); logging in again", err)
                self.token = await self._login_after_failed_refresh(err)
        if self.listener is not None:
            self.listener()

    async def _login_after_failed_refresh(self, refresh_error: SigenError | None) -> Token:
        """Log in again; a refusal now means the session is over."""
        try:
            return await self._refused.login(self._login)
        except SigenAccountLockedError:
            raise
        except SigenAuthError as err:
            self.token = None
            raise SigenTokenExpiredError(
                "The Sigen session expired and could not be renewed: "
                + (f"the token refresh failed ({refresh_error}) and " if refresh_error else "")
                + f"logging in again failed: {err}"
            ) from err


class TokenStateOwner:
    """The public export and import of a REST client's token (both clients have it).

    A program that restarts often (Home Assistant) keeps :meth:`token_state` and hands
    it to :meth:`restore_tokens` of its next client, which then needs no login while
    the token (or its refresh token) holds.
    """

    _token_keeper: TokenKeeper

    def token_state(self) -> TokenState | None:
        """The current token, to keep for the next run (secret; ``None`` before a login)."""
        return self._token_keeper.export()

    def restore_tokens(self, state: Mapping[str, Any] | None) -> bool:
        """Start from a token :meth:`token_state` exported; ``False`` when unusable.

        Call it before the first request. A token due for renewal is refreshed (app
        API) or replaced by a login on first use; one the cloud rejects likewise.
        """
        return self._token_keeper.restore(state)

    def set_token_listener(self, listener: Callable[[], None] | None) -> None:
        """Have ``listener`` called after every new token (login or refresh); ``None`` stops."""
        self._token_keeper.listener = listener


# ------------------------------------------------------------- app-key login registry

# The newest token an app-key login of this process got, per (base URL, app key), and
# when it expires. The cloud may keep one token per app key, so that the last login's
# token is the only valid MQTT broker password: an MQTT listener whose connection was
# cut by another client's login reconnects with it at once (sigen.mqtt). In memory only.
_KEY_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}

# App-key logins of this process in flight, per (base URL, app key): the cloud may cut
# the MQTT connections of the older token before the login's answer arrives.
_KEY_LOGINS: dict[tuple[str, str], set[asyncio.Future[None]]] = {}


@contextlib.contextmanager
def key_login(base_url: str, app_key: str) -> Iterator[None]:
    """Mark an app-key login as in flight (see :func:`wait_for_key_logins`)."""
    done = asyncio.get_running_loop().create_future()
    in_flight = _KEY_LOGINS.setdefault((base_url, app_key), set())
    in_flight.add(done)
    try:
        yield
    finally:
        in_flight.discard(done)
        if not in_flight:
            del _KEY_LOGINS[(base_url, app_key)]
        done.set_result(None)


def remember_key_token(base_url: str, app_key: str, token: Token) -> None:
    """Record the newest token an app-key login got (see :func:`newest_key_token`)."""
    _KEY_TOKENS[(base_url, app_key)] = (token.access, token.expires_at)


async def wait_for_key_logins(base_url: str, app_key: str, limit: float) -> bool:
    """Wait (at most ``limit`` seconds) for this process's app-key logins in flight.

    Only the logins for ``app_key`` at ``base_url`` count; ``True`` when there were any.
    """
    loop = asyncio.get_running_loop()
    pending = [f for f in _KEY_LOGINS.get((base_url, app_key), ()) if f.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=limit)
    return bool(pending)


def newest_key_token(base_url: str, app_key: str) -> str | None:
    """The newest unexpired access token of this process's app-key logins.

    For ``app_key`` at ``base_url`` (a normalised base URL, as the northbound client's
    ``base_url``); ``None`` when there is none or it has expired.
    """
    entry = _KEY_TOKENS.get((base_url, app_key))
    if entry is None:
        return None
    token, expires_at = entry
    if time.time() >= expires_at:
        del _KEY_TOKENS[(base_url, app_key)]
        return None
    return token
