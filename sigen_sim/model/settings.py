"""The station's system settings as the MQTT ``change`` message names them.

:func:`parse_system_values` checks a whole set of changes before any is applied, so a
bad value changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

SYSTEM_STATUSES = ("standby", "running", "fault", "shutdown", "disconnected")
# change-message name -> station attribute
SOC_SETTINGS = {
    "chargeCutOffSOC%": "charge_cutoff_soc",
    "dischargeCutOffSOC%": "discharge_cutoff_soc",
    "backupCutOffSOC%": "backup_cutoff_soc",
    "peakShavingCutOffSOC%": "peak_shaving_cutoff_soc",
}
SWITCH_SETTINGS = {
    "peakShavingStatus": "peak_shaving_status",
    "stormWatchStatus": "storm_watch_status",
}


def number(value: Any, key: str) -> float:
    """A finite number from an int, a float or a numeric string (else TypeError/ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{key} must be a number, not {value!r}")
    try:
        result = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {value!r}") from None
    if not math.isfinite(result):
        raise ValueError(f"{key} must be a finite number, not {value!r}")
    return result


def _soc(key: str, value: Any) -> float:
    result = number(value, key)
    if not 0.0 <= result <= 100.0:
        raise ValueError(f"{key} must be between 0 and 100, not {value!r}")
    return result


def _switch(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("on", "off"):
        return value.lower() == "on"
    raise ValueError(f"{key} must be 'on' or 'off', not {value!r}")


def _system_status(value: Any) -> str:
    if value not in SYSTEM_STATUSES:
        raise ValueError(f"systemStatus must be one of {', '.join(SYSTEM_STATUSES)}, not {value!r}")
    return str(value)


def _one_setting(key: str, value: Any) -> tuple[str, Any]:
    """The station attribute and value of one change field (or raise)."""
    if key in SOC_SETTINGS:
        return SOC_SETTINGS[key], _soc(key, value)
    if key in SWITCH_SETTINGS:
        return SWITCH_SETTINGS[key], _switch(key, value)
    if key == "systemStatus":
        return "system_status", _system_status(value)
    if key == "onOffGridStatus":
        return "on_off_grid_status", int(number(value, key))
    raise ValueError(f"{key!r} is not a system setting the simulator can change")


def parse_system_values(
    values: dict[str, Any], *, charge_cutoff: float, discharge_cutoff: float
) -> dict[str, Any]:
    """Station attribute -> new value for the change fields ``values`` (checked first).

    Accepted: the four ``...CutOffSOC%`` (0-100), ``peakShavingStatus`` and
    ``stormWatchStatus`` ("on"/"off" or a bool), ``systemStatus`` (standby, running,
    fault, shutdown, disconnected) and ``onOffGridStatus`` (an int). A bad value raises
    ValueError (TypeError for a value that is not even a number or a string).
    """
    updates = dict(_one_setting(key, value) for key, value in values.items())
    charge = updates.get("charge_cutoff_soc", charge_cutoff)
    discharge = updates.get("discharge_cutoff_soc", discharge_cutoff)
    if discharge > charge:
        raise ValueError("dischargeCutOffSOC% must not be above chargeCutOffSOC%")
    return updates
