"""Helpers of the tests of the battery and grid settings and manual control (issue 17)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.components.number import DOMAIN as NUMBER_DOMAIN
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.coordinator import SigenControlsCoordinator

from .platform_helpers import PREFIX, coordinator_of, station_of

# The settings' entities of the simulator's first station.
CHARGE_CUT_OFF = f"number.{PREFIX}_charge_cut_off_state_of_charge"
DISCHARGE_CUT_OFF = f"number.{PREFIX}_discharge_cut_off_state_of_charge"
BACKUP_SOC = f"number.{PREFIX}_backup_state_of_charge"
PEAK_SHAVING_SOC = f"number.{PREFIX}_peak_shaving_state_of_charge"
EXPORT_LIMIT = f"number.{PREFIX}_grid_export_limit"
IMPORT_LIMIT = f"number.{PREFIX}_grid_import_limit"
MAX_CHARGE = f"number.{PREFIX}_battery_maximum_charge_power"
MAX_DISCHARGE = f"number.{PREFIX}_battery_maximum_discharge_power"
PV_LIMIT = f"number.{PREFIX}_pv_power_limit"
CURRENT_LIMIT = f"number.{PREFIX}_grid_connection_current_limit"
MANUAL_DURATION = f"number.{PREFIX}_manual_control_duration"
MANUAL_POWER = f"number.{PREFIX}_manual_control_power"
EXPORT_LIMITATION = f"switch.{PREFIX}_grid_export_limitation"
IMPORT_LIMITATION = f"switch.{PREFIX}_grid_import_limitation"
BATTERY_EXPORT = f"switch.{PREFIX}_battery_export_to_grid"
MANUAL_CONTROL = f"select.{PREFIX}_manual_control"
MANUAL_END = f"sensor.{PREFIX}_manual_control_end"

# The power and SOC sensors that show the physics.
PV_POWER = f"sensor.{PREFIX}_pv_power"
GRID_EXPORT = f"sensor.{PREFIX}_grid_export_power"
GRID_IMPORT = f"sensor.{PREFIX}_grid_import_power"
BATTERY_CHARGE = f"sensor.{PREFIX}_battery_charge_power"
BATTERY_DISCHARGE = f"sensor.{PREFIX}_battery_discharge_power"
BATTERY_POWER = f"sensor.{PREFIX}_battery_power"
BATTERY_SOC = f"sensor.{PREFIX}_battery"


def controls_of(entry: MockConfigEntry) -> SigenControlsCoordinator:
    """The home station's controls coordinator."""
    controls = station_of(entry).controls
    assert controls is not None
    return controls


def state(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state (it must exist)."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def value(hass: HomeAssistant, entity_id: str) -> float:
    """An entity's state as a number."""
    return float(state(hass, entity_id))


async def set_number(hass: HomeAssistant, entity_id: str, number: float) -> None:
    """Set a number through Home Assistant's action, as a user or automation does."""
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: number},
        blocking=True,
    )
    await hass.async_block_till_done()


async def switch(hass: HomeAssistant, entity_id: str, *, on: bool) -> None:
    """Turn a switch on or off through Home Assistant's action."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
    )
    await hass.async_block_till_done()


async def select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    """Choose a select's option through Home Assistant's action."""
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )
    await hass.async_block_till_done()


async def let_time_pass(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry, seconds: float = 60
) -> None:
    """Move the simulated clock, then poll the energy flow (the power and SOC sensors)."""
    await sim.advance(seconds)
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()


async def refresh_controls(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Poll the settings now (as every 10 minutes)."""
    await controls_of(entry).async_refresh()
    await hass.async_block_till_done()
