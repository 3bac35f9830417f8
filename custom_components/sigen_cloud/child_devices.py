"""One tracker for the devices under a station: smart loads, EV chargers, the device tree.

Each kind of child device comes from a station coordinator's data; when a child
appears it is added under its station's device (``via_device``), when it disappears
(or its station leaves the account) its device goes, and with it every entity of it on
every platform. Devices of children gone while Home Assistant was not running are
removed at start-up.

Only a list that was read removes anything: while a station's list is unknown (its
coordinator has no data yet, or ``keys`` says unknown, as for a device tree whose
reads failed so far) its children stay as they are, and the start-up's sweep of its
stale devices waits until its list is known.

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

    ``source``: the station's coordinator whose data lists them (``None``: the
    station has none of them); ``keys``: the children's keys in that data (once
    read; ``None`` while the data does not know them); ``add``: called with the station, the
    key and the station device's registry id for a new child; ``identifier``: the
    child device's registry identifier; ``parse``: the (station id, key) of an
    identifier of this kind (``None`` for any other); ``label`` names the kind in the
    log; ``refresh`` (optional) is called like ``add`` for the children already
    known, at every update; ``unknown_without_source`` (optional) says whether a
    station without a source may still have children (its list is unknown then).
    """

    source: Callable[[StationRuntime], DataUpdateCoordinator[Any] | None]
    keys: Callable[[Any], Iterable[K] | None]
    add: Callable[[StationRuntime, K, str], None]
    identifier: Callable[[str, K], tuple[str, str]]
    parse: Callable[[str], tuple[str, K] | None]
    label: str
    refresh: Callable[[StationRuntime, K, str], None] | None = None
    unknown_without_source: Callable[[StationRuntime], bool] | None = None


def current_children[K](
    entry: SigenConfigEntry, kind: ChildDevices[K]
) -> tuple[set[tuple[str, K]], set[str]]:
    """Every (station id, key) of ``kind`` its stations list now, and the stations not known.

    A station whose list is unknown (its source has no data yet, or ``keys`` says
    unknown) lists nothing and is among the second set.
    """
    children: set[tuple[str, K]] = set()
    unknown: set[str] = set()
    for station_id, station in entry.runtime_data.stations.items():
        source = kind.source(station)
        if source is None:
            if kind.unknown_without_source is not None and kind.unknown_without_source(station):
                unknown.add(station_id)
            continue
        keys = None if source.data is None else kind.keys(source.data)
        if keys is None:
            unknown.add(station_id)
        else:
            children.update((station_id, key) for key in keys)
    return children, unknown


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

    # Stations whose stale devices are still to be swept (None: none swept yet).
    unswept: set[str] | None = None

    @callback
    def update() -> None:
        nonlocal unswept
        stations = runtime.stations
        for station in stations.values():
            source = kind.source(station)
            if source is not None and id(source) not in followed:
                followed.add(id(source))
                entry.async_on_unload(source.async_add_listener(update))
        current, unknown = current_children(entry, kind)
        # A station's children stay while its list is unknown.
        current |= {child for child in known if child[0] in unknown}
        if unswept is None or unswept - unknown:
            _remove_stale(registry, entry, kind, remove, current, sweep=unswept, unknown=unknown)
            unswept = unknown if unswept is None else unswept & unknown
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

    update()
    entry.async_on_unload(runtime.account.async_add_listener(update))


def _remove_stale[K](
    registry: dr.DeviceRegistry,
    entry: SigenConfigEntry,
    kind: ChildDevices[K],
    remove: Callable[[str, K], None],
    current: set[tuple[str, K]],
    *,
    sweep: set[str] | None,
    unknown: set[str],
) -> None:
    """Remove the devices of children gone while Home Assistant was not running.

    The first sweep takes every station but those whose list is unknown (``unknown``);
    a later one only the stations of ``sweep`` whose list is known now.
    """
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        for domain, identifier in device.identifiers:
            parsed = kind.parse(identifier) if domain == DOMAIN else None
            if parsed is None or parsed in current or parsed[0] in unknown:
                continue
            if sweep is None or parsed[0] in sweep:
                remove(*parsed)
