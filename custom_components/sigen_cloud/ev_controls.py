"""The EV chargers' controls: the AC charging current, its load management, the DC mode.

Each shows at once while it is written through the station's EV coordinator (one write
at a time per station, with the controls', read back); see ev_entity.py. number.py,
switch.py and select.py add them through the ``async_setup_ev_*`` functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant, callback

from .control_entity import check_range
from .coordinator.ev_writes import ac_current, ac_dlm, dc_mode
from .ev_entity import (
    SigenChargerEntity,
    SigenChargerEntityDescription,
    async_track_chargers,
    wanted,
)
from .sigen.models.ev import DC_CHARGE_MODES, EV_CURRENT_MIN_A, EV_MAX_CURRENT_A

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import SigenConfigEntry, StationRuntime
    from .models import ChargerData


@dataclass(frozen=True, kw_only=True)
class SigenChargerNumberEntityDescription(NumberEntityDescription, SigenChargerEntityDescription):
    """A number of a charger."""


@dataclass(frozen=True, kw_only=True)
class SigenChargerSwitchEntityDescription(SwitchEntityDescription, SigenChargerEntityDescription):
    """A switch of a charger."""


@dataclass(frozen=True, kw_only=True)
class SigenChargerSelectEntityDescription(SelectEntityDescription, SigenChargerEntityDescription):
    """A select of a charger."""


CHARGING_CURRENT: Final = SigenChargerNumberEntityDescription(
    key="charging_current",
    translation_key="charger_charging_current",
    kinds=("ac",),
    has_fn=lambda d: d.ac_current is not None,
)
DLM: Final = SigenChargerSwitchEntityDescription(
    key="dlm",
    translation_key="charger_dlm",
    entity_category=EntityCategory.CONFIG,
    kinds=("ac",),
    has_fn=lambda d: d.ac_current is not None and d.ac_current.dlm is not None,
)
DC_MODE: Final = SigenChargerSelectEntityDescription(
    key="charge_mode",
    translation_key="charger_charge_mode",
    kinds=("dc",),
    has_fn=lambda d: d.dc_mode is not None,
)
DC_MODE_OPTIONS: Final = list(DC_CHARGE_MODES)


def _tracker(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    add_entities: AddConfigEntryEntitiesCallback,
    description: SigenChargerEntityDescription,
    entity_type: type[SigenChargerEntity],
) -> None:
    """Add ``entity_type`` to every charger that gets ``description``, now and later."""

    @callback
    def add(station: StationRuntime, data: ChargerData, via: str) -> None:
        if wanted(description, data):
            add_entities([entity_type(station, data.serial, description, via)])

    async_track_chargers(hass, entry, add)


@callback
def async_setup_ev_numbers(
    hass: HomeAssistant, entry: SigenConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The AC charging current of every AC charger."""
    _tracker(hass, entry, add_entities, CHARGING_CURRENT, SigenChargingCurrentNumber)


@callback
def async_setup_ev_switches(
    hass: HomeAssistant, entry: SigenConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The dynamic load management of every AC charger."""
    _tracker(hass, entry, add_entities, DLM, SigenDlmSwitch)


@callback
def async_setup_ev_selects(
    hass: HomeAssistant, entry: SigenConfigEntry, add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """The charge mode of every DC charger."""
    _tracker(hass, entry, add_entities, DC_MODE, SigenDcModeSelect)


class SigenChargingCurrentNumber(SigenChargerEntity, NumberEntity):
    """The AC charger's charging current (whole A, 6 up to the charger's largest)."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_step = 1.0
    _attr_mode = NumberMode.SLIDER
    entity_description: SigenChargerNumberEntityDescription

    @property
    @override
    def native_min_value(self) -> float:
        """The least current (IEC 61851)."""
        return float(EV_CURRENT_MIN_A)

    @property
    @override
    def native_max_value(self) -> float:
        """The charger's largest current (80 A when the cloud reports none)."""
        data = self.data
        setting = None if data is None else data.ac_current
        top = None if setting is None else setting.max_current
        return float(top or EV_MAX_CURRENT_A)

    @property
    @override
    def native_value(self) -> float | None:
        """The current being written, else the cloud's."""
        if self.writing:
            return self.pending  # type: ignore[return-value]
        data = self.data
        return None if data is None or data.ac_current is None else data.ac_current.current

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Check the range, show the current at once and write it."""
        low, high = self.native_min_value, self.native_max_value
        check_range(self.entity_id, value, low, high, UnitOfElectricCurrent.AMPERE)
        amps = round(value)
        await self.async_write_charger(float(amps), ac_current(amps))


class SigenDlmSwitch(SigenChargerEntity, SwitchEntity):
    """The AC charger's dynamic load management."""

    entity_description: SigenChargerSwitchEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """The state being written, else the cloud's."""
        if self.writing:
            return bool(self.pending)
        data = self.data
        return None if data is None or data.ac_current is None else data.ac_current.dlm

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch load management on."""
        await self.async_write_charger(True, ac_dlm(True))

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch load management off."""
        await self.async_write_charger(False, ac_dlm(False))


class SigenDcModeSelect(SigenChargerEntity, SelectEntity):
    """The DC charge mode: fast, PV surplus or V2X."""

    _attr_options = DC_MODE_OPTIONS
    entity_description: SigenChargerSelectEntityDescription

    @property
    @override
    def current_option(self) -> str | None:
        """The mode being written, else the cloud's."""
        if self.writing:
            return str(self.pending)
        data = self.data
        return None if data is None or data.dc_mode is None else data.dc_mode.mode

    @override
    async def async_select_option(self, option: str) -> None:
        """Switch the mode (the options are the library's names)."""
        await self.async_write_charger(option, dc_mode(option))
