"""One tracker for the devices under a station: smart loads, EV chargers, the device tree.

Each kind of child device comes from a station coordinator's data; when a child
appears it is added under its station's device (``via_device``), when it disappears
(or its station leaves the account) its device goes, and with it every entity of it on
every platform. Devices of children gone while Home Assistant was not running are
removed at start-up.

This module and ``entity`` import each other as modules (their names are looked up
when called), so either may be imported first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from . import entity
from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

    from .data import SigenConfigEntry, StationRuntime


@dataclass(frozen=True, kw_only=True)
class ChildDevices[K]:
    """How to follow one kind of child device (``K`` tells the children of a station apart).

    ``source``: the station's coordinator whose data lists them; ``keys``: the
    children's keys in that data (once read); ``add``: called with the station, the
    key and the station device's registry id for a new child; ``identifier``: the
    child device's registry identifier; ``parse``: the (station id, key) of an
    identifier of this kind (``None`` for any other); ``label`` names the kind in the
    log; ``refresh`` (optional) is called like ``add`` for the children already
    known, at every update.
    """

    source: Callable[[StationRuntime], DataUpdateCoordinator[Any] | None]
    keys: Callable[[Any], Iterable[K]]
    add: Callable[[StationRuntime, K, str], None]
    identifier: Callable[[str, K], tuple[str, str]]
    parse: Callable[[str], tuple[str, K] | None]
    label: str
    refresh: Callable[[StationRuntime, K, str], None] | None = None


def current_children[K](entry: SigenConfigEntry, kind: ChildDevices[K]) -> set[tuple[str, K]]:
    """Every (station id, key) of ``kind`` its stations' coordinators list now."""
    return {
        (station_id, key)
        for station_id, station in entry.runtime_data.stations.items()
        if (source := kind.source(station)) is not None and source.data is not None
        for key in kind.keys(source.data)
    }


@callback
def async_track_child_devices[K](
    hass: HomeAssistant, entry: SigenConfigEntry, kind: ChildDevices[K]
) -> None:
    """Add and remove the devices of ``kind`` as their stations' data lists them."""
    runtime = entry.runtime_data
    registry = dr.async_get(hass)
    known: set[tuple[str, K]] = set()
    followed: set[int] = set()

    def remove(station_id: str, key: K) -> None:
        device = registry.async_get_device_by_identifier(
            kind.identifier(station_id, key), entry.entry_id
        )
        if device is not None:
            LOGGER.info("%s %s of station %s is gone; removing it", kind.label, key, station_id)
            registry.async_remove_device(device.id)

    def station_device_id(station: StationRuntime) -> str:
        return registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            **entity.station_device_info(station.station, runtime.client.web_app_url),
        ).id

    @callback
    def update() -> None:
        stations = runtime.stations
        for station in stations.values():
            source = kind.source(station)
            if source is not None and id(source) not in followed:
                followed.add(id(source))
                entry.async_on_unload(source.async_add_listener(update))
        current = current_children(entry, kind)
        for station_id, key in sorted(current - known):
            station = stations[station_id]
            kind.add(station, key, station_device_id(station))
        if kind.refresh is not None:
            for station_id, key in known & current:
                station = stations[station_id]
                kind.refresh(station, key, station_device_id(station))
        for station_id, key in known - current:
            remove(station_id, key)
        known.clear()
        known.update(current)

    _remove_stale(registry, entry, kind, remove)
    update()
    entry.async_on_unload(runtime.account.async_add_listener(update))


def _remove_stale[K](
    registry: dr.DeviceRegistry,
    entry: SigenConfigEntry,
    kind: ChildDevices[K],
    remove: Callable[[str, K], None],
) -> None:
    """Remove the devices of children gone while Home Assistant was not running."""
    current = current_children(entry, kind)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        for domain, identifier in device.identifiers:
            parsed = kind.parse(identifier) if domain == DOMAIN else None
            if parsed is not None and parsed not in current:
                remove(*parsed)
