"""Actions of the Sigen Cloud integration: battery commands, manual control, northbound modes.

Every action targets a station's device (``device_id``). Bad input, an unknown device,
an entry that is not loaded and missing developer credentials come back as translated
``ServiceValidationError``; a refusal by the cloud or a broker that does not
acknowledge comes back as a translated ``HomeAssistantError``. Never a silent success.

This module registers the actions; their fields and targets are in
:mod:`.services_fields`, the MQTT battery commands in :mod:`.services_commands` and
manual control (also a battery command for now without developer credentials) in
:mod:`.services_manual`, peak shaving in :mod:`.services_peak_shaving`.
"""

from __future__ import annotations

from typing import Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID, ATTR_MODE
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN
from .entity import async_switch_northbound_mode
from .services_commands import (
    ATTR_COMMANDS,
    BATTERY_COMMAND_SCHEMA,
    BATTERY_SCHEDULE_SCHEMA,
    async_send_commands,
)
from .services_ev import async_setup_ev_services
from .services_fields import async_get_station, choice
from .services_history import async_setup_history_services
from .services_manual import (
    START_MANUAL_CONTROL_SCHEMA,
    STOP_MANUAL_CONTROL_SCHEMA,
    async_command_by_manual_control,
    async_start_manual_control,
    async_stop_manual_control,
)
from .services_peak_shaving import async_setup_peak_shaving_services
from .services_release import (
    RELEASE_CONTROL_SCHEMA,
    SERVICE_RELEASE_CONTROL,
    async_release_control,
)
from .services_schedule import async_setup_schedule_services
from .services_tariff import async_setup_tariff_services
from .sigen import NBMode

NB_MODES: Final = {mode.name.lower(): mode for mode in NBMode}

SET_NORTHBOUND_MODE_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_MODE): choice(ATTR_MODE, NB_MODES)}
)

SERVICE_BATTERY_COMMAND: Final = "battery_command"
SERVICE_BATTERY_SCHEDULE: Final = "battery_schedule"
SERVICE_SET_NORTHBOUND_MODE: Final = "set_northbound_mode"
SERVICE_START_MANUAL_CONTROL: Final = "start_manual_control"
SERVICE_STOP_MANUAL_CONTROL: Final = "stop_manual_control"


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""

    async def battery_command(call: ServiceCall) -> None:
        data = dict(call.data)
        entry, station = async_get_station(hass, data.pop(ATTR_DEVICE_ID))
        if entry.runtime_data.mqtt is None:
            await async_command_by_manual_control(hass, entry, station, data)
        else:
            await async_send_commands(hass, entry, station, [data])

    async def battery_schedule(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        await async_send_commands(hass, entry, station, call.data[ATTR_COMMANDS])

    async def set_northbound_mode(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        await async_switch_northbound_mode(hass, entry, station, NB_MODES[call.data[ATTR_MODE]])

    async def start_manual_control(call: ServiceCall) -> None:
        data = dict(call.data)
        entry, station = async_get_station(hass, data.pop(ATTR_DEVICE_ID))
        await async_start_manual_control(hass, entry, station, data)

    async def stop_manual_control(call: ServiceCall) -> None:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        await async_stop_manual_control(hass, entry, station)

    for name, handler, schema in (
        (SERVICE_BATTERY_COMMAND, battery_command, BATTERY_COMMAND_SCHEMA),
        (SERVICE_BATTERY_SCHEDULE, battery_schedule, BATTERY_SCHEDULE_SCHEMA),
        (SERVICE_SET_NORTHBOUND_MODE, set_northbound_mode, SET_NORTHBOUND_MODE_SCHEMA),
        (SERVICE_START_MANUAL_CONTROL, start_manual_control, START_MANUAL_CONTROL_SCHEMA),
        (SERVICE_STOP_MANUAL_CONTROL, stop_manual_control, STOP_MANUAL_CONTROL_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, name, handler, schema=schema)

    async def release_control(call: ServiceCall) -> ServiceResponse:
        entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
        return await async_release_control(hass, entry, station)

    hass.services.async_register(
        DOMAIN,
        SERVICE_RELEASE_CONTROL,
        release_control,
        schema=RELEASE_CONTROL_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_ev_services(hass)
    async_setup_tariff_services(hass)
    async_setup_history_services(hass)
    async_setup_schedule_services(hass)
    async_setup_peak_shaving_services(hass)
