"""Binary sensors of the Sigen Cloud integration: fed by MQTT, and the EV chargers' plugs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SigenPushCoordinator
from .entity import (
    SigenEntity,
    SigenEntityDescription,
    async_remove_developer_entities,
    async_track_stations,
    value_key,
)
from .ev_sensors import async_setup_ev_binary_sensors

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .view import StationView

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SigenBinarySensorEntityDescription(BinarySensorEntityDescription, SigenEntityDescription):
    """A binary sensor of a station, from its pushed data."""

    value_fn: Callable[[StationView], bool | None]


def _has_system(view: StationView) -> bool:
    """Whether the ``change`` topic has said anything yet."""
    return view.system is not None


BINARY_SENSORS: tuple[SigenBinarySensorEntityDescription, ...] = (
    SigenBinarySensorEntityDescription(
        key="mqtt_connected",
        translation_key="mqtt_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.push.connected,
    ),
    SigenBinarySensorEntityDescription(
        key="peak_shaving",
        translation_key="peak_shaving",
        value_fn=lambda view: view.from_system(lambda system: system.peak_shaving_status),
        available_fn=_has_system,
    ),
    SigenBinarySensorEntityDescription(
        key="storm_watch",
        translation_key="storm_watch",
        value_fn=lambda view: view.from_system(lambda system: system.storm_watch_status),
        available_fn=_has_system,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors of every station, now and as stations appear.

    The station's only with developer credentials (the values come over MQTT); the
    chargers' plugs always.
    """
    async_remove_developer_entities(
        hass, entry, Platform.BINARY_SENSOR, (d.key for d in BINARY_SENSORS)
    )
    async_setup_ev_binary_sensors(hass, entry, async_add_entities)
    if entry.runtime_data.mqtt is None:
        return

    @callback
    def add_station(station: StationRuntime) -> None:
        view = station.view()
        async_add_entities(
            SigenBinarySensor(station.push, station, description)
            for description in BINARY_SENSORS
            if description.exists_fn(view)
        )

    await async_track_stations(entry, add_station)


class SigenBinarySensor(SigenEntity[SigenPushCoordinator], BinarySensorEntity):
    """A binary sensor of a station."""

    entity_description: SigenBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """The description's value of the station's pushed data."""
        view = self.view
        return None if view is None else self.entity_description.value_fn(view)

    @override
    def _shown_key(self) -> tuple[Any, ...]:
        """Whether it is on: the state follows from it (the rest is fixed)."""
        return value_key(self.is_on)
