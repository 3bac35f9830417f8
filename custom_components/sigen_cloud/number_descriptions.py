"""The numbers of a station's settings: what each shows, its range, how it is written.

Ranges come from the cloud where it reports them: the installer's limits for the grid
limits and current, the battery's rated power (MQTT system data) for its power limits,
the station's PV capacity for the PV limit; otherwise the defaults of const.py, raised
to any larger value the cloud reports. "No limit" of the battery's power limits and
the PV limit is the maximum (``no_limit_is_max``, see number.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)

from .const import (
    DEFAULT_BATTERY_POWER_MAX_KW,
    DEFAULT_GRID_CURRENT_MAX_A,
    DEFAULT_GRID_LIMIT_MAX_KW,
    DEFAULT_PV_LIMIT_MAX_KW,
)
from .control_entity import controls_of, has
from .coordinator.control_writes import (
    ControlWrite,
    Direction,
    PowerLimit,
    SocLevel,
    current_limit,
    grid_limit,
    peak_shaving_soc,
    power_limit,
    pv_limit,
    soc_level,
)
from .entity import SigenEntityDescription
from .sigen.const import (
    BACKUP_SOC_RANGE,
    CHARGE_CUT_OFF_RANGE,
    DISCHARGE_CUT_OFF_RANGE,
    MANUAL_CONTROL_DURATION_RANGE,
    MAX_MANUAL_CONTROL_POWER_KW,
    PEAK_SHAVING_SOC_RANGE,
)

if TYPE_CHECKING:
    from .models import ControlsData
    from .sigen import GridLimit
    from .view import StationView

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


def _peak_shaving_soc(data: ControlsData) -> int | None:
    """The peak-shaving setting's SOC where the station has it, else the SOC levels' one.

    One number for both: whether the cloud's two values are one is unknown, so writing
    it sets both (``peak_shaving_soc`` in control_writes.py).
    """
    if data.peak_shaving is not None and data.peak_shaving.soc is not None:
        return data.peak_shaving.soc
    return None if data.soc_levels is None else data.soc_levels.peak_shaving


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


def _grid_number(direction: Direction) -> SigenNumberEntityDescription:
    """The grid's export or import limit (kW, up to the installer's limit)."""
    part = f"{direction}_limit"

    def value(data: ControlsData) -> float | None:
        limit: GridLimit | None = getattr(data, part)
        return None if limit is None else limit.limit

    return _kw_number(
        f"grid_{direction}_limit",
        part,
        value_fn=value,
        range_fn=lambda view: _grid_range(view, part),
        write_fn=lambda limit: grid_limit(direction, limit=limit),
    )


def _battery_number(name: PowerLimit) -> SigenNumberEntityDescription:
    """The battery's charge or discharge power limit (kW, up to the rated power)."""

    def value(data: ControlsData) -> float | None:
        limits = data.power_limits
        return None if limits is None else getattr(limits, name)

    return _kw_number(
        f"battery_{name}_power",
        "power_limits",
        value_fn=value,
        range_fn=lambda view: _battery_range(view, name),
        write_fn=lambda limit: power_limit(name, limit),
        no_limit_is_max=True,
        rated=True,
    )


def _fixed(low: float, high: float) -> Callable[[StationView], Range]:
    return lambda _view: (low, high)


SETTING_NUMBERS: tuple[SigenNumberEntityDescription, ...] = (
    _soc_number("charge_cut_off_soc", "charge_cut_off", _charge_range),
    _soc_number("discharge_cut_off_soc", "discharge_cut_off", _discharge_range),
    _soc_number("backup_soc", "backup", _fixed(*BACKUP_SOC_RANGE)),
    replace(
        _soc_number("peak_shaving_soc", "peak_shaving", _fixed(*PEAK_SHAVING_SOC_RANGE)),
        value_fn=_peak_shaving_soc,
        write_fn=lambda value: peak_shaving_soc(round(value or 0)),
    ),
    _grid_number("export"),
    _grid_number("import"),
    _battery_number("max_charge"),
    _battery_number("max_discharge"),
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
