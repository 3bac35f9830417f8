"""The control API's outside controller: a VPP or NBI party taking and releasing the battery.

``GET /_sim/stations/{systemId}/controller`` shows who holds the battery (``null``:
nobody); ``POST`` the same path takes it as an outside party
(``{"holder": "nbi", "party": "Axle", "action": "hold", "powerKw": null}``; ``holder``
``"vpp"`` or ``"nbi"``, ``action`` ``"hold"``, ``"charge"`` or ``"discharge"``); ``DELETE``
is the party letting go (the mode it found comes back). See :mod:`.model.controller`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.controller import make_controller, release_control, take_control

if TYPE_CHECKING:
    from .model import SimStation


def controller_state(station: SimStation) -> dict[str, Any]:
    """The control API's JSON view of who holds a station's battery."""
    held = station.controller
    return {
        "mode": station.mode,
        "controller": None
        if held is None
        else {
            "holder": held.holder,
            "party": held.party,
            "since": held.since,
            "action": held.action,
            "powerKw": held.power_kw,
            "modeBefore": held.mode_before,
        },
    }


class ControllerControl(StationRoutes):
    """An outside VPP/NBI party's hold on the battery, from outside."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/_sim/stations/{system_id}/controller", self.get_controller)
        r.add_post("/_sim/stations/{system_id}/controller", self.take)
        r.add_delete("/_sim/stations/{system_id}/controller", self.release)

    @for_station
    async def get_controller(self, request: web.Request, station: SimStation) -> web.Response:
        """Who holds the battery."""
        return ok(controller_state(station))

    @for_station
    async def take(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"holder", "party", "action", "powerKw"}``: an outside party takes the battery."""
        try:
            body = await json_body(request)
            power = body.get("powerKw")
            controller = make_controller(
                str(body.get("holder", "nbi")),
                body.get("party", "Axle"),
                str(body.get("action", "hold")),
                None if power is None else float(power),
                self.sim.clock.now(),
            )
            take_control(station, controller)
        except (ValueError, TypeError) as err:
            return error(f"cannot take the battery: {err}")
        return ok(controller_state(station))

    @for_station
    async def release(self, request: web.Request, station: SimStation) -> web.Response:
        """The party lets go of the battery (nothing when nobody holds it)."""
        release_control(station)
        return ok(controller_state(station))
