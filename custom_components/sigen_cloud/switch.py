"""Switches of the Sigen Cloud integration: one per smart load, added as loads appear."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, override

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenCoordinator
from .data import SigenConfigEntry
from .entity import SigenSmartLoadEntity, async_track_smart_loads, sigen_errors

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a switch for every smart load, now and whenever one appears."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_load(station_id: str, path: int, via_device_id: str) -> None:
        async_add_entities(
            [SigenSmartLoadSwitch(coordinator, station_id, path, entry, via_device_id)]
        )

    async_track_smart_loads(hass, entry, add_load)


class SigenSmartLoadSwitch(SigenSmartLoadEntity, SwitchEntity):
    """Manual on/off of a smart load; the entity takes the load's (device's) name."""

    _attr_name = None
    _attr_translation_key = "smart_load"

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        path: int,
        entry: SigenConfigEntry,
        via_device_id: str,
    ) -> None:
        super().__init__(coordinator, station_id, path, "switch", via_device_id)
        self.entry = entry

    @property
    @override
    def is_on(self) -> bool | None:
        load = self.smart_load
        return load.on if load is not None else None

    async def _set(self, state: bool) -> None:
        async with sigen_errors(self.hass, self.entry):
            await self.entry.runtime_data.client.set_smart_load_state(
                self.path, state, station_id=self.station_id
            )
        # Show the accepted state at once; the refresh right after confirms it.
        station, load = self.station, self.smart_load
        if station is not None and load is not None:
            station.smart_loads[self.path] = replace(load, on=state)
        self.coordinator.async_update_listeners()
        await self.coordinator.async_request_slow_refresh()

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set(False)
