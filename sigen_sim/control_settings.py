"""The control API's view of the owner's settings and manual control (see :mod:`.control_api`).

``GET /_sim/stations/{systemId}/settings`` shows them as plain JSON (kW, A, %, ``null``
for "no limit"), with the caps the grid follows; ``POST`` the same path changes any of
the flat fields of :data:`FIELDS`, the installer's values included (an owner cannot set
those through the app API); ``POST /_sim/stations/{systemId}/manual-control`` starts a
session (``{"mode": "charge", "durationMin": 30, "powerKw": null}``), ``DELETE`` stops it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.decision import reserve_soc
from .model.owner_settings import OwnerSettings, updated

if TYPE_CHECKING:
    from .model import SimStation

#: control field -> (OwnerSettings field, field of its part or None)
FIELDS: dict[str, tuple[str, str | None]] = {
    "exportLimitEnabled": ("export_limit", "enabled"),
    "exportLimitOwnerKw": ("export_limit", "owner_kw"),
    "exportLimitInstallerKw": ("export_limit", "installer_kw"),
    "importLimitEnabled": ("import_limit", "enabled"),
    "importLimitOwnerKw": ("import_limit", "owner_kw"),
    "importLimitInstallerKw": ("import_limit", "installer_kw"),
    "batteryExport": ("battery_export", None),
    "batteryExportInstaller": ("battery_export_installer", None),
    "maxChargeKw": ("max_charge_kw", None),
    "maxDischargeKw": ("max_discharge_kw", None),
    "pvLimitKw": ("pv_limit_kw", None),
    "gridCurrentEnabled": ("current_limit", "enabled"),
    "gridCurrentOwnerA": ("current_limit", "owner_a"),
    "gridCurrentInstallerA": ("current_limit", "installer_a"),
    "backupReserve": ("backup_reserve", None),
}
BOOLEANS = {"exportLimitEnabled", "importLimitEnabled", "batteryExport", "gridCurrentEnabled"}


def settings_state(station: SimStation) -> dict[str, Any]:
    """The control API's JSON view of a station's settings and manual control."""
    settings = station.settings
    view: dict[str, Any] = {}
    for key, (name, part) in FIELDS.items():
        value = getattr(settings, name)
        view[key] = value if part is None else getattr(value, part)
    export_cap, import_cap = settings.grid_caps()
    session = station.manual
    return {
        **view,
        "exportCapKw": export_cap,
        "importCapKw": import_cap,
        "socLevels": {
            "charge": station.charge_cutoff_soc,
            "discharge": station.discharge_cutoff_soc,
            "peakShaving": station.peak_shaving_cutoff_soc,
            "backup": station.backup_cutoff_soc,
        },
        "backupReserveKept": station.backup_reserve,
        "reserveSoc": reserve_soc(station),
        "manualControl": {
            "active": station.manual_control_active(),
            "mode": session.mode,
            "start": session.start if session.mode is not None else None,
            "end": session.end,
            "powerKw": session.power_kw,
        },
    }


def changed_settings(settings: OwnerSettings, body: dict[str, Any]) -> OwnerSettings:
    """``settings`` with the control fields of ``body`` (ValueError/TypeError, nothing changed)."""
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key not in FIELDS:
            raise ValueError(f"unknown setting {key!r} (one of {', '.join(FIELDS)})")
        if key in BOOLEANS and not isinstance(value, bool):
            raise TypeError(f"{key} must be true or false")
        name, part = FIELDS[key]
        if part is None:
            changes[name] = value
        else:
            changes[name] = dataclasses.replace(
                changes.get(name, getattr(settings, name)), **{part: value}
            )
    installer = changes.get("battery_export_installer")
    if installer is not None and not isinstance(installer, bool):
        raise TypeError("batteryExportInstaller must be true, false or null")
    reserve = changes.get("backup_reserve", 0)
    if isinstance(reserve, bool) or not isinstance(reserve, int):
        raise TypeError("backupReserve must be an integer")
    return updated(settings, **changes)


class SettingsControl(StationRoutes):
    """The owner's settings and manual control, read and changed from outside."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/_sim/stations/{system_id}/settings", self.get_settings)
        r.add_post("/_sim/stations/{system_id}/settings", self.set_settings)
        r.add_post("/_sim/stations/{system_id}/manual-control", self.start_manual)
        r.add_delete("/_sim/stations/{system_id}/manual-control", self.stop_manual)

    @for_station
    async def get_settings(self, request: web.Request, station: SimStation) -> web.Response:
        """The settings and manual control of a station."""
        return ok(settings_state(station))

    @for_station
    async def set_settings(self, request: web.Request, station: SimStation) -> web.Response:
        """Flat fields of :data:`FIELDS`: change the settings (installer's included)."""
        try:
            station.set_settings(changed_settings(station.settings, await json_body(request)))
        except (ValueError, TypeError) as err:
            return error(f"cannot change the settings: {err}")
        return ok(settings_state(station))

    @for_station
    async def start_manual(self, request: web.Request, station: SimStation) -> web.Response:
        """``{"mode", "durationMin", "powerKw"}``: start a manual-control session now."""
        try:
            body = await json_body(request)
            power = body.get("powerKw")
            station.start_manual_control(
                str(body.get("mode", "")),
                float(body.get("durationMin", 0)),
                None if power is None else float(power),
            )
        except (ValueError, TypeError) as err:
            return error(f"cannot start manual control: {err}")
        return ok(settings_state(station))

    @for_station
    async def stop_manual(self, request: web.Request, station: SimStation) -> web.Response:
        """Stop the manual-control session."""
        station.stop_manual_control()
        return ok(settings_state(station))
