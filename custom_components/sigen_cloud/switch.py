"""Switches of the Sigen Cloud integration: one per smart load, added as loads appear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenSmartLoadCoordinator
from .entity import SigenEntityDescription, SigenSmartLoadEntity, async_track_smart_loads
from .helpers import sigen_errors

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SigenSwitchEntityDescription(SwitchEntityDescription, SigenEntityDescription):
    """A switch of a smart load."""


SMART_LOAD_SWITCH = SigenSwitchEntityDescription(key="switch", translation_key="smart_load")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a switch for every smart load, now and whenever one appears."""

    @callback
    def add_load(station: StationRuntime, path: int, via_device_id: str) -> None:
        assert station.smart_loads is not None
        async_add_entities(
            [
                SigenSmartLoadSwitch(
                    station.smart_loads, station, path, SMART_LOAD_SWITCH, via_device_id
                )
            ]
        )

    async_track_smart_loads(hass, entry, add_load)


class SigenSmartLoadSwitch(SigenSmartLoadEntity, SwitchEntity):
    """Manual on/off of a smart load; the entity takes the load's (device's) name.

    A switch shows at once and goes back if the cloud refuses it; the coordinator
    records what the cloud accepted, and refreshes.
    """

    _attr_name = None
    entity_description: SigenSwitchEntityDescription

    def __init__(
        self,
        coordinator: SigenSmartLoadCoordinator,
        station: StationRuntime,
        path: int,
        description: SigenSwitchEntityDescription,
        via_device_id: str,
    ) -> None:
        """Show the load's state from the coordinator's data."""
        super().__init__(coordinator, station, path, description, via_device_id)
        self._async_update_attrs()

    @callback
    def _async_update_attrs(self) -> None:
        """The load's state in the latest data."""
        load = self.smart_load
        self._attr_is_on = load.on if load is not None else None

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Show the new data (it replaces an optimistic state)."""
        self._async_update_attrs()
        super()._handle_coordinator_update()

    async def _async_set(self, on: bool) -> None:
        """Show the state at once, switch, and go back if the cloud refuses."""
        previous = self._attr_is_on
        self._attr_is_on = on
        self.async_write_ha_state()
        try:
            async with sigen_errors(self.hass, self.coordinator.config_entry):
                await self.coordinator.async_set_load_state(self.path, on)
        except HomeAssistantError:
            self._attr_is_on = previous
            self.async_write_ha_state()
            raise

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the load on."""
        await self._async_set(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the load off."""
        await self._async_set(False)
