"""The control API's view of a station's TOU schedule (see :mod:`.control_api`).

``GET /_sim/stations/{systemId}/schedule`` shows the stored periods as the app API
stores them, the period driving the battery now (its index, or ``null``) and whether
the station is in TOU mode; ``POST`` the same path with ``{"periods": [...]}`` stores
them as sent, unchecked (a cloud holding periods the app API would refuse, such as an
unknown ``dischargeType``): the periods the model cannot read do not drive the battery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.modes import MODE_TOU
from .model.schedule import Period, active_period, parse_period, schedule_of

if TYPE_CHECKING:
    from .model import SimStation


def schedule_state(station: SimStation) -> dict[str, Any]:
    """The control API's JSON view of a station's schedule."""
    schedule = schedule_of(station)
    now = active_period(station, station.clock.now())
    return {
        "saved": schedule.saved,
        "periods": [dict(item) if isinstance(item, dict) else item for item in schedule.items],
        "active": None if now is None else schedule.periods.index(now),
        "touMode": station.mode == MODE_TOU,
    }


def readable(items: list[Any]) -> list[Period]:
    """The periods the model can read (an unreadable one never drives the battery)."""
    periods = []
    for item in items:
        try:
            periods.append(parse_period(item))
        except (TypeError, ValueError):
            continue
    return periods


class ScheduleControl(StationRoutes):
    """A station's TOU schedule, read and set from outside."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/_sim/stations/{system_id}/schedule", self.get_schedule)
        app.router.add_post("/_sim/stations/{system_id}/schedule", self.set_schedule)

    @for_station
    async def get_schedule(self, request: web.Request, station: SimStation) -> web.Response:
        """The stored schedule and the period active now."""
        return ok(schedule_state(station))

    @for_station
    async def set_schedule(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"periods": [...]}``: store the periods as sent (a list of anything)."""
        try:
            body = await json_body(request)
        except (ValueError, TypeError) as err:
            return error(f"cannot set the schedule: {err}")
        items = body.get("periods")
        if not isinstance(items, list):
            return error("periods must be a list")
        station.sync()
        schedule_of(station).store(list(items), readable(items))
        return ok(schedule_state(station))
