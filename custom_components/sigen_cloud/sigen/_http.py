"""One HTTP exchange with the cloud, and the session it runs on.

:func:`fetch` sends a request and turns every way it can fail on the network into
:class:`~.errors.SigenConnectionError`; :func:`check_http` turns the HTTP-level
failures (the firewall's 403, 429, 5xx, other 4xx, an answer that is not JSON) into
the library's exceptions with a message a human can act on. What the JSON says is the
envelope's business (:mod:`._envelope`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._envelope import envelope_code
from ._parse import parse_number
from ._redact import redact, snippet
from .const import CODE_OK, DEFAULT_RATE_LIMIT_RETRY_AFTER
from .errors import SigenAPIError, SigenConnectionError, SigenError, SigenRateLimitError

_LOGGER = logging.getLogger(__name__)


def join_url(base_url: str, path: str) -> str:
    """Join a base URL (with or without a trailing ``/``) and a relative path."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def normalize_base_url(url: str) -> str:
    """Check a base URL and give it a trailing ``/``."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SigenError(f"The server URL must start with http:// or https://, got {url!r}")
    return url.rstrip("/") + "/"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds only), or ``None``."""
    if value is None:
        return None
    number = parse_number(value)
    if number is None or number < 0:
        return None
    return number


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """One HTTP answer: status, headers (lower-case names), text and decoded JSON."""

    status: int
    headers: Mapping[str, str]
    text: str
    payload: Any
    is_json: bool

    @property
    def retry_after(self) -> float | None:
        """Seconds the ``Retry-After`` header asks to wait, if it says."""
        return parse_retry_after(self.headers.get("retry-after"))


def answer_from_text(status: int, headers: Mapping[str, str], text: str) -> HttpAnswer:
    """Build an :class:`HttpAnswer`, decoding the text as JSON when it is JSON."""
    payload: Any = None
    is_json = False
    stripped = text.strip()
    if stripped:
        try:
            payload = json.loads(stripped)
            is_json = True
        except (ValueError, RecursionError):
            payload = None
    return HttpAnswer(status, {k.lower(): v for k, v in headers.items()}, text, payload, is_json)


class AsyncClosing:
    """``async with`` support for anything with an ``async close()``.

    Shared by the REST clients, :class:`~.discovery.RegionSearch` and the MQTT client,
    so that each only says what closing means.
    """

    __slots__ = ()

    async def close(self) -> None:
        """Release what the object holds (overridden)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class SessionOwner(AsyncClosing):
    """An HTTP session given by the caller (never closed here) or created on demand.

    Base of the REST clients: a session the client made itself is closed by
    :meth:`close` or ``async with``, and made again if a request comes after that.
    """

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        """Use ``session``, or make one on the first request when it is ``None``."""
        self._session = session
        self._owns_session = session is None

    async def close(self) -> None:
        """Close the HTTP session if this client created it (a given one stays open)."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def http_session(self) -> aiohttp.ClientSession:
        """The session to send with: the given one, or this client's (made if needed)."""
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session


def _request_options(
    request_timeout: float,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
    json_body: Any,
    form: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The keyword arguments of ``session.request`` for the parts a request has."""
    options: dict[str, Any] = {
        "headers": dict(headers),
        "timeout": aiohttp.ClientTimeout(total=request_timeout),
    }
    if params is not None:
        options["params"] = dict(params)
    if json_body is not None:
        options["json"] = json_body
    if form is not None:
        options["data"] = dict(form)
    return options


def _decode(raw: bytes, charset: str) -> str:
    """The answer's text in its charset (UTF-8 when the charset is unknown)."""
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    what: str,
    request_timeout: float,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
) -> HttpAnswer:
    """Send one request and read the answer; network failures become exceptions.

    Raises :class:`SigenConnectionError` when the server cannot be reached or does not
    answer within ``request_timeout`` seconds. HTTP errors are *not* raised here: the
    callers decide (see :func:`check_http`). ``what`` names the operation for messages.
    """
    options = _request_options(request_timeout, headers, params, json_body, form)
    try:
        async with session.request(method, url, **options) as response:
            raw = await response.read()
            status = response.status
            resp_headers = {key.lower(): value for key, value in response.headers.items()}
            charset = response.charset or "utf-8"
    except TimeoutError as err:
        raise SigenConnectionError(
            f"{what}: the Sigen cloud did not answer within {request_timeout:g} s"
        ) from err
    except aiohttp.ClientError as err:
        raise SigenConnectionError(
            f"{what}: cannot reach the Sigen cloud ({type(err).__name__}: {err})"
        ) from err
    except (OSError, ValueError) as err:
        raise SigenConnectionError(
            f"{what}: the request failed ({type(err).__name__}: {err})"
        ) from err
    except RuntimeError as err:
        if not session.closed:
            raise
        raise SigenConnectionError(
            f"{what}: the HTTP session given to the client is closed; give it an open one"
        ) from err
    # The path without its query (queries may hold ids, never secrets).
    _LOGGER.debug("%s %s → HTTP %s (%d bytes)", method, url.split("?", 1)[0], status, len(raw))
    return answer_from_text(status, resp_headers, _decode(raw, charset))


def is_firewall_block(status: int, text: str, content_type: str) -> bool:
    """Tell the CloudFront firewall's 403 page from a 403 of the API itself."""
    if status != 403:
        return False
    lowered = text.lower()
    return (
        "html" in content_type.lower()
        or "request blocked" in lowered
        or "cloudfront" in lowered
        or lowered.lstrip().startswith("<")
    )


def firewall_error(what: str, answer: HttpAnswer, user_agent: str) -> SigenAPIError:
    """The error for the firewall's 403, with the reason and what to change."""
    if "aiohttp" in user_agent.lower():
        why = (
            f"it rejects any User-Agent containing 'aiohttp', and this request sent "
            f"User-Agent {user_agent!r}; use the library's default User-Agent or a "
            "browser-like one"
        )
    else:
        why = (
            f"it rejects some User-Agents (any containing 'aiohttp'); this request sent "
            f"User-Agent {user_agent!r}. If the User-Agent is fine, the firewall may be "
            "blocking this network address"
        )
    return SigenAPIError(
        f"{what}: the Sigen cloud's firewall blocked the request (HTTP 403 "
        f"'Request blocked'): {why}",
        status_code=403,
        response_body=redact(answer.text),
    )


def check_http(
    what: str,
    answer: HttpAnswer,
    *,
    user_agent: str,
    default_retry_after: float = DEFAULT_RATE_LIMIT_RETRY_AFTER,
) -> None:
    """Raise for HTTP-level failures: firewall 403, 429, 5xx, other 4xx, non-JSON.

    401 is left to the caller (it triggers a token renewal), as is a JSON 4xx answer
    carrying the cloud's envelope with a non-zero ``code`` (see
    :func:`~._envelope.check_envelope`).
    """
    status = answer.status
    content_type = answer.headers.get("content-type", "")
    if is_firewall_block(status, answer.text, content_type):
        raise firewall_error(what, answer, user_agent)
    if status == 429:
        retry_after = answer.retry_after
        if retry_after is None:
            retry_after = default_retry_after
        raise SigenRateLimitError(
            f"{what}: the Sigen cloud is rate limiting us (HTTP 429); retry in {retry_after:g} s",
            retry_after=retry_after,
            status_code=429,
            response_body=redact(answer.text),
        )
    problem = _http_problem(answer, content_type)
    if problem is not None:
        raise SigenAPIError(
            f"{what}: {problem}", status_code=status, response_body=redact(answer.text)
        )


def _http_problem(answer: HttpAnswer, content_type: str) -> str | None:
    """What is wrong with an answer that is neither blocked nor rate limited, if anything."""
    status = answer.status
    excerpt = snippet(answer.text)
    if status >= 500:
        reason = f"the Sigen cloud had a server error (HTTP {status})"
        return f"{reason}: {excerpt}" if answer.text.strip() else reason
    if not answer.is_json:
        if status >= 400:
            return (
                f"the Sigen cloud refused the request (HTTP {status}): {excerpt or 'empty answer'}"
            )
        return (
            f"the Sigen cloud's answer is not JSON (HTTP {status}, "
            f"{content_type or 'no content type'}): {excerpt or 'empty answer'}"
        )
    if status >= 400 and status != 401 and envelope_code(answer.payload) in (None, CODE_OK):
        return f"the Sigen cloud refused the request (HTTP {status}): {excerpt}"
    return None


class Endpoint:
    """One REST server of the cloud: where requests go, and how one is sent as it is.

    The base of both REST transports (the app API's and the northbound API's), which
    differ in their headers, tokens and envelopes but send a request the same way.
    ``session`` gives the HTTP session to use (the client owns it).
    """

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        base_url: str,
        *,
        user_agent: str,
        request_timeout: float,
    ) -> None:
        """Nothing is sent before the first request."""
        self._session = session
        self.base_url = base_url
        self.user_agent = user_agent
        self.request_timeout = request_timeout

    async def send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """Send one request to ``path`` as it is and return the answer, whatever its status."""
        return await fetch(
            self._session(),
            method,
            join_url(self.base_url, path),
            what=what,
            request_timeout=self.request_timeout,
            headers=headers,
            params=params,
            json_body=json_body,
            form=form,
        )
