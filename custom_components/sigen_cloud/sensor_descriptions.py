"""The sensors of a station: what each shows, read from the station's typed view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfReactivePower,
)
from homeassistant.helpers.typing import StateType

from .energy import ENERGY_COUNTER_KWH, POWER_KW
from .entity import SigenEntityDescription
from .sigen import EnergyFlow, SystemData, TelemetryData
from .view import GRID_STATUS_OPTIONS, STATUS_OPTIONS, PowerFn, StationView

type FlowFn = Callable[[EnergyFlow], float | None]
type TelemetryFn = Callable[[TelemetryData], float | None]
type SystemFn = Callable[[SystemData], float | None]


@dataclass(frozen=True, kw_only=True)
class SigenSensorEntityDescription(SensorEntityDescription, SigenEntityDescription):
    """A sensor of a station.

    ``mqtt_only``: pushed data, created only with developer credentials; ``push``:
    available only while the push is connected and fresh; ``live``: a live reading of
    the station, unavailable while the cloud reports it offline; ``controls``: read
    from the station's settings (the controls coordinator; app API stations only);
    ``alarms``: the alarm count, made whenever MQTT runs (whatever ``exists_fn``
    says) and updated when the app's alarm list is read too (the devices coordinator).
    """

    value_fn: Callable[[StationView], StateType | datetime]
    mqtt_only: bool = False
    alarms: bool = False
    push: bool = False
    live: bool = True
    controls: bool = False


def _has_ev(view: StationView) -> bool:
    """Whether the station has an EV charger (yes for a push-only station)."""
    return view.info is None or bool(view.info.has_ev)


def _has_ac_charger(view: StationView) -> bool:
    """Whether the station has an AC charger (yes for a push-only station)."""
    return view.info is None or bool(view.info.has_ac_charger)


def _has_manual_control(view: StationView) -> bool:
    """Whether the station reports its manual control."""
    return view.controls is not None and view.controls.manual is not None


def _manual_control_end(view: StationView) -> datetime | None:
    """When the running manual control ends (``None`` while none runs)."""
    manual = None if view.controls is None else view.controls.manual
    return manual.ends_at if manual is not None and manual.active else None


def _alarms_known(view: StationView) -> bool:
    """Whether the app's alarm list (or the push alone) may count the station's alarms.

    Not when the cloud said it offers no alarm list; a list not read yet (or whose
    first read failed) may still come. With MQTT the count is made anyway (``alarms``).
    """
    devices = view.devices
    return view.info is None or devices is None or devices.alarms_offered


def _has_system(view: StationView) -> bool:
    """Whether the ``change`` topic has said anything yet."""
    return view.system is not None


def _power(
    key: str, value_fn: Callable[[StationView], float | None], **kwargs: Any
) -> SigenSensorEntityDescription:
    """A power sensor (kW)."""
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        **POWER_KW,
        value_fn=value_fn,
        **kwargs,
    )


def _freshest(key: str, read: PowerFn) -> SigenSensorEntityDescription:
    """A power of both the poll and the push, from the fresher of the two."""
    return _power(key, lambda view: view.freshest(read))


def _flow(key: str, read: FlowFn, **kwargs: Any) -> SigenSensorEntityDescription:
    """A power of the polled energy flow only."""
    return _power(key, lambda view: view.from_flow(read), **kwargs)


def _telemetry(key: str, read: TelemetryFn, **kwargs: Any) -> SigenSensorEntityDescription:
    """A power of the pushed telemetry only (developer credentials)."""
    return _power(key, lambda view: view.from_telemetry(read), push=True, mqtt_only=True, **kwargs)


def _rated(key: str, read: SystemFn) -> SigenSensorEntityDescription:
    """A rated power of the system data (``change`` topic)."""
    return _power(
        key,
        lambda view: view.from_system(read),
        available_fn=_has_system,
        mqtt_only=True,
        live=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


def _cut_off_soc(key: str, read: SystemFn) -> SigenSensorEntityDescription:
    """A cut-off state of charge of the system data."""
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda view: view.from_system(read),
        available_fn=_has_system,
        mqtt_only=True,
        live=False,
    )


def _reactive(key: str, read: TelemetryFn) -> SigenSensorEntityDescription:
    """A reactive power of the telemetry (disabled by default)."""
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.REACTIVE_POWER,
        native_unit_of_measurement=UnitOfReactivePower.KILO_VOLT_AMPERE_REACTIVE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda view: view.from_telemetry(read),
        push=True,
        mqtt_only=True,
        entity_registry_enabled_default=False,
    )


def _storage(
    key: str, read: Callable[[StationView], float | None], **kwargs: Any
) -> SigenSensorEntityDescription:
    """A stored energy (kWh) of the push."""
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=read,
        mqtt_only=True,
        **kwargs,
    )


def _enum(
    key: str, options: list[str], read: Callable[[StationView], str | None], **kwargs: Any
) -> SigenSensorEntityDescription:
    """A status as one of ``options``."""
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENUM,
        options=options,
        value_fn=read,
        live=False,
        **kwargs,
    )


SENSORS: tuple[SigenSensorEntityDescription, ...] = (
    # Power flows (poll, and push when fresher).
    _freshest("pv_power", lambda p: p.pv_power),
    _freshest("grid_power", lambda p: p.grid_power),
    _freshest("grid_import_power", lambda p: p.grid_import_power),
    _freshest("grid_export_power", lambda p: p.grid_export_power),
    _freshest("battery_power", lambda p: p.battery_power),
    _freshest("battery_charge_power", lambda p: p.battery_charge_power),
    _freshest("battery_discharge_power", lambda p: p.battery_discharge_power),
    _freshest("load_power", lambda p: p.load_power),
    _flow("ev_power", lambda f: f.ev_power, exists_fn=_has_ev),
    _flow(
        "ac_charger_power",
        lambda f: f.ac_power,
        exists_fn=_has_ac_charger,
    ),
    _flow("heat_pump_power", lambda f: f.heat_pump_power),
    _flow("third_party_pv_power", lambda f: f.third_party_pv_power),
    _flow("generator_power", lambda f: f.generator_power),
    SigenSensorEntityDescription(
        key="battery_soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda view: view.freshest(lambda p: p.battery_soc),
    ),
    SigenSensorEntityDescription(
        key="pv_energy_today",
        translation_key="pv_energy_today",
        **ENERGY_COUNTER_KWH,
        value_fn=lambda view: view.from_flow(lambda f: f.pv_day_energy),
    ),
    _enum("grid_status", GRID_STATUS_OPTIONS, lambda view: view.grid_status),
    # Shows "disconnected" while offline.
    _enum("station_status", STATUS_OPTIONS, lambda view: view.station_status),
    # MQTT telemetry (developer credentials).
    _telemetry("inverter_active_power", lambda t: t.inverter_active_power),
    _reactive("inverter_reactive_power", lambda t: t.inverter_reactive_power),
    _reactive("grid_reactive_power", lambda t: t.grid_reactive_power),
    _telemetry(
        "grid_phase_a_power",
        lambda t: t.grid_phase_a_power,
        entity_registry_enabled_default=False,
    ),
    _telemetry(
        "grid_phase_b_power",
        lambda t: t.grid_phase_b_power,
        entity_registry_enabled_default=False,
    ),
    _telemetry(
        "grid_phase_c_power",
        lambda t: t.grid_phase_c_power,
        entity_registry_enabled_default=False,
    ),
    _telemetry("max_charge_power", lambda t: t.max_charge_power),
    _telemetry("max_discharge_power", lambda t: t.max_discharge_power),
    _storage("charge_capacity", lambda v: v.from_telemetry(lambda t: t.charge_capacity), push=True),
    _storage(
        "discharge_capacity", lambda v: v.from_telemetry(lambda t: t.discharge_capacity), push=True
    ),
    # MQTT system data (change topic).
    _rated("inverter_max_active_power", lambda s: s.inverter_max_active_power),
    _rated("battery_rated_charge_power", lambda s: s.battery_rated_charge_power),
    _rated(
        "battery_rated_discharge_power",
        lambda s: s.battery_rated_discharge_power,
    ),
    _rated("grid_max_backfeed_power", lambda s: s.grid_max_backfeed_power),
    _storage(
        "battery_rated_capacity",
        lambda v: v.from_system(lambda s: s.battery_rated_capacity),
        available_fn=_has_system,
        live=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _cut_off_soc("charge_cut_off_soc", lambda s: s.charge_cut_off_soc),
    _cut_off_soc("discharge_cut_off_soc", lambda s: s.discharge_cut_off_soc),
    _cut_off_soc("backup_cut_off_soc", lambda s: s.backup_cut_off_soc),
    _cut_off_soc("peak_shaving_cut_off_soc", lambda s: s.peak_shaving_cut_off_soc),
    _enum(
        "system_status",
        STATUS_OPTIONS,
        lambda view: view.system_status,
        available_fn=lambda view: view.telemetry is not None or view.system is not None,
        mqtt_only=True,
    ),
    SigenSensorEntityDescription(
        key="active_alarms",
        translation_key="active_alarms",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda view: view.active_alarm_count,
        # pushed alarms with MQTT, the app's alarm list without, both with both (issue 18)
        exists_fn=_alarms_known,
        live=False,
        alarms=True,
    ),
    SigenSensorEntityDescription(
        key="manual_control_end",
        translation_key="manual_control_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_manual_control_end,
        exists_fn=_has_manual_control,
        available_fn=_has_manual_control,
        live=False,
        controls=True,
    ),
    SigenSensorEntityDescription(
        key="last_telemetry",
        translation_key="last_telemetry",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.last_telemetry,
        mqtt_only=True,
        live=False,
    ),
)
