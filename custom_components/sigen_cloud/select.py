"""Selects of the Sigen Cloud integration: operational mode, northbound mode, manual control.

The first two show one setting of the system, its EMS work mode (see
coordinator/settings.py). A choice shows at once and goes back if the cloud refuses it;
the settings coordinator records what the cloud accepted, so that both selects agree,
and refreshes.

Manual control overrides the mode for a while: choosing charge, discharge, hold or
self-consumption starts a session now with the duration and power of the numbers
beside it (the power for charge and discharge only; 0 is the battery's own power), and
"off" stops it. It is written through the controls coordinator (control_entity.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .control_entity import SigenControlEntity, has
from .coordinator import SigenSettingsCoordinator
from .coordinator.control_writes import manual_start, manual_stop
from .entity import (
    SigenEntity,
    SigenEntityDescription,
    async_remove_developer_entities,
    async_switch_northbound_mode,
    async_track_stations,
)
from .ev_controls import async_setup_ev_selects
from .helpers import sigen_errors
from .sigen import NBMode
from .sigen.const import MANUAL_CONTROL_MODES, MANUAL_CONTROL_POWER_MODES

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .view import StationView

PARALLEL_UPDATES = 1

NB_OPTIONS = [mode.name.lower() for mode in NBMode]
NORTHBOUND_MODE_KEY = "northbound_mode"
MANUAL_OFF = "off"
MANUAL_OPTIONS = [MANUAL_OFF, *MANUAL_CONTROL_MODES]


@dataclass(frozen=True, kw_only=True)
class SigenSelectEntityDescription(SelectEntityDescription, SigenEntityDescription):
    """A mode select of a station (``pushed``: the push may carry its value)."""

    options_fn: Callable[[StationView], list[str]]
    current_fn: Callable[[StationView], str | None]
    select_fn: Callable[[SigenSelect, str], Awaitable[None]]
    pushed: bool = False


async def _select_operational_mode(entity: SigenSelect, option: str) -> None:
    """Switch the app's operational mode (a default mode, or a custom profile)."""
    view = entity.view
    mode = next((m for m in view.settings.modes if m.label == option), None) if view else None
    if mode is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_mode",
            translation_placeholders={"mode": option},
        )
    async with sigen_errors(entity.hass, entity.coordinator.config_entry):
        await entity.coordinator.async_set_operational_mode(mode)


async def _select_northbound_mode(entity: SigenSelect, option: str) -> None:
    """Switch the northbound mode (MSC/FFG over REST, VPP/NBI over MQTT)."""
    await async_switch_northbound_mode(
        entity.hass, entity.coordinator.config_entry, entity.station, NBMode[option.upper()]
    )


def _nb_option(view: StationView) -> str | None:
    """The northbound mode as an option (``None``: the EMS runs another mode)."""
    mode = view.nb_mode
    return None if mode is None else mode.name.lower()


OPERATIONAL_MODE = SigenSelectEntityDescription(
    key="operational_mode",
    translation_key="operational_mode",
    options_fn=lambda view: [mode.label for mode in view.settings.modes],
    current_fn=lambda view: view.current_mode_label,
    select_fn=_select_operational_mode,
    available_fn=lambda view: bool(view.settings.modes),
)
NORTHBOUND_MODE = SigenSelectEntityDescription(
    key=NORTHBOUND_MODE_KEY,
    translation_key="northbound_mode",
    entity_category=EntityCategory.CONFIG,
    options=NB_OPTIONS,
    options_fn=lambda _view: NB_OPTIONS,
    current_fn=_nb_option,
    select_fn=_select_northbound_mode,
    exists_fn=lambda view: view.system_id is not None,
    pushed=True,
)


@dataclass(frozen=True, kw_only=True)
class SigenManualSelectEntityDescription(SelectEntityDescription, SigenEntityDescription):
    """The manual-control select of a station."""


MANUAL_CONTROL = SigenManualSelectEntityDescription(
    key="manual_control",
    translation_key="manual_control",
    options=MANUAL_OPTIONS,
    exists_fn=has("manual"),
    available_fn=has("manual"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the mode selects of every station, now and as stations appear."""
    with_northbound = entry.runtime_data.developer_api
    async_remove_developer_entities(hass, entry, Platform.SELECT, [NORTHBOUND_MODE_KEY])

    @callback
    def add_station(station: StationRuntime) -> None:
        view = station.view()
        entities: list[SelectEntity] = [SigenSelect(station, OPERATIONAL_MODE)]
        if with_northbound and NORTHBOUND_MODE.exists_fn(view):
            entities.append(SigenSelect(station, NORTHBOUND_MODE))
        if station.controls is not None and MANUAL_CONTROL.exists_fn(view):
            entities.append(SigenManualControlSelect(station, MANUAL_CONTROL))
        async_add_entities(entities)

    await async_track_stations(entry, add_station)
    async_setup_ev_selects(hass, entry, async_add_entities)


class SigenSelect(SigenEntity[SigenSettingsCoordinator], SelectEntity):
    """A mode select of a station."""

    entity_description: SigenSelectEntityDescription

    def __init__(self, station: StationRuntime, description: SigenSelectEntityDescription) -> None:
        """Show the station's settings (and the push, when it may carry the mode)."""
        also = (station.push,) if description.pushed else ()
        super().__init__(station.settings, station, description, also=also)
        self._async_update_attrs()

    @callback
    def _async_update_attrs(self) -> None:
        """Options and current option from the station's current data."""
        view = self.view
        description = self.entity_description
        self._attr_options = description.options_fn(view) if view else []
        self._attr_current_option = description.current_fn(view) if view else None

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Show the new data (it replaces an optimistic option)."""
        self._async_update_attrs()
        super()._handle_coordinator_update()

    @override
    def _shown_key(self) -> tuple[Any, ...]:
        """The option and the options: the state and attributes follow from them."""
        return (self.current_option, self.options)

    @override
    async def async_select_option(self, option: str) -> None:
        """Show the option at once; go back to the previous one if the cloud refuses."""
        previous = self._attr_current_option
        if option in self.options:
            self._attr_current_option = option
            self.async_write_ha_state()
        try:
            await self.entity_description.select_fn(self, option)
        except HomeAssistantError:
            self._attr_current_option = previous
            self.async_write_ha_state()
            raise


class SigenManualControlSelect(SigenControlEntity, SelectEntity):
    """Manual control of a station: off, or a mode that runs for a while."""

    entity_description: SigenManualSelectEntityDescription
    _attr_options = MANUAL_OPTIONS

    @property
    @override
    def current_option(self) -> str | None:
        """The option being written, else the cloud's ("off" while no session runs)."""
        if self.writing:
            return str(self.pending)
        manual = self.controls.manual
        if manual is None:
            return None
        return manual.mode if manual.active else MANUAL_OFF

    @override
    async def async_select_option(self, option: str) -> None:
        """Start a session of ``option`` now (the numbers' duration and power), or stop."""
        if option == MANUAL_OFF:
            await self.async_write_control(option, manual_stop())
            return
        controls = self.coordinator
        power = controls.manual_power if option in MANUAL_CONTROL_POWER_MODES else 0.0
        write = manual_start(option, controls.manual_duration, power or None)
        await self.async_write_control(option, write)
