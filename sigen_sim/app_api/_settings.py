"""What the settings and control routes share (§7.0 of the API notes).

The cloud's value types are not uniform: powers are kW strings with 3 decimals
(``"17.000"``), SOC levels whole-percent strings (``"99"``), currents A strings with 1
decimal (``"32.0"``); ``"4294967.295"`` means "no limit" / "the system's own". Writes are
JSON bodies with an integer ``stationId`` and answer ``{"code":0,"msg":"success",
"data":true}``; a bad value is code 1000 "param illegal". By default the simulator
reads numbers in either form (as a lenient server would); with
``SimConfig.strict_setting_types`` only the documented one.

:class:`SettingsRoutes` is the base of the settings areas: :meth:`~SettingsRoutes.read`
answers a ``GET .../{station_id}`` with a shape of the station, :meth:`~SettingsRoutes.write`
checks a write and commits it, unless the "not applied" fault says to acknowledge it
without applying it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._common import (
    AppRoutes,
    applies,
    authorized_station,
    envelope,
    param_illegal,
    read_text,
    station_not_found,
    unauthorized,
)

if TYPE_CHECKING:
    from ..model import SimStation

#: The cloud's "no limit" / "depends on the system" power (kW).
UNLIMITED = "4294967.295"
#: From here on a power means no limit (as the clients read it).
UNLIMITED_FROM_KW = 4294967.294

Commit = Callable[[], object]
Prepare = Callable[["SimStation", dict[str, Any]], Commit]


def kw_text(value: float | None) -> str:
    """A power as the cloud writes it: kW with 3 decimals, the sentinel for None."""
    return UNLIMITED if value is None else f"{value:.3f}"


def amp_text(value: float) -> str:
    """A current as the cloud writes it: A with 1 decimal."""
    return f"{value:.1f}"


def number(body: dict[str, Any], key: str, *, strict: bool, blank_ok: bool = False) -> float | None:
    """The number ``body[key]``: a numeric string, or (not strict) a JSON number.

    Missing, null or ``""`` is None when ``blank_ok``, else refused (ValueError).
    """
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if blank_ok:
            return None
        raise ValueError(f"{key} is required")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{key} must be a number as a string, not {value!r}")
    if strict and not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    try:
        result = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {value!r}") from None
    if not math.isfinite(result):
        raise ValueError(f"{key} must be a finite number, not {value!r}")
    return result


def kw(body: dict[str, Any], key: str, *, strict: bool, blank_ok: bool = False) -> float | None:
    """A power in kW (None for the sentinel, or a blank when ``blank_ok``); >= 0."""
    value = number(body, key, strict=strict, blank_ok=blank_ok)
    if value is None or value >= UNLIMITED_FROM_KW:
        return None
    if value < 0:
        raise ValueError(f"{key} must not be negative, not {value:g}")
    return value


def whole(body: dict[str, Any], key: str, low: int, high: int, *, strict: bool) -> int:
    """A whole number in ``[low, high]`` (``"99"`` and ``"99.0"`` are both 99)."""
    value = number(body, key, strict=strict)
    if value is None or value != int(value):
        raise ValueError(f"{key} must be a whole number, not {body.get(key)!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be {low}-{high}, not {value:g}")
    return int(value)


def flag(body: dict[str, Any], key: str) -> bool:
    """A JSON boolean (refused when missing or anything else)."""
    value = body.get(key)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false, not {value!r}")
    return value


async def json_object(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON object, or the cloud's refusal."""
    try:
        body = json.loads(await read_text(request))
    except (ValueError, RecursionError):
        return param_illegal("param illegal: the body is not JSON")
    if not isinstance(body, dict):
        return param_illegal("param illegal: the body must be an object")
    return body


class SettingsRoutes(AppRoutes):
    """The base of a settings area: reads, checked writes, the not-applied fault."""

    @property
    def strict(self) -> bool:
        """Whether values must come in the documented types only (read per request)."""
        return self.sim.config.strict_setting_types

    async def read(self, request: web.Request, shape: Callable[[SimStation], Any]) -> web.Response:
        """``GET .../{station_id}``: ``shape(station)`` in the envelope."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        return envelope(shape(station))

    async def write(self, request: web.Request, prepare: Prepare) -> web.Response:
        """A ``PUT`` with ``stationId`` in its JSON body.

        ``prepare(station, body)`` checks everything and returns the change to make
        (ValueError/TypeError: code 1000, nothing changed); it is made unless the
        request is acknowledged without being applied (a fault).
        """
        if not self.api.authorized(request):
            return unauthorized()
        body = await json_object(request)
        if isinstance(body, web.Response):
            return body
        raw_id = body.get("stationId")
        if self.strict and (isinstance(raw_id, bool) or not isinstance(raw_id, int)):
            return param_illegal("param illegal: stationId must be an integer")
        station = self.api.station(raw_id)
        if station is None:
            return station_not_found()
        try:
            commit = prepare(station, body)
        except (TypeError, ValueError) as err:
            return param_illegal(f"param illegal: {err}")
        if applies(request):
            commit()
        return envelope(True)
