"""The control API's answers, request bodies and station routes.

Answers are ``{"ok": ..., "data"|"error": ...}``. The endpoints about one station
(``/_sim/stations/{systemId}/...``) are methods of a :class:`StationRoutes` marked
:func:`for_station`: they get the station, an unknown system is a 404.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app_api import read_text

if TYPE_CHECKING:
    from .model import SimStation
    from .simulator import Simulator


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


class StationRoutes:
    """A group of control endpoints of one simulator (see :func:`for_station`)."""

    def __init__(self, sim: Simulator) -> None:
        """The endpoints of ``sim``."""
        self.sim = sim


type StationHandler[R: StationRoutes] = Callable[
    [R, web.Request, SimStation], Awaitable[web.Response]
]


def for_station[R: StationRoutes](
    handler: StationHandler[R],
) -> Callable[[R, web.Request], Awaitable[web.Response]]:
    """A handler of ``/_sim/stations/{system_id}/...`` given its station; unknown: 404."""

    @functools.wraps(handler)
    async def handle(routes: R, request: web.Request) -> web.Response:
        station = routes.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return error("unknown system", 404)
        return await handler(routes, request, station)

    return handle
