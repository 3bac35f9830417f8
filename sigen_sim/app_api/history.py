"""Statistics: a day's energy with 5-minute rows, and a day's power series (§7.18).

``data-process/sigen/station/statistics/energy`` answers the day totals and an
``itemList`` of 5-minute rows whose six counters are cumulative since local midnight,
each stamped with the local wall-clock start of its interval (``"YYYYMMDD HH:MM"``).
``statistics/v1/energy`` answers ``chartData.dataSeries`` of 5-minute average powers.
Both take ``stationId``, ``dateFlag=1`` and ``startDate``/``endDate`` (``YYYYMMDD``)
either as a GET query (what a live account sends) or as a POST JSON body of strings
(what a mock in the wild sends; its answer's ``data`` is a list holding the object).
The days come from :class:`~sigen_sim.model.history.HistoryArchive`.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from ..model.history import COUNTER_KEYS, CloudDay, Interval
from ._common import AppRoutes, envelope, param_illegal, read_text, station_not_found, unauthorized

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from ..model import SimStation

ENERGY_PATH: Final = "/data-process/sigen/station/statistics/energy"
SERIES_PATH: Final = "/data-process/sigen/station/statistics/v1/energy"
#: The series of ``statistics/v1/energy``, each from an interval (signs: load
#: negative, battery + = discharge, grid + = import, as one real-account fetcher reads them).
SERIES: Final = (
    ("FROM_SOLAR", lambda i: i.pv),
    ("FROM_THIRD_PARTY_INV", lambda i: 0.0),
    ("TO_LOAD", lambda i: -i.load),
    ("BATTERY", lambda i: -i.battery),
    ("GRID", lambda i: -i.grid),
    ("TO_EVDC", lambda i: 0.0),
    ("FROM_EVDC", lambda i: 0.0),
)


def label(start: float, zone: ZoneInfo) -> str:
    """An interval's local wall-clock start as the statistics write it."""
    return datetime.fromtimestamp(start, zone).strftime("%Y%m%d %H:%M")


def _number(value: float, *, as_string: bool) -> float | str:
    """A value rounded to 2 decimals, as text in the strings variant."""
    rounded = round(value, 2) + 0.0
    return f"{rounded:.2f}" if as_string else rounded


def energy_row(
    interval: Interval, zone: ZoneInfo, *, dropout: bool, as_string: bool
) -> dict[str, Any]:
    """One ``itemList`` row: counters since midnight (all 0 in a dropout), powers, SOC."""
    counters = (0.0,) * len(COUNTER_KEYS) if dropout else interval.counters
    row: dict[str, Any] = {"dataTime": label(interval.start, zone)}
    row.update(
        (key, _number(value, as_string=as_string))
        for key, value in zip(COUNTER_KEYS, counters, strict=True)
    )
    powers = {
        "pvTotalPower": interval.pv,
        "loadPower": interval.load,
        "toGridPower": max(interval.grid, 0.0),
        "fromGridPower": max(-interval.grid, 0.0),
        "esChargePower": max(interval.battery, 0.0),
        "esDischargePower": max(-interval.battery, 0.0),
        "batSoc": interval.soc,
    }
    row.update((key, _number(value, as_string=as_string)) for key, value in powers.items())
    return row


def day_energy(day: CloudDay, zone: ZoneInfo, *, as_string: bool = False) -> dict[str, Any]:
    """The ``statistics/energy`` ``data`` object: totals (``null`` without rows) and rows."""
    totals = day.totals
    data: dict[str, Any] = {
        key: None if totals is None else _number(value, as_string=as_string)
        for key, value in zip(COUNTER_KEYS, totals or (0.0,) * len(COUNTER_KEYS), strict=True)
    }
    data["itemList"] = [
        energy_row(interval, zone, dropout=dropout, as_string=as_string)
        for interval, dropout in day.rows
    ]
    return data


def power_series(day: CloudDay, zone: ZoneInfo) -> dict[str, Any]:
    """The ``statistics/v1/energy`` ``data`` object: one series per id, 5-minute kW."""
    series = [
        {
            "id": series_id,
            "points": [
                {"time": label(interval.start, zone), "value": round(value(interval), 3) + 0.0}
                for interval, _dropout in day.rows
            ],
        }
        for series_id, value in SERIES
    ]
    return {"chartData": {"dataSeries": series}}


def parse_day(text: Any) -> date | None:
    """A ``YYYYMMDD`` date (a number too), else ``None``."""
    raw = str(text).strip()
    if len(raw) != len("YYYYMMDD") or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def too_many_requests(wait: float) -> web.Response:
    """HTTP 429 with the envelope's code 429 and ``Retry-After`` (simulated seconds)."""
    return web.json_response(
        {"code": 429, "msg": "Too Many Requests", "data": None},
        status=429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


class Refused(Exception):
    """A request the route answers with ``response`` instead of data."""

    def __init__(self, response: web.Response) -> None:
        """Refuse with ``response``."""
        super().__init__(response.status)
        self.response = response


class HistoryRoutes(AppRoutes):
    """``statistics/energy`` and ``statistics/v1/energy``, GET (query) and POST (JSON)."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        for path in (ENERGY_PATH, SERIES_PATH):
            r.add_get(path, self.statistics)
            r.add_post(path, self.statistics)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        """The parameters: the query of a GET, the JSON object of a POST."""
        if request.method == "GET":
            return dict(request.query)
        try:
            body = json.loads(await read_text(request) or "{}")
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            raise Refused(param_illegal("param illegal: a JSON object is required"))
        return body

    async def _asked(self, request: web.Request) -> tuple[SimStation, date]:
        """The station and the day a request asks for (:class:`Refused` if it cannot)."""
        if not self.api.authorized(request):
            raise Refused(unauthorized())
        params = await self._params(request)
        if "stationId" not in params:
            raise Refused(param_illegal("param illegal: stationId is required"))
        station = self.api.station(params["stationId"])
        if station is None:
            raise Refused(station_not_found())
        if str(params.get("dateFlag", "1")).strip() != "1":
            raise Refused(param_illegal("param illegal: only dateFlag 1 (a day) is served"))
        today = self.sim.history.today()
        start = parse_day(params["startDate"]) if "startDate" in params else today
        end = parse_day(params["endDate"]) if "endDate" in params else start
        if start is None or end != start:
            raise Refused(
                param_illegal("param illegal: startDate and endDate must be one YYYYMMDD day")
            )
        wait = self._wait(request.path, station)
        if wait > 0:
            raise Refused(too_many_requests(wait))
        return station, start

    async def statistics(self, request: web.Request) -> web.Response:
        """One day of a station's statistics (see the module)."""
        try:
            station, day = await self._asked(request)
        except Refused as refused:
            return refused.response
        cloud_day = self.sim.history.day(station, day)
        zone = self.sim.history.zone
        if request.path == SERIES_PATH:
            data = power_series(cloud_day, zone)
        else:
            data = day_energy(cloud_day, zone, as_string=self.sim.config.history_values_as_strings)
        return envelope([data] if request.method == "POST" else data)

    def _wait(self, path: str, station: SimStation) -> float:
        """Seconds until a request to ``path`` for ``station`` may go through (0: now)."""
        config = self.sim.config
        return self.sim.rate_limits.allow_burst(
            path, str(station.station_id), config.history_rate_limit, config.history_rate_window
        )
