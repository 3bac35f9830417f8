"""Operational modes: the mode list, the current mode and the switch."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model import DEFAULT_WORKING_MODES, MODE_CUSTOM
from ..model.controller import HELD_CODE, HeldByControllerError, app_refusal, hand_back_mode
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
    from ..model import SimStation


def mode_list(station: SimStation) -> dict[str, Any]:
    """The ``mode/all`` ``data`` object: the default modes and the custom profiles."""
    modes: list[dict[str, Any]] = []
    for i, (label, value) in enumerate(DEFAULT_WORKING_MODES):
        item: dict[str, Any] = {"label": label, "value": str(value)}
        if i % 2 == 0:  # older payloads carry these on some items
            item["sortOrder"] = i + 1
            item["remarks"] = None
        modes.append(item)
    profiles = [
        {"name": name, "profileId": pid, "value": MODE_CUSTOM} for name, pid in station.profiles
    ]
    return {"defaultWorkingModes": modes, "energyProfileItems": profiles}


def current_mode(station: SimStation) -> dict[str, Any]:
    """The ``mode/current`` ``data`` object."""
    return {"currentMode": station.mode, "currentProfileId": station.profile_id}


class ModeRoutes(AppRoutes):
    """``energy-profile/mode``: list, current, set."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/device/energy-profile/mode/all/{station_id}", self.modes_all)
        r.add_get("/device/energy-profile/mode/current/{station_id}", self.mode_current)
        r.add_put("/device/energy-profile/mode", self.set_mode)

    async def modes_all(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/mode/all/{id}``."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        return envelope(mode_list(station))

    async def mode_current(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/mode/current/{id}``."""
        station = authorized_station(self.api, request, request.match_info["station_id"])
        if isinstance(station, web.Response):
            return station
        return envelope(current_mode(station))

    async def set_mode(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/mode`` with ``{stationId, operationMode, profileId}``."""
        if not self.api.authorized(request):
            return unauthorized()
        try:
            body = json.loads(await read_text(request))
        except (ValueError, RecursionError):
            return param_illegal("param illegal: the body is not JSON")
        if not isinstance(body, dict):
            return param_illegal("param illegal: the body must be an object")
        change = self._mode_change(body)
        if isinstance(change, web.Response):
            return change
        return self._switch(request, *change)

    def _switch(
        self, request: web.Request, station: SimStation, mode: int, profile: int
    ) -> web.Response:
        """Make a checked switch (a controller holding the battery refuses or ignores it)."""
        try:
            held = app_refusal(station, self.sim.config.app_while_controlled)
        except HeldByControllerError as err:
            return envelope(None, HELD_CODE, str(err))
        if not applies(request):  # acknowledged but not applied (a fault)
            return envelope(None)
        if held is None:
            station.set_mode(mode, profile)
        else:  # accepted without effect: the mode comes back when the controller lets go
            hand_back_mode(station, mode, profile)
        return envelope(None)

    def _mode_change(self, body: dict[str, Any]) -> tuple[SimStation, int, int] | web.Response:
        """The station, mode and profile a switch asks for, or the refusal."""
        station = self.api.station(body.get("stationId"))
        if station is None:
            return station_not_found()
        mode = to_int(body.get("operationMode"))
        profile = to_int(body.get("profileId", -1))
        defaults = {value for _, value in DEFAULT_WORKING_MODES}
        if mode is None or profile is None:
            return param_illegal("param illegal: operationMode and profileId must be integers")
        if mode == MODE_CUSTOM:
            if profile not in {pid for _, pid in station.profiles}:
                return param_illegal(f"param illegal: unknown profileId {profile}")
        elif mode not in defaults or profile != -1:
            return param_illegal(f"param illegal: unknown operationMode {mode}/{profile}")
        return station, mode, profile
