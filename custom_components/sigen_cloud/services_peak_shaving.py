"""Peak shaving as actions: ``sigen_cloud.get_peak_shaving`` and ``set_peak_shaving``.

Both use the app API (the account's password is enough). ``get_peak_shaving`` returns
the station's setting as the controls coordinator last read it when that was less
than 5 minutes ago (§7.0 of the API notes: about one request per endpoint per 5
minutes), else reads it from the cloud; it returns ``{"enabled", "soc", "periods":
[{"days", "start", "end", "peak_power"}]}`` (days ISO, 1 = Monday; times ``"HH:MM"``
station local; peak power kW). ``set_peak_shaving`` takes any of ``enabled``, ``soc``
and ``periods`` in the same shape (what is left out stays as it is) and writes through
the station's controls coordinator like the switch and the number: one write at a time
per station, read back, and the read-back returned. Everything is checked before
anything is sent; an error names the field and the allowed range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import READ_REUSE_WINDOW
from .coordinator import SigenControlsCoordinator
from .coordinator.control_writes import peak_shaving
from .data import StationRuntime
from .helpers import sigen_errors
from .services_fields import (
    as_number,
    async_get_station,
    async_register_get_set,
    feature_coordinator,
    field_error,
    validation_error,
)
from .sigen import PeakShaving, PeakShavingPeriod, SigenValidationError
from .sigen.app._peak_shaving import check_periods

ATTR_ENABLED: Final = "enabled"
ATTR_SOC: Final = "soc"
ATTR_PERIODS: Final = "periods"
SOC_RANGE: Final = (0, 100)

SERVICE_GET_PEAK_SHAVING: Final = "get_peak_shaving"
SERVICE_SET_PEAK_SHAVING: Final = "set_peak_shaving"


def _soc(value: Any) -> int:
    """The peak-shaving SOC: a whole percent from 0 to 100."""
    number = as_number(value)
    low, high = SOC_RANGE
    if number is None or not number.is_integer() or not low <= number <= high:
        raise field_error("invalid_peak_shaving_soc", ATTR_SOC, value, min=str(low), max=str(high))
    return int(number)


def _period_item(item: Any, number: int) -> dict[str, Any]:
    """One period as the library takes it; a peak power given as text is read as a number."""
    if not isinstance(item, Mapping):
        raise validation_error(
            "invalid_peak_shaving_periods",
            error=f"Period {number} must be a mapping with days, start, end and peak_power",
        )
    given = dict(item)
    power = given.get("peak_power")
    if isinstance(power, str) and (read := as_number(power)) is not None:
        given["peak_power"] = read
    return given


def _periods(value: Any) -> tuple[PeakShavingPeriod, ...]:
    """The periods, checked by the library (times, days 1-7, peak power 0-100 kW, overlaps)."""
    if not isinstance(value, list):
        raise validation_error(
            "invalid_peak_shaving_periods", error=f"periods must be a list, got {value!r}"
        )
    items = [_period_item(item, number) for number, item in enumerate(value, start=1)]
    try:
        return check_periods(items)
    except SigenValidationError as err:
        raise validation_error("invalid_peak_shaving_periods", error=str(err)) from err


SET_PEAK_SHAVING_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_ENABLED): cv.boolean,
        vol.Optional(ATTR_SOC): _soc,
        vol.Optional(ATTR_PERIODS): _periods,
    }
)


def as_response(shaving: PeakShaving) -> dict[str, Any]:
    """The action's answer: the setting with the same field names ``set_peak_shaving`` takes."""
    return {
        ATTR_ENABLED: shaving.enabled,
        ATTR_SOC: shaving.soc,
        ATTR_PERIODS: [
            {
                "days": list(period.days),
                "start": period.start,
                "end": period.end,
                "peak_power": period.peak_power_kw,
            }
            for period in shaving.periods
        ],
    }


def _controls(station: StationRuntime) -> SigenControlsCoordinator:
    """The controls coordinator of a station that has peak shaving, else a translated error."""
    return feature_coordinator(
        station, station.controls, lambda data: data.peak_shaving, "no_peak_shaving"
    )


def recent_read(controls: SigenControlsCoordinator) -> PeakShaving | None:
    """The coordinator's peak shaving if the cloud gave it less than 5 minutes ago.

    A setting shown from a write whose read-back failed has no read time: not recent.
    """
    shaving = None if controls.data is None else controls.data.peak_shaving
    if shaving is None or shaving.read_at is None:
        return None
    return shaving if dt_util.utcnow() - shaving.read_at < READ_REUSE_WINDOW else None


def async_setup_peak_shaving_services(hass: HomeAssistant) -> None:
    """Register the peak-shaving actions."""

    async def get_peak_shaving(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        controls = _controls(station)
        if (recent := recent_read(controls)) is not None:
            return as_response(recent)
        async with sigen_errors(hass, entry):
            shaving = await entry.runtime_data.client.grid.get_peak_shaving(
                station_id=controls.station_id
            )
        return as_response(shaving)

    async def set_peak_shaving(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        changes = {
            key: call.data[key]
            for key in (ATTR_ENABLED, ATTR_SOC, ATTR_PERIODS)
            if key in call.data
        }
        if not changes:
            raise validation_error(
                "peak_shaving_nothing_to_set", fields=f"{ATTR_ENABLED}, {ATTR_SOC}, {ATTR_PERIODS}"
            )
        controls = _controls(station)
        async with sigen_errors(hass, entry):
            await controls.async_write(peak_shaving(**changes))
        shaving = controls.data.peak_shaving if controls.data is not None else None
        return None if shaving is None else as_response(shaving)

    async_register_get_set(
        hass,
        (SERVICE_GET_PEAK_SHAVING, get_peak_shaving),
        (SERVICE_SET_PEAK_SHAVING, set_peak_shaving, SET_PEAK_SHAVING_SCHEMA),
    )
