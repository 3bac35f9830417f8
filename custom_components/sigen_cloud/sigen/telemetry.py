"""Typed data pushed over MQTT (telemetry, system changes, alarms) and battery commands.

Conventions of every typed value here (see ``docs/architecture.md``): power in **kW**,
energy in **kWh**, state of charge in **%**, ``battery_power`` positive while the
battery **discharges**, ``grid_power`` positive while the house **imports**.

The cloud sends a list of items, each ``{"deviceType": "system", "systemId": ...,
"statisticsTime": ..., "value": {...}}`` with every value as a *string* in W, Wh or %.
The parsers here accept that and its known variants (a single object instead of a
list, JSON text or bytes, ``value`` as JSON text, the ``"PV power"`` key of some
captures next to the documented ``pvPowerW``, ``batteryMax*`` next to
``inverterMax*``). A missing field is ``None``, never 0. A malformed item is skipped
with one warning per payload; no exception ever escapes a parser.

Battery commands (:class:`BatteryCommand`, :func:`validate_commands`) are checked
before anything is sent, and every error message names the command (by its index in
the list given) and the problem.

Start times are **epoch seconds**. The official documentation shows some examples in
milliseconds; a value that looks like milliseconds is *rejected* with a message rather
than converted, because guessing wrong would schedule the battery 50 000 years away
or, worse, right now.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from ._parse import (
    MS_THRESHOLD,
    negate,
    parse_bool,
    parse_epoch,
    parse_grid_status,
    parse_int,
    parse_milli,
    parse_number,
    parse_status,
    parse_timestamp_text,
)
from ._util import PowerSplit
from .const import (
    BATTERY_COMMAND_MODES,
    CHARGE_PRIORITY_TYPES,
    DISCHARGE_PRIORITY_TYPES,
    MAX_COMMANDS_PER_BATCH,
)
from .errors import SigenValidationError

_LOGGER = logging.getLogger(__name__)

# Payloads larger than this are refused outright (a real message is about 2 kB).
MAX_PAYLOAD_BYTES = 1_000_000
# Items per payload beyond this are ignored (a real message holds one per system).
MAX_ITEMS = 1000
# Absolute values beyond this (in the unit sent: W, Wh, %) are treated as garbage.
MAX_ABS_VALUE = 1e9

# Battery command limits.
MAX_DURATION_MIN = 1440
MAX_COMMAND_POWER_KW = 1000.0
PAST_TOLERANCE_S = 300.0


# --------------------------------------------------------------------------- helpers


def _sane(value: Any) -> float | None:
    """A number within :data:`MAX_ABS_VALUE` (in the unit sent), else ``None``."""
    return parse_number(value, limit=MAX_ABS_VALUE)


def _w_to_kw(value: Any) -> float | None:
    """A W (or Wh) value within :data:`MAX_ABS_VALUE` in kW (kWh)."""
    return parse_milli(value, limit=MAX_ABS_VALUE)


def _first(values: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in values and values[key] is not None and values[key] != "":
            return values[key]
    return None


def _loads(payload: bytes | bytearray | str, what: str) -> Any:
    """JSON text to Python; raises ``ValueError`` with a short reason."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"{what} payload too large ({len(payload)} bytes)")
    if isinstance(payload, bytes | bytearray):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{what} payload is not UTF-8 text") from err
    try:
        return json.loads(payload)
    except RecursionError as err:
        raise ValueError(f"{what} payload is nested too deeply") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{what} payload is not JSON ({err.msg})") from err
    except ValueError as err:  # e.g. integers with too many digits
        raise ValueError(f"{what} payload is not usable JSON ({err})") from err


def _items(payload: Any, what: str, skipped: list[str]) -> list[dict[str, Any]]:
    """The item dicts of a payload (list, single object, JSON text or bytes)."""
    if isinstance(payload, bytes | bytearray | str):
        try:
            payload = _loads(payload, what)
        except ValueError as err:
            skipped.append(str(err))
            return []
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list):
        skipped.append(f"{what} payload is a {type(payload).__name__}, not a list of objects")
        return []
    result: list[dict[str, Any]] = []
    for index, item in enumerate(payload[:MAX_ITEMS]):
        decoded = item
        if isinstance(item, str | bytes | bytearray):
            try:
                decoded = _loads(item, what)
            except ValueError as err:
                skipped.append(f"item {index}: {err}")
                continue
        if not isinstance(decoded, Mapping):
            skipped.append(f"item {index} is a {type(decoded).__name__}, not an object")
            continue
        result.append(dict(decoded))
    if len(payload) > MAX_ITEMS:
        skipped.append(f"{len(payload) - MAX_ITEMS} items beyond the first {MAX_ITEMS}")
    return result


def _values(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``value`` object of an item (decoded when it is JSON text); the item if flat."""
    value = item.get("value", item if "value" not in item else None)
    if isinstance(value, str | bytes | bytearray):
        try:
            value = _loads(value, "value")
        except ValueError:
            return None
    if not isinstance(value, Mapping):
        return None
    return dict(value)


def _system_id(item: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    for source in (item, values):
        for key in ("systemId", "system_id", "snCode"):
            candidate = source.get(key)
            if isinstance(candidate, str) and candidate.strip() and len(candidate) <= 128:
                return candidate.strip()
            if isinstance(candidate, int) and not isinstance(candidate, bool):
                return str(candidate)
    return None


def _system_item(
    item: Mapping[str, Any], index: int, skipped: list[str]
) -> tuple[str, dict[str, Any]] | None:
    """The system id and ``value`` object of a system-level item, else ``None``.

    A device-level item is not ours and not an error; an item without a usable
    ``value`` or a system id is noted in ``skipped``.
    """
    device_type = item.get("deviceType")
    if device_type is not None and (
        not isinstance(device_type, str) or device_type.lower() != "system"
    ):
        return None
    values = _values(item)
    if values is None:
        skipped.append(f"item {index} has no usable 'value' object")
        return None
    system_id = _system_id(item, values)
    if system_id is None:
        skipped.append(f"item {index} has no systemId")
        return None
    return system_id, values


def _warn_skipped(what: str, skipped: list[str]) -> None:
    if skipped:
        shown = "; ".join(reason[:200] for reason in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        _LOGGER.warning("Skipped malformed %s data: %s%s", what, shown, more)


def _parse_guarded[T](
    what: str, payload: Any, parse_item: Callable[[dict[str, Any], int, list[str]], T | None]
) -> list[T]:
    skipped: list[str] = []
    results: list[T] = []
    try:
        for index, item in enumerate(_items(payload, what, skipped)):
            parsed = parse_item(item, index, skipped)
            if parsed is not None:
                results.append(parsed)
    except Exception as err:  # a parser must never raise
        skipped.append(f"unexpected {type(err).__name__}")
    _warn_skipped(what, skipped)
    return results


def _merge_raw(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**old, **new}
    old_value, new_value = old.get("value"), new.get("value")
    if isinstance(old_value, Mapping) and isinstance(new_value, Mapping):
        merged["value"] = {**old_value, **new_value}
    return merged


# ----------------------------------------------------------------------- telemetry

# Field name variants, first match wins.
_PV_KEYS = ("pvPowerW", "PV power", "pvPower W", "pv_power_w")
_GRID_KEYS = ("gridActivePowerW",)
_STORAGE_KEYS = ("storageChargeDischargePowerW", "batteryChargeDischargePowerW")
_SOC_KEYS = ("storageSOC%", "storageSOC", "batterySOC%", "batterySoc%")
_LOAD_KEYS = ("loadActivePowerW", "loadPowerW")
_MAX_CHARGE_KEYS = ("inverterMaxChargePowerW", "batteryMaxChargePowerW")
_MAX_DISCHARGE_KEYS = ("inverterMaxDischargePowerW", "batteryMaxDischargePowerW")


@dataclass(frozen=True, slots=True)
class TelemetryData(PowerSplit):
    """One ``period`` telemetry message for one system (kW, kWh, %; see module doc).

    ``battery_power`` is positive while discharging (the cloud's
    ``storageChargeDischargePowerW`` is positive while charging, so it is inverted);
    ``grid_power`` is positive while importing (``gridActivePowerW`` as sent).

    The original ``sigen-api`` names are properties over the same values, so both
    spellings always agree: ``pv_power_kw``, ``battery_power_kw``, ``grid_power_kw``,
    ``load_power_kw``, ``soc_percent``. ``timestamp`` is ``statisticsTime`` as Sigen
    sent it (text), ``statistics_time`` the same instant as an aware datetime, and
    ``raw`` the original ``value`` dict (``raw_item`` the whole item).
    """

    system_id: str
    timestamp: str | None = None
    statistics_time: datetime | None = None
    pv_power: float | None = None
    grid_power: float | None = None
    battery_power: float | None = None
    battery_soc: float | None = None
    inverter_active_power: float | None = None
    inverter_reactive_power: float | None = None
    grid_reactive_power: float | None = None
    grid_phase_a_power: float | None = None
    grid_phase_b_power: float | None = None
    grid_phase_c_power: float | None = None
    max_charge_power: float | None = None
    max_discharge_power: float | None = None
    charge_capacity: float | None = None
    discharge_capacity: float | None = None
    operational_mode: int | None = None
    system_status: str | None = None
    on_off_grid_status: int | None = None
    reported_load_power: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    raw_item: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def pv_power_kw(self) -> float | None:
        """``pv_power`` under the original library's name (kW, >= 0)."""
        return self.pv_power

    @property
    def battery_power_kw(self) -> float | None:
        """``battery_power`` under the original library's name (kW, + = discharging)."""
        return self.battery_power

    @property
    def grid_power_kw(self) -> float | None:
        """``grid_power`` under the original library's name (kW, + = importing)."""
        return self.grid_power

    @property
    def load_power_kw(self) -> float | None:
        """``load_power`` under the original library's name (kW, >= 0)."""
        return self.load_power

    @property
    def soc_percent(self) -> float | None:
        """``battery_soc`` under the original library's name (%, 0-100)."""
        return self.battery_soc

    @property
    def load_power(self) -> float | None:
        """House load: as sent when the cloud sends it, else pv + grid + battery."""
        if self.reported_load_power is not None:
            return self.reported_load_power
        if self.pv_power is None or self.grid_power is None or self.battery_power is None:
            return None
        return round(max(0.0, self.pv_power + self.grid_power + self.battery_power), 6)

    @classmethod
    def from_mqtt_payload(cls, payload: bytes | str | list[Any] | dict[str, Any]) -> list[Self]:
        """One :class:`TelemetryData` per ``deviceType == "system"`` item; never raises."""
        return _parse_guarded("telemetry", payload, cls._from_item)

    @classmethod
    def _from_item(cls, item: dict[str, Any], index: int, skipped: list[str]) -> Self | None:
        found = _system_item(item, index, skipped)
        if found is None:
            return None
        system_id, values = found
        sent_time = _first(item, ("statisticsTime",))
        if sent_time is None:
            sent_time = _first(values, ("statisticsTime",))
        timestamp = parse_timestamp_text(sent_time)
        soc = _sane(_first(values, _SOC_KEYS))
        if soc is not None and not 0.0 <= soc <= 100.0:
            soc = None
        return cls(
            system_id=system_id,
            timestamp=timestamp,
            statistics_time=parse_epoch(sent_time),
            pv_power=_w_to_kw(_first(values, _PV_KEYS)),
            grid_power=_w_to_kw(_first(values, _GRID_KEYS)),
            battery_power=negate(_w_to_kw(_first(values, _STORAGE_KEYS))),
            battery_soc=soc,
            inverter_active_power=_w_to_kw(values.get("inverterActivePowerW")),
            inverter_reactive_power=_w_to_kw(values.get("inverterReactivePowerVar")),
            grid_reactive_power=_w_to_kw(values.get("gridReactivePowerVar")),
            grid_phase_a_power=_w_to_kw(values.get("gridPhaseAActivePowerW")),
            grid_phase_b_power=_w_to_kw(values.get("gridPhaseBActivePowerW")),
            grid_phase_c_power=_w_to_kw(values.get("gridPhaseCActivePowerW")),
            max_charge_power=_w_to_kw(_first(values, _MAX_CHARGE_KEYS)),
            max_discharge_power=_w_to_kw(_first(values, _MAX_DISCHARGE_KEYS)),
            charge_capacity=_w_to_kw(values.get("storageChargeCapacityWh")),
            discharge_capacity=_w_to_kw(values.get("storageDischargeCapacityWh")),
            operational_mode=parse_int(values.get("operationalMode"), limit=MAX_ABS_VALUE),
            system_status=parse_status(values.get("systemStatus")),
            on_off_grid_status=parse_grid_status(values.get("onOffGridStatus")),
            reported_load_power=_w_to_kw(_first(values, _LOAD_KEYS)),
            raw=values,
            raw_item=item,
        )

    def merge(self, other: TelemetryData) -> TelemetryData:
        """A copy updated with the non-``None`` fields of ``other`` (a newer delta)."""
        return _merge(self, other)


# -------------------------------------------------------------------- system data


@dataclass(frozen=True, slots=True)
class SystemData:
    """One ``change`` message: system limits and settings (kW, kWh, %)."""

    system_id: str
    system_status: str | None = None
    on_off_grid_status: int | None = None
    inverter_max_active_power: float | None = None
    battery_rated_charge_power: float | None = None
    battery_rated_discharge_power: float | None = None
    grid_max_backfeed_power: float | None = None
    battery_rated_capacity: float | None = None
    charge_cut_off_soc: float | None = None
    discharge_cut_off_soc: float | None = None
    backup_cut_off_soc: float | None = None
    peak_shaving_cut_off_soc: float | None = None
    peak_shaving_status: bool | None = None
    storm_watch_status: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_mqtt_payload(cls, payload: bytes | str | list[Any] | dict[str, Any]) -> list[Self]:
        """One :class:`SystemData` per system item; never raises."""
        return _parse_guarded("system", payload, cls._from_item)

    @classmethod
    def _from_item(cls, item: dict[str, Any], index: int, skipped: list[str]) -> Self | None:
        found = _system_item(item, index, skipped)
        if found is None:
            return None
        system_id, values = found

        def soc(*keys: str) -> float | None:
            number = _sane(_first(values, keys))
            return number if number is not None and 0.0 <= number <= 100.0 else None

        return cls(
            system_id=system_id,
            system_status=parse_status(values.get("systemStatus")),
            on_off_grid_status=parse_grid_status(values.get("onOffGridStatus")),
            inverter_max_active_power=_w_to_kw(values.get("inverterMaxActivePowerW")),
            battery_rated_charge_power=_w_to_kw(values.get("batteryRatedChargePowerW")),
            battery_rated_discharge_power=_w_to_kw(values.get("batteryRatedDischargePowerW")),
            grid_max_backfeed_power=_w_to_kw(values.get("gridMaxBackfeedPowerW")),
            battery_rated_capacity=_w_to_kw(
                _first(values, ("batteryRatedCapabilityWh", "batteryRatedCapacityWh"))
            ),
            charge_cut_off_soc=soc("chargeCutOffSOC%", "chargeCutOffSOC"),
            discharge_cut_off_soc=soc("dischargeCutOffSOC%", "dischargeCutOffSOC"),
            backup_cut_off_soc=soc("backupCutOffSOC%", "backupCutOffSOC"),
            peak_shaving_cut_off_soc=soc("peakShavingCutOffSOC%", "peakShavingCutOffSOC"),
            peak_shaving_status=parse_bool(values.get("peakShavingStatus")),
            storm_watch_status=parse_bool(values.get("stormWatchStatus")),
            raw=item,
        )

    def merge(self, other: SystemData) -> SystemData:
        """A copy updated with the non-``None`` fields of ``other`` (a newer change)."""
        return _merge(self, other)


def _merge[D: (TelemetryData, SystemData)](old: D, new: D) -> D:
    if new.system_id != old.system_id:
        raise ValueError(
            f"cannot merge data of system {new.system_id} into data of system {old.system_id}"
        )
    changes = {
        f.name: getattr(new, f.name)
        for f in dataclasses.fields(new)
        if f.name != "raw" and getattr(new, f.name) is not None
    }
    changes["raw"] = _merge_raw(old.raw, new.raw)
    if isinstance(old, TelemetryData) and isinstance(new, TelemetryData):
        changes["raw_item"] = _merge_raw(old.raw_item, new.raw_item)
    return dataclasses.replace(old, **changes)


# ------------------------------------------------------------------------- alarms


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm (``alarm`` topic). ``status`` is ``"generation"`` (raised) or ``"recovery"``.

    ``change_time`` comes from ``changeTime`` (milliseconds); when the cloud sends none
    (or garbage), it is the time the event was parsed. ``description`` is the alarm's
    text when the message carries one (``alarmName``, ``alarmDesc``; the documented
    push has only the code), else ``None``.
    """

    system_id: str
    alarm_code: str
    status: str
    change_time: datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    description: str | None = None

    STATUSES: ClassVar[tuple[str, str]] = ("generation", "recovery")

    @property
    def active(self) -> bool:
        """True while the alarm is raised (status ``generation``)."""
        return self.status == "generation"

    @classmethod
    def from_mqtt_payload(cls, payload: bytes | str | list[Any] | dict[str, Any]) -> list[Self]:
        """One :class:`AlarmEvent` per alarm item; never raises."""
        return _parse_guarded("alarm", payload, cls._from_item)

    @classmethod
    def _from_item(cls, item: dict[str, Any], index: int, skipped: list[str]) -> Self | None:
        values = _values(item) if "value" in item else item
        if values is None:
            skipped.append(f"item {index} has no usable 'value' object")
            return None
        system_id = _system_id(item, values)
        code = _first(values, ("alarmCode", "code"))
        if isinstance(code, int | float) and not isinstance(code, bool):
            number = parse_int(code, limit=MAX_ABS_VALUE)
            code = None if number is None else str(number)
        if system_id is None or not isinstance(code, str) or not code.strip() or len(code) > 64:
            skipped.append(f"item {index} has no systemId or alarmCode")
            return None
        status = values.get("status")
        if not isinstance(status, str) or status.strip().lower() not in cls.STATUSES:
            skipped.append(f"item {index} has an unknown status {str(status)[:20]!r}")
            return None
        change_time = parse_epoch(values.get("changeTime"))
        return cls(
            system_id=system_id,
            alarm_code=code.strip(),
            status=status.strip().lower(),
            change_time=change_time or datetime.now(UTC),
            raw=item,
            description=_alarm_text(values),
        )


#: Keys that carry an alarm's text in the app API's alarm list and in peer captures.
_ALARM_TEXT_KEYS = ("alarmName", "alarmDesc", "alarmDescription", "description")


def _alarm_text(values: Mapping[str, Any]) -> str | None:
    """The first non-empty alarm text of ``values`` (at most 255 characters)."""
    for key in _ALARM_TEXT_KEYS:
        text = values.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip()[:255]
    return None


# ---------------------------------------------------------------- battery commands

_MODE_ALIASES = {
    "charge": "charge",
    "discharge": "discharge",
    "idle": "idle",
    "selfconsumption": "selfConsumption",
    "selfconsumptiongrid": "selfConsumption-grid",
}
_SNAKE_TO_FIELD = {
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
_POWER_FIELDS = ("charging_power", "pv_power", "max_sell_power", "max_purchase_power")

#: The clock (epoch seconds) :func:`validate_commands` checks a command's start against
#: when it is given no ``now``. The one seam for running a dated example "as of its
#: date": a test may point it elsewhere (``monkeypatch.setattr(telemetry, "wall_clock",
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
        return self.start_time + self.duration * 60

    def to_payload(self) -> dict[str, Any]:
        """The cloud's camelCase command object (optional fields left out when ``None``)."""
        payload: dict[str, Any] = {
            "systemId": self.system_id,
            "activeMode": self.active_mode,
            "startTime": self.start_time,
            "duration": self.duration,
        }
        optional = {
            "chargingPower": self.charging_power,
            "pvPower": self.pv_power,
            "maxSellPower": self.max_sell_power,
            "maxPurchasePower": self.max_purchase_power,
            "chargePriorityType": self.charge_priority_type,
            "dischargePriorityType": self.discharge_priority_type,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        return payload

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BatteryCommand:
        """Build from camelCase (the cloud's) or snake_case keys; raises on unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _SNAKE_TO_FIELD.get(str(key), str(key))
            if name not in known:
                raise SigenValidationError(f"unknown battery command field {key!r}")
            kwargs[name] = value
        missing = [
            name
            for name in ("system_id", "active_mode", "start_time", "duration")
            if name not in kwargs
        ]
        if missing:
            raise SigenValidationError(f"missing required field(s): {', '.join(missing)}")
        return cls(**kwargs)


def _check_command(command: BatteryCommand, now: float) -> BatteryCommand:
    """One command, normalised; raises ``SigenValidationError`` (without the index)."""
    if not isinstance(command.system_id, str) or not command.system_id.strip():
        raise SigenValidationError("system_id must be a non-empty string")
    mode = command.active_mode
    if not isinstance(mode, str) or (
        mode not in BATTERY_COMMAND_MODES
        and mode.lower().replace("_", "").replace("-", "") not in _MODE_ALIASES
    ):
        raise SigenValidationError(
            f"active_mode {mode!r} is not one of {', '.join(BATTERY_COMMAND_MODES)}"
        )
    mode = _MODE_ALIASES[mode.lower().replace("_", "").replace("-", "")]

    start: object = command.start_time
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

    duration = command.duration
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise SigenValidationError(
            f"duration must be an integer number of minutes, not {duration!r}"
        )
    if not 0 < duration <= MAX_DURATION_MIN:
        raise SigenValidationError(
            f"duration {duration} min is out of range (1 to {MAX_DURATION_MIN} minutes)"
        )

    powers: dict[str, float | None] = {}
    for name in _POWER_FIELDS:
        value = getattr(command, name)
        if value is None:
            powers[name] = None
            continue
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
        powers[name] = float(value)

    def priority(name: str, allowed: tuple[str, ...]) -> str | None:
        value = getattr(command, name)
        if value is None:
            return None
        if not isinstance(value, str) or value.strip().upper() not in allowed:
            raise SigenValidationError(f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value.strip().upper()

    return BatteryCommand(
        system_id=command.system_id.strip(),
        active_mode=mode,
        start_time=start,
        duration=duration,
        charging_power=powers["charging_power"],
        pv_power=powers["pv_power"],
        max_sell_power=powers["max_sell_power"],
        max_purchase_power=powers["max_purchase_power"],
        charge_priority_type=priority("charge_priority_type", CHARGE_PRIORITY_TYPES),
        discharge_priority_type=priority("discharge_priority_type", DISCHARGE_PRIORITY_TYPES),
    )


def _as_command(item: object) -> BatteryCommand:
    if isinstance(item, Mapping):
        return BatteryCommand.from_mapping(item)
    if not isinstance(item, BatteryCommand):
        raise SigenValidationError(f"is a {type(item).__name__}, not a BatteryCommand or a mapping")
    return item


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
    return checked
