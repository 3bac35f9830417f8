"""What every app-API route shares: reading requests and the cloud's answers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

if TYPE_CHECKING:
    from ..model import SimStation
    from . import AppApi

#: The cloud's shards (regions); ``SimConfig.shard`` names the one holding the account.
SHARDS = ("eu", "apac", "aus", "us", "jp", "cn")
SHARD_HOST = re.compile(r"api-([a-z0-9-]+)\.sigencloud\.com\.?(?::\d+)?")


async def read_text(request: web.Request) -> str:
    """The request body as text; undecodable bytes are replaced, never an exception."""
    return (await request.read()).decode("utf-8", errors="replace")


async def read_form(request: web.Request) -> dict[str, str]:
    """A form body as a dict of strings (garbage gives an empty or partial dict)."""
    return {k: v for k, v in parse_qsl(await read_text(request), keep_blank_values=True)}


def envelope(
    data: Any = None, code: int = 0, msg: str = "success", status: int = 200
) -> web.Response:
    """The cloud's ``{"code", "msg", "data"}`` answer."""
    return web.json_response({"code": code, "msg": msg, "data": data}, status=status)


def param_illegal(msg: str = "param illegal") -> web.Response:
    """Code 1000, the cloud's answer to a missing or malformed parameter."""
    return envelope(None, 1000, msg)


def station_not_found() -> web.Response:
    """Code 1106, the cloud's answer for a station the account does not have."""
    return envelope(None, 1106, "station not found")


def unauthorized(reason: str = "the access token is missing, expired or unknown") -> web.Response:
    """HTTP 401 with the cloud's envelope (a missing, unknown or expired token)."""
    return web.json_response(
        {"code": 401, "msg": f"Unauthorized: {reason}", "data": None}, status=401
    )


class AppRoutes:
    """A group of the app API's routes, over its shared context (tokens, stations)."""

    def __init__(self, api: AppApi) -> None:
        """Routes over the app API's shared context."""
        self.api = api
        self.sim = api.sim


def authorized_station(api: AppApi, request: web.Request, raw: Any) -> SimStation | web.Response:
    """The station ``raw`` names (its ``stationId``), else the cloud's refusal.

    A request without a valid token is refused first (401), then a station the account
    does not have (code 1106).
    """
    if not api.authorized(request):
        return unauthorized()
    station = api.station(raw)
    return station_not_found() if station is None else station


def bearer_token(request: web.Request) -> str | None:
    """The bearer token of the ``Authorization`` header (None without one)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def to_int(value: Any) -> int | None:
    """An int from an int or a numeric string; None for anything else (booleans too)."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


#: Set on a request by the "not applied" fault: the write is acknowledged, not made.
NOT_APPLIED = "sigen_sim.not_applied"


def applies(request: web.Request) -> bool:
    """Whether a write is to be made (False under the "not applied" fault)."""
    return not request.get(NOT_APPLIED, False)
