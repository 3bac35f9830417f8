"""Helpers shared by the REST clients (value parsers live in :mod:`._parse`).

The HTTP helpers turn every way a request can fail
into one of the library's exceptions with a message a human can act on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

from ._parse import decode_nested_json, parse_int, parse_number, parse_str
from .const import (
    CODE_ACCOUNT_LOCKED,
    CODE_AUTH_FAILED,
    CODE_OK,
    DEFAULT_RATE_LIMIT_RETRY_AFTER,
    ERROR_MESSAGES,
    RATE_LIMIT_CODES,
)
from .errors import (
    MAX_BODY_CHARS,
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenRateLimitError,
)

_LOGGER = logging.getLogger(__name__)

_SECRET_KEYS_RE = re.compile(
    # a secret key, quoted or not (also with JSON-escaped quotes inside a JSON string),
    # then its value: a (possibly escaped) quoted string or a bare word
    r"""((?:\\*["'])?\b(?:access_?token|refresh_?token|password|app_?secret|secret|key|"""
    r"""token)(?:\\*["'])?\s*[:=]\s*)(\\*"[^"\\]*\\*"|'[^']*'|[^\s,&}"'\\]+)""",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- secrets


def redact(text: str) -> str:
    """Hide token, password and secret values in a text (a body, a URL, a form)."""
    return _SECRET_KEYS_RE.sub(lambda m: f"{m.group(1)}***", text)


def mask_email(email: str) -> str:
    """Show an account name in logs without revealing it: ``"d***@sigen.invalid"``."""
    name, at, domain = email.partition("@")
    if not at:
        return (name[:1] + "***") if name else "***"
    return f"{name[:1]}***@{domain}"


def truncate(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def _snippet(text: str, limit: int = 200) -> str:
    return truncate(" ".join(redact(text).split()), limit)


# --------------------------------------------------------------------------- HTTP


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


class RefusedCredentials:
    """Remembers that the cloud refused the credentials, so that logins stop.

    After a refusal only an explicit login (``retry_call``, named in the error) tries
    the credentials again: implicit logins from data calls would count towards the
    account lock (5 failures). A lock itself is not remembered; a success forgets.
    """

    def __init__(self, retry_call: str) -> None:
        self._retry_call = retry_call
        self._refused: SigenAuthError | None = None

    def check(self, *, explicit: bool) -> None:
        """Raise :class:`SigenAuthError` for an implicit login after a refusal."""
        if self._refused is not None and not explicit:
            raise SigenAuthError(
                f"{self._refused} (not logging in again automatically, so that "
                f"the account does not get locked; call {self._retry_call} to try again)"
            )

    async def login(self, do_login: Callable[[], Awaitable[None]]) -> None:
        """Run ``do_login``, remembering whether the cloud refused the credentials."""
        try:
            await do_login()
        except SigenAccountLockedError:
            raise
        except SigenAuthError as err:
            self._refused = err
            raise
        self._refused = None


class SessionOwner:
    """An HTTP session given by the caller (never closed here) or created on demand.

    Base of the REST clients: a session the client made itself is closed by
    :meth:`close` or ``async with``, and made again if a request comes after that.
    """

    def __init__(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it (a given one stays open)."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session


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
    auth: aiohttp.BasicAuth | None = None,
) -> HttpAnswer:
    """Send one request and read the answer; network failures become exceptions.

    Raises :class:`SigenConnectionError` when the server cannot be reached or does not
    answer within ``request_timeout`` seconds. HTTP errors are *not* raised here: the callers
    decide (see :func:`check_http`). ``what`` names the operation for messages.
    """
    kwargs: dict[str, Any] = {
        "headers": dict(headers),
        "timeout": aiohttp.ClientTimeout(total=request_timeout),
    }
    if params is not None:
        kwargs["params"] = dict(params)
    if json_body is not None:
        kwargs["json"] = json_body
    if form is not None:
        kwargs["data"] = dict(form)
    if auth is not None:
        kwargs["auth"] = auth
    try:
        async with session.request(method, url, **kwargs) as response:
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
    try:
        text = raw.decode(charset, errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    _LOGGER.debug("%s %s → HTTP %s (%d bytes)", method, _path_of(url), status, len(raw))
    return answer_from_text(status, resp_headers, text)


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


def _path_of(url: str) -> str:
    """The path of a URL without its query (queries may hold ids, never secrets)."""
    return url.split("?", 1)[0]


def check_http(
    what: str,
    answer: HttpAnswer,
    *,
    user_agent: str,
    default_retry_after: float = DEFAULT_RATE_LIMIT_RETRY_AFTER,
) -> None:
    """Raise for HTTP-level failures: firewall 403, 429, 5xx, other 4xx, non-JSON.

    401 is left to the caller (it triggers a token renewal), as is a JSON 4xx answer
    carrying the cloud's envelope with a non-zero ``code`` (see :func:`check_envelope`).
    """
    status = answer.status
    content_type = answer.headers.get("content-type", "")
    body = redact(answer.text)
    if is_firewall_block(status, answer.text, content_type):
        raise firewall_error(what, answer, user_agent)
    if status == 429:
        retry_after = parse_retry_after(answer.headers.get("retry-after"))
        if retry_after is None:
            retry_after = default_retry_after
        raise SigenRateLimitError(
            f"{what}: the Sigen cloud is rate limiting us (HTTP 429); retry in {retry_after:g} s",
            retry_after=retry_after,
            status_code=429,
            response_body=body,
        )
    if status >= 500:
        raise SigenAPIError(
            f"{what}: the Sigen cloud had a server error (HTTP {status}): {_snippet(answer.text)}"
            if answer.text.strip()
            else f"{what}: the Sigen cloud had a server error (HTTP {status})",
            status_code=status,
            response_body=body,
        )
    if not answer.is_json:
        if status >= 400:
            raise SigenAPIError(
                f"{what}: the Sigen cloud refused the request (HTTP {status}): "
                f"{_snippet(answer.text) or 'empty answer'}",
                status_code=status,
                response_body=body,
            )
        raise SigenAPIError(
            f"{what}: the Sigen cloud's answer is not JSON (HTTP {status}, "
            f"{content_type or 'no content type'}): {_snippet(answer.text) or 'empty answer'}",
            status_code=status,
            response_body=body,
        )
    if status >= 400 and status != 401 and envelope_code(answer.payload) in (None, CODE_OK):
        raise SigenAPIError(
            f"{what}: the Sigen cloud refused the request (HTTP {status}): {_snippet(answer.text)}",
            status_code=status,
            response_body=body,
        )


def envelope_code(payload: object) -> int | None:
    """The ``code`` of a ``{"code", "msg", "data"}`` envelope, or ``None`` without one."""
    if not isinstance(payload, dict) or "code" not in payload:
        return None
    code = payload["code"]
    parsed = parse_int(code)
    if parsed is None:
        # A code we cannot read is not success either.
        return -1
    return parsed


def envelope_message(payload: object) -> str | None:
    """The ``msg`` (or ``message``) of an envelope."""
    if not isinstance(payload, dict):
        return None
    for key in ("msg", "message", "error_description", "error"):
        text = parse_str(payload.get(key))
        if text is not None:
            return text
    return None


def error_for_code(
    what: str,
    code: int,
    message: str | None,
    *,
    status_code: int | None = None,
    response_body: str | None = None,
    retry_after: float | None = None,
    default_retry_after: float = DEFAULT_RATE_LIMIT_RETRY_AFTER,
) -> SigenError:
    """Map one of the cloud's error codes to the library's exception."""
    known = ERROR_MESSAGES.get(code)
    server = f" (the cloud said: {message})" if message and message != known else ""
    meaning = known or message or "unknown error"
    body = redact(response_body) if response_body is not None else None
    if code == CODE_ACCOUNT_LOCKED:
        return SigenAccountLockedError(
            f"{what}: the Sigen account is locked after too many failed logins "
            f"(code {code}); wait a few minutes and check the password{server}"
        )
    if code == CODE_AUTH_FAILED:
        return SigenAuthError(f"{what}: authentication failed (code {code}){server}")
    if code in RATE_LIMIT_CODES:
        wait = retry_after if retry_after is not None else default_retry_after
        return SigenRateLimitError(
            f"{what}: the Sigen cloud limits how often this may be called "
            f"(code {code}: {meaning}){server}; retry in {wait:g} s",
            retry_after=wait,
            status_code=status_code,
            response_body=body,
            code=code,
        )
    return SigenAPIError(
        f"{what}: the Sigen cloud answered with error code {code}: {meaning}{server}",
        status_code=status_code,
        response_body=body,
        code=code,
    )


def check_envelope(
    what: str,
    answer: HttpAnswer,
    *,
    default_retry_after: float = DEFAULT_RATE_LIMIT_RETRY_AFTER,
) -> Any:
    """Return the decoded ``data`` of a successful envelope, or raise the mapped error.

    An answer without a ``code`` counts as success; its ``data`` (or the whole object
    when it has neither ``code`` nor ``data``) is returned. ``data`` is decoded by
    :func:`decode_nested_json`.
    """
    payload = answer.payload
    if isinstance(payload, str):
        payload = decode_nested_json(payload)
    code = envelope_code(payload)
    if code is not None and code != CODE_OK:
        retry_after = parse_retry_after(answer.headers.get("retry-after"))
        raise error_for_code(
            what,
            code,
            envelope_message(payload),
            status_code=answer.status,
            response_body=answer.text,
            retry_after=retry_after,
            default_retry_after=default_retry_after,
        )
    if isinstance(payload, dict):
        data = payload.get("data") if code is not None else payload.get("data", payload)
        return decode_nested_json(data)
    return decode_nested_json(payload)


def expect_dict(what: str, data: object, answer: HttpAnswer | None = None) -> dict[str, Any]:
    """Return ``data`` if it is a JSON object, else raise a clear :class:`SigenAPIError`."""
    if isinstance(data, dict):
        return data
    raise SigenAPIError(
        f"{what}: expected a JSON object in the answer's data, got {_describe(data)}",
        status_code=answer.status if answer else None,
        response_body=redact(answer.text) if answer else None,
    )


def expect_list(what: str, data: object, answer: HttpAnswer | None = None) -> list[Any]:
    """Return ``data`` as a list (``None`` → ``[]``), else raise :class:`SigenAPIError`."""
    if data is None:
        return []
    if isinstance(data, list):
        return data
    raise SigenAPIError(
        f"{what}: expected a JSON list in the answer's data, got {_describe(data)}",
        status_code=answer.status if answer else None,
        response_body=redact(answer.text) if answer else None,
    )


def _describe(data: object) -> str:
    if data is None:
        return "nothing (null)"
    text = _snippet(json.dumps(data, default=str) if not isinstance(data, str) else data, 80)
    return f"{type(data).__name__} {text}"
