"""Energy counters integrated from the station's powers (kWh), restored across restarts.

These sensors integrate the freshest power samples of the poll and the push with the
trapezoidal rule; they never decrease. They are an **estimate**: they drift, and miss
whatever happened while Home Assistant was down. Where the cloud's own day counters
feed sensors (an app API station, :mod:`.energy_cloud`), they are disabled by default;
they stay enabled only for a station known by MQTT alone (push-only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import callback

from .coordinator import SigenLiveCoordinator, SigenPushCoordinator
from .entity import SigenEntity, SigenEntityDescription, value_key

if TYPE_CHECKING:
    from .data import StationRuntime
    from .view import PowerFn, StationView

# Samples further apart than this are not integrated (the link was down, HA was off).
MAX_SAMPLE_GAP = timedelta(minutes=15)

# How every power sensor (kW) and every energy counter (kWh, see sensor.py) is
# described, on stations and smart loads alike.
POWER_KW: dict[str, Any] = {
    "device_class": SensorDeviceClass.POWER,
    "native_unit_of_measurement": UnitOfPower.KILO_WATT,
    "state_class": SensorStateClass.MEASUREMENT,
    "suggested_display_precision": 2,
}
ENERGY_COUNTER_KWH: dict[str, Any] = {
    "device_class": SensorDeviceClass.ENERGY,
    "native_unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
    "state_class": SensorStateClass.TOTAL_INCREASING,
    "suggested_display_precision": 2,
}


@dataclass(frozen=True, kw_only=True)
class SigenEnergySensorEntityDescription(SensorEntityDescription, SigenEntityDescription):
    """An energy counter integrated from a power (kW, never negative) of a station."""

    power_fn: PowerFn


def _counter(key: str, power_fn: PowerFn) -> SigenEnergySensorEntityDescription:
    """The counter ``key`` (also its translation key) of the power ``power_fn`` gives."""
    return SigenEnergySensorEntityDescription(
        key=key, translation_key=key, **ENERGY_COUNTER_KWH, power_fn=power_fn
    )


ENERGY_SENSORS: tuple[SigenEnergySensorEntityDescription, ...] = (
    _counter("solar_energy", lambda p: p.pv_power),
    _counter("grid_import_energy", lambda p: p.grid_import_power),
    _counter("grid_export_energy", lambda p: p.grid_export_power),
    _counter("battery_charge_energy", lambda p: p.battery_charge_power),
    _counter("battery_discharge_energy", lambda p: p.battery_discharge_power),
)


class EnergyIntegrator:
    """Integrates power samples (kW) into energy (kWh) with the trapezoidal rule.

    Samples with an unknown or invalid power break the series; intervals longer than
    ``max_gap`` (or going back in time) are not integrated. The total never decreases.
    """

    def __init__(self, total: float = 0.0, max_gap: timedelta = MAX_SAMPLE_GAP) -> None:
        """Start from ``total`` kWh."""
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


class SigenEnergySensor(SigenEntity[SigenLiveCoordinator | SigenPushCoordinator], RestoreSensor):
    """An energy counter integrated from power samples, from both poll and push."""

    entity_description: SigenEnergySensorEntityDescription

    def __init__(
        self, station: StationRuntime, description: SigenEnergySensorEntityDescription
    ) -> None:
        """Count from zero until the last value is restored."""
        coordinator = station.live if station.live is not None else station.push
        super().__init__(coordinator, station, description, also=(station.push,))
        self.integrator = EnergyIntegrator()
        # The cloud's counters are the ones to trust where there are any (issue 19).
        self._attr_entity_registry_enabled_default = station.history is None

    @override
    async def async_added_to_hass(self) -> None:
        """Continue from the last stored total (a valid, non-negative number)."""
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
        """Add the freshest sample of the counter's power."""
        if (view := self.view) is not None:
            self.integrator.add(*view.power_sample(self.entity_description.power_fn))

    @override
    def _available_in(self, view: StationView) -> bool:
        """Unavailable while the station is offline.

        No energy is measured then, and a new counter would read 0.
        """
        return super()._available_in(view) and not view.offline

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Sample each update of the poll or the push, then write the state."""
        self._sample()
        super()._handle_coordinator_update()

    @property
    @override
    def native_value(self) -> float:
        """The total, in kWh."""
        return round(self.integrator.total, 4)

    @override
    def _shown_key(self) -> tuple[Any, ...]:
        """The total: the state and attributes follow from it (the rest is fixed)."""
        return value_key(self.native_value)
