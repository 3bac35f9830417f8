"""Battery commands (``openapi/instruction/command``): the model, the limits, the checks.

Every command is checked before anything is sent, and every error message names the
command (by its index in the list given) and the problem.

Start times are **epoch seconds**. The official documentation shows some examples in
milliseconds; a value that looks like milliseconds is *rejected* with a message rather
than converted, because guessing wrong would schedule the battery 50 000 years away
or, worse, right now.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .._parse import MS_THRESHOLD
from ..const import (
    BATTERY_COMMAND_MODES,
    CHARGE_PRIORITY_TYPES,
    DISCHARGE_PRIORITY_TYPES,
    MAX_COMMANDS_PER_BATCH,
)
from ..errors import SigenValidationError

#: Longest command, minutes (one day).
MAX_DURATION_MIN: Final = 1440
#: Largest power a command may ask for, kW (anything above is a mistake).
MAX_COMMAND_POWER_KW: Final = 1000.0
#: How far in the past a command may start, seconds (clocks differ a little).
PAST_TOLERANCE_S: Final = 300.0
#: The snake_case names of the modes (as Home Assistant's services spell them) → the
#: cloud's ``activeMode``. Any spelling that differs only in case, ``_`` or ``-`` works.
BATTERY_MODES: Final = {
    "charge": "charge",
    "discharge": "discharge",
    "idle": "idle",
    "self_consumption": "selfConsumption",
    "self_consumption_grid": "selfConsumption-grid",
}


def _squash(text: str) -> str:
    """A mode name without case, ``_`` or ``-`` (``"Self_Consumption"`` → ``"selfconsumption"``)."""
    return text.lower().replace("_", "").replace("-", "")


_MODE_LOOKUP: Final = {_squash(name): mode for name, mode in BATTERY_MODES.items()}
_CAMEL_TO_FIELD: Final = {
    "systemId": "system_id",
    "activeMode": "active_mode",
    "startTime": "start_time",
    "chargingPower": "charging_power",
    "pvPower": "pv_power",
    "maxSellPower": "max_sell_power",
    "maxPurchasePower": "max_purchase_power",
    "chargePriorityType": "charge_priority_type",
    "dischargePriorityType": "discharge_priority_type",
}
_FIELD_TO_CAMEL: Final = {name: key for key, name in _CAMEL_TO_FIELD.items()}
_REQUIRED: Final = ("system_id", "active_mode", "start_time", "duration")

#: The clock (epoch seconds) :func:`validate_commands` checks a command's start against
#: when it is given no ``now``. The one seam for running a dated example "as of its
#: date": a test may point it elsewhere (``monkeypatch.setattr(commands, "wall_clock",
#: sim.clock.now)``); the library itself never changes it.
wall_clock: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class BatteryCommand:
    """One scheduled battery instruction (``openapi/instruction/command``).

    ``start_time`` is epoch **seconds**, ``duration`` **minutes**, powers **kW** (≥ 0).
    ``active_mode`` is one of ``charge``, ``discharge``, ``idle``, ``selfConsumption``,
    ``selfConsumption-grid`` (``self_consumption`` and ``self_consumption_grid`` are
    accepted by :func:`validate_commands` and mapped).
    """

    system_id: str
    active_mode: str
    start_time: int
    duration: int
    charging_power: float | None = None
    pv_power: float | None = None
    max_sell_power: float | None = None
    max_purchase_power: float | None = None
    charge_priority_type: str | None = None
    discharge_priority_type: str | None = None

    @property
    def end_time(self) -> int:
        """When the command ends, epoch seconds."""
        return self.start_time + self.duration * 60

    def to_payload(self) -> dict[str, Any]:
        """The cloud's camelCase command object (optional fields left out when ``None``)."""
        return {
            _FIELD_TO_CAMEL.get(item.name, item.name): value
            for item in dataclasses.fields(self)
            if (value := getattr(self, item.name)) is not None or item.name in _REQUIRED
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BatteryCommand:
        """Build from camelCase (the cloud's) or snake_case keys; raises on unknown keys."""
        known = {item.name for item in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _CAMEL_TO_FIELD.get(str(key), str(key))
            if name not in known:
                raise SigenValidationError(f"unknown battery command field {key!r}")
            kwargs[name] = value
        missing = [name for name in _REQUIRED if name not in kwargs]
        if missing:
            raise SigenValidationError(f"missing required field(s): {', '.join(missing)}")
        return cls(**kwargs)


# --------------------------------------------------------------------------- checks


def _check_system_id(system_id: object) -> str:
    """A non-empty system id, stripped."""
    if not isinstance(system_id, str) or not system_id.strip():
        raise SigenValidationError("system_id must be a non-empty string")
    return system_id.strip()


def _check_mode(mode: object) -> str:
    """The cloud's ``activeMode`` for any accepted spelling of a mode."""
    found = _MODE_LOOKUP.get(_squash(mode)) if isinstance(mode, str) else None
    if found is None:
        raise SigenValidationError(
            f"active_mode {mode!r} is not one of {', '.join(BATTERY_COMMAND_MODES)}"
        )
    return found


def _check_start(start: object, now: float) -> int:
    """Integer epoch seconds (an aware datetime is converted), not too far in the past."""
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise SigenValidationError("start_time is a naive datetime; give a time zone")
        start = int(start.timestamp())
    if isinstance(start, bool) or not isinstance(start, int):
        raise SigenValidationError(
            f"start_time must be an integer number of epoch seconds, not {start!r}"
        )
    if start > MS_THRESHOLD:
        raise SigenValidationError(
            f"start_time {start} looks like milliseconds; give epoch seconds (e.g. {start // 1000})"
        )
    if start < now - PAST_TOLERANCE_S:
        raise SigenValidationError(
            f"start_time {start} is {int(now - start)} s in the past "
            f"(at most {int(PAST_TOLERANCE_S)} s allowed)"
        )
    return start


def _check_duration(duration: object) -> int:
    """Whole minutes, 1 to :data:`MAX_DURATION_MIN`."""
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise SigenValidationError(
            f"duration must be an integer number of minutes, not {duration!r}"
        )
    if not 0 < duration <= MAX_DURATION_MIN:
        raise SigenValidationError(
            f"duration {duration} min is out of range (1 to {MAX_DURATION_MIN} minutes)"
        )
    return duration


def _check_power(name: str, value: object) -> float | None:
    """``None``, or a finite number of kW from 0 to :data:`MAX_COMMAND_POWER_KW`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SigenValidationError(f"{name} must be a number of kW, not {value!r}")
    if not math.isfinite(value):
        raise SigenValidationError(f"{name} must be a finite number of kW, not {value!r}")
    if value < 0:
        raise SigenValidationError(f"{name} must not be negative (got {value} kW)")
    if value > MAX_COMMAND_POWER_KW:
        raise SigenValidationError(
            f"{name} {value} kW is absurd (at most {MAX_COMMAND_POWER_KW:g} kW)"
        )
    return float(value)


def _check_priority(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    """``None``, or one of ``allowed`` in any case."""
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().upper() not in allowed:
        raise SigenValidationError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value.strip().upper()


def _check_command(command: BatteryCommand, now: float) -> BatteryCommand:
    """One command, normalised; raises ``SigenValidationError`` (without the index)."""
    system_id = _check_system_id(command.system_id)
    mode = _check_mode(command.active_mode)
    start = _check_start(command.start_time, now)
    duration = _check_duration(command.duration)
    return BatteryCommand(
        system_id=system_id,
        active_mode=mode,
        start_time=start,
        duration=duration,
        charging_power=_check_power("charging_power", command.charging_power),
        pv_power=_check_power("pv_power", command.pv_power),
        max_sell_power=_check_power("max_sell_power", command.max_sell_power),
        max_purchase_power=_check_power("max_purchase_power", command.max_purchase_power),
        charge_priority_type=_check_priority(
            "charge_priority_type", command.charge_priority_type, CHARGE_PRIORITY_TYPES
        ),
        discharge_priority_type=_check_priority(
            "discharge_priority_type", command.discharge_priority_type, DISCHARGE_PRIORITY_TYPES
        ),
    )


def _as_command(item: object) -> BatteryCommand:
    """A :class:`BatteryCommand` as it is, or built from a mapping."""
    if isinstance(item, Mapping):
        return BatteryCommand.from_mapping(item)
    if not isinstance(item, BatteryCommand):
        raise SigenValidationError(f"is a {type(item).__name__}, not a BatteryCommand or a mapping")
    return item


def _check_batch(checked: list[BatteryCommand]) -> None:
    """At most :data:`MAX_COMMANDS_PER_BATCH` per system, none overlapping in time."""
    by_system: dict[str, list[tuple[int, BatteryCommand]]] = {}
    for index, command in enumerate(checked):
        by_system.setdefault(command.system_id, []).append((index, command))
    for system_id, entries in by_system.items():
        if len(entries) > MAX_COMMANDS_PER_BATCH:
            raise SigenValidationError(
                f"system {system_id} has {len(entries)} commands; "
                f"at most {MAX_COMMANDS_PER_BATCH} per system in one batch"
            )
        ordered = sorted(entries, key=lambda entry: entry[1].start_time)
        for (first_index, first), (second_index, second) in itertools.pairwise(ordered):
            if second.start_time < first.end_time:
                low, high = sorted((first_index, second_index))
                raise SigenValidationError(
                    f"commands[{low}] and commands[{high}] overlap for system {system_id}: "
                    f"{first.start_time}+{first.duration} min and "
                    f"{second.start_time}+{second.duration} min"
                )


def validate_commands(
    commands: Iterable[BatteryCommand | Mapping[str, Any]], *, now: float | None = None
) -> list[BatteryCommand]:
    """Check and normalise battery commands; raise :class:`SigenValidationError` if any is bad.

    Rules: at least one and at most 24 commands per system; a known ``active_mode``;
    ``start_time`` integer epoch seconds (values that look like milliseconds are
    rejected), not more than 5 minutes in the past (``now`` defaults to
    :data:`wall_clock`, the current time); ``duration`` 1 to 1440 minutes; powers
    ``None`` or 0 to 1000 kW; known priority types; no two commands of the same
    system overlapping in time. Messages name the command by its index in
    ``commands``: ``"commands[3]: duration 0 min is out of range ..."``.
    """
    if isinstance(commands, Mapping | BatteryCommand):
        commands = [commands]
    try:
        items = list(commands)
    except TypeError as err:
        raise SigenValidationError("commands must be a list of battery commands") from err
    if not items:
        raise SigenValidationError("no battery commands given: send at least one")
    current = wall_clock() if now is None else now
    checked: list[BatteryCommand] = []
    for index, item in enumerate(items):
        try:
            checked.append(_check_command(_as_command(item), current))
        except (SigenValidationError, TypeError) as err:
            raise SigenValidationError(f"commands[{index}]: {err}") from None
    _check_batch(checked)
    return checked
