"""Base entities of Sigen Cloud, their description base, and device bookkeeping.

Every entity belongs to one station's device (a smart load's entities to the load's own
device, via the station's). An entity listens to one coordinator, whose success makes
it available, and may also listen to others of its station: a power sensor shows the
freshest of the polled energy flow and the pushed telemetry.

A pushed message (several a minute per station) writes only the entities whose state,
attributes or availability it changed (issue 21): Home Assistant's coordinator entity
writes on every update, and those writes (and their recorder rows) were most of the
cost of a message. Polled updates still write every time.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, override

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from . import child_devices
from .client import has_developer_credentials
from .const import DEVICE_MODEL_SMART_LOAD, DEVICE_MODEL_STATION, DOMAIN, LOGGER
from .coordinator import NB_REST_MODES, SigenPushCoordinator, SigenSmartLoadCoordinator
from .helpers import sigen_errors

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .models import AccountStation
    from .sigen import NBMode, SmartLoad
    from .view import StationView


def _always(_view: StationView) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class SigenEntityDescription(EntityDescription):
    """What every Sigen Cloud entity description has, on every platform.

    ``exists_fn`` decides whether a station gets the entity at all, ``available_fn``
    whether it is available now (on top of its coordinator's success).
    """

    exists_fn: Callable[[StationView], bool] = _always
    available_fn: Callable[[StationView], bool] = _always


def value_key(value: object) -> tuple[Any, ...]:
    """A sensor's :meth:`SigenEntity._shown_key`: its native value, with the value's type.

    The type tells ``1`` from ``1.0`` and ``True``, which are equal but read differently.
    """
    return (value.__class__, value)


def station_device_info(station: AccountStation, configuration_url: str) -> DeviceInfo:
    """The device of a station.

    It is named as the owner named the station in the app (its id where no name is
    known). Its "Visit" link opens the web app of the entry's own region, or its own
    server (the simulator answers there with its control index).
    """
    info = station.info
    return DeviceInfo(
        identifiers={(DOMAIN, station.station_id)},
        manufacturer="Sigenergy",
        model=DEVICE_MODEL_STATION,
        name=(info.name if info and info.name else None) or f"Sigen station {station.station_id}",
        serial_number=station.system_id,
        configuration_url=configuration_url if info else None,
    )


def smart_load_identifier(station_id: str, path: int) -> tuple[str, str]:
    """Device registry identifier of a smart load's own device."""
    return (DOMAIN, f"{station_id}_smart_load_{path}")


class SigenEntity[CoordT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordT]):
    """An entity of one station, available while its coordinator and station are."""

    _attr_has_entity_name = True
    entity_description: SigenEntityDescription

    def __init__(
        self,
        coordinator: CoordT,
        station: StationRuntime,
        description: SigenEntityDescription,
        *,
        key: str | None = None,
        also: Iterable[DataUpdateCoordinator[Any] | None] = (),
    ) -> None:
        """Describe the entity; ``also``: other coordinators whose updates it shows."""
        super().__init__(coordinator)
        self.entity_description = description
        self.station = station
        self.station_id = station.station_id
        self._also = [other for other in also if other is not None and other is not coordinator]
        self._attr_unique_id = f"{station.station_id}_{key or description.key}"
        self._attr_device_info = station_device_info(
            station.station, station.settings.config_entry.runtime_data.client.web_app_url
        )
        # What the entity last wrote (see :meth:`_shown_now`), and whether the update
        # being handled is a pushed message.
        self._shown: tuple[Any, ...] | None = None
        self._pushed = isinstance(coordinator, SigenPushCoordinator)

    @override
    async def async_added_to_hass(self) -> None:
        """Listen to the entity's coordinator and to the others it shows."""
        await super().async_added_to_hass()
        for other in self._also:
            handler = (
                self._handle_push_update
                if isinstance(other, SigenPushCoordinator)
                else self._handle_coordinator_update
            )
            self.async_on_remove(other.async_add_listener(handler))

    @callback
    def _handle_push_update(self) -> None:
        """A pushed message of the station: handled as any update, written on change."""
        if self._pushed:
            self._handle_coordinator_update()
            return
        self._pushed = True
        try:
            self._handle_coordinator_update()
        finally:
            self._pushed = False

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state; after a pushed message only when it shows something new."""
        if not self._pushed:
            self.async_write_ha_state()
            return
        shown = self._shown_now()
        if shown != self._shown:
            self.async_write_ha_state()
            self._shown = shown

    @callback
    @override
    def _async_write_ha_state(self) -> None:
        """Every write, also one outside an update (an optimistic state, an event).

        Home Assistant's ``async_write_ha_state`` is final; all its ways to write come
        here. What was written is not known here: the next pushed message writes.
        """
        self._shown = None
        super()._async_write_ha_state()

    def _shown_now(self) -> tuple[Any, ...]:
        """What a write would show now: availability, then :meth:`_shown_key`."""
        if not self.available:
            return (False,)
        return (True, *self._shown_key())

    def _shown_key(self) -> tuple[Any, ...]:
        """What an available entity's write would show: state, attributes and icon.

        An entity whose state and attributes follow from something cheaper (a sensor's
        native value) returns that instead: this runs for every entity on every pushed
        message. The capability attributes (a number's range, a select's options) are
        written too.
        """
        return (
            self.state,
            self.capability_attributes,
            self.state_attributes,
            self.extra_state_attributes,
            self.icon,
        )

    @property
    def view(self) -> StationView | None:
        """The station's current data (``None`` once it left the account)."""
        return None if self.station.removed else self.station.view()

    @property
    @override
    def available(self) -> bool:
        """Available while the coordinator and the station are, as the description says."""
        view = self.view
        return view is not None and self._available_in(view)

    def _available_in(self, view: StationView) -> bool:
        """Whether the entity is available, given the station's current data.

        Subclasses add their own conditions here, on the same view: the check runs
        for every entity on every pushed message.
        """
        return super().available and self.entity_description.available_fn(view)


class SigenSmartLoadEntity(SigenEntity[SigenSmartLoadCoordinator]):
    """An entity of one smart load, on the load's own device (via the station's device).

    Smart loads get their own devices so that a load that disappears from the account
    takes all its entities with it when its device is removed.
    """

    def __init__(
        self,
        coordinator: SigenSmartLoadCoordinator,
        station: StationRuntime,
        path: int,
        description: SigenEntityDescription,
        via_device_id: str,
    ) -> None:
        """Describe the entity of the load at ``path``."""
        super().__init__(
            coordinator, station, description, key=f"smart_load_{path}_{description.key}"
        )
        self.path = path
        load = self.smart_load
        self._attr_device_info = DeviceInfo(
            identifiers={smart_load_identifier(station.station_id, path)},
            manufacturer="Sigenergy",
            model=DEVICE_MODEL_SMART_LOAD,
            name=load.name if load else f"Smart load {path}",
            via_device_id=via_device_id,
        )

    @property
    def smart_load(self) -> SmartLoad | None:
        """The entity's smart load in the latest data (``None`` once it is gone)."""
        data = self.coordinator.data
        if self.station.removed or data is None:
            return None
        return data.loads.get(self.path)

    @property
    @override
    def available(self) -> bool:
        """Available while the load is still on the station."""
        return super().available and self.smart_load is not None


async def async_track_stations(
    entry: SigenConfigEntry, add_station: Callable[[StationRuntime], None]
) -> None:
    """Call ``add_station`` for every station now, and for stations that appear later.

    The stations there now are added one at a time, the event loop getting a turn
    between them (issue 21): adding an installer's 50 stations (2,000 entities, most
    of a second) back to back held up the MQTT handshake running beside it, and with
    it the first telemetry. A station that leaves the account loses its device (the
    account coordinator removes it), and with it every entity of it on every
    platform; should it come back, it is added again.
    """
    account = entry.runtime_data.account
    known: set[str] = set()

    @callback
    def update() -> None:
        stations = account.stations
        for station_id in sorted(set(stations) - known):
            add_station(stations[station_id])
        known.clear()
        known.update(stations)

    entry.async_on_unload(account.async_add_listener(update))
    # One station of one platform per turn of the loop: the platforms set up side by
    # side, and a turn that added a station on each would still be ~20 ms long.
    turn = _ADDING.setdefault(account, asyncio.Lock())
    for station_id in sorted(account.stations):
        async with turn:
            # An account update while waiting may have added or removed it.
            if station_id not in known and (station := account.stations.get(station_id)):
                known.add(station_id)
                add_station(station)
                await asyncio.sleep(0)  # the loop's turn: I/O (the MQTT handshake) goes on


# The platforms' turns at adding a station, per entry (its account coordinator).
_ADDING: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


@callback
def async_remove_developer_entities(
    hass: HomeAssistant, entry: SigenConfigEntry, domain: str, keys: Iterable[str]
) -> None:
    """Remove the platform's developer-credential entities when the entry has none.

    ``keys`` are their description keys.
    The entities are only created with developer credentials; without this, removing
    the credentials would leave their registry entries behind as "unavailable"
    entities. They are created again when the credentials come back. Credentials that
    are set but refused for now keep their entities (unavailable, a repair issue
    explains why).
    """
    if has_developer_credentials(entry.data):
        return
    registry = er.async_get(hass)
    wanted = set(keys)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        # Station entities are "<station or system id>_<key>"; neither id has a "_".
        if entity.domain == domain and entity.unique_id.partition("_")[2] in wanted:
            LOGGER.debug("Removing %s: the entry has no developer credentials", entity.entity_id)
            registry.async_remove(entity.entity_id)


@callback
def async_track_smart_loads(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    add_load: Callable[[StationRuntime, int, str], None],
) -> None:
    """Call ``add_load(station, path, via_device_id)`` for every smart load, now and later.

    ``via_device_id`` is the station device's registry id.
    Loads that disappear (or whose station leaves the account) lose their device, and
    with it every entity of theirs on every platform. Devices of loads that vanished
    while Home Assistant was not running are removed at start-up.
    """
    child_devices.async_track_child_devices(
        hass,
        entry,
        child_devices.ChildDevices[int](
            source=lambda station: station.smart_loads,
            keys=lambda data: data.loads,
            add=add_load,
            identifier=smart_load_identifier,
            parse=_parse_load,
            label="Smart load",
        ),
    )


def _parse_load(identifier: str) -> tuple[str, int] | None:
    """The station and path of a smart load's device identifier."""
    station_id, mark, path = identifier.rpartition("_smart_load_")
    return (station_id, int(path)) if mark and path.isdigit() else None


@callback
async def async_switch_northbound_mode(
    hass: HomeAssistant, entry: SigenConfigEntry, station: StationRuntime, mode: NBMode
) -> None:
    """Switch a station's northbound mode: MSC/FFG over REST, VPP/NBI over MQTT.

    Raises translated errors; on success the new mode shows at once in both mode
    selects of the station, and a refresh follows.
    """
    runtime = entry.runtime_data
    if not runtime.developer_api:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_developer_credentials"
        )
    if station.system_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_system_id",
            translation_placeholders={"station": station.station_id},
        )
    if mode not in NB_REST_MODES and runtime.mqtt is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="mqtt_required",
            translation_placeholders={"mode": mode.name},
        )
    async with sigen_errors(hass, entry):
        await station.settings.async_set_northbound_mode(mode, runtime.mqtt)
