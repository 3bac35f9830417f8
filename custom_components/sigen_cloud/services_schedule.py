"""The TOU schedule as actions: ``sigen_cloud.get_schedule`` and ``set_schedule``.

Both use the app API (the account's password is enough). ``get_schedule`` answers the
station's schedule (as read or written within the last 5 minutes, else read from the
cloud: §7.0 asks for about one request per endpoint per 5 minutes) and returns
``{"periods": [{"days", "start", "end", "action", "max_buy", "max_sell", "max_charge",
"max_discharge", "max_pack_charge", "max_pack_discharge", "charge_cut_off_soc",
"discharge_cut_off_soc"}]}``: days ISO (1 = Monday), times ``"HH:MM"`` in station local
time, powers in kW and SOCs in %, ``null`` for the system's default. ``set_schedule``
takes ``periods`` in exactly that shape and replaces the whole schedule through the
station's schedule coordinator: one write at a time per station, read back, the
read-back returned. Everything is checked before anything is sent (here and by the
library); an error names the period and the allowed range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .coordinator.schedule import SigenScheduleCoordinator
from .data import StationRuntime
from .helpers import sigen_errors
from .services_fields import (
    as_number,
    async_get_station,
    async_register_get_set,
    feature_coordinator,
    validation_error,
)
from .sigen import SchedulePeriod, ScheduleValidationError
from .sigen.app.schedule import check_schedule
from .sigen.models.schedule import POWER_FIELDS, SOC_FIELDS

ATTR_PERIODS: Final = "periods"
SERVICE_GET_SCHEDULE: Final = "get_schedule"
SERVICE_SET_SCHEDULE: Final = "set_schedule"


def schedule_error(err: ScheduleValidationError) -> ServiceValidationError:
    """The library's complaint as a translated error naming the period, when there is one."""
    if err.period is None:
        return validation_error("invalid_schedule", error=str(err))
    return validation_error("invalid_schedule_period", period=str(err.period), error=str(err))


def _time(value: Any) -> Any:
    """A time of day; a time selector's ``"HH:MM:SS"`` loses its ``":00"`` seconds."""
    if isinstance(value, str) and len(value) == len("00:00:00") and value.endswith(":00"):
        return value[:5]
    return value


def _period_item(item: Any, number: int) -> dict[str, Any]:
    """One period as the library takes it: numbers given as text read as numbers."""
    if not isinstance(item, Mapping):
        raise validation_error(
            "invalid_schedule_period",
            period=str(number),
            error=f"a period must be a mapping with days, start, end and action, got {item!r}",
        )
    given = {str(key): value for key, value in item.items()}
    for key in ("start", "end"):
        given[key] = _time(given.get(key))
    for key in (*POWER_FIELDS, *SOC_FIELDS):
        value = given.get(key)
        if isinstance(value, str) and (read := as_number(value)) is not None:
            given[key] = int(read) if key in SOC_FIELDS and read.is_integer() else read
    action = given.get("action")
    if isinstance(action, str) and action.strip().isdigit():
        given["action"] = int(action)  # an unknown code read, written back
    return given


def _periods(value: Any) -> list[SchedulePeriod]:
    """The periods, checked by the library (days, times, action, ranges, the day tiled)."""
    if not isinstance(value, list):
        raise validation_error(
            "invalid_schedule", error=f"periods must be a list of periods, got {value!r}"
        )
    items = [_period_item(item, number) for number, item in enumerate(value, start=1)]
    try:
        return check_schedule(items)
    except ScheduleValidationError as err:
        raise schedule_error(err) from err


SET_SCHEDULE_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_PERIODS): _periods}
)


def as_response(periods: tuple[SchedulePeriod, ...] | list[SchedulePeriod]) -> dict[str, Any]:
    """The actions' answer: the periods with the keys ``set_schedule`` takes."""
    return {ATTR_PERIODS: [period.friendly() for period in periods]}


def _coordinator(station: StationRuntime) -> SigenScheduleCoordinator:
    """The station's schedule coordinator (an app API station's), else a translated error."""
    return feature_coordinator(station, station.schedule, lambda data: data.periods, "no_schedule")


def async_setup_schedule_services(hass: HomeAssistant) -> None:
    """Register the schedule actions."""

    async def get_schedule(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        coordinator = _coordinator(station)
        async with sigen_errors(hass, entry):
            periods = await coordinator.async_get_schedule()
        return as_response(periods)

    async def set_schedule(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        coordinator = _coordinator(station)
        try:
            async with sigen_errors(hass, entry):
                periods = await coordinator.async_set_schedule(call.data[ATTR_PERIODS])
        except ServiceValidationError as err:
            cause = err.__cause__
            if isinstance(cause, ScheduleValidationError):
                raise schedule_error(cause) from cause
            raise
        return as_response(periods)

    async_register_get_set(
        hass,
        (SERVICE_GET_SCHEDULE, get_schedule),
        (SERVICE_SET_SCHEDULE, set_schedule, SET_SCHEDULE_SCHEMA),
    )
