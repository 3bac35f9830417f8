"""Sensors of the Sigen Cloud integration.

Power sensors follow Home Assistant's Energy dashboard conventions: grid power is
positive while importing, battery power positive while discharging. Values come from
the freshest source: the MQTT telemetry when it is newer than the last energy-flow
poll, the polled energy flow otherwise.

State classes of the energy counters, chosen deliberately:

* the cloud's own counters (PV energy today, a smart load's energy today / this month /
  lifetime) are ``total_increasing``: the cloud resets the daily and monthly ones at the
  station's local midnight, which Home Assistant may not know (another time zone, a
  late reset), and ``total_increasing`` detects the reset from the drop itself instead
  of trusting a guessed ``last_reset``;
* the integrated energy sensors (solar production, grid import/export, battery
  charge/discharge) are ``total_increasing`` counters kept by us, restored across
  restarts, never decreasing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfReactivePower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import SigenCoordinator
from .data import SigenConfigEntry, StationData
from .entity import (
    SigenEntity,
    SigenSmartLoadEntity,
    async_remove_developer_entities,
    async_track_smart_loads,
    async_track_stations,
)
from .sigen import SmartLoad, SmartLoadConsumption

PARALLEL_UPDATES = 0

# Samples further apart than this are not integrated (the link was down, HA was off).
MAX_SAMPLE_GAP = timedelta(minutes=15)

GRID_STATUS_OPTIONS = ["on_grid", "off_grid", "off_grid_auto", "off_grid_manual"]
_GRID_STATUS_CODES = {0: "on_grid", 1: "off_grid_auto", 2: "off_grid_manual"}
STATUS_OPTIONS = ["standby", "running", "fault", "shutdown", "disconnected"]
_STATUS_CODES = {0: "standby", 1: "running", 2: "fault", 3: "shutdown", 4: "disconnected"}


def _code(value: object) -> int | None:
    """An integer status code from an int, a float or a numeric string ("1.0")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def grid_status(value: object) -> str | None:
    """Map an on/off-grid status (code or text) to an option of the enum sensor."""
    if isinstance(value, str):
        text = value.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
        if text == "ongrid":
            return "on_grid"
        if text == "offgrid":
            return "off_grid"
    code = _code(value)
    return None if code is None else _GRID_STATUS_CODES.get(code)


def run_status(value: object) -> str | None:
    """Map a station/system status (code or text) to an option of the enum sensor."""
    if isinstance(value, str) and (text := value.strip().lower()) in STATUS_OPTIONS:
        return text
    code = _code(value)
    return None if code is None else _STATUS_CODES.get(code)


def plain_zero[T](value: T) -> T | float:
    """A float with its zero as ``0.0``: ``-0.0`` (a negated or parsed zero, from
    either the telemetry or the poll) would read "-0.0" and make a state change of
    its own each time the source flips. One rule for both paths.
    """
    if isinstance(value, float):
        return value + 0.0  # -0.0 + 0.0 == +0.0; every other value stays as it is
    return value


def telemetry_is_fresher(station: StationData) -> bool:
    """Whether the MQTT telemetry is newer than the last energy-flow poll."""
    if station.telemetry is None:
        return False
    if station.energy_flow is None or station.last_poll is None:
        return True
    return station.last_telemetry is not None and station.last_telemetry >= station.last_poll


def station_offline(station: StationData) -> bool:
    """Whether the cloud reports the station offline (energy flow ``stationStatus`` 4,
    every power ``null``) and no push newer than that poll says otherwise.

    Its measurements are then unavailable: unknown, not 0, and not the last pushed
    values either (they are older than the cloud's word).
    """
    flow = station.energy_flow
    return flow is not None and flow.is_offline and not telemetry_is_fresher(station)


def freshest(attr: str) -> Callable[[StationData], Any]:
    """Read ``attr`` from the freshest of telemetry and energy flow."""

    def value(station: StationData) -> Any:
        if telemetry_is_fresher(station):
            found = getattr(station.telemetry, attr, None)
            if found is not None:
                return found
        return getattr(station.energy_flow, attr, None)

    return value


def flow(attr: str) -> Callable[[StationData], Any]:
    """Read ``attr`` from the polled energy flow."""
    return lambda station: getattr(station.energy_flow, attr, None)


def telemetry(attr: str) -> Callable[[StationData], Any]:
    """Read ``attr`` from the MQTT telemetry."""
    return lambda station: getattr(station.telemetry, attr, None)


def system(attr: str) -> Callable[[StationData], Any]:
    """Read ``attr`` from the MQTT system data (change topic)."""
    return lambda station: getattr(station.system, attr, None)


def _grid_status_value(station: StationData) -> str | None:
    for source in (
        station.telemetry if telemetry_is_fresher(station) else None,
        station.system,
        station.energy_flow,
    ):
        if (status := grid_status(getattr(source, "on_off_grid_status", None))) is not None:
            return status
    on_grid = getattr(station.energy_flow, "on_grid", None)
    if on_grid is None:
        return None
    return "on_grid" if on_grid else "off_grid"


def _system_status_value(station: StationData) -> str | None:
    status = run_status(getattr(station.telemetry, "system_status", None))
    if status is None:
        status = run_status(getattr(station.system, "system_status", None))
    return status


def _has(flag: str) -> Callable[[StationData], bool]:
    """Whether the station has a feature (unknown counts as yes)."""
    return lambda station: station.info is None or bool(getattr(station.info, flag, True))


def _always(_: StationData) -> bool:
    return True


def _has_system(station: StationData) -> bool:
    return station.system is not None


# How every power sensor (kW) and every energy counter (kWh, see the module doc) is
# described, on stations and smart loads alike.
_POWER_KW: dict[str, Any] = {
    "device_class": SensorDeviceClass.POWER,
    "native_unit_of_measurement": UnitOfPower.KILO_WATT,
    "state_class": SensorStateClass.MEASUREMENT,
    "suggested_display_precision": 2,
}
_ENERGY_COUNTER_KWH: dict[str, Any] = {
    "device_class": SensorDeviceClass.ENERGY,
    "native_unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
    "state_class": SensorStateClass.TOTAL_INCREASING,
    "suggested_display_precision": 2,
}


@dataclass(frozen=True, kw_only=True)
class SigenSensorEntityDescription(SensorEntityDescription):
    """A sensor of a station."""

    value_fn: Callable[[StationData], StateType | datetime]
    available_fn: Callable[[StationData], bool] = _always
    exists_fn: Callable[[StationData], bool] = _always
    mqtt_only: bool = False
    # Only available while the MQTT push is connected and fresh.
    push: bool = False
    # A live reading of the station: unavailable while it is offline (station_offline).
    live: bool = True


def _power(
    key: str,
    value_fn: Callable[[StationData], Any],
    **kwargs: Any,
) -> SigenSensorEntityDescription:
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        **_POWER_KW,
        value_fn=value_fn,
        **kwargs,
    )


def _mqtt_power(key: str, attr: str, **kwargs: Any) -> SigenSensorEntityDescription:
    return _power(key, telemetry(attr), push=True, mqtt_only=True, **kwargs)


def _rated_power(key: str, attr: str) -> SigenSensorEntityDescription:
    return _power(
        key,
        system(attr),
        available_fn=_has_system,
        mqtt_only=True,
        live=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


def _cut_off_soc(key: str) -> SigenSensorEntityDescription:
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=system(key),
        available_fn=_has_system,
        mqtt_only=True,
        live=False,
    )


def _reactive(key: str, attr: str) -> SigenSensorEntityDescription:
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.REACTIVE_POWER,
        native_unit_of_measurement=UnitOfReactivePower.KILO_VOLT_AMPERE_REACTIVE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=telemetry(attr),
        push=True,
        mqtt_only=True,
        entity_registry_enabled_default=False,
    )


def _storage(
    key: str, value_fn: Callable[[StationData], Any], **kwargs: Any
) -> SigenSensorEntityDescription:
    return SigenSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=value_fn,
        mqtt_only=True,
        **kwargs,
    )


def _alarm_count(station: StationData) -> int:
    return len(station.active_alarms)


SENSORS: tuple[SigenSensorEntityDescription, ...] = (
    # Power flows (poll, and push when fresher).
    _power("pv_power", freshest("pv_power")),
    _power("grid_power", freshest("grid_power")),
    _power("grid_import_power", freshest("grid_import_power")),
    _power("grid_export_power", freshest("grid_export_power")),
    _power("battery_power", freshest("battery_power")),
    _power("battery_charge_power", freshest("battery_charge_power")),
    _power("battery_discharge_power", freshest("battery_discharge_power")),
    _power("load_power", freshest("load_power")),
    _power("ev_power", flow("ev_power"), exists_fn=_has("has_ev")),
    _power("ac_charger_power", flow("ac_power"), exists_fn=_has("has_ac_charger")),
    _power("heat_pump_power", flow("heat_pump_power")),
    _power("third_party_pv_power", flow("third_party_pv_power")),
    _power("generator_power", flow("generator_power")),
    SigenSensorEntityDescription(
        key="battery_soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=freshest("battery_soc"),
    ),
    SigenSensorEntityDescription(
        key="pv_energy_today",
        translation_key="pv_energy_today",
        **_ENERGY_COUNTER_KWH,
        value_fn=flow("pv_day_energy"),
    ),
    SigenSensorEntityDescription(
        key="grid_status",
        translation_key="grid_status",
        device_class=SensorDeviceClass.ENUM,
        options=GRID_STATUS_OPTIONS,
        value_fn=_grid_status_value,
        live=False,
    ),
    SigenSensorEntityDescription(
        key="station_status",
        translation_key="station_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda station: run_status(getattr(station.energy_flow, "station_status", None)),
        live=False,  # shows "disconnected" while offline
    ),
    # MQTT telemetry (developer credentials).
    _mqtt_power("inverter_active_power", "inverter_active_power"),
    _reactive("inverter_reactive_power", "inverter_reactive_power"),
    _reactive("grid_reactive_power", "grid_reactive_power"),
    _mqtt_power("grid_phase_a_power", "grid_phase_a_power", entity_registry_enabled_default=False),
    _mqtt_power("grid_phase_b_power", "grid_phase_b_power", entity_registry_enabled_default=False),
    _mqtt_power("grid_phase_c_power", "grid_phase_c_power", entity_registry_enabled_default=False),
    _mqtt_power("max_charge_power", "max_charge_power"),
    _mqtt_power("max_discharge_power", "max_discharge_power"),
    _storage("charge_capacity", telemetry("charge_capacity"), push=True),
    _storage("discharge_capacity", telemetry("discharge_capacity"), push=True),
    # MQTT system data (change topic).
    _rated_power("inverter_max_active_power", "inverter_max_active_power"),
    _rated_power("battery_rated_charge_power", "battery_rated_charge_power"),
    _rated_power("battery_rated_discharge_power", "battery_rated_discharge_power"),
    _rated_power("grid_max_backfeed_power", "grid_max_backfeed_power"),
    _storage(
        "battery_rated_capacity",
        system("battery_rated_capacity"),
        available_fn=_has_system,
        live=False,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _cut_off_soc("charge_cut_off_soc"),
    _cut_off_soc("discharge_cut_off_soc"),
    _cut_off_soc("backup_cut_off_soc"),
    _cut_off_soc("peak_shaving_cut_off_soc"),
    SigenSensorEntityDescription(
        key="system_status",
        translation_key="system_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=_system_status_value,
        available_fn=lambda station: station.telemetry is not None or station.system is not None,
        mqtt_only=True,
        live=False,
    ),
    SigenSensorEntityDescription(
        key="active_alarms",
        translation_key="active_alarms",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_alarm_count,
        mqtt_only=True,
        live=False,
    ),
    SigenSensorEntityDescription(
        key="last_telemetry",
        translation_key="last_telemetry",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda station: station.last_telemetry,
        mqtt_only=True,
        live=False,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SigenEnergySensorEntityDescription(SensorEntityDescription):
    """An energy counter integrated from a power (kW, never negative) of a station."""

    power_attr: str


ENERGY_SENSORS: tuple[SigenEnergySensorEntityDescription, ...] = tuple(
    SigenEnergySensorEntityDescription(
        key=key,
        translation_key=key,
        **_ENERGY_COUNTER_KWH,
        power_attr=attr,
    )
    for key, attr in (
        ("solar_energy", "pv_power"),
        ("grid_import_energy", "grid_import_power"),
        ("grid_export_energy", "grid_export_power"),
        ("battery_charge_energy", "battery_charge_power"),
        ("battery_discharge_energy", "battery_discharge_power"),
    )
)


@dataclass(frozen=True, kw_only=True)
class SigenSmartLoadSensorEntityDescription(SensorEntityDescription):
    """A sensor of a smart load."""

    value_fn: Callable[[SmartLoad, SmartLoadConsumption | None], StateType]


def _consumption(key: str, attr: str) -> SigenSmartLoadSensorEntityDescription:
    return SigenSmartLoadSensorEntityDescription(
        key=key,
        translation_key=f"smart_load_{key}",
        **_ENERGY_COUNTER_KWH,
        value_fn=lambda _load, used: getattr(used, attr, None),
    )


SMART_LOAD_SENSORS: tuple[SigenSmartLoadSensorEntityDescription, ...] = (
    SigenSmartLoadSensorEntityDescription(
        key="power",
        translation_key="smart_load_power",
        **_POWER_KW,
        value_fn=lambda load, _used: load.power,
    ),
    _consumption("energy_today", "today"),
    _consumption("energy_month", "month"),
    _consumption("energy_lifetime", "lifetime"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of every station and smart load, now and as they appear."""
    coordinator = entry.runtime_data.coordinator
    with_mqtt = entry.runtime_data.mqtt is not None
    async_remove_developer_entities(
        hass, entry, Platform.SENSOR, (d.key for d in SENSORS if d.mqtt_only)
    )

    @callback
    def add_station(station_id: str) -> None:
        station = coordinator.data.stations[station_id]
        entities: list[SensorEntity] = [
            SigenSensor(coordinator, station_id, description)
            for description in SENSORS
            if (with_mqtt or not description.mqtt_only) and description.exists_fn(station)
        ]
        entities.extend(
            SigenEnergySensor(coordinator, station_id, description)
            for description in ENERGY_SENSORS
        )
        async_add_entities(entities)

    async_track_stations(entry, add_station)

    @callback
    def add_load(station_id: str, path: int, via_device_id: str) -> None:
        async_add_entities(
            SigenSmartLoadSensor(coordinator, station_id, path, description, via_device_id)
            for description in SMART_LOAD_SENSORS
        )

    async_track_smart_loads(hass, entry, add_load)


class SigenSensor(SigenEntity, SensorEntity):
    """A sensor of a station, read from the coordinator's data."""

    entity_description: SigenSensorEntityDescription

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        description: SigenSensorEntityDescription,
    ) -> None:
        super().__init__(coordinator, station_id, description.key)
        self.entity_description = description

    @property
    @override
    def available(self) -> bool:
        station = self.station
        return (
            super().available
            and station is not None
            and self.entity_description.available_fn(station)
            and (
                not self.entity_description.push
                or self.coordinator.telemetry_available(self.station_id)
            )
            and not (self.entity_description.live and station_offline(station))
        )

    @property
    @override
    def native_value(self) -> StateType | datetime:
        station = self.station
        return None if station is None else plain_zero(self.entity_description.value_fn(station))


class EnergyIntegrator:
    """Integrates power samples (kW) into energy (kWh) with the trapezoidal rule.

    Samples with an unknown or invalid power break the series; intervals longer than
    ``max_gap`` (or going back in time) are not integrated. The total never decreases.
    """

    def __init__(self, total: float = 0.0, max_gap: timedelta = MAX_SAMPLE_GAP) -> None:
        self.total = total
        self.max_gap = max_gap
        self.last: tuple[datetime, float] | None = None

    def add(self, when: datetime | None, power: float | None) -> bool:
        """Add a sample; return whether the total grew."""
        if when is None or power is None or not math.isfinite(power):
            self.last = None
            return False
        power = max(power, 0.0)
        previous, self.last = self.last, (when, power)
        if previous is None:
            return False
        seconds = (when - previous[0]).total_seconds()
        if seconds <= 0:
            # The same sample again (an update from another source): keep the older one.
            self.last = previous
            return False
        if seconds > self.max_gap.total_seconds():
            return False
        added = (previous[1] + power) / 2 * seconds / 3600
        self.total += added
        return added > 0


def power_sample(station: StationData, attr: str) -> tuple[datetime | None, float | None]:
    """The freshest sample of a power: its time and value (kW)."""
    if telemetry_is_fresher(station):
        value = getattr(station.telemetry, attr, None)
        if value is not None:
            return station.last_telemetry or station.last_poll, value
    return station.last_poll, getattr(station.energy_flow, attr, None)


class SigenEnergySensor(SigenEntity, RestoreSensor):
    """An energy counter integrated from power samples, from both poll and push."""

    entity_description: SigenEnergySensorEntityDescription

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        description: SigenEnergySensorEntityDescription,
    ) -> None:
        super().__init__(coordinator, station_id, description.key)
        self.entity_description = description
        self.integrator = EnergyIntegrator()

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None:
            try:
                restored = float(last.native_value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                restored = None
            if restored is not None and math.isfinite(restored) and restored >= 0:
                self.integrator.total = restored
        self._sample()

    def _sample(self) -> None:
        if (station := self.station) is not None:
            self.integrator.add(*power_sample(station, self.entity_description.power_attr))

    @property
    @override
    def available(self) -> bool:
        """Unavailable while the station is offline: no energy is measured, and a new
        counter would read 0.
        """
        station = self.station
        return super().available and station is not None and not station_offline(station)

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        self._sample()
        super()._handle_coordinator_update()

    @property
    @override
    def native_value(self) -> float:
        return round(self.integrator.total, 4)


class SigenSmartLoadSensor(SigenSmartLoadEntity, SensorEntity):
    """Power and consumption of one smart load."""

    entity_description: SigenSmartLoadSensorEntityDescription

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        path: int,
        description: SigenSmartLoadSensorEntityDescription,
        via_device_id: str,
    ) -> None:
        super().__init__(coordinator, station_id, path, description.key, via_device_id)
        self.entity_description = description

    @property
    @override
    def native_value(self) -> StateType:
        station, load = self.station, self.smart_load
        if station is None or load is None:
            return None
        return plain_zero(
            self.entity_description.value_fn(load, station.consumption.get(self.path))
        )
