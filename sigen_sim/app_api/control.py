"""Instant manual control (§7.9): read, display, start and stop.

The path's misspelling ``manunal`` is the cloud's. ``mode`` is a string: ``"0"`` charge,
``"1"`` discharge, ``"2"`` hold, ``"3"`` self-consumption; ``duration`` minutes as a
string; ``powerLimitation`` kW as a string, the sentinel or ``""`` for no limit (the
battery's own power). A stop is ``{"enable": false, ...}`` with the other fields empty,
or ``{"stationId", "enable": false}`` alone. The read-back keeps the last session's mode
and end time after it stopped or ended; only ``enable`` says whether it is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model.controller import HELD_CODE, HeldByControllerError, app_refusal
from ..model.manual_control import MANUAL_MODES, start_control
from ._common import envelope
from ._settings import Commit, SettingsRoutes, flag, kw, whole

if TYPE_CHECKING:
    from aiohttp import web

    from ..model import SimStation

#: The most a session may ask for (kW), as one client caps it; the sentinel is no limit.
MAX_POWER_KW = 100.0
#: ``SimConfig.manual_control_durations``: (shortest, longest, step) in minutes
DURATIONS = {"wide": (1, 1440, 1), "app": (30, 120, 30)}


def manual_control(station: SimStation, *, null: bool = False) -> dict[str, Any]:
    """The ``instant/manunal/{id}`` ``data``: ``enable``, ``mode``, ``endTime`` (epoch s)."""
    session = station.manual
    if session.mode is None or session.end is None:  # never started
        unset = None if null else ""
        return {"enable": False, "mode": unset, "endTime": unset}
    return {
        "enable": session.active_at(station.clock.now()),
        "mode": str(MANUAL_MODES.index(session.mode)),
        "endTime": str(int(session.end)),
    }


def manual_display(station: SimStation) -> dict[str, float]:
    """The ``instant/manunal/display/{id}`` ``data``: kW (+ = charging) and %."""
    sample = station.sample()
    return {"batteryPower": sample.battery, "batterySoc": sample.soc}


class ManualControlRoutes(SettingsRoutes):
    """The manual-control endpoints."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        base = "/device/energy-profile/instant/manunal"
        r.add_get(base + "/display/{station_id}", self.get_display)
        r.add_get(base + "/{station_id}", self.get_control)
        r.add_put(base, self.put_control)

    async def get_control(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/instant/manunal/{id}``."""
        null = self.sim.config.unset_value == "null"
        return await self.read(request, lambda s: manual_control(s, null=null))

    async def get_display(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/instant/manunal/display/{id}``."""
        return await self.read(request, manual_display)

    async def put_control(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/instant/manunal``: start (``enable`` true) or stop.

        While an outside controller holds the battery a start is refused (code 1103) or
        stored without effect, as ``SimConfig.app_while_controlled`` says; a stop is not.
        """
        try:
            return await self.write(request, self._control)
        except HeldByControllerError as err:
            return envelope(None, HELD_CODE, str(err))

    def _control(self, station: SimStation, body: dict[str, Any]) -> Commit:
        if not flag(body, "enable"):
            return station.stop_manual_control
        mode = self._mode(body.get("mode"))
        low, high, step = DURATIONS[self.sim.config.manual_control_durations]
        duration = whole(body, "duration", low, high, strict=self.strict)
        if duration % step:
            raise ValueError(f"duration must be a multiple of {step} minutes, not {duration}")
        power = kw(body, "powerLimitation", strict=self.strict, blank_ok=True)
        if power is not None and power > MAX_POWER_KW:
            raise ValueError(f"powerLimitation must be at most {MAX_POWER_KW:g} kW, not {power:g}")
        start_control(mode, 0.0, duration, power)  # refuses what the model would
        app_refusal(station, self.sim.config.app_while_controlled)
        return lambda: station.start_manual_control(mode, duration, power)

    def _mode(self, raw: Any) -> str:
        """The session mode of the cloud's ``mode`` (``"0"``-``"3"``; 0-3 when lenient)."""
        if isinstance(raw, int) and not isinstance(raw, bool) and not self.strict:
            raw = str(raw)
        if not isinstance(raw, str) or raw.strip() not in ("0", "1", "2", "3"):
            raise ValueError(f"mode must be one of '0', '1', '2', '3', not {raw!r}")
        return MANUAL_MODES[int(raw)]
