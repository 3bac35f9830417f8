"""Actions of the Sigen Cloud integration: battery commands and northbound modes.

Every action targets a station's device (``device_id``). Bad input, an unknown device,
an entry that is not loaded and missing developer credentials come back as translated
``ServiceValidationError``; a refusal by the cloud or a broker that does not
acknowledge comes back as a translated ``HomeAssistantError``. Never a silent success.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .data import SigenConfigEntry, StationData
from .entity import async_switch_northbound_mode, sigen_errors
from .sigen import BatteryCommand, NBMode
from .sigen.telemetry import validate_commands

SERVICE_BATTERY_COMMAND: Final = "battery_command"
SERVICE_BATTERY_SCHEDULE: Final = "battery_schedule"
SERVICE_SET_NORTHBOUND_MODE: Final = "set_northbound_mode"

ATTR_MODE: Final = "mode"
ATTR_START_TIME: Final = "start_time"
ATTR_DURATION: Final = "duration"
ATTR_CHARGING_POWER: Final = "charging_power"
ATTR_PV_POWER: Final = "pv_power"
ATTR_MAX_SELL_POWER: Final = "max_sell_power"
ATTR_MAX_PURCHASE_POWER: Final = "max_purchase_power"
ATTR_CHARGE_PRIORITY: Final = "charge_priority"
ATTR_DISCHARGE_PRIORITY: Final = "discharge_priority"
ATTR_COMMANDS: Final = "commands"

# Home Assistant's mode names → the cloud's ``activeMode``.
BATTERY_MODES: Final = {
    "charge": "charge",
    "discharge": "discharge",
    "idle": "idle",
    "self_consumption": "selfConsumption",
    "self_consumption_grid": "selfConsumption-grid",
}
CHARGE_PRIORITIES: Final = {"pv": "PV", "grid": "GRID"}
DISCHARGE_PRIORITIES: Final = {"pv": "PV", "battery": "BATTERY"}
NB_MODES: Final = {mode.name.lower(): mode for mode in NBMode}
MAX_COMMANDS: Final = 24
MAX_DURATION: Final = 24 * 60  # minutes

_POWER = vol.All(vol.Coerce(float), vol.Range(min=0, max=1000))


def _choice(choices: dict[str, Any]) -> Callable[[Any], Any]:
    return vol.All(cv.string, vol.Lower, vol.In(list(choices)))


COMMAND_FIELDS: Final = {
    vol.Required(ATTR_MODE): _choice(BATTERY_MODES),
    vol.Optional(ATTR_START_TIME): cv.datetime,
    vol.Required(ATTR_DURATION): vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_DURATION)),
    vol.Optional(ATTR_CHARGING_POWER): _POWER,
    vol.Optional(ATTR_PV_POWER): _POWER,
    vol.Optional(ATTR_MAX_SELL_POWER): _POWER,
    vol.Optional(ATTR_MAX_PURCHASE_POWER): _POWER,
    vol.Optional(ATTR_CHARGE_PRIORITY): _choice(CHARGE_PRIORITIES),
    vol.Optional(ATTR_DISCHARGE_PRIORITY): _choice(DISCHARGE_PRIORITIES),
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
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_MODE): _choice(NB_MODES)}
)


def _validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def async_get_station(hass: HomeAssistant, device_id: str) -> tuple[SigenConfigEntry, StationData]:
    """The loaded entry and the station of a station's device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise _validation_error("device_not_found", device_id=device_id)
    station_id = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    entry: SigenConfigEntry | None = hass.config_entries.async_get_entry(device.config_entry_id)
    if station_id is None or entry is None or entry.domain != DOMAIN:
        raise _validation_error("device_not_found", device_id=device_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _validation_error("entry_not_loaded", entry=entry.title)
    station = entry.runtime_data.coordinator.data.stations.get(station_id)
    if station is None:
        raise _validation_error(
            "not_a_station", device=device.name_by_user or device.name or device_id
        )
    return entry, station


def _build_command(system_id: str, data: dict[str, Any], now: datetime) -> BatteryCommand:
    start: datetime = data.get(ATTR_START_TIME) or now
    priority = data.get(ATTR_CHARGE_PRIORITY)
    discharge_priority = data.get(ATTR_DISCHARGE_PRIORITY)
    return BatteryCommand(
        system_id=system_id,
        active_mode=BATTERY_MODES[data[ATTR_MODE]],
        start_time=int(dt_util.as_utc(start).timestamp()),
        duration=data[ATTR_DURATION],
        charging_power=data.get(ATTR_CHARGING_POWER),
        pv_power=data.get(ATTR_PV_POWER),
        max_sell_power=data.get(ATTR_MAX_SELL_POWER),
        max_purchase_power=data.get(ATTR_MAX_PURCHASE_POWER),
        charge_priority_type=CHARGE_PRIORITIES[priority] if priority else None,
        discharge_priority_type=(
            DISCHARGE_PRIORITIES[discharge_priority] if discharge_priority else None
        ),
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
    if len(items) > MAX_COMMANDS:
        raise _validation_error("too_many_commands", count=str(len(items)), max=str(MAX_COMMANDS))
    now = dt_util.utcnow()
    async with sigen_errors(hass, entry):
        commands = validate_commands(
            [_build_command(station.system_id, item, now) for item in items],
            now=now.timestamp(),
        )
        await mqtt.send_battery_commands(commands)


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
