"""The cloud's ``{"code", "msg", "data"}`` envelope: its code, its message, its data.

Both REST APIs wrap every answer in this envelope (some answers come without one). A
non-zero ``code`` becomes one of the library's exceptions (:func:`error_for_code`), and
the ``data`` is decoded however deeply the cloud encoded it (:func:`check_envelope`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._parse import decode_nested_json, parse_int, parse_str
from ._redact import redact, snippet
from .const import (
    CODE_ACCOUNT_LOCKED,
    CODE_AUTH_FAILED,
    CODE_OK,
    DEFAULT_RATE_LIMIT_RETRY_AFTER,
    ERROR_MESSAGES,
    RATE_LIMIT_CODES,
)
from .errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenRateLimitError,
)

if TYPE_CHECKING:
    from ._http import HttpAnswer

_LOGGER = logging.getLogger(__name__)


def envelope_code(payload: object) -> int | None:
    """The ``code`` of a ``{"code", "msg", "data"}`` envelope, or ``None`` without one."""
    if not isinstance(payload, dict) or "code" not in payload:
        return None
    parsed = parse_int(payload["code"])
    # A code we cannot read is not success either.
    return -1 if parsed is None else parsed


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
    :func:`~._parse.decode_nested_json`.
    """
    payload = answer.payload
    if isinstance(payload, str):
        payload = decode_nested_json(payload)
    code = envelope_code(payload)
    if code is not None and code != CODE_OK:
        raise error_for_code(
            what,
            code,
            envelope_message(payload),
            status_code=answer.status,
            response_body=answer.text,
            retry_after=answer.retry_after,
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
    text = snippet(json.dumps(data, default=str) if not isinstance(data, str) else data, 80)
    return f"{type(data).__name__} {text}"


def parse_each[T](what: str, items: list[Any], build: Callable[[Any], T], kind: str) -> list[T]:
    """Every item ``build`` can read; an unreadable one is logged and skipped.

    One odd entry (a mode, a load, a system) must not hide the others.
    """
    results: list[T] = []
    for item in items:
        try:
            results.append(build(item))
        except SigenAPIError as err:
            _LOGGER.warning("%s: skipping an unreadable %s: %s", what, kind, err)
    return results


@dataclass(frozen=True, slots=True)
class Reply:
    """The decoded ``data`` of one successful request, with what it answered.

    The endpoint methods check the data's shape through it, so that an unexpected shape
    raises with the operation's name, the HTTP status and the (redacted) body.
    """

    what: str
    data: Any
    answer: HttpAnswer

    def object(self) -> dict[str, Any]:
        """The data as a JSON object (else :class:`SigenAPIError`)."""
        return expect_dict(self.what, self.data, self.answer)

    def items(self, *wrappers: str) -> list[Any]:
        """The data as a list; an object holding it under one of ``wrappers`` is unwrapped.

        Some answers page their lists (``{"list": [...]}``, ``{"records": [...]}``).
        """
        data = self.data
        if isinstance(data, dict):
            data = next((data[key] for key in wrappers if isinstance(data.get(key), list)), data)
        return expect_list(self.what, data, self.answer)

    def error(self, problem: str, *, code: int | None = None) -> SigenAPIError:
        """A :class:`SigenAPIError` saying what is wrong with this answer."""
        return SigenAPIError(
            f"{self.what}: {problem}",
            status_code=self.answer.status,
            response_body=redact(self.answer.text),
            code=code,
        )
