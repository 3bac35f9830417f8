"""The northbound API's one way to send a request, and its two logins.

:class:`NorthboundTransport` adds the token to every request, decodes the envelope, and
when the cloud rejects the token (HTTP 401 or code 11003) logs in again once through
the :class:`~._auth.TokenKeeper` and sends the request again. Tokens have no refresh
token: every renewal is a login, each attempt within the :class:`~._auth.LoginBudget`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal

import aiohttp

from ._auth import LoginBudget, Token, TokenKeeper, key_login, remember_key_token
from ._envelope import Reply, check_envelope, envelope_code, envelope_message, expect_dict
from ._http import Endpoint, HttpAnswer, check_http
from ._parse import parse_number, parse_str
from ._redact import mask_email
from .const import CODE_AUTH_FAILED, DEFAULT_RATE_LIMIT_RETRY_AFTER, NB_TOKEN_RENEW_MARGIN
from .crypto import encrypt_password
from .errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenValidationError,
)

_LOGGER = logging.getLogger(__name__)

_DEFAULT_TOKEN_LIFETIME: Final = 43_200.0
type PasswordForm = Literal["plain", "aes"]
PASSWORD_FORMS: Final[tuple[PasswordForm, ...]] = ("plain", "aes")


def check_credentials(
    username: str | None, password: str | None, app_key: str | None, app_secret: str | None
) -> None:
    """Raise unless exactly one way to log in is given, complete."""
    if app_key is not None or app_secret is not None:
        if not app_key or not app_secret:
            raise SigenValidationError("Logging in with an app key needs both key and secret")
        if username is not None or password is not None:
            raise SigenValidationError(
                "Give either an account (username, password) or an app key and secret, not both"
            )
    elif not username or not password:
        raise SigenValidationError(
            "The northbound API needs an account's username and password, or use "
            "NorthboundClient.from_app_key(...) with a developer app key and secret"
        )


class NorthboundTransport(Endpoint):
    """Sends the northbound API's requests for one set of credentials.

    ``session`` gives the HTTP session (the client owns it); ``login`` is the client's
    login, which the token keeper calls when a token is due.
    """

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        login: Callable[[], Awaitable[Token]],
        *,
        user_agent: str,
        request_timeout: float,
    ) -> None:
        """Nothing is sent before the first request."""
        super().__init__(session, base_url, user_agent=user_agent, request_timeout=request_timeout)
        self.tokens = TokenKeeper(login, retry_call="login()")
        self.budget = LoginBudget()

    def headers(self, token: Token | None) -> dict[str, str]:
        """The headers of one request (with ``token``'s Authorization, if any)."""
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if token is not None:
            scheme = "Bearer" if token.scheme.lower() == "bearer" else token.scheme
            headers["Authorization"] = f"{scheme} {token.access}"
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        token: Token | None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """Send one request with ``token``'s headers, whatever the answer's status."""
        return await self.send(
            method, path, what=what, headers=self.headers(token), json_body=json_body, params=params
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send an authenticated request; log in again once if the token is refused."""
        token = await self.tokens.ensure()
        for attempt in range(2):
            answer = await self._send(
                method, path, what=what, token=token, json_body=json, params=params
            )
            if answer.status != 401 and envelope_code(answer.payload) != CODE_AUTH_FAILED:
                check_http(what, answer, user_agent=self.user_agent)
                data = check_envelope(
                    what, answer, default_retry_after=DEFAULT_RATE_LIMIT_RETRY_AFTER
                )
                return Reply(what, data, answer)
            if attempt == 0:
                _LOGGER.debug("%s: token refused, logging in again", what)
                await self.tokens.rejected(token.access)
                token = await self.tokens.ensure()
                continue
            # The login just worked: not refused credentials (which would stop the
            # MQTT push for good) but a refusal of this request.
            raise SigenAPIError(
                f"{what}: the cloud refused the token again right after a new login "
                f"(HTTP {answer.status}); the credentials may have lost access",
                status_code=answer.status,
                code=envelope_code(answer.payload),
            )
        raise SigenError(f"{what}: unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ logins

    async def login_with_key(self, app_key: str, app_secret: str) -> Token:
        """Log in with a developer application's key and secret."""
        key = base64.b64encode(f"{app_key}:{app_secret}".encode()).decode()
        _LOGGER.debug("Logging in to the northbound API with an app key")
        with key_login(self.base_url, app_key):
            token = await self._attempt(
                "Logging in to the Sigen northbound API with the app key",
                "check the app key and app secret",
                "openapi/auth/login/key",
                {"key": key},
            )
            remember_key_token(self.base_url, app_key, token)
        return token

    async def login_with_password(
        self, username: str, password: str, form: PasswordForm | None
    ) -> tuple[Token, PasswordForm]:
        """Log in with an account; the password form that worked comes back.

        Without a known ``form`` the plain password goes first and, when the cloud
        refuses it, the encrypted one once (budget permitting).
        """
        _LOGGER.debug("Logging in to the northbound API as %s", mask_email(username))
        what = "Logging in to the Sigen northbound API"
        hint = "check the account's e-mail address and password"
        forms = (form,) if form is not None else PASSWORD_FORMS
        for number, candidate in enumerate(forms):
            secret = password if candidate == "plain" else encrypt_password(password)
            body = {"username": username, "password": secret}
            try:
                token = await self._attempt(what, hint, "openapi/auth/login/password", body)
            except SigenAccountLockedError:
                raise
            except SigenAuthError:
                if number + 1 == len(forms) or not self.budget.may_try():
                    raise
                _LOGGER.debug(
                    "The northbound API refused the plain password; trying it encrypted once"
                )
                continue
            if form is None:
                _LOGGER.debug("The northbound API accepted the %s password", candidate)
            return token, candidate
        raise SigenError(f"{what}: unreachable")  # pragma: no cover

    async def _attempt(self, what: str, hint: str, path: str, body: dict[str, str]) -> Token:
        """One login request; a refusal counts against the failure budget."""
        return await self.budget.attempt(
            what, hint, lambda: self._post_login(what, hint, path, body)
        )

    async def _post_login(self, what: str, hint: str, path: str, body: dict[str, str]) -> Token:
        """Send one login and read its token (the refusals said as such)."""
        answer = await self._send("POST", path, what=what, token=None, json_body=body)
        if answer.status in (400, 401) and answer.is_json:
            code = envelope_code(answer.payload)
            if code in (None, 0, 401, CODE_AUTH_FAILED):
                message = envelope_message(answer.payload)
                raise SigenAuthError(
                    f"{what}: the cloud refused the credentials (HTTP {answer.status}"
                    + (f": {message}" if message else "")
                    + f"); {hint}"
                )
        check_http(what, answer, user_agent=self.user_agent)
        try:
            data = check_envelope(what, answer, default_retry_after=DEFAULT_RATE_LIMIT_RETRY_AFTER)
        except SigenAccountLockedError:
            raise
        except SigenAuthError as err:
            raise SigenAuthError(f"{err}; {hint}") from err
        return _token(what, data, answer)


def _token(what: str, data: Any, answer: HttpAnswer) -> Token:
    """The token of a successful login answer."""
    if isinstance(data, str):
        # A bare token string (not seen, but cheap to accept).
        data = {"accessToken": data}
    token_data = expect_dict(what, data, answer)
    access = parse_str(token_data.get("accessToken", token_data.get("access_token")))
    if access is None:
        raise SigenAPIError(
            f"{what}: the answer has no access token (fields: "
            f"{', '.join(sorted(token_data)) or 'none'})",
            status_code=answer.status,
        )
    lifetime = parse_number(token_data.get("expiresIn", token_data.get("expires_in")))
    if lifetime is None or lifetime <= 0:
        lifetime = _DEFAULT_TOKEN_LIFETIME
    _LOGGER.debug("Northbound token valid for %d s", int(lifetime))
    return Token.issue(
        access,
        lifetime,
        margin=NB_TOKEN_RENEW_MARGIN,
        scheme=parse_str(token_data.get("tokenType")) or "Bearer",
    )
