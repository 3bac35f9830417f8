"""The TOU charge/discharge schedule (§7.8 of the API notes): read it, save it whole.

``GET /device/dischargesetting/{stationId}`` answers the stored periods as a list;
``POST /device/dischargesetting/batch/save`` takes a JSON array of periods (each with
the station's ``stationId``) and replaces the whole schedule. What the notes leave open
is a :class:`~sigen_sim.config.SimConfig` switch: ``schedule_days`` (how ``whichDay``
reads back), ``schedule_untiled`` (a schedule that does not tile each day refused with
code 1000, or stored as sent), ``schedule_nulls`` (a null limit read back as null or
left out), ``schedule_unset`` (a station never saved: ``[]`` or ``null``),
``schedule_day_end`` (the day's end read back ``"24:00"`` or ``"00:00"``; a save takes
both) and ``schedule_first_day`` (``whichDay`` 1 is Monday or Sunday).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model.schedule import (
    ALL_KEYS,
    POWER_KEYS,
    SOC_KEYS,
    days_of,
    parse_period,
    schedule_of,
    tiling_problem,
)
from ._common import (
    AppRoutes,
    applies,
    authorized_station,
    envelope,
    param_illegal,
    read_text,
    station_not_found,
    to_int,
    unauthorized,
)

if TYPE_CHECKING:
    from ..config import SimConfig
    from ..model import SimStation


def read_back(items: list[Any], config: SimConfig) -> list[Any]:
    """The stored periods as the cloud lists them, in the configuration's variant."""
    answer: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            answer.append(item)  # stored as sent through the control API
            continue
        out = dict(item)
        try:
            days = sorted(days_of(item.get("whichDay")))
        except (TypeError, ValueError):
            days = None  # stored as sent through the control API: shown as it is
        if days is not None:
            out["whichDay"] = days if config.schedule_days == "list" else ",".join(map(str, days))
        if config.schedule_day_end == "00:00" and out.get("endTime") == "24:00":
            out["endTime"] = "00:00"
        if config.schedule_nulls == "absent":
            out = {key: value for key, value in out.items() if value is not None}
        answer.append(out)
    return answer


def stored_item(item: dict[str, Any], station: SimStation) -> dict[str, Any]:
    """One saved period as stored: every field of §7.8 (a missing limit is null)."""
    stored = {key: item.get(key) for key in ALL_KEYS}
    stored["stationId"] = station.station_id
    if stored["currType"] is None:
        stored["currType"] = 1
    for key in (*POWER_KEYS, *SOC_KEYS):
        if isinstance(stored[key], str):
            stored[key] = float(stored[key])
    return stored


class ScheduleRoutes(AppRoutes):
    """The TOU schedule's read and batch save."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/device/dischargesetting/{station_id}", self.read)
        app.router.add_post("/device/dischargesetting/batch/save", self.save)

    async def read(self, request: web.Request) -> web.Response:
        """The stored periods (``[]``/``null`` before the first save, per the variant)."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        schedule = schedule_of(station)
        if not schedule.saved and self.sim.config.schedule_unset == "null":
            return envelope(None)
        return envelope(read_back(schedule.items, self.sim.config))

    async def save(self, request: web.Request) -> web.Response:
        """The whole schedule, checked (code 1000 and nothing stored when it is not right)."""
        if not self.api.authorized(request):
            return unauthorized()
        try:
            body = json.loads(await read_text(request))
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, list) or not body:
            return param_illegal("param illegal: the body must be a non-empty array of periods")
        ids = {to_int(item.get("stationId")) for item in body if isinstance(item, dict)}
        station = self.api.station(ids.pop()) if len(ids) == 1 else None
        if station is None:
            return station_not_found()
        problem = self.problem(body)
        if problem is not None:
            return param_illegal(f"param illegal: {problem}")
        if applies(request):
            station.sync()
            periods = [parse_period(item) for item in body]
            schedule_of(station).store([stored_item(item, station) for item in body], periods)
        return envelope(True)

    def problem(self, body: list[Any]) -> str | None:
        """What the cloud refuses in a saved schedule (None: nothing, per the variant)."""
        try:
            periods = [
                parse_period(item, strict=self.sim.config.strict_setting_types) for item in body
            ]
        except (TypeError, ValueError) as err:
            return str(err)
        if self.sim.config.schedule_untiled == "refuse":
            return tiling_problem(periods)
        return None
