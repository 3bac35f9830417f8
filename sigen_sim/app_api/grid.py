"""Grid and PV settings (§7.2, §7.5, §7.6): grid limitations, PV limit, current limit.

* ``GET/PUT device/energy-profile/grid/limitation/{export|import}``: ``enable`` and the
  owner's kW string below the installer's ceiling;
* ``GET/PUT device/energy-profile/solar/limit``: ``powerLimit``, kW or the sentinel;
* ``GET/PUT device/energy-profile/parallel/off/grid``: the grid connection's current
  limit in A (despite the path), the owner's value cleared when it equals the
  installer's.

An owner value that was never set reads ``""`` (or ``null`` with
``SimConfig.unset_value = "null"``; sources show both).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..model.owner_settings import updated
from ._settings import Commit, SettingsRoutes, amp_text, flag, kw, kw_text, number

if TYPE_CHECKING:
    from aiohttp import web

    from ..model import SimStation

DIRECTIONS = ("export", "import")


def _unset(null: bool) -> str | None:
    return None if null else ""


def grid_limitation(station: SimStation, direction: str, *, null: bool = False) -> dict[str, Any]:
    """The ``grid/limitation/{direction}`` ``data``."""
    settings = station.settings
    limit = settings.export_limit if direction == "export" else settings.import_limit
    return {
        "enable": limit.enabled,
        "maxLimitation": kw_text(limit.effective_kw),
        "maxLimitationOwner": _unset(null) if limit.owner_kw is None else kw_text(limit.owner_kw),
        "maxLimitationInstaller": kw_text(limit.installer_kw),
        "isUltra": False,
    }


def solar_limit(station: SimStation) -> dict[str, str]:
    """The ``solar/limit`` ``data``: kW, or the sentinel while the PV is not limited."""
    return {"powerLimit": kw_text(station.settings.pv_limit_kw)}


def current_limitation(station: SimStation, *, null: bool = False) -> dict[str, Any]:
    """The ``parallel/off/grid`` ``data``: amperes with one decimal."""
    limit = station.settings.current_limit
    return {
        "enable": limit.enabled,
        "currentLimitation": amp_text(limit.effective_a),
        "ownerSetLimitation": _unset(null) if limit.owner_a is None else amp_text(limit.owner_a),
        "installerSetLimitation": amp_text(limit.installer_a),
    }


class GridRoutes(SettingsRoutes):
    """The grid's and the PV's settings endpoints."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        limitation = "/device/energy-profile/grid/limitation/{direction:export|import}"
        r.add_get(limitation + "/{station_id}", self.get_limitation)
        r.add_put(limitation, self.put_limitation)
        r.add_get("/device/energy-profile/solar/limit/{station_id}", self.get_solar)
        r.add_put("/device/energy-profile/solar/limit", self.put_solar)
        r.add_get("/device/energy-profile/parallel/off/grid/{station_id}", self.get_current)
        r.add_put("/device/energy-profile/parallel/off/grid", self.put_current)

    @property
    def null(self) -> bool:
        """Whether an unset owner value reads null rather than ``""``."""
        return self.sim.config.unset_value == "null"

    async def get_limitation(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/grid/limitation/{export|import}/{id}``."""
        direction, null = request.match_info["direction"], self.null
        return await self.read(request, lambda s: grid_limitation(s, direction, null=null))

    async def put_limitation(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/grid/limitation/{export|import}``."""
        direction = request.match_info["direction"]

        def prepare(station: SimStation, body: dict[str, Any]) -> Commit:
            return self._limitation(station, body, direction)

        return await self.write(request, prepare)

    def _limitation(self, station: SimStation, body: dict[str, Any], direction: str) -> Commit:
        settings = station.settings
        field = "export_limit" if direction == "export" else "import_limit"
        limit = dataclasses.replace(
            getattr(settings, field),
            enabled=flag(body, "enable"),
            owner_kw=kw(body, "maxLimitationOwner", strict=self.strict, blank_ok=True),
        )
        # maxLimitationInstaller is the installer's: an owner's write leaves it alone
        new = updated(settings, **{field: limit})
        return lambda: station.set_settings(new)

    async def get_solar(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/solar/limit/{id}``."""
        return await self.read(request, solar_limit)

    async def put_solar(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/solar/limit`` with ``powerLimit``."""
        return await self.write(request, self._solar)

    def _solar(self, station: SimStation, body: dict[str, Any]) -> Commit:
        new = updated(station.settings, pv_limit_kw=kw(body, "powerLimit", strict=self.strict))
        return lambda: station.set_settings(new)

    async def get_current(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/parallel/off/grid/{id}``."""
        null = self.null
        return await self.read(request, lambda s: current_limitation(s, null=null))

    async def put_current(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/parallel/off/grid`` (``enable``, ``ownerSetLimitation``)."""
        return await self.write(request, self._current)

    def _current(self, station: SimStation, body: dict[str, Any]) -> Commit:
        owner = number(body, "ownerSetLimitation", strict=self.strict, blank_ok=True)
        if owner is not None and owner < 0:
            raise ValueError(f"ownerSetLimitation must not be negative, not {owner:g}")
        limit = dataclasses.replace(
            station.settings.current_limit, enabled=flag(body, "enable"), owner_a=owner
        )
        new = updated(station.settings, current_limit=limit)
        return lambda: station.set_settings(new)
