"""The owner's battery and grid settings of the app (§7.2-7.6 of the API notes), as state.

The SOC levels (charge and discharge cut-off, backup, peak shaving) are the station's
``...cutoff_soc`` attributes, shared with the MQTT ``change`` message; everything else
the app lets an owner set is one :class:`OwnerSettings`. It is immutable: a write builds
a new one with :func:`updated` (which checks it) and the station swaps it in, so a
refused write changes nothing. ``None`` always means "no limit" / "the system's own",
the cloud's ``"4294967.295"``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GridLimit:
    """A grid export or import limitation (kW).

    The owner may only lower the installer's ceiling; while the owner has not set a
    value (``owner_kw`` None) the installer's applies. It caps the grid only when
    ``enabled``.
    """

    enabled: bool = False
    owner_kw: float | None = None
    installer_kw: float = 10.0

    @property
    def effective_kw(self) -> float:
        """The limit in force when enabled: the owner's, else the installer's."""
        return self.installer_kw if self.owner_kw is None else self.owner_kw

    def cap_kw(self) -> float | None:
        """The cap on the grid power (None when the limitation is off)."""
        return self.effective_kw if self.enabled else None


@dataclass(frozen=True)
class CurrentLimit:
    """The grid connection's phase-current limit (A), "Max Grid Connection Current".

    Like :class:`GridLimit`, the owner may only lower the installer's value; an owner
    value equal to the installer's is no owner value (the cloud clears it).
    """

    enabled: bool = True
    owner_a: float | None = None
    installer_a: float = 32.0

    @property
    def effective_a(self) -> float:
        """The current limit in force: the owner's, else the installer's."""
        return self.installer_a if self.owner_a is None else self.owner_a

    def cap_kw(self, voltage: float, phases: int) -> float | None:
        """The current limit as a power cap on the grid (kW; None when off)."""
        if not self.enabled:
            return None
        return self.effective_a * voltage * phases / 1000.0


@dataclass(frozen=True)
class OwnerSettings:
    """What an owner can set in the app besides the SOC levels and the mode."""

    export_limit: GridLimit = GridLimit(installer_kw=10.0)
    import_limit: GridLimit = GridLimit(installer_kw=15.0)
    # the battery may discharge into the grid (§7.3; how the cloud's flag reads this is
    # a SimConfig variant of the route)
    battery_export: bool = True
    battery_export_installer: bool | None = None
    # the owner's battery power limits (kW); None: the system's own (its rated power)
    max_charge_kw: float | None = None
    max_discharge_kw: float | None = None
    pv_limit_kw: float | None = None  # None: the PV is not limited
    current_limit: CurrentLimit = CurrentLimit()
    # the backup-reserve endpoint's own value, used when it is not the backup SOC
    # (SimConfig.backup_reserve_endpoint = "separate")
    backup_reserve: int = 15
    grid_voltage: float = 230.0
    grid_phases: int = 3

    def grid_caps(self) -> tuple[float | None, float | None]:
        """The caps on export and on import (kW, None = none): limitations and current."""
        current = self.current_limit.cap_kw(self.grid_voltage, self.grid_phases)
        return (
            _least(self.export_limit.cap_kw(), current),
            _least(self.import_limit.cap_kw(), current),
        )


def _least(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _check_amount(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")


def _check_owner(name: str, owner: float | None, installer: float) -> None:
    _check_amount(f"{name} (installer)", installer)
    _check_amount(name, owner)
    if owner is not None and owner > installer:
        raise ValueError(f"{name} {owner:g} is above the installer's limit {installer:g}")


def check_settings(settings: OwnerSettings) -> None:
    """Refuse impossible settings (ValueError; TypeError for a value of the wrong type)."""
    _check_owner(
        "the export limit", settings.export_limit.owner_kw, settings.export_limit.installer_kw
    )
    _check_owner(
        "the import limit", settings.import_limit.owner_kw, settings.import_limit.installer_kw
    )
    _check_owner(
        "the grid current limit",
        settings.current_limit.owner_a,
        settings.current_limit.installer_a,
    )
    _check_amount("the maximum charging power", settings.max_charge_kw)
    _check_amount("the maximum discharging power", settings.max_discharge_kw)
    _check_amount("the PV limit", settings.pv_limit_kw)
    if not 0 <= settings.backup_reserve <= 100:
        raise ValueError(f"the backup reserve must be 0-100 %, not {settings.backup_reserve}")
    if settings.grid_voltage <= 0 or settings.grid_phases not in (1, 3):
        raise ValueError("the grid needs a positive voltage and 1 or 3 phases")


def updated(settings: OwnerSettings, **changes: Any) -> OwnerSettings:
    """``settings`` with ``changes`` (field names), checked; the input is left alone.

    An owner current limit equal to the installer's becomes no owner value, as the
    cloud stores it.
    """
    new = dataclasses.replace(settings, **changes)
    current = new.current_limit
    if current.owner_a is not None and current.owner_a == current.installer_a:
        new = dataclasses.replace(new, current_limit=dataclasses.replace(current, owner_a=None))
    check_settings(new)
    return new
