"""Typed data pushed over MQTT: telemetry, system changes and alarms.

Conventions of every typed value here (see ``docs/architecture.md``): power in **kW**,
energy in **kWh**, state of charge in **%**, ``battery_power`` positive while the
battery **discharges**, ``grid_power`` positive while the house **imports**.

The cloud sends a list of items, each ``{"deviceType": "system", "systemId": ...,
"statisticsTime": ..., "value": {...}}`` with every value as a *string* in W, Wh or %.
The parsers here accept that and its known variants (a single object instead of a
list, JSON text or bytes, ``value`` as JSON text, the ``"PV power"`` key of some
captures next to the documented ``pvPowerW``, ``batteryMax*`` next to
``inverterMax*``): each field below names its wire keys, first readable one wins. A
missing field is ``None``, never 0. A malformed item is skipped with one warning per
payload; no exception ever escapes a parser.

Battery commands live in :mod:`sigen.models.commands` (re-exported here, where they
were first).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, overload

from ._parse import (
    parse_bool,
    parse_epoch,
    parse_grid_status,
    parse_id,
    parse_int,
    parse_milli,
    parse_number,
    parse_status,
    parse_timestamp_text,
)
from .models._base import PowerSplit, SigenModel, first_parsed, negated, wire
from .models._push import (
    MAX_ITEMS,
    MAX_PAYLOAD_BYTES,
    item_values,
    merge_raw,
    parse_guarded,
    system_id_of,
    system_item,
)
from .models.commands import (
    MAX_COMMAND_POWER_KW,
    MAX_DURATION_MIN,
    PAST_TOLERANCE_S,
    BatteryCommand,
    validate_commands,
)

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_COMMAND_POWER_KW",
    "MAX_DURATION_MIN",
    "MAX_ITEMS",
    "MAX_PAYLOAD_BYTES",
    "PAST_TOLERANCE_S",
    "AlarmEvent",
    "BatteryCommand",
    "SystemData",
    "TelemetryData",
    "validate_commands",
]

_LOGGER = logging.getLogger(__name__)

# Absolute values beyond this (in the unit sent: W, Wh, %) are treated as garbage.
MAX_ABS_VALUE = 1e9
_MAX_ALARM_TEXT = 255
_MAX_ALARM_CODE = 64


# --------------------------------------------------------------------------- parsers


def _kilo(value: object) -> float | None:
    """A W (Wh, var) value in kW (kWh, kvar); beyond :data:`MAX_ABS_VALUE` is garbage."""
    return parse_milli(value, limit=MAX_ABS_VALUE)


def _count(value: object) -> int | None:
    """A whole number within :data:`MAX_ABS_VALUE`."""
    return parse_int(value, limit=MAX_ABS_VALUE)


def _percent(value: object) -> float | None:
    """A state of charge, 0 to 100 %; anything else is ``None``."""
    number = parse_number(value, limit=MAX_ABS_VALUE)
    return number if number is not None and 0.0 <= number <= 100.0 else None


def _alarm_text(value: object) -> str | None:
    """An alarm's text, stripped, at most 255 characters."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:_MAX_ALARM_TEXT]
    return None


def _alarm_code(value: object) -> str | None:
    """An alarm code as text (a number keeps its digits), at most 64 characters."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = _count(value)
        return None if number is None else str(number)
    if isinstance(value, str) and value.strip() and len(value) <= _MAX_ALARM_CODE:
        return value.strip()
    return None


def _alarm_status(value: object) -> str | None:
    """``"generation"`` or ``"recovery"`` in any case, else ``None``."""
    if isinstance(value, str) and value.strip().lower() in AlarmEvent.STATUSES:
        return value.strip().lower()
    return None


# ----------------------------------------------------------------------- telemetry


class _OriginalName[T]:
    """A read-only second name of an attribute: the original ``sigen-api``'s spelling."""

    def __init__(self, attribute: str, unit: str) -> None:
        """Name ``attribute`` again; ``unit`` says what its value means."""
        self._attribute = attribute
        self.__doc__ = f"``{attribute}`` under the original library's name ({unit})."

    @overload
    def __get__(self, instance: None, owner: type) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Self | T:
        """The attribute's value (the descriptor itself on the class)."""
        if instance is None:
            return self
        value: T = getattr(instance, self._attribute)
        return value


@dataclass(frozen=True)
class _PushModel(SigenModel):
    """A model of one MQTT topic: one instance per item of a push payload.

    :attr:`PAYLOAD` names the topic's data in the one warning about skipped items.
    """

    PAYLOAD = "push"

    @classmethod
    def from_mqtt_payload(cls, payload: bytes | str | list[Any] | dict[str, Any]) -> list[Self]:
        """One model per usable item (system items for system data); never raises."""
        return parse_guarded(cls.PAYLOAD, payload, cls.from_item, _LOGGER)

    @classmethod
    def from_item(cls, item: dict[str, Any], index: int, skipped: list[str]) -> Self | None:
        """One system item as a model, or ``None`` (with the reason in ``skipped``)."""
        found = system_item(item, index, skipped)
        if found is None:
            return None
        system_id, values = found
        return cls.build(values, **cls._given(system_id, values, item))

    @classmethod
    def _given(cls, system_id: str, values: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        """The values taken from the item as they are (by default: the id; ``raw`` the item)."""
        return {"system_id": system_id, "raw": item}


@dataclass(frozen=True, slots=True)
class TelemetryData(_PushModel, PowerSplit):
    """One ``period`` telemetry message for one system (kW, kWh, %; see module doc).

    ``battery_power`` is positive while discharging (the cloud's
    ``storageChargeDischargePowerW`` is positive while charging, so it is inverted);
    ``grid_power`` is positive while importing (``gridActivePowerW`` as sent).

    The original ``sigen-api`` names are properties over the same values, so both
    spellings always agree: ``pv_power_kw``, ``battery_power_kw``, ``grid_power_kw``,
    ``load_power_kw``, ``soc_percent``. ``timestamp`` is ``statisticsTime`` as Sigen
    sent it (text; the item's before the ``value``'s), ``statistics_time`` the same
    instant as an aware datetime, and ``raw`` the original ``value`` dict
    (``raw_item`` the whole item).
    """

    WHAT = PAYLOAD = "telemetry"

    system_id: str = wire("systemId", parse_id, "system_id", "snCode", required=True)
    timestamp: str | None = wire("statisticsTime", parse_timestamp_text)
    statistics_time: datetime | None = wire("statisticsTime", parse_epoch)
    pv_power: float | None = wire("pvPowerW", _kilo, "PV power", "pvPower W", "pv_power_w")
    grid_power: float | None = wire("gridActivePowerW", _kilo)
    battery_power: float | None = wire(
        "storageChargeDischargePowerW", negated(_kilo), "batteryChargeDischargePowerW"
    )
    battery_soc: float | None = wire(
        "storageSOC%", _percent, "storageSOC", "batterySOC%", "batterySoc%"
    )
    inverter_active_power: float | None = wire("inverterActivePowerW", _kilo)
    inverter_reactive_power: float | None = wire("inverterReactivePowerVar", _kilo)
    grid_reactive_power: float | None = wire("gridReactivePowerVar", _kilo)
    grid_phase_a_power: float | None = wire("gridPhaseAActivePowerW", _kilo)
    grid_phase_b_power: float | None = wire("gridPhaseBActivePowerW", _kilo)
    grid_phase_c_power: float | None = wire("gridPhaseCActivePowerW", _kilo)
    max_charge_power: float | None = wire(
        "inverterMaxChargePowerW", _kilo, "batteryMaxChargePowerW"
    )
    max_discharge_power: float | None = wire(
        "inverterMaxDischargePowerW", _kilo, "batteryMaxDischargePowerW"
    )
    charge_capacity: float | None = wire("storageChargeCapacityWh", _kilo)
    discharge_capacity: float | None = wire("storageDischargeCapacityWh", _kilo)
    operational_mode: int | None = wire("operationalMode", _count)
    system_status: str | None = wire("systemStatus", parse_status)
    on_off_grid_status: int | None = wire("onOffGridStatus", parse_grid_status)
    reported_load_power: float | None = wire("loadActivePowerW", _kilo, "loadPowerW")
    raw_item: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # The original sigen-api's names of the same values (so both spellings always agree).
    pv_power_kw = _OriginalName[float | None]("pv_power", "kW, >= 0")
    battery_power_kw = _OriginalName[float | None]("battery_power", "kW, + = discharging")
    grid_power_kw = _OriginalName[float | None]("grid_power", "kW, + = importing")
    load_power_kw = _OriginalName[float | None]("load_power", "kW, >= 0")
    soc_percent = _OriginalName[float | None]("battery_soc", "%, 0-100")

    @property
    def load_power(self) -> float | None:
        """House load: as sent when the cloud sends it, else pv + grid + battery."""
        if self.reported_load_power is not None:
            return self.reported_load_power
        if self.pv_power is None or self.grid_power is None or self.battery_power is None:
            return None
        return round(max(0.0, self.pv_power + self.grid_power + self.battery_power), 6)

    @classmethod
    def _given(cls, system_id: str, values: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        """``raw`` is the ``value`` object; the item's ``statisticsTime`` comes first."""
        given: dict[str, Any] = {"system_id": system_id, "raw": values, "raw_item": item}
        sent_time = item.get("statisticsTime")
        if sent_time is not None and sent_time != "":
            given["timestamp"] = parse_timestamp_text(sent_time)
            given["statistics_time"] = parse_epoch(sent_time)
        return given

    def merge(self, other: TelemetryData) -> TelemetryData:
        """A copy updated with the non-``None`` fields of ``other`` (a newer delta)."""
        return _merge(self, other)


# -------------------------------------------------------------------- system data


@dataclass(frozen=True, slots=True)
class SystemData(_PushModel):
    """One ``change`` message: system limits and settings (kW, kWh, %).

    ``raw`` is the whole item.
    """

    WHAT = "system data"
    PAYLOAD = "system"

    system_id: str = wire("systemId", parse_id, "system_id", "snCode", required=True)
    system_status: str | None = wire("systemStatus", parse_status)
    on_off_grid_status: int | None = wire("onOffGridStatus", parse_grid_status)
    inverter_max_active_power: float | None = wire("inverterMaxActivePowerW", _kilo)
    battery_rated_charge_power: float | None = wire("batteryRatedChargePowerW", _kilo)
    battery_rated_discharge_power: float | None = wire("batteryRatedDischargePowerW", _kilo)
    grid_max_backfeed_power: float | None = wire("gridMaxBackfeedPowerW", _kilo)
    battery_rated_capacity: float | None = wire(
        "batteryRatedCapabilityWh", _kilo, "batteryRatedCapacityWh"
    )
    charge_cut_off_soc: float | None = wire("chargeCutOffSOC%", _percent, "chargeCutOffSOC")
    discharge_cut_off_soc: float | None = wire(
        "dischargeCutOffSOC%", _percent, "dischargeCutOffSOC"
    )
    backup_cut_off_soc: float | None = wire("backupCutOffSOC%", _percent, "backupCutOffSOC")
    peak_shaving_cut_off_soc: float | None = wire(
        "peakShavingCutOffSOC%", _percent, "peakShavingCutOffSOC"
    )
    peak_shaving_status: bool | None = wire("peakShavingStatus", parse_bool)
    storm_watch_status: bool | None = wire("stormWatchStatus", parse_bool)

    def merge(self, other: SystemData) -> SystemData:
        """A copy updated with the non-``None`` fields of ``other`` (a newer change)."""
        return _merge(self, other)


def _merge[D: (TelemetryData, SystemData)](old: D, new: D) -> D:
    """``old`` updated with the non-``None`` fields of ``new``; raws merged."""
    if new.system_id != old.system_id:
        raise ValueError(
            f"cannot merge data of system {new.system_id} into data of system {old.system_id}"
        )
    changes = {
        item.name: getattr(new, item.name)
        for item in dataclasses.fields(new)
        if item.name != "raw" and getattr(new, item.name) is not None
    }
    changes["raw"] = merge_raw(old.raw, new.raw)
    if isinstance(old, TelemetryData) and isinstance(new, TelemetryData):
        changes["raw_item"] = merge_raw(old.raw_item, new.raw_item)
    return dataclasses.replace(old, **changes)


# ------------------------------------------------------------------------- alarms


@dataclass(frozen=True, slots=True)
class AlarmEvent(_PushModel):
    """One alarm (``alarm`` topic). ``status`` is ``"generation"`` (raised) or ``"recovery"``.

    ``change_time`` comes from ``changeTime`` (milliseconds); when the cloud sends none
    (or garbage), it is the time the event was parsed. ``description`` is the alarm's
    text when the message carries one (``alarmName``, ``alarmDesc``; the documented
    push has only the code), else ``None``. ``raw`` is the whole item.
    """

    WHAT = "an alarm"
    PAYLOAD = "alarm"
    STATUSES: ClassVar[tuple[str, str]] = ("generation", "recovery")

    system_id: str = wire("systemId", parse_id, "system_id", "snCode", required=True)
    alarm_code: str = wire("alarmCode", _alarm_code, "code", required=True)
    status: str = wire("status", _alarm_status, required=True)
    change_time: datetime = wire("changeTime", parse_epoch, required=True)
    description: str | None = wire(
        "alarmName", _alarm_text, "alarmDesc", "alarmDescription", "description"
    )

    @property
    def active(self) -> bool:
        """True while the alarm is raised (status ``generation``)."""
        return self.status == "generation"

    @classmethod
    def from_item(cls, item: dict[str, Any], index: int, skipped: list[str]) -> Self | None:
        """One alarm item as an event, or ``None`` (with the reason in ``skipped``)."""
        values = item_values(item) if "value" in item else item
        if values is None:
            skipped.append(f"item {index} has no usable 'value' object")
            return None
        system_id = system_id_of(item, values)
        code = first_parsed(values, ("alarmCode", "code"), _alarm_code)
        if system_id is None or code is None:
            skipped.append(f"item {index} has no systemId or alarmCode")
            return None
        status = _alarm_status(values.get("status"))
        if status is None:
            skipped.append(f"item {index} has an unknown status {str(values.get('status'))[:20]!r}")
            return None
        return cls.build(
            values,
            system_id=system_id,
            alarm_code=code,
            status=status,
            change_time=parse_epoch(values.get("changeTime")) or datetime.now(UTC),
            raw=item,
        )
