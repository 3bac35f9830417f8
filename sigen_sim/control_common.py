"""The control API's answers and request bodies (``{"ok": ..., "data"|"error": ...}``)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .app_api import read_text


def ok(data: Any = None) -> web.Response:
    """A successful control answer."""
    return web.json_response({"ok": True, "data": data})


def error(message: str, status: int = 400) -> web.Response:
    """A refused control request."""
    return web.json_response({"ok": False, "error": message}, status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object of the body (``{}`` when empty; ValueError/TypeError otherwise)."""
    text = await read_text(request)
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except RecursionError as err:
        raise ValueError("the body is nested too deeply") from err
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    return body
