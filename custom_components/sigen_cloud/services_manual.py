"""Manual control as actions, and battery commands for now without developer credentials.

``sigen_cloud.start_manual_control`` and ``sigen_cloud.stop_manual_control`` need only
the account's password (the app API's instant manual control). ``battery_command``
without developer credentials runs through manual control too, when what it asks for
is a single command starting now that manual control can express; anything else (a
later start, the MQTT-only options) says that it needs developer credentials.
Every write goes through the station's controls coordinator, one at a time per station
and read back, exactly as the manual-control entities write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID, ATTR_MODE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .coordinator import SigenControlsCoordinator
from .data import SigenConfigEntry, StationRuntime
from .helpers import sigen_errors
from .services_commands import (
    ATTR_CHARGE_PRIORITY,
    ATTR_CHARGING_POWER,
    ATTR_DISCHARGE_PRIORITY,
    ATTR_DURATION,
    ATTR_MAX_PURCHASE_POWER,
    ATTR_MAX_SELL_POWER,
    ATTR_PV_POWER,
    ATTR_START_TIME,
    check_times,
)
from .services_fields import (
    as_number,
    choice,
    field_error,
    local_time,
    validation_error,
    whole_minutes,
)
from .sigen import (
    MANUAL_CONTROL_DURATION_RANGE,
    MANUAL_CONTROL_MODES,
    MANUAL_CONTROL_POWER_MODES,
    MAX_MANUAL_CONTROL_POWER_KW,
    PAST_TOLERANCE_S,
)

ATTR_POWER: Final = "power"

# A battery command's mode → the manual control that does the same now.
MANUAL_MODE_OF_COMMAND: Final = {
    "charge": "charge",
    "discharge": "discharge",
    "idle": "hold",
    "self_consumption": "self_consumption",
}
# The battery command's options only the MQTT channel takes.
MQTT_ONLY_OPTIONS: Final = (
    ATTR_PV_POWER,
    ATTR_MAX_SELL_POWER,
    ATTR_MAX_PURCHASE_POWER,
    ATTR_CHARGE_PRIORITY,
    ATTR_DISCHARGE_PRIORITY,
)


def _manual_power(field: str) -> Callable[[Any], float | None]:
    """An optional power in kW, above 0 and at most the manual control's maximum."""

    def validate(value: Any) -> float | None:
        if value is None:
            return None
        number = as_number(value)
        if number is None or not 0 < number <= MAX_MANUAL_CONTROL_POWER_KW:  # NaN fails too
            raise _power_error(field, value)
        return number

    return validate


def _power_error(field: str, value: Any) -> ServiceValidationError:
    return field_error(
        "invalid_manual_power", field, value, min="0", max=f"{MAX_MANUAL_CONTROL_POWER_KW:g}"
    )


START_MANUAL_CONTROL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_MODE): choice(ATTR_MODE, MANUAL_CONTROL_MODES),
        vol.Required(ATTR_DURATION): whole_minutes(ATTR_DURATION, *MANUAL_CONTROL_DURATION_RANGE),
        vol.Optional(ATTR_POWER): _manual_power(ATTR_POWER),
    }
)
STOP_MANUAL_CONTROL_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


def _check_power_mode(field: str, mode: str, power: float | None) -> None:
    """Only charge and discharge take a power."""
    if power is not None and mode not in MANUAL_CONTROL_POWER_MODES:
        raise field_error(
            "manual_power_not_taken",
            field,
            f"{power:g}",
            mode=mode,
            modes=", ".join(sorted(MANUAL_CONTROL_POWER_MODES)),
        )


async def async_start_manual_control(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    station: StationRuntime,
    data: dict[str, Any],
) -> None:
    """Start manual control of ``station`` now (``mode``, ``duration``, ``power``)."""
    mode: str = data[ATTR_MODE]
    power: float | None = data.get(ATTR_POWER)
    _check_power_mode(ATTR_POWER, mode, power)
    await _async_start(hass, entry, station, mode=mode, duration=data[ATTR_DURATION], power=power)


async def async_stop_manual_control(
    hass: HomeAssistant, entry: SigenConfigEntry, station: StationRuntime
) -> None:
    """Stop manual control of ``station``; it goes back to its operating mode."""
    controls = _controls(station)
    async with sigen_errors(hass, entry):
        await controls.async_stop_manual_control()


async def async_command_by_manual_control(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    station: StationRuntime,
    data: dict[str, Any],
) -> None:
    """One battery command for now, as manual control (no developer credentials).

    A start within the clock tolerance of now counts as now; a later one, the
    self-consumption-with-grid mode and the options manual control has no place for
    need the MQTT channel, and say so.
    """
    _check_now(data.get(ATTR_START_TIME))
    for option in MQTT_ONLY_OPTIONS:
        if data.get(option) is not None:
            raise _needs_mqtt(option, data[option])
    command_mode: str = data[ATTR_MODE]
    mode = MANUAL_MODE_OF_COMMAND.get(command_mode)
    if mode is None:
        raise _needs_mqtt(ATTR_MODE, command_mode)
    power: float | None = data.get(ATTR_CHARGING_POWER)
    if power is not None:
        if mode not in MANUAL_CONTROL_POWER_MODES:
            raise _needs_mqtt(ATTR_CHARGING_POWER, f"{power:g} ({ATTR_MODE} {command_mode})")
        if not 0 < power <= MAX_MANUAL_CONTROL_POWER_KW:
            raise _power_error(ATTR_CHARGING_POWER, f"{power:g}")
    low, high = MANUAL_CONTROL_DURATION_RANGE
    duration: int = data[ATTR_DURATION]
    if not low <= duration <= high:
        raise field_error("invalid_duration", ATTR_DURATION, duration, min=str(low), max=str(high))
    await _async_start(hass, entry, station, mode=mode, duration=duration, power=power)


def _check_now(start: datetime | None) -> None:
    """A start in the past is refused as ever; a start later than now needs MQTT."""
    if start is None:
        return
    now = dt_util.utcnow()
    start = dt_util.as_utc(start).replace(microsecond=0)
    check_times([{ATTR_DURATION: 0}], [start], now)
    if start > now + timedelta(seconds=PAST_TOLERANCE_S):
        raise validation_error(
            "later_start_needs_developer_credentials",
            start=local_time(start),
            now=local_time(now),
            minutes=str(int(PAST_TOLERANCE_S // 60)),
        )


def _needs_mqtt(field: str, value: Any) -> ServiceValidationError:
    shown = f"{value:g}" if isinstance(value, float) else value
    return field_error("option_needs_developer_credentials", field, shown)


def _controls(station: StationRuntime) -> SigenControlsCoordinator:
    """The station's controls coordinator, which writes one change at a time.

    Manual control is the app API's: a push-only station has none.
    """
    if station.controls is None:
        raise validation_error("no_manual_control", station=station.station_id)
    return station.controls


async def _async_start(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    station: StationRuntime,
    *,
    mode: str,
    duration: int,
    power: float | None,
) -> None:
    controls = _controls(station)
    async with sigen_errors(hass, entry):
        await controls.async_start_manual_control(mode, duration, power)
