"""Battery settings of the app API: SOC levels, power limits, export to the grid.

The SOC levels and the power limits are written whole: the cloud wants every value of
the set in one request. A setter given only some of them reads the others first
(read, change what was given, write); two such writes to one station at the same time
can undo each other, so the caller sends one at a time per station.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final, Literal

from .._parse import parse_bool
from ..const import (
    BACKUP_SOC_RANGE,
    CHARGE_CUT_OFF_RANGE,
    DISCHARGE_CUT_OFF_RANGE,
    MAX_SETTING_POWER_KW,
    PEAK_SHAVING_SOC_RANGE,
)
from ..errors import SigenValidationError
from ..models import BatteryPowerLimits, SocLevels
from ._settings import SettingsArea, StationRef, check_bool, check_number, check_whole, kw_text

_LEVELS: Final = "device/energy-profile/battery/level"
_LIMITS: Final = "device/energy-profile/battery/limit"
_EXPORT: Final = "device/energy-profile/battery/export/limitation"

#: SocLevels' fields → (the cloud's key, the allowed range, the name in messages).
_SOC_FIELDS: Final = {
    "charge_cut_off": ("chargeSOC", CHARGE_CUT_OFF_RANGE, "The charge cut-off SOC"),
    "discharge_cut_off": ("dischargeSOC", DISCHARGE_CUT_OFF_RANGE, "The discharge cut-off SOC"),
    "peak_shaving": ("peakShavingSOC", PEAK_SHAVING_SOC_RANGE, "The peak-shaving SOC"),
    "backup": ("backupSOC", BACKUP_SOC_RANGE, "The backup SOC"),
}


class Keep(Enum):
    """The default of :meth:`BatteryApi.set_power_limits`: leave this limit as it is."""

    KEEP = "keep"


#: Leave a power limit as it is (``None`` there means "the system's own limit").
KEEP: Final = Keep.KEEP

type PowerSetting = float | Literal[Keep.KEEP] | None


def _check_power(name: str, value: PowerSetting) -> PowerSetting:
    """A power limit argument: :data:`KEEP`, ``None`` (no limit) or 0 … 1000 kW."""
    if value is KEEP or value is None:
        return value
    return check_number(name, value, 0.0, MAX_SETTING_POWER_KW, "kW")


class BatteryApi(SettingsArea):
    """A station's battery settings (app API); the home station by default."""

    async def get_soc_levels(self, *, station_id: StationRef | None = None) -> SocLevels:
        """The SOC levels: charge and discharge cut-off, peak-shaving and backup reserve (%)."""
        sid = await self._station(station_id)
        reply = await self._get(_LEVELS, sid, f"Reading the SOC levels of station {sid}")
        return SocLevels.from_dict(reply.object())

    async def set_soc_levels(
        self,
        *,
        charge_cut_off: int | None = None,
        discharge_cut_off: int | None = None,
        peak_shaving: int | None = None,
        backup: int | None = None,
        station_id: StationRef | None = None,
    ) -> SocLevels:
        """Change the SOC levels given (whole %); the others stay as they are.

        The cloud takes all four at once, so unless all four are given they are read
        first. The charge cut-off may not be below the discharge cut-off. Returns the
        levels written; :meth:`get_soc_levels` tells what the cloud applied.
        """
        given = _check_levels(
            charge_cut_off=charge_cut_off,
            discharge_cut_off=discharge_cut_off,
            peak_shaving=peak_shaving,
            backup=backup,
        )
        if len(given) == len(_SOC_FIELDS):
            _check_cut_offs(given)
        sid = await self._station(station_id)
        values: dict[str, int | None] = {}
        if len(given) < len(_SOC_FIELDS):
            current = await self.get_soc_levels(station_id=sid)
            values = {name: getattr(current, name) for name in _SOC_FIELDS}
        values.update(given)
        body = _levels_body(values, given)
        await self._put(_LEVELS, sid, body, f"Writing the SOC levels of station {sid}")
        return SocLevels.from_dict(body)

    async def get_power_limits(self, *, station_id: StationRef | None = None) -> BatteryPowerLimits:
        """The largest charge and discharge power, kW (``None``: the system's own)."""
        sid = await self._station(station_id)
        what = f"Reading the battery power limits of station {sid}"
        reply = await self._get(_LIMITS, sid, what)
        return BatteryPowerLimits.from_dict(reply.object())

    async def set_power_limits(
        self,
        *,
        max_charge: PowerSetting = KEEP,
        max_discharge: PowerSetting = KEEP,
        station_id: StationRef | None = None,
    ) -> BatteryPowerLimits:
        """Set the largest charge and/or discharge power, kW (0 … 1000).

        ``None`` is the system's own limit (the cloud's "no limit"); a limit left out
        (:data:`KEEP`) is read first and written back as it is, since the cloud takes
        both at once. Returns the limits written.
        """
        charge = _check_power("max_charge", max_charge)
        discharge = _check_power("max_discharge", max_discharge)
        if charge is KEEP and discharge is KEEP:
            raise SigenValidationError("Give max_charge, max_discharge or both (kW, or None)")
        sid = await self._station(station_id)
        if charge is KEEP or discharge is KEEP:
            current = await self.get_power_limits(station_id=sid)
            charge = current.max_charge if charge is KEEP else charge
            discharge = current.max_discharge if discharge is KEEP else discharge
        body = {
            "batteryMaxChargingPower": kw_text(charge),
            "batteryMaxDischargingPower": kw_text(discharge),
        }
        what = f"Writing the battery power limits of station {sid}"
        await self._put(_LIMITS, sid, body, what)
        return BatteryPowerLimits.from_dict(body)

    async def get_export_allowed(self, *, station_id: StationRef | None = None) -> bool:
        """Whether the battery may export to the grid (the owner's ``ownerSetEnable``).

        The only source reads ``true`` as "export allowed"; the app's own wording was
        not seen (§7.3 of the API notes).
        """
        sid = await self._station(station_id)
        what = f"Reading the battery export setting of station {sid}"
        reply = await self._get(_EXPORT, sid, what)
        allowed = parse_bool(reply.object().get("ownerSetEnable"))
        if allowed is None:
            raise reply.error("the answer has no ownerSetEnable")
        return allowed

    async def set_export_allowed(
        self, allowed: bool, *, station_id: StationRef | None = None
    ) -> None:
        """Allow (``True``) or forbid (``False``) the battery to export to the grid."""
        check_bool("allowed", allowed)
        sid = await self._station(station_id)
        word = "Allowing" if allowed else "Forbidding"
        await self._put(
            _EXPORT,
            sid,
            {"installerSetEnable": None, "ownerSetEnable": allowed},
            f"{word} the battery export to the grid of station {sid}",
        )


def _check_levels(**levels: int | None) -> dict[str, int]:
    """The SOC levels given (not ``None``), each checked against its range."""
    given: dict[str, int] = {}
    for name, value in levels.items():
        if value is not None:
            _key, (low, high), label = _SOC_FIELDS[name]
            given[name] = check_whole(f"{label} ({name})", value, low, high, "%")
    if not given:
        raise SigenValidationError(
            "Give at least one SOC level: charge_cut_off, discharge_cut_off, peak_shaving or backup"
        )
    return given


def _check_cut_offs(levels: Mapping[str, int | None]) -> None:
    """The charge cut-off must not be below the discharge cut-off."""
    charge, discharge = levels.get("charge_cut_off"), levels.get("discharge_cut_off")
    if charge is not None and discharge is not None and charge < discharge:
        raise SigenValidationError(
            f"The charge cut-off SOC ({charge} %) must not be below the discharge cut-off "
            f"SOC ({discharge} %)"
        )


def _levels_body(values: Mapping[str, int | None], given: Mapping[str, int]) -> dict[str, str]:
    """The write's body: all four levels as whole-percent strings, checked together."""
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise SigenValidationError(
            f"The cloud did not report {', '.join(missing)}, and it takes the four SOC "
            "levels only together: give them too"
        )
    if "charge_cut_off" in given or "discharge_cut_off" in given:
        _check_cut_offs(values)
    return {_SOC_FIELDS[name][0]: str(value) for name, value in values.items()}


__all__ = ["KEEP", "BatteryApi", "Keep"]
