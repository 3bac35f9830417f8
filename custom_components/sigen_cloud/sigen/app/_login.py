"""The app API's login: the OAuth password grant and refresh of ``auth/oauth/token``.

The password is encrypted as the web app does (:func:`~..crypto.encrypt_password`).
The token endpoint answers failures its own way (OAuth errors, HTTP 400/401/403, or the
envelope's codes), so it has its own error mapping: a wrong password is a
:class:`~..errors.SigenAuthError`; a lock, a rate limit or a server failure is not a
reason to ask for the password again.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from .._auth import Token
from .._envelope import (
    check_envelope,
    envelope_code,
    envelope_message,
    error_for_code,
    expect_dict,
)
from .._http import HttpAnswer, check_http, is_firewall_block
from .._parse import parse_number, parse_str
from .._redact import mask_email
from ..const import (
    APP_TOKEN_REFRESH_MARGIN,
    CODE_ACCOUNT_LOCKED,
    DEFAULT_HTTP_429_RETRY_AFTER,
    DEFAULT_RATE_LIMIT_RETRY_AFTER,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    RATE_LIMIT_CODES,
)
from ..crypto import encrypt_password
from ..errors import SigenAPIError, SigenAuthError

if TYPE_CHECKING:
    from ._transport import AppTransport

_LOGGER = logging.getLogger(__name__)

TOKEN_PATH: Final = "auth/oauth/token"  # noqa: S105 - a URL path, not a secret
_BASIC_AUTH: Final = "Basic " + base64.b64encode(
    f"{OAUTH_CLIENT_ID}:{OAUTH_CLIENT_SECRET}".encode()
).decode("ascii")
_DEFAULT_TOKEN_LIFETIME: Final = 3600.0
_USER_ID_KEYS: Final = ("userId", "user_id", "uid", "accountId", "account_id")
#: Login answer codes that do not mean "wrong credentials" (lock, server failures).
_NOT_AUTH_LOGIN_CODES: Final = frozenset({CODE_ACCOUNT_LOCKED, 500, 502, 503, 504, 1109, 1502})


class AppLogin:
    """Gets tokens for one account; the :class:`~.._auth.TokenKeeper` decides when."""

    def __init__(self, transport: AppTransport, username: str, password: str) -> None:
        """Keep the credentials; ``userDeviceId`` is fixed for this client's life."""
        self._transport = transport
        self.username = username
        self._password = password
        self._device_id = str(int(time.time() * 1000))
        #: The account's user id, when a login answer named it.
        self.user_id: str | None = None

    async def password_grant(self) -> Token:
        """Log in with the e-mail address and (encrypted) password."""
        what = "Logging in to the Sigen cloud"
        _LOGGER.debug("Logging in to %s as %s", self._transport.base_url, mask_email(self.username))
        form = {
            "scope": "server",
            "grant_type": "password",
            "userDeviceId": self._device_id,
            "username": self.username,
            "password": encrypt_password(self._password),
        }
        answer = await self._post(what, form)
        data = _check_token_answer(what, answer, self._transport.user_agent, login=True)
        return self._token(what, answer, data)

    async def refresh_grant(self, token: Token) -> Token:
        """Trade ``token``'s refresh token for a new token."""
        what = "Refreshing the Sigen session"
        assert token.refresh is not None
        form = {"scope": "server", "grant_type": "refresh_token", "refresh_token": token.refresh}
        answer = await self._post(what, form)
        data = _check_token_answer(what, answer, self._transport.user_agent, login=False)
        fresh = self._token(what, answer, data)
        _LOGGER.debug("Sigen token refreshed")
        return fresh

    async def _post(self, what: str, form: dict[str, str]) -> HttpAnswer:
        """One request to the token endpoint (the OAuth client's Basic credentials)."""
        headers = self._transport.headers(TOKEN_PATH, None)
        headers["Authorization"] = _BASIC_AUTH
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return await self._transport.send("POST", TOKEN_PATH, what=what, headers=headers, form=form)

    def _token(self, what: str, answer: HttpAnswer, data: Any) -> Token:
        """The token of a successful answer (and the user id, when it names one)."""
        data = expect_dict(what, data, answer)
        access = parse_str(data.get("access_token", data.get("accessToken")))
        if access is None:
            raise SigenAPIError(
                f"{what}: the cloud's answer has no access_token (fields: "
                f"{', '.join(sorted(data)) or 'none'})",
                status_code=answer.status,
            )
        lifetime = parse_number(data.get("expires_in", data.get("expiresIn")))
        if lifetime is None or lifetime <= 0:
            _LOGGER.debug("%s: no usable expires_in, assuming %d s", what, _DEFAULT_TOKEN_LIFETIME)
            lifetime = _DEFAULT_TOKEN_LIFETIME
        user_id = next(
            (v for key in _USER_ID_KEYS if (v := parse_str(data.get(key))) is not None), None
        )
        if user_id is not None:
            self.user_id = user_id
        return Token.issue(
            access,
            lifetime,
            margin=APP_TOKEN_REFRESH_MARGIN,
            refresh=parse_str(data.get("refresh_token", data.get("refreshToken"))),
        )


def _check_token_answer(what: str, answer: HttpAnswer, user_agent: str, *, login: bool) -> Any:
    """The data of a token answer, or the error its failure maps to."""
    hint = "check the e-mail address and password" if login else "the refresh token is not valid"
    content_type = answer.headers.get("content-type", "")
    if (
        answer.status in (400, 401, 403)
        and answer.is_json
        and not is_firewall_block(answer.status, answer.text, content_type)
    ):
        raise _refusal(what, answer, hint)
    check_http(
        what, answer, user_agent=user_agent, default_retry_after=DEFAULT_HTTP_429_RETRY_AFTER
    )
    code = envelope_code(answer.payload)
    if code is not None and code != 0:
        raise _code_failure(what, answer, code, hint)
    return check_envelope(what, answer)


def _refusal(what: str, answer: HttpAnswer, hint: str) -> Exception:
    """The error of a JSON 400/401/403 from the token endpoint.

    Mostly wrong credentials; but a lock or rate limit is said in the envelope's code,
    and an OAuth error about the *client* means the cloud changed its login.
    """
    code = envelope_code(answer.payload)
    message = envelope_message(answer.payload)
    if code is not None and (code in RATE_LIMIT_CODES or code == CODE_ACCOUNT_LOCKED):
        return error_for_code(
            what,
            code,
            message,
            status_code=answer.status,
            response_body=answer.text,
            default_retry_after=DEFAULT_RATE_LIMIT_RETRY_AFTER,
        )
    if (
        answer.status == 401
        and isinstance(answer.payload, dict)
        and "client" in str(answer.payload.get("error_description", "")).lower()
    ):
        return SigenAuthError(
            f"{what}: the cloud refused the app's OAuth client (HTTP 401: {message}); "
            "the cloud may have changed its login, please report this"
        )
    return SigenAuthError(
        f"{what}: the cloud refused it (HTTP {answer.status}"
        + (f": {message}" if message else "")
        + f"); {hint}"
    )


def _code_failure(what: str, answer: HttpAnswer, code: int, hint: str) -> Exception:
    """The error of a token answer whose envelope has a non-zero code."""
    message = envelope_message(answer.payload)
    if code in RATE_LIMIT_CODES or code in _NOT_AUTH_LOGIN_CODES:
        # a limit, a lock or a server-side failure: not a reason to re-enter the password
        return error_for_code(
            what, code, message, status_code=answer.status, response_body=answer.text
        )
    return SigenAuthError(
        f"{what}: the cloud refused it (code {code}"
        + (f": {message}" if message else "")
        + f"); {hint}"
    )
