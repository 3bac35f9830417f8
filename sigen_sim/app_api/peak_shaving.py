"""Peak shaving (§7.7): ``GET device/dischargesetting/peak/shaving/{stationId}`` and ``POST``.

The read is ``{"controlMode": 1, "shavingSOC": 10, "settingList": [{"whichDay":
"1,2,3,4,5,6,7", "startTime": "00:00", "endTime": "06:00", "peakPower": 9}]}``; the
write is ``stationId`` (int) plus the same three fields, the whole schedule at once (a
missing field is refused). ``controlMode`` and ``shavingSOC`` are JSON integers,
``peakPower`` a JSON number in kW (0-100); periods on one weekday must not overlap.
Lenient (not ``SimConfig.strict_setting_types``): numbers as strings and ``whichDay``
as a list are taken too. ``SimConfig.peak_shaving_days`` says how ``whichDay`` reads,
``peak_shaving_first_day`` which weekday is 1, ``peak_shaving_soc`` whether
``shavingSOC`` is the SOC levels' ``peakShavingSOC``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.peak_shaving import (
    PeakShavingState,
    Period,
    check_periods,
    hhmm,
    set_peak_shaving,
    shaving_soc,
)
from ._settings import Commit, SettingsRoutes, number

if TYPE_CHECKING:
    from aiohttp import web

    from ..model import SimStation

_PATH = "/device/dischargesetting/peak/shaving"


def _hhmm_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def peak_shaving(station: SimStation, *, days_as_list: bool = False) -> dict[str, Any]:
    """The GET's ``data``: on/off, the shaving SOC and every period, the cloud's days."""
    state = station.peak_shaving
    items = []
    for period in state.periods:
        days = sorted(state.wire_day(day) for day in period.days)
        items.append(
            {
                "whichDay": days if days_as_list else ",".join(str(day) for day in days),
                "startTime": _hhmm_text(period.start),
                "endTime": _hhmm_text(period.end),
                "peakPower": round(period.peak_kw, 1),
            }
        )
    return {
        "controlMode": 1 if state.enabled else 0,
        "shavingSOC": round(shaving_soc(station)),
        "settingList": items,
    }


def _integer(body: dict[str, Any], key: str, allowed: range, *, strict: bool) -> int:
    """A JSON integer in ``allowed`` (a numeric string too when lenient)."""
    value = body.get(key)
    if strict and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{key} must be an integer, not {value!r}")
    result = number(body, key, strict=False)
    if result is None or result != int(result) or int(result) not in allowed:
        raise ValueError(f"{key} must be a whole number {allowed.start}-{allowed.stop - 1}")
    return int(result)


def _days(raw: Any, state: PeakShavingState, *, strict: bool) -> frozenset[int]:
    """ISO weekdays of ``whichDay`` (``"1,2,3"``; a list of numbers when lenient)."""
    if isinstance(raw, list) and not strict:
        parts = [str(item) for item in raw]
    elif isinstance(raw, str):
        parts = [part.strip() for part in raw.split(",")]
    else:
        raise ValueError(f"whichDay must be a text such as '1,2,3', not {raw!r}")
    if not parts or any(part not in {"1", "2", "3", "4", "5", "6", "7"} for part in parts):
        raise ValueError(f"whichDay must list days 1-7, not {raw!r}")
    return frozenset(state.iso_day(int(part)) for part in parts)


def _period(item: Any, state: PeakShavingState, *, strict: bool) -> Period:
    """One ``settingList`` item (ValueError/TypeError when unreadable)."""
    if not isinstance(item, dict):
        raise TypeError(f"a settingList item must be an object, not {item!r}")
    power = item.get("peakPower")
    if strict and (isinstance(power, bool) or not isinstance(power, int | float)):
        raise ValueError(f"peakPower must be a number, not {power!r}")
    peak = number(item, "peakPower", strict=False)
    return Period(
        _days(item.get("whichDay"), state, strict=strict),
        hhmm(item.get("startTime"), "startTime"),
        hhmm(item.get("endTime"), "endTime", end=True),
        float(peak or 0.0),
    )


class PeakShavingRoutes(SettingsRoutes):
    """The peak-shaving endpoints."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get(_PATH + "/{station_id}", self.get_peak_shaving)
        app.router.add_post(_PATH, self.post_peak_shaving)

    async def get_peak_shaving(self, request: web.Request) -> web.Response:
        """``GET device/dischargesetting/peak/shaving/{id}``."""
        as_list = self.sim.config.peak_shaving_days == "list"
        return await self.read(request, lambda s: peak_shaving(s, days_as_list=as_list))

    async def post_peak_shaving(self, request: web.Request) -> web.Response:
        """``POST device/dischargesetting/peak/shaving``: the whole setting."""
        return await self.write(request, self._write)

    def _write(self, station: SimStation, body: dict[str, Any]) -> Commit:
        strict = self.strict
        enabled = _integer(body, "controlMode", range(2), strict=strict) == 1
        soc = _integer(body, "shavingSOC", range(101), strict=strict)
        items = body.get("settingList")
        if not isinstance(items, list):
            raise TypeError(f"settingList must be a list, not {items!r}")
        state = station.peak_shaving
        periods = [_period(item, state, strict=strict) for item in items]
        check_periods(periods)  # refused here, before the answer says "success"
        return lambda: set_peak_shaving(station, enabled=enabled, soc=soc, periods=periods)
