"""Battery commands (the cloud's MQTT ``commands`` items) and what the battery does.

:func:`parse_command` turns an item into a :class:`BatteryCommand` (or raises);
:func:`command_battery` and :func:`mode_battery` are the battery's decision for an
active command or for the operational mode, in the app API's signs (+ = charging).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .modes import MODE_FFG, MODE_TOU

COMMAND_MODES = ("charge", "discharge", "idle", "selfConsumption", "selfConsumption-grid")
TOU_CHEAP_HOURS = (1, 5)  # local hours [start, end): charge from the grid


@dataclass
class BatteryCommand:
    """One accepted battery command (times in epoch seconds)."""

    active_mode: str
    start: float
    duration_min: float
    charging_power: float | None = None
    pv_power: float | None = None
    max_sell_power: float | None = None
    max_purchase_power: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    received_at: float = 0.0

    @property
    def end(self) -> float:
        """When the command stops applying (epoch seconds)."""
        return self.start + self.duration_min * 60.0

    def active_at(self, t: float) -> bool:
        """Whether the command applies at ``t``."""
        return self.start <= t < self.end


@dataclass(frozen=True)
class Limits:
    """What the battery can do right now (kW), PV and load included."""

    pv: float
    load: float
    max_charge: float
    max_discharge: float


def self_consume(limits: Limits, *, battery_covers_deficit: bool = True) -> float:
    """Store the PV surplus, cover the deficit (unless told not to) within the limits."""
    surplus = limits.pv - limits.load
    if surplus >= 0:
        return min(surplus, limits.max_charge)
    if not battery_covers_deficit:
        return 0.0
    return -min(-surplus, limits.max_discharge)


def directed_battery(action: str, power_kw: float | None, limits: Limits) -> float | None:
    """The battery's power (+ = charging) told to ``"charge"`` or ``"discharge"``.

    ``power_kw`` None is as much as the limits allow, and the limits cap any power
    asked for. None for any other action (the caller knows what it means).
    """
    if action == "charge":
        power = limits.max_charge if power_kw is None else power_kw
        return min(limits.max_charge, power)
    if action == "discharge":
        power = limits.max_discharge if power_kw is None else power_kw
        return -min(limits.max_discharge, power)
    return None


def mode_battery(mode: int, local_hour: int, limits: Limits) -> float:
    """The battery's power under an operational mode without a command.

    MSC, AI, custom profiles and remote modes consume the PV themselves; FFG keeps the
    battery idle; TOU charges from the grid in the cheap window.
    """
    if mode == MODE_FFG:
        return 0.0
    if mode == MODE_TOU:
        cheap = TOU_CHEAP_HOURS[0] <= local_hour < TOU_CHEAP_HOURS[1]
        return limits.max_charge if cheap else self_consume(limits)
    return self_consume(limits)


def command_battery(cmd: BatteryCommand, limits: Limits) -> tuple[float, float]:
    """The battery's power under an active command, and the PV power after curtailment."""
    pv, load, max_ch, max_dis = limits.pv, limits.load, limits.max_charge, limits.max_discharge
    if cmd.active_mode == "charge":
        battery = min(max_ch, cmd.charging_power if cmd.charging_power is not None else max_ch)
        if cmd.max_purchase_power is not None:
            battery = max(0.0, min(battery, pv - load + cmd.max_purchase_power))
    elif cmd.active_mode == "discharge":
        battery = -min(max_dis, cmd.charging_power if cmd.charging_power is not None else max_dis)
    elif cmd.active_mode == "idle":
        battery = 0.0
    elif cmd.active_mode == "selfConsumption-grid":
        battery = self_consume(limits, battery_covers_deficit=False)
    else:
        battery = self_consume(limits)
    if cmd.max_sell_power is not None:
        export = pv - battery - load
        if export > cmd.max_sell_power:
            if battery < 0:  # discharging: discharge less
                battery = min(0.0, battery + (export - cmd.max_sell_power))
                export = pv - battery - load
            if export > cmd.max_sell_power:  # curtail PV
                pv = max(0.0, pv - (export - cmd.max_sell_power))
    return battery, pv


def _opt_float(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{key} must be a number, got a boolean")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key} must be a non-negative number, got {value!r}")
    return number


def parse_command(item: dict[str, Any], system_id: str, now: float) -> BatteryCommand:
    """A command item as a :class:`BatteryCommand` (TypeError, ValueError or KeyError)."""
    if not isinstance(item, dict):
        raise TypeError(f"a command must be an object, got {type(item).__name__}")
    sid = item.get("systemId")
    if sid is not None and sid != system_id:
        raise ValueError(f"command is for {sid}, not {system_id}")
    mode = item["activeMode"]
    if mode not in COMMAND_MODES:
        raise ValueError(f"unknown activeMode {mode!r}")
    start = item.get("startTime")
    if start is None:
        start = now
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise TypeError(f"startTime must be a number, got {start!r}")
    start = float(start)
    if start > 1e11:  # milliseconds (a documented inconsistency)
        start /= 1000.0
    duration = item["duration"]
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise ValueError(f"duration must be a positive number of minutes, got {duration!r}")
    return BatteryCommand(
        active_mode=mode,
        start=start,
        duration_min=float(duration),
        charging_power=_opt_float(item, "chargingPower"),
        pv_power=_opt_float(item, "pvPower"),
        max_sell_power=_opt_float(item, "maxSellPower"),
        max_purchase_power=_opt_float(item, "maxPurchasePower"),
        raw=dict(item),
        received_at=now,
    )
