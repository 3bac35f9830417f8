"""The control API's view of a station's peak shaving (see :mod:`.control_api`).

``GET /_sim/stations/{systemId}/peak-shaving`` shows it as plain JSON::

    {"enabled": true, "soc": 20, "socLink": "linked", "firstDay": "monday",
     "periods": [{"days": [1, 2, 3, 4, 5], "start": "17:00", "end": "21:00",
                  "peakPowerKw": 3.0}],
     "peakNowKw": 3.0}

(days ISO, 1 = Monday, whatever the cloud's numbering; ``peakNowKw`` the peak in force
now, ``null`` when not shaving). ``POST`` the same path with any of ``enabled``,
``soc`` and ``periods`` changes them (checked first: 400, nothing changed). A period
whose end is before its start spans midnight (``"22:00"``-``"02:00"``); the app API
serves it as it is, which lets a test seed a period a client cannot read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.peak_shaving import Period, hhmm, set_peak_shaving, shaving_soc

if TYPE_CHECKING:
    from .model import SimStation


def _text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def peak_state(station: SimStation) -> dict[str, Any]:
    """The control API's JSON view of a station's peak shaving."""
    state = station.peak_shaving
    return {
        "enabled": state.enabled,
        "soc": shaving_soc(station),
        "socLink": state.link,
        "firstDay": state.first_day,
        "periods": [
            {
                "days": sorted(period.days),
                "start": _text(period.start),
                "end": _text(period.end),
                "peakPowerKw": period.peak_kw,
            }
            for period in state.periods
        ],
        "peakNowKw": state.peak_at(station.local(station.clock.now())),
    }


def _period(item: Any) -> Period:
    """A control-API period (ValueError/TypeError when unreadable)."""
    if not isinstance(item, dict):
        raise TypeError("a period must be an object with days, start, end, peakPowerKw")
    days = item.get("days")
    if not isinstance(days, list) or not all(
        isinstance(day, int) and not isinstance(day, bool) for day in days
    ):
        raise TypeError("days must be a list of ISO weekdays (1 = Monday)")
    power = item.get("peakPowerKw")
    if isinstance(power, bool) or not isinstance(power, int | float):
        raise TypeError("peakPowerKw must be a number")
    return Period(
        frozenset(days),
        hhmm(item.get("start"), "start"),
        hhmm(item.get("end"), "end", end=True),
        float(power),
    )


def change_peak(station: SimStation, body: dict[str, Any]) -> None:
    """Apply ``enabled``/``soc``/``periods`` of ``body`` (ValueError/TypeError, none applied)."""
    unknown = set(body) - {"enabled", "soc", "periods"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError("enabled must be true or false")
    soc = body.get("soc")
    if soc is not None and (isinstance(soc, bool) or not isinstance(soc, int | float)):
        raise TypeError("soc must be a number")
    raw = body.get("periods")
    if raw is not None and not isinstance(raw, list):
        raise TypeError("periods must be a list")
    periods = None if raw is None else [_period(item) for item in raw]
    set_peak_shaving(
        station,
        enabled=enabled,
        soc=None if soc is None else float(soc),
        periods=periods,
    )


class PeakShavingControl(StationRoutes):
    """Peak shaving, read and changed from outside."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/_sim/stations/{system_id}/peak-shaving", self.get_peak)
        app.router.add_post("/_sim/stations/{system_id}/peak-shaving", self.set_peak)

    @for_station
    async def get_peak(self, request: web.Request, station: SimStation) -> web.Response:
        """A station's peak shaving."""
        return ok(peak_state(station))

    @for_station
    async def set_peak(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"enabled", "soc", "periods"}`` (any of them): change the peak shaving."""
        try:
            change_peak(station, await json_body(request))
        except (ValueError, TypeError) as err:
            return error(f"cannot change the peak shaving: {err}")
        return ok(peak_state(station))
