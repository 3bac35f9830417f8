"""Sensors of the Sigen Cloud integration.

Power sensors follow Home Assistant's Energy dashboard conventions: grid power is
positive while importing, battery power positive while discharging. Values come from
the freshest source (``StationView``): the MQTT telemetry when it is newer than the
last energy-flow poll, the polled energy flow otherwise.

State classes of the energy counters, chosen deliberately:

* the cloud's own counters (PV energy today, a smart load's energy today / this month /
  lifetime) are ``total_increasing``: the cloud resets the daily and monthly ones at the
  station's local midnight, which Home Assistant may not know (another time zone, a
  late reset), and ``total_increasing`` detects the reset from the drop itself instead
  of trusting a guessed ``last_reset``;
* the integrated energy sensors (energy.py) are ``total_increasing`` counters kept by
  us, restored across restarts, never decreasing: an estimate, disabled by default
  where the cloud's day counters feed sensors of their own (energy_cloud.py, issue 19).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.sensor import (
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import SigenControlsCoordinator, SigenLiveCoordinator, SigenPushCoordinator
from .energy import ENERGY_COUNTER_KWH, ENERGY_SENSORS, POWER_KW, SigenEnergySensor
from .energy_cloud import CLOUD_ENERGY_SENSORS, SigenCloudEnergySensor
from .entity import (
    SigenEntity,
    SigenEntityDescription,
    SigenSmartLoadEntity,
    async_remove_developer_entities,
    async_track_smart_loads,
    async_track_stations,
)
from .ev_sensors import async_setup_ev_sensors
from .sensor_controller import controller_sensors
from .sensor_descriptions import SENSORS, SigenSensorEntityDescription
from .sensor_forecast import forecast_sensors

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .sigen import SmartLoad, SmartLoadConsumption
    from .view import StationView

PARALLEL_UPDATES = 0

__all__ = ["ENERGY_SENSORS", "SENSORS", "plain_zero"]


def plain_zero[T](value: T) -> T | float:
    """A float with its zero as ``0.0``.

    ``-0.0`` (a negated or parsed zero, from either the telemetry or the poll) would
    read "-0.0" and make a state change of its own each time the source flips. One
    rule for both paths.
    """
    if isinstance(value, float):
        return value + 0.0  # -0.0 + 0.0 == +0.0; every other value stays as it is
    return value


@dataclass(frozen=True, kw_only=True)
class SigenSmartLoadSensorEntityDescription(SensorEntityDescription, SigenEntityDescription):
    """A sensor of a smart load: its power, or its consumption."""

    value_fn: Callable[[SmartLoad, SmartLoadConsumption | None], StateType]


SMART_LOAD_SENSORS: tuple[SigenSmartLoadSensorEntityDescription, ...] = (
    SigenSmartLoadSensorEntityDescription(
        key="power",
        translation_key="smart_load_power",
        **POWER_KW,
        value_fn=lambda load, _used: load.power,
    ),
    SigenSmartLoadSensorEntityDescription(
        key="energy_today",
        translation_key="smart_load_energy_today",
        **ENERGY_COUNTER_KWH,
        value_fn=lambda _load, used: used.today if used else None,
    ),
    SigenSmartLoadSensorEntityDescription(
        key="energy_month",
        translation_key="smart_load_energy_month",
        **ENERGY_COUNTER_KWH,
        value_fn=lambda _load, used: used.month if used else None,
    ),
    SigenSmartLoadSensorEntityDescription(
        key="energy_lifetime",
        translation_key="smart_load_energy_lifetime",
        **ENERGY_COUNTER_KWH,
        value_fn=lambda _load, used: used.lifetime if used else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of every station and smart load, now and as they appear."""
    with_mqtt = entry.runtime_data.mqtt is not None
    async_remove_developer_entities(
        hass, entry, Platform.SENSOR, (d.key for d in SENSORS if d.mqtt_only)
    )

    @callback
    def add_station(station: StationRuntime) -> None:
        view = station.view()
        entities: list[SensorEntity] = [
            SigenSensor(station, description)
            for description in SENSORS
            if (with_mqtt and description.alarms)
            or ((with_mqtt or not description.mqtt_only) and description.exists_fn(view))
        ]
        entities.extend(SigenEnergySensor(station, description) for description in ENERGY_SENSORS)
        if station.history is not None:
            entities.extend(
                SigenCloudEnergySensor(station, description) for description in CLOUD_ENERGY_SENSORS
            )
        entities.extend(forecast_sensors(station))
        entities.extend(controller_sensors(station))
        async_add_entities(entities)

    await async_track_stations(entry, add_station)
    async_setup_ev_sensors(hass, entry, async_add_entities)

    @callback
    def add_load(station: StationRuntime, path: int, via_device_id: str) -> None:
        assert station.smart_loads is not None
        coordinator = station.smart_loads
        async_add_entities(
            SigenSmartLoadSensor(coordinator, station, path, description, via_device_id)
            for description in SMART_LOAD_SENSORS
        )

    async_track_smart_loads(hass, entry, add_load)


type SensorSource = SigenLiveCoordinator | SigenPushCoordinator | SigenControlsCoordinator


class SigenSensor(SigenEntity[SensorSource], SensorEntity):
    """A sensor of a station: from its live poll, or its push, or the freshest of both.

    A sensor of the station's settings follows the controls coordinator alone.
    """

    entity_description: SigenSensorEntityDescription

    def __init__(self, station: StationRuntime, description: SigenSensorEntityDescription) -> None:
        """Listen to the push and the poll; availability follows the description's source."""
        if description.controls and station.controls is not None:
            super().__init__(station.controls, station, description)
            return
        coordinator: SensorSource = station.push
        if not description.mqtt_only and station.live is not None:
            coordinator = station.live
        devices = station.devices if description.alarms else None
        super().__init__(
            coordinator, station, description, also=(station.live, station.push, devices)
        )

    @override
    def _available_in(self, view: StationView) -> bool:
        """Also unavailable while a push reading is stale, or a live one offline."""
        description = self.entity_description
        return (
            super()._available_in(view)
            and (not description.push or self.station.push.telemetry_available)
            and not (description.live and view.offline)
        )

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """The description's value of the station's current data."""
        view = self.view
        return None if view is None else plain_zero(self.entity_description.value_fn(view))

    @override
    def _shown_now(self) -> tuple[Any, ...]:
        """Availability and the native value (the state and attributes follow from it).

        One view for both; the same checks as :attr:`available` and :attr:`native_value`.
        """
        view = self.view
        if view is None or not self._available_in(view):
            return (False,)
        value = plain_zero(self.entity_description.value_fn(view))
        return (True, value.__class__, value)  # as entity.value_key, without the call


class SigenSmartLoadSensor(SigenSmartLoadEntity, SensorEntity):
    """Power and consumption of one smart load."""

    entity_description: SigenSmartLoadSensorEntityDescription

    @property
    @override
    def native_value(self) -> StateType:
        """The description's value of the load and its consumption."""
        load = self.smart_load
        if load is None:
            return None
        used = self.coordinator.data.consumption.get(self.path)
        return plain_zero(self.entity_description.value_fn(load, used))
