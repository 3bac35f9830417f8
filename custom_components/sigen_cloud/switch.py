"""Switches of the Sigen Cloud integration: smart loads and a station's grid settings.

One switch per smart load, added as loads appear; per station the grid export and
import limitation, the battery's export to the grid and peak shaving (the app's
setting; the binary sensor of the same name is what the station pushes over MQTT),
where the station reports them (written through the controls coordinator, see
control_entity.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control_entity import SigenControlEntity, has
from .coordinator import SigenSmartLoadCoordinator
from .coordinator.control_writes import ControlWrite, export_allowed, grid_limit, peak_shaving
from .entity import (
    SigenEntityDescription,
    SigenSmartLoadEntity,
    async_track_smart_loads,
    async_track_stations,
)
from .ev_controls import async_setup_ev_switches
from .helpers import sigen_errors

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .models import ControlsData

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SigenSwitchEntityDescription(SwitchEntityDescription, SigenEntityDescription):
    """A switch of a smart load."""


SMART_LOAD_SWITCH = SigenSwitchEntityDescription(key="switch", translation_key="smart_load")


@dataclass(frozen=True, kw_only=True)
class SigenSettingSwitchEntityDescription(SwitchEntityDescription, SigenEntityDescription):
    """A grid or battery setting of a station that is on or off."""

    is_on_fn: Callable[[ControlsData], bool | None]
    write_fn: Callable[[bool], ControlWrite]


def _setting_switch(
    key: str,
    part: str,
    is_on_fn: Callable[[ControlsData], bool | None],
    write_fn: Callable[[bool], ControlWrite],
) -> SigenSettingSwitchEntityDescription:
    return SigenSettingSwitchEntityDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.CONFIG,
        is_on_fn=is_on_fn,
        write_fn=write_fn,
        exists_fn=has(part),
        available_fn=has(part),
    )


SETTING_SWITCHES: tuple[SigenSettingSwitchEntityDescription, ...] = (
    _setting_switch(
        "grid_export_limitation",
        "export_limit",
        lambda d: None if d.export_limit is None else d.export_limit.enabled,
        lambda on: grid_limit("export", enabled=on),
    ),
    _setting_switch(
        "grid_import_limitation",
        "import_limit",
        lambda d: None if d.import_limit is None else d.import_limit.enabled,
        lambda on: grid_limit("import", enabled=on),
    ),
    _setting_switch(
        "battery_export",
        "export_allowed",
        lambda d: d.export_allowed,
        export_allowed,
    ),
    _setting_switch(
        "peak_shaving",
        "peak_shaving",
        lambda d: None if d.peak_shaving is None else d.peak_shaving.enabled,
        lambda on: peak_shaving(enabled=on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches of every smart load and station, now and as they appear."""

    @callback
    def add_station(station: StationRuntime) -> None:
        if station.controls is None:
            return
        view = station.view()
        async_add_entities(
            SigenSettingSwitch(station, description)
            for description in SETTING_SWITCHES
            if description.exists_fn(view)
        )

    await async_track_stations(entry, add_station)
    async_setup_ev_switches(hass, entry, async_add_entities)

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


class SigenSettingSwitch(SigenControlEntity, SwitchEntity):
    """A grid or battery setting of a station: shown at once, read back after the write."""

    entity_description: SigenSettingSwitchEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """The state being written, else the cloud's."""
        if self.writing:
            return bool(self.pending)
        return self.entity_description.is_on_fn(self.controls)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the setting on."""
        await self.async_write_control(True, self.entity_description.write_fn(True))

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the setting off."""
        await self.async_write_control(False, self.entity_description.write_fn(False))
