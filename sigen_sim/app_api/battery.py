"""Battery settings (§7.1, §7.3, §7.4): SOC levels, backup reserve, export, power limits.

* ``GET/PUT device/energy-profile/battery/level``: the four SOC levels, whole-percent
  strings, always written together (they are the station's cut-offs, so a write also
  shows in the MQTT ``change`` message);
* ``GET/PUT device/setting/backup/reserve``: ``backupReserve`` as an integer;
* ``GET/PUT device/energy-profile/battery/export/limitation``: ``ownerSetEnable``;
* ``GET/PUT device/energy-profile/battery/limit``: the charging and discharging power
  limits, kW strings or the sentinel.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..model.owner_settings import updated
from ._settings import Commit, SettingsRoutes, flag, kw, kw_text, whole

if TYPE_CHECKING:
    from aiohttp import web

    from ..config import SimConfig
    from ..model import SimStation

#: app field -> (change-message field, lowest, highest) of the SOC levels
SOC_FIELDS = {
    "chargeSOC": ("chargeCutOffSOC%", 1, 100),
    "dischargeSOC": ("dischargeCutOffSOC%", 0, 99),
    "peakShavingSOC": ("peakShavingCutOffSOC%", 0, 100),
    "backupSOC": ("backupCutOffSOC%", 0, 100),
}


def soc_levels(station: SimStation, *, decimals: bool = False) -> dict[str, str]:
    """The ``battery/level`` ``data``: percent strings, ``"99"`` (or ``"99.0"``)."""
    spec = "{:.1f}" if decimals else "{:.0f}"
    return {
        "chargeSOC": spec.format(station.charge_cutoff_soc),
        "dischargeSOC": spec.format(station.discharge_cutoff_soc),
        "peakShavingSOC": spec.format(station.peak_shaving_cutoff_soc),
        "backupSOC": spec.format(station.backup_cutoff_soc),
    }


def backup_reserve(station: SimStation, *, shared: bool = True) -> dict[str, Any]:
    """The ``backup/reserve`` ``data`` (``operationMode`` and ``ja12Soc``: meaning unknown)."""
    value = round(station.backup_cutoff_soc) if shared else station.settings.backup_reserve
    return {"backupReserve": value, "operationMode": None, "ja12Soc": None}


def battery_export(station: SimStation, *, true_means: str = "allowed") -> dict[str, Any]:
    """The ``battery/export/limitation`` ``data``.

    ``true_means`` is how the cloud's flag reads: "allowed" (true = the battery may
    export) or "limited" (true = the limitation is on, the battery may not).
    """
    settings = station.settings
    invert = true_means == "limited"
    installer = settings.battery_export_installer
    return {
        "ownerSetEnable": settings.battery_export != invert,
        "installerSetEnable": None if installer is None else installer != invert,
    }


def battery_limits(station: SimStation) -> dict[str, str]:
    """The ``battery/limit`` ``data``: kW strings, the sentinel for the system's own."""
    return {
        "batteryMaxChargingPower": kw_text(station.settings.max_charge_kw),
        "batteryMaxDischargingPower": kw_text(station.settings.max_discharge_kw),
    }


class BatteryRoutes(SettingsRoutes):
    """The battery's settings endpoints."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/device/energy-profile/battery/level/{station_id}", self.get_levels)
        r.add_put("/device/energy-profile/battery/level", self.put_levels)
        r.add_get("/device/setting/backup/reserve/{station_id}", self.get_reserve)
        r.add_put("/device/setting/backup/reserve", self.put_reserve)
        r.add_get("/device/energy-profile/battery/export/limitation/{station_id}", self.get_export)
        r.add_put("/device/energy-profile/battery/export/limitation", self.put_export)
        r.add_get("/device/energy-profile/battery/limit/{station_id}", self.get_limits)
        r.add_put("/device/energy-profile/battery/limit", self.put_limits)

    @property
    def config(self) -> SimConfig:
        """The simulator's configuration (its variants are read per request)."""
        return self.sim.config

    async def get_levels(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/battery/level/{id}``."""
        decimals = self.config.soc_level_decimals
        return await self.read(request, lambda s: soc_levels(s, decimals=decimals))

    async def put_levels(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/battery/level``: all four levels at once."""
        return await self.write(request, self._levels)

    def _levels(self, station: SimStation, body: dict[str, Any]) -> Commit:
        values: dict[str, Any] = {}
        for key, (change_key, low, high) in SOC_FIELDS.items():
            values[change_key] = whole(body, key, low, high, strict=self.strict)
        if values["dischargeCutOffSOC%"] > values["chargeCutOffSOC%"]:
            raise ValueError("dischargeSOC must not be above chargeSOC")
        return lambda: station.set_system_values(values)

    async def get_reserve(self, request: web.Request) -> web.Response:
        """``GET device/setting/backup/reserve/{id}``."""
        shared = self.config.backup_reserve_endpoint == "shared"
        return await self.read(request, lambda s: backup_reserve(s, shared=shared))

    async def put_reserve(self, request: web.Request) -> web.Response:
        """``PUT device/setting/backup/reserve`` with an integer ``backupReserve``."""
        return await self.write(request, self._reserve)

    def _reserve(self, station: SimStation, body: dict[str, Any]) -> Commit:
        value = body.get("backupReserve")
        if self.strict and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"backupReserve must be an integer, not {value!r}")
        reserve = whole(body, "backupReserve", 0, 100, strict=False)
        if self.config.backup_reserve_endpoint == "shared":
            return lambda: station.set_system_values({"backupCutOffSOC%": reserve})
        new = updated(station.settings, backup_reserve=reserve)
        return lambda: station.set_settings(new)

    async def get_export(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/battery/export/limitation/{id}``."""
        true_means = self.config.battery_export_flag
        return await self.read(request, lambda s: battery_export(s, true_means=true_means))

    async def put_export(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/battery/export/limitation`` (``ownerSetEnable``)."""
        return await self.write(request, self._export)

    def _export(self, station: SimStation, body: dict[str, Any]) -> Commit:
        allowed = flag(body, "ownerSetEnable") != (self.config.battery_export_flag == "limited")
        # installerSetEnable is the installer's: an owner's write leaves it alone
        new = dataclasses.replace(station.settings, battery_export=allowed)
        return lambda: station.set_settings(new)

    async def get_limits(self, request: web.Request) -> web.Response:
        """``GET device/energy-profile/battery/limit/{id}``."""
        return await self.read(request, battery_limits)

    async def put_limits(self, request: web.Request) -> web.Response:
        """``PUT device/energy-profile/battery/limit``: both limits (kW or the sentinel)."""
        return await self.write(request, self._limits)

    def _limits(self, station: SimStation, body: dict[str, Any]) -> Commit:
        new = updated(
            station.settings,
            max_charge_kw=kw(body, "batteryMaxChargingPower", strict=self.strict),
            max_discharge_kw=kw(body, "batteryMaxDischargingPower", strict=self.strict),
        )
        return lambda: station.set_settings(new)
