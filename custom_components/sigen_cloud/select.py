"""Selects of the Sigen Cloud integration: operational mode and northbound mode.

Both show one setting of the system, its EMS work mode (see coordinator/settings.py).
A choice shows at once and goes back if the cloud refuses it; the settings coordinator
records what the cloud accepted, so that both selects agree, and refreshes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import SigenSettingsCoordinator
from .entity import (
    SigenEntity,
    SigenEntityDescription,
    async_remove_developer_entities,
    async_switch_northbound_mode,
    async_track_stations,
)
from .helpers import sigen_errors
from .sigen import NBMode

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .view import StationView

PARALLEL_UPDATES = 1

NB_OPTIONS = [mode.name.lower() for mode in NBMode]
NORTHBOUND_MODE_KEY = "northbound_mode"


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
        entities = [SigenSelect(station, OPERATIONAL_MODE)]
        if with_northbound and NORTHBOUND_MODE.exists_fn(view):
            entities.append(SigenSelect(station, NORTHBOUND_MODE))
        async_add_entities(entities)

    async_track_stations(entry, add_station)


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
