"""Energy sensors fed by the cloud's own day counters (issue 19).

PV production, home consumption, grid import and export, battery charge and discharge,
kWh since the station's local midnight, read every 5 minutes by the station's history
coordinator (:mod:`.coordinator.history`, which guards them against dropouts and
resets them only at local midnight). They are ``total_increasing``: Home Assistant
sees the midnight reset from the drop itself. The cloud reports no EV or heat-pump
share in these counters (the household's use includes the EV's), so there are none.

The integrated counters of :mod:`.energy` stay, disabled by default, where one of these
exists; they are an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription

from .coordinator.history import HistoryData, SigenHistoryCoordinator
from .energy import ENERGY_COUNTER_KWH
from .entity import SigenEntity, SigenEntityDescription

if TYPE_CHECKING:
    from .data import StationRuntime


@dataclass(frozen=True, kw_only=True)
class SigenCloudEnergyDescription(SensorEntityDescription, SigenEntityDescription):
    """A day counter of the cloud; ``counter`` is its name in the library."""

    counter: str


def _description(key: str, counter: str) -> SigenCloudEnergyDescription:
    """A cloud-fed energy counter (kWh, ``total_increasing``)."""
    return SigenCloudEnergyDescription(
        key=key, translation_key=key, counter=counter, **ENERGY_COUNTER_KWH
    )


CLOUD_ENERGY_SENSORS: tuple[SigenCloudEnergyDescription, ...] = (
    _description("pv_production_today", "pv"),
    _description("home_consumption_today", "consumption"),
    _description("grid_import_today", "grid_import"),
    _description("grid_export_today", "grid_export"),
    _description("battery_charge_today", "battery_charge"),
    _description("battery_discharge_today", "battery_discharge"),
)


class SigenCloudEnergySensor(SigenEntity[SigenHistoryCoordinator], SensorEntity):
    """One of the cloud's day counters of a station."""

    entity_description: SigenCloudEnergyDescription

    def __init__(self, station: StationRuntime, description: SigenCloudEnergyDescription) -> None:
        """Follow the station's history coordinator."""
        assert station.history is not None
        super().__init__(station.history, station, description)

    @property
    @override
    def native_value(self) -> float | None:
        """The counter since local midnight, kWh (``None`` before the cloud has one)."""
        data: HistoryData | None = self.coordinator.data
        if data is None:
            return None
        return data.counters.get(self.entity_description.counter)
