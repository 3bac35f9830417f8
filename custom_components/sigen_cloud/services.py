"""Actions of the Sigen Cloud integration: battery commands and northbound modes.

Every action targets a station's device (``device_id``). Bad input, an unknown device,
an entry that is not loaded and missing developer credentials come back as translated
``ServiceValidationError``; a refusal by the cloud or a broker that does not
acknowledge comes back as a translated ``HomeAssistantError``. Never a silent success.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID, ATTR_MODE
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .data import SigenConfigEntry, StationRuntime
from .entity import async_switch_northbound_mode
from .helpers import sigen_errors
from .sigen import (
    BATTERY_MODES,
    MAX_COMMAND_POWER_KW,
    MAX_COMMANDS_PER_BATCH,
    MAX_DURATION_MIN,
    PAST_TOLERANCE_S,
    BatteryCommand,
    NBMode,
    validate_commands,
)

ATTR_START_TIME: Final = "start_time"
ATTR_DURATION: Final = "duration"
ATTR_CHARGING_POWER: Final = "charging_power"
ATTR_PV_POWER: Final = "pv_power"
ATTR_MAX_SELL_POWER: Final = "max_sell_power"
ATTR_MAX_PURCHASE_POWER: Final = "max_purchase_power"
ATTR_CHARGE_PRIORITY: Final = "charge_priority"
ATTR_DISCHARGE_PRIORITY: Final = "discharge_priority"
ATTR_COMMANDS: Final = "commands"

# The options services.yaml offers; the library takes them in any case ("pv" is "PV").
CHARGE_PRIORITIES: Final = ("pv", "grid")
DISCHARGE_PRIORITIES: Final = ("pv", "battery")
NB_MODES: Final = {mode.name.lower(): mode for mode in NBMode}


def _field_error(key: str, field: str, value: Any, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={
            "field": field,
            "value": "nothing" if value is None else str(value),
            **placeholders,
        },
    )


def _as_number(value: Any) -> float | None:
    """``value`` as a number (from a number or its text), or None (booleans are not)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _duration(value: Any) -> int:
    """Whole minutes, 1 to 1440; anything else is a translated error naming the range."""
    number = _as_number(value)
    if number is None or not number.is_integer() or not 1 <= number <= MAX_DURATION_MIN:
        raise _field_error(
            "invalid_duration", ATTR_DURATION, value, min="1", max=str(MAX_DURATION_MIN)
        )
    return int(number)


def _power(field: str) -> Callable[[Any], float | None]:
    """An optional power in kW, 0 to 1000."""

    def validate(value: Any) -> float | None:
        if value is None:
            return None
        number = _as_number(value)
        if number is None or not 0 <= number <= MAX_COMMAND_POWER_KW:  # NaN fails too
            raise _field_error(
                "invalid_power", field, value, min="0", max=f"{MAX_COMMAND_POWER_KW:g}"
            )
        return number

    return validate


def _choice(
    field: str, choices: Collection[str], *, optional: bool = False
) -> Callable[[Any], Any]:
    """One of ``choices`` (case-insensitive); the error lists the allowed values."""

    def validate(value: Any) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise _field_error("invalid_choice", field, value, values=", ".join(choices))

    return validate


def _start_time(value: Any) -> datetime | None:
    """A date and time (local time when it has no offset)."""
    if value is None:
        return None
    try:
        return cv.datetime(value)
    except vol.Invalid:
        raise _field_error("invalid_start_time", ATTR_START_TIME, value) from None


COMMAND_FIELDS: Final = {
    vol.Required(ATTR_MODE): _choice(ATTR_MODE, BATTERY_MODES),
    vol.Optional(ATTR_START_TIME): _start_time,
    vol.Required(ATTR_DURATION): _duration,
    vol.Optional(ATTR_CHARGING_POWER): _power(ATTR_CHARGING_POWER),
    vol.Optional(ATTR_PV_POWER): _power(ATTR_PV_POWER),
    vol.Optional(ATTR_MAX_SELL_POWER): _power(ATTR_MAX_SELL_POWER),
    vol.Optional(ATTR_MAX_PURCHASE_POWER): _power(ATTR_MAX_PURCHASE_POWER),
    vol.Optional(ATTR_CHARGE_PRIORITY): _choice(
        ATTR_CHARGE_PRIORITY, CHARGE_PRIORITIES, optional=True
    ),
    vol.Optional(ATTR_DISCHARGE_PRIORITY): _choice(
        ATTR_DISCHARGE_PRIORITY, DISCHARGE_PRIORITIES, optional=True
    ),
}

BATTERY_COMMAND_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, **COMMAND_FIELDS}
)
BATTERY_SCHEDULE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_COMMANDS): vol.All(
            cv.ensure_list, vol.Length(min=1), [vol.Schema(COMMAND_FIELDS)]
        ),
    }
)
SET_NORTHBOUND_MODE_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_MODE): _choice(ATTR_MODE, NB_MODES)}
)


def _validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _target_error(err: ServiceValidationError, device_id: str) -> ServiceValidationError | None:
    """Home Assistant's error for an unusable target device, in this integration's words.

    The actions' users (and tests) know ``device_not_found`` and ``entry_not_loaded``;
    None for an error the helper may add later (it passes through unchanged).
    """
    match err.translation_key:
        case "service_device_not_found" | "service_device_wrong_domain":
            return _validation_error("device_not_found", device_id=device_id)
        case "service_config_entry_not_loaded":
            title = (err.translation_placeholders or {}).get("entry_title", "")
            return _validation_error("entry_not_loaded", entry=title)
    return None


def async_get_station(
    hass: HomeAssistant, device_id: str
) -> tuple[SigenConfigEntry, StationRuntime]:
    """The loaded entry and the station of a station's device.

    Home Assistant's helper finds the device and its loaded entry of this domain; a
    station's device (not a smart load's) names a station of the entry's latest data.
    """
    try:
        device, entry = service.async_get_device_and_config_entry(
            hass, DOMAIN, device_id, include_child_devices=False
        )
    except ServiceValidationError as err:
        if (ours := _target_error(err, device_id)) is None:
            raise
        raise ours from err
    station_id = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    if station_id is None:
        raise _validation_error("device_not_found", device_id=device_id)
    config_entry: SigenConfigEntry = entry
    station = config_entry.runtime_data.stations.get(station_id)
    if station is None:
        raise _validation_error(
            "not_a_station", device=device.name_by_user or device.name or device_id
        )
    return config_entry, station


def _local(moment: datetime) -> str:
    """A moment in Home Assistant's configured time zone, as people read it."""
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _check_times(items: list[dict[str, Any]], starts: list[datetime], now: datetime) -> None:
    """Refuse starts in the past and overlapping commands, in the user's local time.

    The library checks the same rules (as a backstop) but speaks in epoch seconds and
    list indices; here one command has no number and a schedule's are counted from 1.
    """
    earliest = now - timedelta(seconds=PAST_TOLERANCE_S)
    minutes = str(int(PAST_TOLERANCE_S // 60))
    for number, start in enumerate(starts, 1):
        if start < earliest:
            if len(starts) == 1:
                raise _validation_error(
                    "start_in_past", start=_local(start), now=_local(now), minutes=minutes
                )
            raise _validation_error(
                "schedule_start_in_past",
                number=str(number),
                start=_local(start),
                now=_local(now),
                minutes=minutes,
            )
    ordered = sorted(range(len(starts)), key=starts.__getitem__)
    for first, second in itertools.pairwise(ordered):
        end = starts[first] + timedelta(minutes=items[first][ATTR_DURATION])
        if starts[second] < end:
            low, high = sorted((first, second))
            raise _validation_error(
                "commands_overlap",
                first=str(low + 1),
                second=str(high + 1),
                first_start=_local(starts[low]),
                first_end=_local(starts[low] + timedelta(minutes=items[low][ATTR_DURATION])),
                second_start=_local(starts[high]),
            )


def _build_command(system_id: str, data: dict[str, Any], start: datetime) -> BatteryCommand:
    priority = data.get(ATTR_CHARGE_PRIORITY)
    discharge_priority = data.get(ATTR_DISCHARGE_PRIORITY)
    return BatteryCommand(
        system_id=system_id,
        active_mode=BATTERY_MODES[data[ATTR_MODE]],
        start_time=int(start.timestamp()),
        duration=data[ATTR_DURATION],
        charging_power=data.get(ATTR_CHARGING_POWER),
        pv_power=data.get(ATTR_PV_POWER),
        max_sell_power=data.get(ATTR_MAX_SELL_POWER),
        max_purchase_power=data.get(ATTR_MAX_PURCHASE_POWER),
        charge_priority_type=priority.upper() if priority else None,
        discharge_priority_type=discharge_priority.upper() if discharge_priority else None,
    )


async def _async_send_commands(
    hass: HomeAssistant, device_id: str, items: list[dict[str, Any]]
) -> None:
    entry, station = async_get_station(hass, device_id)
    mqtt = entry.runtime_data.mqtt
    if mqtt is None:
        raise _validation_error("no_developer_credentials")
    if station.system_id is None:
        raise _validation_error("no_system_id", station=station.station_id)
    if len(items) > MAX_COMMANDS_PER_BATCH:
        raise _validation_error(
            "too_many_commands", count=str(len(items)), max=str(MAX_COMMANDS_PER_BATCH)
        )
    now = dt_util.utcnow()
    starts = [
        dt_util.as_utc(item.get(ATTR_START_TIME) or now).replace(microsecond=0) for item in items
    ]
    _check_times(items, starts, now)
    async with sigen_errors(hass, entry):
        commands = validate_commands(
            [
                _build_command(station.system_id, item, start)
                for item, start in zip(items, starts, strict=True)
            ],
            now=now.timestamp(),
        )
        await mqtt.send_battery_commands(commands)


SERVICE_BATTERY_COMMAND: Final = "battery_command"
SERVICE_BATTERY_SCHEDULE: Final = "battery_schedule"
SERVICE_SET_NORTHBOUND_MODE: Final = "set_northbound_mode"


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def battery_command(call: ServiceCall) -> None:
        data = dict(call.data)
        await _async_send_commands(hass, data.pop(ATTR_DEVICE_ID), [data])

    async def battery_schedule(call: ServiceCall) -> None:
        await _async_send_commands(hass, call.data[ATTR_DEVICE_ID], call.data[ATTR_COMMANDS])

    async def set_northbound_mode(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        await async_switch_northbound_mode(hass, entry, station, NB_MODES[call.data[ATTR_MODE]])

    hass.services.async_register(
        DOMAIN, SERVICE_BATTERY_COMMAND, battery_command, schema=BATTERY_COMMAND_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_BATTERY_SCHEDULE, battery_schedule, schema=BATTERY_SCHEDULE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_NORTHBOUND_MODE,
        set_northbound_mode,
        schema=SET_NORTHBOUND_MODE_SCHEMA,
    )
