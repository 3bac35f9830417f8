"""Base entities of the Sigen Cloud integration, and helpers the platforms share."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .client import has_developer_credentials as entry_has_developer_credentials
from .const import DOMAIN, LOGGER
from .coordinator import SigenCoordinator
from .data import SigenConfigEntry, StationData
from .helpers import sigen_errors
from .sigen import (
    CurrentMode,
    NBMode,
    SmartLoad,
)
from .sigen.const import APP_DEFAULT_PROFILE_ID

# Modes the northbound REST API switches; the others go over MQTT.
NB_REST_MODES = frozenset({NBMode.MSC, NBMode.FFG})


def station_device_info(coordinator: SigenCoordinator, station_id: str) -> DeviceInfo:
    """The device of a station.

    It is named as the owner named the station in the app (its id where no name is
    known). Its "Visit" link opens the web app of the entry's own region, or its own
    server (the simulator answers there with its control index).
    """
    station = coordinator.data.stations.get(station_id)
    info = station.info if station else None
    return DeviceInfo(
        identifiers={(DOMAIN, station_id)},
        manufacturer="Sigenergy",
        model="SigenStor station",
        # The name the owner gave the station in the app; its id where none is known.
        name=(info.name if info and info.name else None) or f"Sigen station {station_id}",
        serial_number=station.system_id if station else None,
        configuration_url=coordinator.client.web_app_url if info else None,
    )


class SigenEntity(CoordinatorEntity[SigenCoordinator]):
    """An entity that belongs to one station's device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: SigenCoordinator, station_id: str, key: str) -> None:
        super().__init__(coordinator)
        self.station_id = station_id
        self._attr_unique_id = f"{station_id}_{key}"
        self._attr_device_info = station_device_info(coordinator, station_id)

    async def async_added_to_hass(self) -> None:
        """Listen to polls (every entity) and to pushes of this entity's station."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_station_listener(
                self.station_id, self._handle_coordinator_update
            )
        )

    @property
    def station(self) -> StationData | None:
        """This entity's station in the coordinator's latest data."""
        return self.coordinator.data.stations.get(self.station_id)

    @property
    def available(self) -> bool:
        """Available while the coordinator is and the station is still on the account."""
        return super().available and self.station is not None


@callback
def async_track_stations(entry: SigenConfigEntry, add_station: Callable[[str], None]) -> None:
    """Call ``add_station(station_id)`` for every station now and for stations that
    appear later (a coordinator listener comparing the known station ids).

    A station that leaves the account loses its device in the coordinator, and with
    it every entity of it on every platform; should it come back, it is added again.
    """
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def update() -> None:
        current = coordinator.station_ids
        for station_id in sorted(current - known):
            add_station(station_id)
        known.clear()
        known.update(current)

    update()
    entry.async_on_unload(coordinator.async_add_listener(update))


@callback
def async_remove_developer_entities(
    hass: HomeAssistant, entry: SigenConfigEntry, domain: str, keys: Iterable[str]
) -> None:
    """Remove this platform's entities that need developer credentials (``keys``: their
    description keys) from the entity registry when the entry has none.

    The entities are only created with developer credentials; without this, removing
    the credentials would leave their registry entries behind as "unavailable"
    entities. They are created again when the credentials come back. Credentials that
    are set but refused for now keep their entities (unavailable, a repair issue
    explains why).
    """
    if entry_has_developer_credentials(entry.data):
        return
    registry = er.async_get(hass)
    wanted = set(keys)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        # Station entities are "<station or system id>_<key>"; neither id has a "_".
        if entity.domain == domain and entity.unique_id.partition("_")[2] in wanted:
            LOGGER.debug("Removing %s: the entry has no developer credentials", entity.entity_id)
            registry.async_remove(entity.entity_id)


def smart_load_identifier(station_id: str, path: int) -> tuple[str, str]:
    """Device registry identifier of a smart load's own device."""
    return (DOMAIN, f"{station_id}_smart_load_{path}")


class SigenSmartLoadEntity(SigenEntity):
    """An entity of one smart load, on the load's own device (via the station's device).

    Smart loads get their own devices so that a load that disappears from the account
    takes all its entities with it when its device is removed.
    """

    def __init__(
        self,
        coordinator: SigenCoordinator,
        station_id: str,
        path: int,
        key: str,
        via_device_id: str,
    ) -> None:
        super().__init__(coordinator, station_id, f"smart_load_{path}_{key}")
        self.path = path
        load = self.smart_load
        self._attr_device_info = DeviceInfo(
            identifiers={smart_load_identifier(station_id, path)},
            manufacturer="Sigenergy",
            model="Smart load",
            name=load.name if load else f"Smart load {path}",
            via_device_id=via_device_id,
        )

    @property
    def smart_load(self) -> SmartLoad | None:
        """This entity's smart load in the coordinator's latest data."""
        station = self.station
        return station.smart_loads.get(self.path) if station else None

    @property
    def available(self) -> bool:
        """Available while the load is still on the station."""
        return super().available and self.smart_load is not None


def current_smart_loads(coordinator: SigenCoordinator) -> set[tuple[str, int]]:
    """Every (station id, load path) in the coordinator's data."""
    return {
        (station_id, path)
        for station_id, station in coordinator.data.stations.items()
        for path in station.smart_loads
    }


@callback
def async_track_smart_loads(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    add_load: Callable[[str, int, str], None],
) -> None:
    """Call ``add_load(station_id, path, via_device_id)`` for every smart load now and for
    loads that appear later (``via_device_id`` is the station device's registry id).

    Loads that disappear from the account lose their device, and with it every entity
    of theirs on every platform. Devices of loads that vanished while Home Assistant
    was not running are removed at start-up.
    """
    coordinator = entry.runtime_data.coordinator
    device_registry = dr.async_get(hass)
    known: set[tuple[str, int]] = set()

    def remove(station_id: str, path: int) -> None:
        device = device_registry.async_get_device_by_identifier(
            smart_load_identifier(station_id, path), entry.entry_id
        )
        if device is not None:
            LOGGER.info("Smart load %s of station %s is gone; removing it", path, station_id)
            device_registry.async_remove_device(device.id)

    @callback
    def update() -> None:
        current = current_smart_loads(coordinator)
        for station_id, path in sorted(current - known):
            station_device = device_registry.async_get_or_create(
                config_entry_id=entry.entry_id,
                **station_device_info(coordinator, station_id),
            )
            add_load(station_id, path, station_device.id)
        for station_id, path in known - current:
            remove(station_id, path)
        known.clear()
        known.update(current)

    # Devices left over from loads that vanished while we were not running.
    current = current_smart_loads(coordinator)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        for domain, identifier in device.identifiers:
            if domain != DOMAIN or "_smart_load_" not in identifier:
                continue
            station_id, _, path = identifier.rpartition("_smart_load_")
            if path.isdigit() and (station_id, int(path)) not in current:
                remove(station_id, int(path))

    update()
    entry.async_on_unload(coordinator.async_add_listener(update))


def has_developer_credentials(entry: SigenConfigEntry) -> bool:
    """Whether the entry runs with developer credentials (northbound API and MQTT)."""
    runtime = entry.runtime_data
    return runtime.northbound is not None or runtime.mqtt is not None


async def async_switch_northbound_mode(
    hass: HomeAssistant, entry: SigenConfigEntry, station: StationData, mode: NBMode
) -> None:
    """Switch a station's northbound mode: MSC/FFG over REST, VPP/NBI over MQTT.

    Raises translated errors; on success the new mode is shown at once.
    """
    runtime = entry.runtime_data
    if not has_developer_credentials(entry):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_developer_credentials"
        )
    if station.system_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_system_id",
            translation_placeholders={"station": station.station_id},
        )
    async with sigen_errors(hass, entry):
        if mode in NB_REST_MODES:
            if runtime.northbound is not None:
                await runtime.northbound.switch_mode(station.system_id, mode)
            else:
                await runtime.client.nb_switch_mode(mode, station.system_id)
        else:
            if runtime.mqtt is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="mqtt_required",
                    translation_placeholders={"mode": mode.name},
                )
            await runtime.mqtt.switch_mode(station.system_id, mode)
    show_ems_mode(station, int(mode))
    runtime.coordinator.async_update_listeners()
    # The refresh right after confirms the operational mode (its custom profile...).
    await runtime.coordinator.async_request_slow_refresh()


def show_ems_mode(station: StationData, value: int, *, profile: bool = False) -> None:
    """Show a new EMS work mode at once in both selects of the station.

    The app's operational mode and the northbound mode are one setting of the system,
    the EMS work mode: northbound MSC (0) and FFG (5) are the app's modes 0 and 5, and
    switching either select switches the other (a TOU or AI mode is gone after a
    northbound switch, and going back to MSC does not bring it back).
    """
    station.nb_mode_at = dt_util.utcnow()
    try:
        station.nb_mode = None if profile else NBMode(value)
    except ValueError:
        station.nb_mode = None  # AI, TOU...: not a northbound mode
    if profile:
        return
    current = station.current_mode
    if current is not None and current.mode == value and current.profile_id < 0:
        return
    label = next(
        (mode.label for mode in station.modes if mode.value == value and not mode.is_profile),
        None,
    )
    station.current_mode = CurrentMode(value, APP_DEFAULT_PROFILE_ID, label)
