"""The app API's one way to send a request: headers, token, envelope, one retry.

Every request of the app API goes through :meth:`AppTransport.request`: it adds the web
app's headers (the cloud's firewall checks some of them) and the access token, decodes
the envelope, and when the cloud rejects the token (HTTP 401 or code 401/11003) renews
it once through the :class:`~.._auth.TokenKeeper` and sends the request again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .._auth import TokenKeeper
from .._envelope import Reply, check_envelope, envelope_code, envelope_message
from .._http import Endpoint, HttpAnswer, check_http
from ..const import (
    CODE_AUTH_FAILED,
    DEFAULT_HTTP_429_RETRY_AFTER,
    WEB_APP_HEADERS,
)
from ..errors import SigenAPIError, SigenError
from ._login import AppLogin

_LOGGER = logging.getLogger(__name__)


def web_app_origin(base_url: str) -> str:
    """``https://api-eu.sigencloud.com/`` → ``https://app-eu.sigencloud.com``."""
    parts = urlsplit(base_url)
    host = parts.netloc
    if host.startswith("api-"):
        host = "app-" + host[len("api-") :]
    return f"{parts.scheme}://{host}"


def is_unauthorized(answer: HttpAnswer) -> bool:
    """Whether the cloud rejected the request's token (HTTP 401, or said so in JSON)."""
    if answer.status == 401:
        return True
    payload = answer.payload
    if not isinstance(payload, dict):
        return False
    return envelope_code(payload) in (401, CODE_AUTH_FAILED) or payload.get("error") in (
        "invalid_token",
        "unauthorized",
    )


class AppTransport(Endpoint):
    """Sends the app API's requests for one account on one server.

    ``session`` gives the HTTP session to use (the client owns it). The account's
    credentials go to :class:`~._login.AppLogin`, which the token keeper calls.
    """

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        username: str,
        password: str,
        *,
        client_server: str,
        user_agent: str,
        request_timeout: float,
    ) -> None:
        """Prepare the headers; nothing is sent before the first request."""
        super().__init__(session, base_url, user_agent=user_agent, request_timeout=request_timeout)
        self.origin = web_app_origin(base_url)
        self._client_server = client_server
        self._sg_session = str(uuid.uuid4())
        self.login = AppLogin(self, username, password)
        self.tokens = TokenKeeper(
            self.login.password_grant,
            refresh=self.login.refresh_grant,
            retry_call="async_initialize()",
        )

    def headers(self, path: str, token: str | None) -> dict[str, str]:
        """The web app's headers for one request to ``path`` (with ``token``, if any)."""
        timestamp = str(time.time_ns() // 1000)  # the web app sends microseconds
        headers = {
            **WEB_APP_HEADERS,
            "User-Agent": self.user_agent,
            "Origin": self.origin,
            "Referer": self.origin + "/",
            "client-server": self._client_server,
            "sg-ts": timestamp,
            "sg-log-id": str(uuid.uuid5(uuid.NAMESPACE_URL, path + timestamp)),
            "sg-session": self._sg_session,
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            headers["Content-Type"] = "application/json"
        return headers

    def check_http(self, what: str, answer: HttpAnswer) -> None:
        """Raise for the answer's HTTP-level failures (see :func:`~.._http.check_http`)."""
        check_http(
            what,
            answer,
            user_agent=self.user_agent,
            default_retry_after=DEFAULT_HTTP_429_RETRY_AFTER,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Reply:
        """Send an authenticated request and return its decoded ``data``.

        ``what`` names the operation in every error. A rejected token is renewed once
        (refresh, else login) and the request sent again; a second rejection right
        after a renewal is a :class:`SigenAPIError`, not a reason to ask for the
        password again.
        """
        token = (await self.tokens.ensure()).access
        for attempt in range(2):
            answer = await self.send(
                method,
                path,
                what=what,
                headers=self.headers(path, token),
                params=params,
                json_body=json,
            )
            if not is_unauthorized(answer):
                self.check_http(what, answer)
                return Reply(what, check_envelope(what, answer), answer)
            if attempt == 0:
                _LOGGER.debug("%s: the token was refused (HTTP %s), renewing", what, answer.status)
                await self.tokens.rejected(token)
                token = (await self.tokens.ensure()).access
                continue
            raise SigenAPIError(
                f"{what}: the Sigen cloud refused the session again right after renewing "
                f"it (HTTP {answer.status}: {envelope_message(answer.payload) or 'no reason'})",
                status_code=answer.status,
                code=envelope_code(answer.payload),
            )
        raise SigenError(f"{what}: unreachable")  # pragma: no cover
