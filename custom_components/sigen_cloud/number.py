"""Numbers of the Sigen Cloud integration: the battery and grid settings, manual control's.

Each setting number shows what the cloud reports and writes through the station's
controls coordinator (one write at a time per station, read back; see
control_entity.py). Its range comes from the cloud where it reports one
(number_descriptions.py).

"No limit" (the cloud's "depends on the system") of the battery's power limits and the
PV limit is shown as the number's maximum, and setting the maximum lifts the limit:
the largest value there is and no limit act alike, and energy optimizers get a number.

Manual control's duration (minutes) and power (kW, 0 = the battery's own, unlimited
power) are kept by Home Assistant, restored after a restart; the manual-control select
starts a session with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, override

from homeassistant.components.number import NumberEntity, RestoreNumber
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control_entity import SigenControlEntity, check_range, controls_of
from .entity import async_track_stations, value_key
from .ev_controls import async_setup_ev_numbers
from .number_descriptions import (
    MANUAL_DURATION,
    MANUAL_POWER,
    SETTING_NUMBERS,
    Range,
    SigenManualNumberEntityDescription,
    SigenNumberEntityDescription,
)

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the setting numbers a station reports, and manual control's two numbers."""

    @callback
    def add_station(station: StationRuntime) -> None:
        if station.controls is None:
            return
        view = station.view()
        entities: list[NumberEntity] = [
            SigenSettingNumber(station, description)
            for description in SETTING_NUMBERS
            if description.exists_fn(view)
        ]
        if controls_of(view).manual is not None:
            entities += [SigenManualDurationNumber(station), SigenManualPowerNumber(station)]
        async_add_entities(entities)

    await async_track_stations(entry, add_station)
    async_setup_ev_numbers(hass, entry, async_add_entities)


class SigenSettingNumber(SigenControlEntity, NumberEntity):
    """A battery or grid setting of a station."""

    entity_description: SigenNumberEntityDescription

    def __init__(self, station: StationRuntime, description: SigenNumberEntityDescription) -> None:
        """A setting of ``station``; a rated power's range follows its push too."""
        super().__init__(station, description, push=description.rated)

    def _range(self) -> Range:
        view = self.view
        if view is None:
            return 0.0, 100.0
        return self.entity_description.range_fn(view)

    @property
    @override
    def native_min_value(self) -> float:
        """The smallest value the cloud takes now."""
        return self._range()[0]

    @property
    @override
    def native_max_value(self) -> float:
        """The largest value the cloud takes now."""
        return self._range()[1]

    @property
    @override
    def native_value(self) -> float | None:
        """The value being written, else the cloud's (no limit: the maximum)."""
        if self.writing:
            return self.pending  # type: ignore[return-value]
        value = self.entity_description.value_fn(self.controls)
        if value is None and self.entity_description.no_limit_is_max:
            return self.native_max_value
        return value

    @override
    def _shown_key(self) -> tuple[Any, ...]:
        """The value, the range and the step: the state and attributes follow from them."""
        return (*value_key(self.native_value), self._range(), self.native_step)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Check the range, show the value at once and write it (the maximum: no limit)."""
        low, high = self._range()
        unit = self.native_unit_of_measurement or ""
        check_range(self.entity_id, value, low, high, unit)
        description = self.entity_description
        if description.whole:
            value = round(value)
        limit = None if description.no_limit_is_max and value >= high else value
        await self.async_write_control(value, description.write_fn(limit))


class _SigenManualNumber(SigenControlEntity, RestoreNumber):
    """A number of manual control kept by Home Assistant (the cloud does not keep it)."""

    entity_description: SigenManualNumberEntityDescription

    @override
    async def async_added_to_hass(self) -> None:
        """Take the value from before the restart, when there is one within range."""
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        if last is not None and last.native_value is not None:
            value = float(last.native_value)
            if self.native_min_value <= value <= self.native_max_value:
                self._store(value)

    def _store(self, value: float) -> None:
        """Keep ``value`` where the manual-control select finds it."""
        raise NotImplementedError

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Keep the value for the next session (a running one keeps its own)."""
        check_range(
            self.entity_id,
            value,
            self.native_min_value,
            self.native_max_value,
            self.native_unit_of_measurement or "",
        )
        self._store(value)
        self.async_write_ha_state()


class SigenManualDurationNumber(_SigenManualNumber):
    """How long manual control runs (minutes), when the select starts it."""

    def __init__(self, station: StationRuntime) -> None:
        """The duration number of the station's manual control."""
        super().__init__(station, MANUAL_DURATION)

    @property
    @override
    def native_value(self) -> float:
        """The duration the next session gets."""
        return float(self.coordinator.manual_duration)

    @override
    def _store(self, value: float) -> None:
        """Whole minutes (the cloud takes no fractions)."""
        self.coordinator.manual_duration = round(value)


class SigenManualPowerNumber(_SigenManualNumber):
    """The power manual control charges or discharges at (kW; 0: the battery's own)."""

    def __init__(self, station: StationRuntime) -> None:
        """The power number of the station's manual control."""
        super().__init__(station, MANUAL_POWER)

    @property
    @override
    def native_value(self) -> float:
        """The power the next charge or discharge session gets (0: unlimited)."""
        return self.coordinator.manual_power

    @override
    def _store(self, value: float) -> None:
        self.coordinator.manual_power = value
