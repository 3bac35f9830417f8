"""The V2X actions: discharge a car on a DC charger into the home, and stop it.

``sigen_cloud.start_v2x_discharge`` (duration in minutes, an optional power cap in kW)
and ``sigen_cloud.stop_v2x_discharge`` target a charger's device. They write through
the station's EV coordinator, one write at a time per station and read back, so the
charger's status, power and V2X end follow at once. An AC charger cannot discharge:
that is a translated error, as is every field out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service

from .const import DOMAIN
from .coordinator.ev_writes import EvWrite, v2x_start, v2x_stop
from .ev_entity import CHARGER_MARK
from .helpers import sigen_errors
from .services_fields import as_number, field_error, validation_error, whole_minutes
from .sigen.models.ev import V2X_DURATION_RANGE, V2X_MAX_POWER_KW

if TYPE_CHECKING:
    from .data import SigenConfigEntry

ATTR_DURATION: Final = "duration"
ATTR_POWER: Final = "power"
SERVICE_START_V2X: Final = "start_v2x_discharge"
SERVICE_STOP_V2X: Final = "stop_v2x_discharge"


def _v2x_power(field: str) -> Callable[[Any], float | None]:
    """An optional power cap in kW, above 0 and at most the library's largest."""

    def validate(value: Any) -> float | None:
        if value is None:
            return None
        number = as_number(value)
        if number is None or not 0 < number <= V2X_MAX_POWER_KW:  # NaN fails too
            raise field_error(
                "invalid_v2x_power", field, value, min="0", max=f"{V2X_MAX_POWER_KW:g}"
            )
        return number

    return validate


START_V2X_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_DURATION): whole_minutes(ATTR_DURATION, *V2X_DURATION_RANGE),
        vol.Optional(ATTR_POWER): _v2x_power(ATTR_POWER),
    }
)
STOP_V2X_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


def _device(hass: HomeAssistant, device_id: str) -> tuple[str, str, SigenConfigEntry]:
    """A device's name, its identifier of this domain and its loaded entry."""
    try:
        device, entry = service.async_get_device_and_config_entry(
            hass, DOMAIN, device_id, include_child_devices=False
        )
    except ServiceValidationError as err:
        match err.translation_key:
            case "service_device_not_found" | "service_device_wrong_domain":
                raise validation_error("device_not_found", device_id=device_id) from err
            case "service_config_entry_not_loaded":
                title = (err.translation_placeholders or {}).get("entry_title", "")
                raise validation_error("entry_not_loaded", entry=title) from err
        raise
    ident = next((ident for domain, ident in device.identifiers if domain == DOMAIN), "")
    config_entry: SigenConfigEntry = entry
    return device.name_by_user or device.name or device_id, ident, config_entry


async def async_write_v2x(hass: HomeAssistant, device_id: str, write: EvWrite) -> None:
    """Send a V2X write to the DC charger of ``device_id`` (translated errors)."""
    name, ident, entry = _device(hass, device_id)
    station_id, mark, serial = ident.partition(CHARGER_MARK)
    station = entry.runtime_data.stations.get(station_id) if mark else None
    if station is None or station.ev is None or not serial:
        raise validation_error("not_a_charger", device=name)
    data = station.ev.charger(serial)
    if data is None:
        raise validation_error("charger_not_available", charger=name)
    if data.kind != "dc":
        raise validation_error("v2x_not_supported", charger=name)
    async with sigen_errors(hass, entry):
        await station.ev.async_write(serial, write)


@callback
def async_setup_ev_services(hass: HomeAssistant) -> None:
    """Register the V2X actions."""

    async def start(call: ServiceCall) -> None:
        write = v2x_start(call.data[ATTR_DURATION], call.data.get(ATTR_POWER))
        await async_write_v2x(hass, call.data[ATTR_DEVICE_ID], write)

    async def stop(call: ServiceCall) -> None:
        await async_write_v2x(hass, call.data[ATTR_DEVICE_ID], v2x_stop())

    hass.services.async_register(DOMAIN, SERVICE_START_V2X, start, schema=START_V2X_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_STOP_V2X, stop, schema=STOP_V2X_SCHEMA)
