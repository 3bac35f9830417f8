"""Client of Sigen's northbound (developer) REST API, ``/openapi/...``.

Two ways to log in: with the owner's account (``NorthboundClient(base_url, username,
password)``) or with a developer application's key and secret
(``await NorthboundClient.from_app_key(...)``). Tokens last about 12 hours and have no
refresh token: the client logs in again 10 minutes before expiry, and once more when
the cloud says the token is no longer valid (HTTP 401 or code 11003).

The password login sends the password plain; sources disagree, so when the cloud
answers "authentication failed" the AES-encrypted form (as the app login uses) is
tried once, and the form that worked is kept (``password_form``). Every refused
attempt counts against a budget of :data:`LOGIN_FAILURE_BUDGET` per hour, below the
cloud's lock (5 failures in an hour): once spent, the client refuses to try again
before the hour is over instead of locking the account.

The cloud often double-encodes ``data`` (a JSON string, or a list of JSON strings);
every answer is decoded whatever its form. Requests, logins and tokens are the
business of :mod:`._nb_transport` and :mod:`._auth`; this module holds the endpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Self
from urllib.parse import quote

import aiohttp

from ._auth import (
    LOGIN_FAILURE_BUDGET,
    LOGIN_FAILURE_WINDOW,
    Token,
    TokenStateOwner,
    newest_key_token,
    wait_for_key_logins,
)
from ._envelope import Reply, envelope_code, parse_each
from ._http import SessionOwner, normalize_base_url
from ._nb_history import lifetime_totals
from ._nb_transport import PASSWORD_FORMS, NorthboundTransport, PasswordForm, check_credentials
from ._parse import parse_int
from .const import DEFAULT_REQUEST_TIMEOUT, DEFAULT_USER_AGENT, NB_BASE_URLS, NBMode
from .errors import SigenAPIError, SigenRateLimitError, SigenValidationError
from .models import NBEnergyFlow, NBSummary, NBSystem, OnboardResult

_LOGGER = logging.getLogger(__name__)

#: Modes every source agrees the REST ``instruction/settings`` switch accepts. The
#: others (VPP, NBI) are sent too: the cloud's answer decides (sources disagree), and
#: SigenMQTT.switch_mode can set every mode.
REST_SWITCHABLE_MODES = (NBMode.MSC, NBMode.FFG)

_SYSTEM_LIST_KEYS = ("list", "records", "rows", "systems")
_MQTT_MODE_HINT = (
    "the REST switch may refuse some modes: VPP (6) and NBI (8) can be set over MQTT "
    "(SigenMQTT.switch_mode)"
)


def _system_path(system_id: str) -> str:
    """A system id as one path segment."""
    return quote(system_id, safe="")


def _check_system_id(system_id: object) -> str:
    """A system id, checked and stripped."""
    if not isinstance(system_id, str) or not system_id.strip():
        raise SigenValidationError(
            f"A system id must be a non-empty string like 'SIMSYS00000001', got {system_id!r}"
        )
    return system_id.strip()


def _check_system_ids(ids: str | Iterable[str]) -> list[str]:
    """One or more system ids, checked."""
    items = [ids] if isinstance(ids, str) else list(ids)
    if not items:
        raise SigenValidationError("Give at least one system id")
    return [_check_system_id(item) for item in items]


def _nb_mode(mode: object) -> NBMode:
    """``mode`` as an :class:`NBMode`, or :class:`SigenValidationError`."""
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise SigenValidationError(f"The northbound mode must be an NBMode, got {mode!r}")
    try:
        return NBMode(mode)
    except ValueError:
        known = ", ".join(f"{m.name} ({m.value})" for m in NBMode)
        raise SigenValidationError(
            f"Unknown northbound mode {mode!r}; known modes: {known}"
        ) from None


class NorthboundClient(SessionOwner, TokenStateOwner):
    """The northbound (developer) API: systems, energy flow, summary, modes, onboarding.

    ``session`` is an :class:`aiohttp.ClientSession` to use (never closed by this
    client); without one the client creates its own, closed by :meth:`close` or
    ``async with``. ``password_form`` (``"plain"`` or ``"aes"``) fixes the form of the
    password for an account login, e.g. one a previous client found
    (:attr:`password_form`); by default it is found out as the module says.
    ``username`` and ``password`` are ``None`` for an app-key client.
    """

    def __init__(
        self,
        base_url: str = NB_BASE_URLS["eu"],
        username: str | None = None,
        password: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        password_form: PasswordForm | None = None,
    ) -> None:
        """Check the arguments; nothing is sent before the first call."""
        if password_form is not None and password_form not in PASSWORD_FORMS:
            raise SigenValidationError(
                f"password_form must be 'plain' or 'aes', got {password_form!r}"
            )
        check_credentials(username, password, app_key, app_secret)
        if request_timeout <= 0:
            raise SigenValidationError("request_timeout must be a positive number of seconds")
        self.base_url = normalize_base_url(base_url)
        self._username = username
        self._password = password
        # Kept for logging in again (the original library's attribute names).
        self._app_key = app_key
        self._app_secret = app_secret
        self._password_form: PasswordForm | None = password_form
        super().__init__(session)
        self._transport = NorthboundTransport(
            self.http_session,
            self.base_url,
            self._login,
            user_agent=user_agent,
            request_timeout=float(request_timeout),
        )
        self._request = self._transport.request
        self._token_keeper = self._transport.tokens

    @classmethod
    async def from_app_key(
        cls,
        *,
        base_url: str = NB_BASE_URLS["eu"],
        app_key: str,
        app_secret: str,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> Self:
        """Create a client for a developer application and log in with its key.

        The key and secret are kept to log in again when the token nears expiry.
        """
        client = cls(
            base_url,
            session=session,
            app_key=app_key,
            app_secret=app_secret,
            user_agent=user_agent,
            request_timeout=request_timeout,
        )
        try:
            await client.login()
        except BaseException:
            await client.close()
            raise
        return client

    # ------------------------------------------------------------------ tokens

    @property
    def access_token(self) -> str | None:
        """The current access token (the MQTT broker's password), or ``None``."""
        return self._transport.tokens.access

    @property
    def token_expires_at(self) -> float | None:
        """When the current token expires, epoch seconds (``None`` before login)."""
        token = self._transport.tokens.token
        return None if token is None else token.expires_at

    @property
    def _token_expires_at(self) -> float | None:
        """The expiry, settable for white-box tests that move it (tests/lib/test_mqtt.py)."""
        return self.token_expires_at

    @_token_expires_at.setter
    def _token_expires_at(self, value: float) -> None:
        token = self._transport.tokens.token
        # Before a login there is no token: an empty one, due for renewal, holds the expiry.
        self._transport.tokens.token = (
            Token("", value, 0.0)
            if token is None
            else Token(token.access, value, token.renew_at, token.refresh, token.scheme)
        )

    @property
    def username(self) -> str | None:
        """The account's e-mail address (``None`` for an app-key client)."""
        return self._username

    @property
    def password(self) -> str | None:
        """The account's password (``None`` for an app-key client); never logged."""
        return self._password

    @property
    def password_form(self) -> PasswordForm | None:
        """The password form the cloud accepted (or was given).

        ``"plain"``, ``"aes"``, or ``None`` while unknown.
        """
        return self._password_form

    @property
    def failed_logins(self) -> int:
        """Refused login attempts (each password form counts) in the last hour."""
        return self._transport.budget.recent()

    @property
    def uses_app_key(self) -> bool:
        """Whether this client logs in with a developer app key (else an account)."""
        return self._app_key is not None

    async def login(self) -> None:
        """Log in (key or account) and store the token; raises on failure.

        :class:`SigenAuthError` for wrong credentials (code 11003),
        :class:`SigenAccountLockedError` after too many failures (11002),
        :class:`SigenRateLimitError`, :class:`SigenConnectionError`,
        :class:`SigenAPIError` for anything else.
        """
        await self._transport.tokens.renew(explicit=True)

    async def ensure_token(self) -> str:
        """Return a valid token, logging in again when it expires within 10 minutes."""
        return (await self._transport.tokens.ensure()).access

    async def _login(self) -> Token:
        """One login with this client's credentials (the token keeper calls it)."""
        if self._app_key is not None and self._app_secret is not None:
            return await self._transport.login_with_key(self._app_key, self._app_secret)
        assert self._username is not None
        assert self._password is not None
        token, form = await self._transport.login_with_password(
            self._username, self._password, self._password_form
        )
        self._password_form = form
        return token

    # ------------------------------------------------------------------ endpoints

    async def get_systems(self) -> list[NBSystem]:
        """All systems the credentials may access (``GET /openapi/system``)."""
        reply = await self._request(
            "GET", "openapi/system", what="Reading the northbound system list"
        )
        if isinstance(reply.data, dict) and not any(
            isinstance(reply.data.get(key), list) for key in _SYSTEM_LIST_KEYS
        ):
            reply = Reply(reply.what, [reply.data], reply.answer)  # one system, unwrapped
        # Some variants wrap the list (paging): {"list"|"records"|"rows"|"systems": [...]}.
        return parse_each(reply.what, reply.items(*_SYSTEM_LIST_KEYS), NBSystem.from_dict, "system")

    async def get_energy_flow(self, system_id: str) -> NBEnergyFlow:
        """Live power flow of a system (kW; grid + = import, battery + = discharge)."""
        system_id = _check_system_id(system_id)
        reply = await self._request(
            "GET",
            f"openapi/systems/{_system_path(system_id)}/energyFlow",
            what=f"Reading the northbound energy flow of {system_id}",
        )
        return NBEnergyFlow.from_dict(reply.object())

    async def get_summary(self, system_id: str) -> NBSummary:
        """Generation totals of a system (kWh)."""
        system_id = _check_system_id(system_id)
        reply = await self._request(
            "GET",
            f"openapi/systems/{_system_path(system_id)}/summary",
            what=f"Reading the northbound summary of {system_id}",
        )
        return NBSummary.from_dict(reply.object())

    async def get_lifetime_totals(self, system_id: str) -> dict[str, float]:
        """Lifetime kWh per node (``v1/history``; :mod:`._nb_history` has the caveats)."""
        return await lifetime_totals(self._request, _check_system_id(system_id))

    async def query_mode(self, system_id: str) -> int:
        """The system's energy-storage operation mode (an :class:`NBMode` value).

        The cloud allows this about once per 5 minutes per system; more often raises
        :class:`SigenRateLimitError` (code 1201) with ``retry_after``.
        """
        system_id = _check_system_id(system_id)
        reply = await self._request(
            "GET",
            f"openapi/instruction/{_system_path(system_id)}/settings",
            what=f"Reading the northbound mode of {system_id}",
        )
        data = reply.data
        raw = data.get("energyStorageOperationMode") if isinstance(data, dict) else data
        mode = parse_int(raw)
        if mode is None:
            raise reply.error("the answer has no readable energyStorageOperationMode")
        return mode

    async def switch_mode(self, system_id: str, mode: NBMode | int) -> None:
        """Switch the system's northbound mode over REST, for any :class:`NBMode`.

        ``PUT /openapi/instruction/settings``. Sources disagree on which modes this
        accepts (MSC and FFG surely; NBI per the original library; VPP was refused for
        Predbat), so every mode is sent and a refusal raises :class:`SigenAPIError`
        with the cloud's ``code`` and message and a hint that
        :meth:`SigenMQTT.switch_mode` can set VPP and NBI.
        """
        system_id = _check_system_id(system_id)
        nb_mode = _nb_mode(mode)
        what = f"Switching {system_id} to the northbound mode {nb_mode.name} ({nb_mode.value})"
        try:
            reply = await self._request(
                "PUT",
                "openapi/instruction/settings",
                what=what,
                json={"systemId": system_id, "energyStorageOperationMode": int(nb_mode)},
            )
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            if err.code is None:
                raise  # an HTTP failure, not the cloud's verdict on the mode
            raise SigenAPIError(
                f"{err}; {_MQTT_MODE_HINT}",
                status_code=err.status_code,
                response_body=err.response_body,
                code=err.code,
            ) from err
        if reply.data is False:
            raise reply.error(
                "the cloud answered success but did not apply it (data false); " + _MQTT_MODE_HINT,
                code=envelope_code(reply.answer.payload),
            )

    async def onboard(self, ids: str | Iterable[str]) -> list[OnboardResult]:
        """Ask to onboard systems; each result says done, refused or ``pending``.

        Pending is code 1116: the owner must approve in the app or by e-mail.
        """
        return await self._board("onboard", _check_system_ids(ids))

    async def offboard(self, ids: str | Iterable[str]) -> list[OnboardResult]:
        """Offboard systems (stop receiving their data)."""
        return await self._board("offboard", _check_system_ids(ids))

    async def _board(self, action: str, ids: list[str]) -> list[OnboardResult]:
        """On- or offboard ``ids``: one result per system."""
        reply = await self._request(
            "POST", f"openapi/board/{action}", what=f"Asking to {action} {', '.join(ids)}", json=ids
        )
        data = reply.data
        if data is None or isinstance(data, bool):
            # An answer without per-system results: code 0 means every id was accepted.
            return [OnboardResult(system_id=sid, result=data is not False) for sid in ids]
        if isinstance(data, dict):
            reply = Reply(reply.what, [data], reply.answer)
        results = parse_each(reply.what, reply.items(), OnboardResult.from_dict, "result")
        for result in results:
            if not result.result:
                _LOGGER.info("%s: %s", action.capitalize(), result.description)
        return results

    def __repr__(self) -> str:
        how = "app key" if self.uses_app_key else "account"
        return f"<NorthboundClient {self.base_url} ({how})>"


__all__ = [
    "LOGIN_FAILURE_BUDGET",
    "LOGIN_FAILURE_WINDOW",
    "REST_SWITCHABLE_MODES",
    "NorthboundClient",
    "PasswordForm",
    "newest_key_token",
    "wait_for_key_logins",
]
