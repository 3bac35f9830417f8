"""What every action of the integration shares: field checks and the target station.

Each check turns bad input into a translated ``ServiceValidationError`` that names the
field, what was given and what is allowed, instead of the schema library's generic
text; the target device is resolved with Home Assistant's own helper.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from datetime import datetime
from typing import Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .data import SigenConfigEntry, StationRuntime

type ResponseHandler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]

STATION_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
"""An action that takes the station's device alone."""


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated validation error of this integration."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def field_error(key: str, field: str, value: Any, **placeholders: str) -> ServiceValidationError:
    """A translated error about one field: its name, the value given and ``placeholders``."""
    return validation_error(
        key, field=field, value="nothing" if value is None else str(value), **placeholders
    )


def as_number(value: Any) -> float | None:
    """``value`` as a number (from a number or its text), or None (booleans are not)."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def whole_minutes(field: str, low: int, high: int) -> Callable[[Any], int]:
    """Whole minutes from ``low`` to ``high``; anything else names the range."""

    def validate(value: Any) -> int:
        number = as_number(value)
        if number is None or not number.is_integer() or not low <= number <= high:
            raise field_error("invalid_duration", field, value, min=str(low), max=str(high))
        return int(number)

    return validate


def power_kw(field: str, high: float) -> Callable[[Any], float | None]:
    """An optional power in kW, 0 to ``high``."""

    def validate(value: Any) -> float | None:
        if value is None:
            return None
        number = as_number(value)
        if number is None or not 0 <= number <= high:  # NaN fails too
            raise field_error("invalid_power", field, value, min="0", max=f"{high:g}")
        return number

    return validate


def choice(field: str, choices: Collection[str], *, optional: bool = False) -> Callable[[Any], Any]:
    """One of ``choices`` (case-insensitive); the error lists the allowed values."""

    def validate(value: Any) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise field_error("invalid_choice", field, value, values=", ".join(choices))

    return validate


def start_time(field: str) -> Callable[[Any], datetime | None]:
    """An optional date and time (local time when it has no offset)."""

    def validate(value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            return cv.datetime(value)
        except vol.Invalid:
            raise field_error("invalid_start_time", field, value) from None

    return validate


def local_time(moment: datetime) -> str:
    """A moment in Home Assistant's configured time zone, as people read it."""
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _target_error(err: ServiceValidationError, device_id: str) -> ServiceValidationError | None:
    """Home Assistant's error for an unusable target device, in this integration's words.

    The actions' users (and tests) know ``device_not_found`` and ``entry_not_loaded``;
    None for an error the helper may add later (it passes through unchanged).
    """
    match err.translation_key:
        case "service_device_not_found" | "service_device_wrong_domain":
            return validation_error("device_not_found", device_id=device_id)
        case "service_config_entry_not_loaded":
            title = (err.translation_placeholders or {}).get("entry_title", "")
            return validation_error("entry_not_loaded", entry=title)
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
        raise validation_error("device_not_found", device_id=device_id)
    config_entry: SigenConfigEntry = entry
    station = config_entry.runtime_data.stations.get(station_id)
    if station is None:
        raise validation_error(
            "not_a_station", device=device.name_by_user or device.name or device_id
        )
    return config_entry, station


def feature_coordinator[C: DataUpdateCoordinator[Any]](
    station: StationRuntime, coordinator: C | None, feature: Callable[[Any], object], key: str
) -> C:
    """The station's coordinator of a feature, else the translated ``key`` error.

    A coordinator whose data shows the cloud does not offer the feature (``feature(data)``
    is None) counts as missing; one not read yet is given the benefit of the doubt, the
    cloud's own answer to the request then tells.
    """
    if coordinator is None or (coordinator.data is not None and feature(coordinator.data) is None):
        raise validation_error(key, station=station.station_id)
    return coordinator


def async_register_get_set(
    hass: HomeAssistant,
    get: tuple[str, ResponseHandler],
    set_: tuple[str, ResponseHandler, vol.Schema],
) -> None:
    """Register a setting's pair of actions: the read (station only, response only) and the write.

    The write answers with the setting as read back when the caller asks for it.
    """
    get_name, get_handler = get
    hass.services.async_register(
        DOMAIN,
        get_name,
        get_handler,
        schema=STATION_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    set_name, set_handler, set_schema = set_
    hass.services.async_register(
        DOMAIN,
        set_name,
        set_handler,
        schema=set_schema,
        supports_response=SupportsResponse.OPTIONAL,
    )
