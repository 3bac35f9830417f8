"""Numbers of the Sigen Cloud integration: the battery and grid settings, manual control's.

Each setting number shows what the cloud reports and writes through the station's
controls coordinator (one write at a time per station, read back; see
control_entity.py). Ranges come from the cloud where it reports them: the installer's
limits for the grid limits and current, the battery's rated power (MQTT system data)
for its power limits, the station's PV capacity for the PV limit; otherwise the
defaults of const.py, raised to any larger value the cloud reports.

"No limit" (the cloud's "depends on the system") of the battery's power limits and the
PV limit is shown as the number's maximum, and setting the maximum lifts the limit:
the largest value there is and no limit act alike, and energy optimizers get a number.

Manual control's duration (minutes) and power (kW, 0 = the battery's own, unlimited
power) are kept by Home Assistant, restored after a restart; the manual-control select
starts a session with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
    RestoreNumber,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    DEFAULT_BATTERY_POWER_MAX_KW,
    DEFAULT_GRID_CURRENT_MAX_A,
    DEFAULT_GRID_LIMIT_MAX_KW,
    DEFAULT_PV_LIMIT_MAX_KW,
)
from .control_entity import SigenControlEntity, check_range, controls_of, has
from .coordinator.control_writes import (
    ControlWrite,
    SocLevel,
    current_limit,
    grid_limit,
    power_limit,
    pv_limit,
    soc_level,
)
from .entity import SigenEntityDescription, async_track_stations
from .sigen.const import (
    BACKUP_SOC_RANGE,
    CHARGE_CUT_OFF_RANGE,
    DISCHARGE_CUT_OFF_RANGE,
    MANUAL_CONTROL_DURATION_RANGE,
    MAX_MANUAL_CONTROL_POWER_KW,
    PEAK_SHAVING_SOC_RANGE,
)

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .models import ControlsData
    from .sigen import GridLimit
    from .view import StationView

PARALLEL_UPDATES = 1

type Range = tuple[float, float]


@dataclass(frozen=True, kw_only=True)
class SigenNumberEntityDescription(NumberEntityDescription, SigenEntityDescription):
    """A setting of a station as a number.

    ``value_fn`` reads it from the settings, ``range_fn`` gives its range from the
    station's view, ``write_fn`` the write of a new value (``None``: no limit, when
    ``no_limit_is_max``). ``rated``: the range follows the push (the rated power).
    ``whole``: whole numbers only (a value is rounded to one).
    """

    value_fn: Callable[[ControlsData], float | None]
    range_fn: Callable[[StationView], Range]
    write_fn: Callable[[float | None], ControlWrite]
    no_limit_is_max: bool = False
    rated: bool = False
    whole: bool = False


def _soc(view: StationView, name: str) -> int | None:
    levels = controls_of(view).soc_levels
    return None if levels is None else getattr(levels, name)


def _charge_range(view: StationView) -> Range:
    """The charge cut-off: not below the discharge cut-off."""
    low, high = CHARGE_CUT_OFF_RANGE
    return max(low, _soc(view, "discharge_cut_off") or low), high


def _discharge_range(view: StationView) -> Range:
    """The discharge cut-off: not above the charge cut-off."""
    low, high = DISCHARGE_CUT_OFF_RANGE
    charge = _soc(view, "charge_cut_off")
    return low, high if charge is None else min(high, charge)


def _ceiling(ceiling: float | None, current: float | None, default: float) -> float:
    """The cloud's ceiling, else the default raised to the current value."""
    if ceiling is not None and ceiling > 0:
        return ceiling
    return max(default, current or 0.0)


def _grid_range(view: StationView, part: str) -> Range:
    limit: GridLimit | None = getattr(controls_of(view), part)
    if limit is None:
        return 0.0, DEFAULT_GRID_LIMIT_MAX_KW
    return 0.0, _ceiling(limit.installer_limit, limit.limit, DEFAULT_GRID_LIMIT_MAX_KW)


def _battery_range(view: StationView, name: str) -> Range:
    limits = controls_of(view).power_limits
    current = None if limits is None else getattr(limits, name)
    if name == "max_charge":
        rated = view.from_system(lambda s: s.battery_rated_charge_power)
    else:
        rated = view.from_system(lambda s: s.battery_rated_discharge_power)
    return 0.0, max(_ceiling(rated, None, DEFAULT_BATTERY_POWER_MAX_KW), current or 0.0)


def _pv_range(view: StationView) -> Range:
    part = controls_of(view).pv_limit
    capacity = None if view.info is None else view.info.pv_capacity
    current = None if part is None else part.limit
    return 0.0, max(_ceiling(capacity, None, DEFAULT_PV_LIMIT_MAX_KW), current or 0.0)


def _current_range(view: StationView) -> Range:
    part = controls_of(view).current_limit
    if part is None:
        return 1.0, DEFAULT_GRID_CURRENT_MAX_A
    return 1.0, _ceiling(part.installer_limit, part.limit, DEFAULT_GRID_CURRENT_MAX_A)


def _soc_number(
    key: str, name: SocLevel, range_fn: Callable[[StationView], Range]
) -> SigenNumberEntityDescription:
    """A SOC level (whole %)."""
    return SigenNumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        native_step=1,
        mode=NumberMode.SLIDER,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda data: None if data.soc_levels is None else getattr(data.soc_levels, name),
        range_fn=range_fn,
        write_fn=lambda value: soc_level(name, round(value or 0)),
        whole=True,
        exists_fn=has("soc_levels"),
        available_fn=has("soc_levels"),
    )


def _kw_number(
    key: str,
    part: str,
    value_fn: Callable[[ControlsData], float | None],
    range_fn: Callable[[StationView], Range],
    write_fn: Callable[[float | None], ControlWrite],
    *,
    no_limit_is_max: bool = False,
    rated: bool = False,
) -> SigenNumberEntityDescription:
    """A power setting (kW)."""
    return SigenNumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        native_step=0.01,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        value_fn=value_fn,
        range_fn=range_fn,
        write_fn=write_fn,
        no_limit_is_max=no_limit_is_max,
        rated=rated,
        exists_fn=has(part),
        available_fn=has(part),
    )


def _fixed(low: float, high: float) -> Callable[[StationView], Range]:
    return lambda _view: (low, high)


SETTING_NUMBERS: tuple[SigenNumberEntityDescription, ...] = (
    _soc_number("charge_cut_off_soc", "charge_cut_off", _charge_range),
    _soc_number("discharge_cut_off_soc", "discharge_cut_off", _discharge_range),
    _soc_number("backup_soc", "backup", _fixed(*BACKUP_SOC_RANGE)),
    _soc_number("peak_shaving_soc", "peak_shaving", _fixed(*PEAK_SHAVING_SOC_RANGE)),
    _kw_number(
        "grid_export_limit",
        "export_limit",
        value_fn=lambda d: None if d.export_limit is None else d.export_limit.limit,
        range_fn=lambda view: _grid_range(view, "export_limit"),
        write_fn=lambda value: grid_limit("export", limit=value),
    ),
    _kw_number(
        "grid_import_limit",
        "import_limit",
        value_fn=lambda d: None if d.import_limit is None else d.import_limit.limit,
        range_fn=lambda view: _grid_range(view, "import_limit"),
        write_fn=lambda value: grid_limit("import", limit=value),
    ),
    _kw_number(
        "battery_max_charge_power",
        "power_limits",
        value_fn=lambda d: None if d.power_limits is None else d.power_limits.max_charge,
        range_fn=lambda view: _battery_range(view, "max_charge"),
        write_fn=lambda value: power_limit("max_charge", value),
        no_limit_is_max=True,
        rated=True,
    ),
    _kw_number(
        "battery_max_discharge_power",
        "power_limits",
        value_fn=lambda d: None if d.power_limits is None else d.power_limits.max_discharge,
        range_fn=lambda view: _battery_range(view, "max_discharge"),
        write_fn=lambda value: power_limit("max_discharge", value),
        no_limit_is_max=True,
        rated=True,
    ),
    _kw_number(
        "pv_limit",
        "pv_limit",
        value_fn=lambda d: None if d.pv_limit is None else d.pv_limit.limit,
        range_fn=_pv_range,
        write_fn=pv_limit,
        no_limit_is_max=True,
    ),
    SigenNumberEntityDescription(
        key="grid_current_limit",
        translation_key="grid_current_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda d: None if d.current_limit is None else d.current_limit.limit,
        range_fn=_current_range,
        write_fn=lambda value: current_limit(value or 0.0),
        exists_fn=has("current_limit"),
        available_fn=has("current_limit"),
    ),
)


@dataclass(frozen=True, kw_only=True)
class SigenManualNumberEntityDescription(NumberEntityDescription, SigenEntityDescription):
    """A number of manual control, kept by Home Assistant."""


MANUAL_DURATION = SigenManualNumberEntityDescription(
    key="manual_control_duration",
    translation_key="manual_control_duration",
    device_class=NumberDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.MINUTES,
    native_min_value=float(MANUAL_CONTROL_DURATION_RANGE[0]),
    native_max_value=float(MANUAL_CONTROL_DURATION_RANGE[1]),
    native_step=1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)
MANUAL_POWER = SigenManualNumberEntityDescription(
    key="manual_control_power",
    translation_key="manual_control_power",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    native_min_value=0.0,
    native_max_value=MAX_MANUAL_CONTROL_POWER_KW,
    native_step=0.1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)


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

    async_track_stations(entry, add_station)


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
