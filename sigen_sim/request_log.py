"""Every request the simulator served, with secrets redacted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "**REDACTED**"
SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
SECRET_KEYS = {
    "password",
    "key",
    "secret",
    "app_secret",
    "appsecret",
    "access_token",
    "accesstoken",
    "refresh_token",
    "refreshtoken",
    "token",
}


def _is_secret_key(key: str) -> bool:
    return key.lower() in SECRET_KEYS


def redact_value(value: Any) -> Any:
    """Replace the values of secret keys anywhere in a JSON-like structure."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if _is_secret_key(str(k)) else redact_value(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers with credentials (Authorization, Cookie, ...) redacted, the scheme kept."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} {REDACTED}".strip()
        else:
            out[name] = value
    return out


def redact_query(query: dict[str, str]) -> dict[str, str]:
    """Query parameters with secret-looking names redacted."""
    return {k: (REDACTED if _is_secret_key(k) else v) for k, v in query.items()}


def redact_body(body: str, content_type: str) -> str:
    """Redact a request body (form or JSON); other bodies are kept only when short."""
    if not body:
        return body
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body, keep_blank_values=True)
        return urlencode([(k, REDACTED if _is_secret_key(k) else v) for k, v in pairs])
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body if len(body) <= 2048 else body[:2048] + "…"
    return json.dumps(redact_value(parsed), separators=(",", ":"))


@dataclass
class LoggedRequest:
    """One request as the simulator received it (secrets redacted)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    time: float  # simulated epoch seconds
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None

    def to_dict(self) -> dict[str, Any]:
        """The entry as the control API shows it."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "time": self.time,
            "status": self.status,
        }


class RequestLog:
    """A list-like log of :class:`LoggedRequest` with a few filters."""

    def __init__(self, max_entries: int = 10000) -> None:
        """An empty log keeping the last ``max_entries`` requests."""
        self._entries: list[LoggedRequest] = []
        self.max_entries = max_entries

    def append(self, entry: LoggedRequest) -> None:
        """Log one request (the oldest go beyond ``max_entries``)."""
        self._entries.append(entry)
        if len(self._entries) > self.max_entries:
            del self._entries[: len(self._entries) - self.max_entries]

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> LoggedRequest:
        return self._entries[index]

    def clear(self) -> None:
        """Forget every request."""
        self._entries.clear()

    def filter(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[LoggedRequest]:
        """The requests whose path contains ``path_contains`` and whose method is ``method``."""
        return [
            e
            for e in self._entries
            if (path_contains is None or path_contains in e.path)
            and (method is None or e.method.upper() == method.upper())
        ]

    def count(self, path_contains: str | None = None, method: str | None = None) -> int:
        """How many requests :meth:`filter` finds."""
        return len(self.filter(path_contains, method))
