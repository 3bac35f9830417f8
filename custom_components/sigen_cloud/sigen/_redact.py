"""Keeping secrets and account names out of logs, messages and exceptions.

Every text the library logs or puts into an exception that came from the cloud (a body,
a URL, a form) goes through :func:`redact`; account names go through :func:`mask_email`.
"""

from __future__ import annotations

import re

from .errors import MAX_BODY_CHARS

_SECRET_KEYS_RE = re.compile(
    # a secret key, quoted or not (also with JSON-escaped quotes inside a JSON string),
    # then its value: a (possibly escaped) quoted string or a bare word
    r"""((?:\\*["'])?\b(?:access_?token|refresh_?token|password|app_?secret|secret|key|"""
    r"""token)(?:\\*["'])?\s*[:=]\s*)(\\*"[^"\\]*\\*"|'[^']*'|[^\s,&}"'\\]+)""",
    re.IGNORECASE,
)


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


def snippet(text: str, limit: int = 200) -> str:
    """A redacted one-line excerpt of ``text`` for an error message."""
    return truncate(" ".join(redact(text).split()), limit)
