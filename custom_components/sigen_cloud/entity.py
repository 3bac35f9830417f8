"""Base entity of the Sigen Cloud integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import SigenCoordinator
from .data import StationData


class SigenEntity(CoordinatorEntity[SigenCoordinator]):
    """An entity that belongs to one station's device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: SigenCoordinator, station_id: str, key: str) -> None:
        super().__init__(coordinator)
        self.station_id = station_id
        self._attr_unique_id = f"{station_id}_{key}"
        station = coordinator.data.stations.get(station_id)
        info = station.info if station else None
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, station_id)},
            manufacturer="Sigenergy",
            model="SigenStor station",
            name=f"Sigen station {station_id}",
            serial_number=station.system_id if station else None,
            configuration_url="https://app-eu.sigencloud.com/" if info else None,
        )

    @property
    def station(self) -> StationData | None:
        """This entity's station in the coordinator's latest data."""
        return self.coordinator.data.stations.get(self.station_id)

    @property
    def available(self) -> bool:
        """Available while the coordinator is and the station is still on the account."""
        return super().available and self.station is not None
