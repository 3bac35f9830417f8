"""Binary sensors of the Sigen Cloud integration (all fed by MQTT)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenCoordinator
from .data import SigenCloudData, SigenConfigEntry, StationData
from .entity import SigenEntity, async_remove_developer_entities, async_track_stations

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SigenBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of a station."""

    value_fn: Callable[[SigenCloudData, StationData], bool | None]
    available_fn: Callable[[StationData], bool] = lambda _: True


BINARY_SENSORS: tuple[SigenBinarySensorEntityDescription, ...] = (
    SigenBinarySensorEntityDescription(
        key="mqtt_connected",
        translation_key="mqtt_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data, _station: data.mqtt_connected,
    ),
    SigenBinarySensorEntityDescription(
        key="peak_shaving",
        translation_key="peak_shaving",
        value_fn=lambda _data, station: getattr(station.system, "peak_shaving_status", None),
        available_fn=lambda station: station.system is not None,
    ),
    SigenBinarySensorEntityDescription(
        key="storm_watch",
        translation_key="storm_watch",
        value_fn=lambda _data, station: getattr(station.system, "storm_watch_status", None),
        available_fn=lambda station: station.system is not None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors of every station, now and as stations appear, when
    developer credentials give us MQTT.
    """
    async_remove_developer_entities(
        hass, entry, Platform.BINARY_SENSOR, (d.key for d in BINARY_SENSORS)
    )
    if entry.runtime_data.mqtt is None:
        return
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_station(station_id: str) -> None:
        async_add_entities(
            SigenBinarySensor(coordinator, station_id, description)
            for description in BINARY_SENSORS
        )

    async_track_stations(entry, add_station)


class SigenBinarySensor(SigenEntity, BinarySensorEntity):
    """A binary sensor of a station."""

    entity_description: SigenBinarySensorEntityDescription

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        description: SigenBinarySensorEntityDescription,
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
        )

    @property
    @override
    def is_on(self) -> bool | None:
        station = self.station
        if station is None:
            return None
        return self.entity_description.value_fn(self.coordinator.data, station)
