"""The station's device tree as devices: inverters, battery packs, gateway (issue 18).

Each inverter (or SigenStor AIO), battery pack and gateway the app API's device tree
lists (``coordinator/devices.py``, every 30 minutes) is a device under its station's
(``via_device``) with its serial number, model and firmware (``sw_version``), named
"Battery pack 1" and so on (translated; the gateway is "Gateway", numbered only when
the tree has more than one); it goes when it leaves the tree. While the tree is
unknown (its reads failed so far) its devices stay; a cloud that says it offers no
tree has none. They have no
entities of their own. A charger of the tree is the EV charger's device
(``ev_entity.py``, the same identifiers): its model and firmware are added to it, it is
neither created nor removed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .child_devices import ChildDevices, async_track_child_devices
from .const import DOMAIN
from .ev_entity import charger_identifier

if TYPE_CHECKING:
    from .coordinator.devices import DevicesData
    from .data import SigenConfigEntry, StationRuntime
    from .sigen import DeviceNode

TREE_MARK: Final = "_device_"
#: The tree's kinds that become devices here, and their names' translation keys.
TRANSLATION_KEYS: Final = {
    "aio": "aio",
    "inverter": "inverter",
    "battery": "battery_pack",
    "gateway": "gateway",
}
#: Kinds a station has one of: numbered (their ``_numbered`` key) only when it has more.
SINGULAR_KINDS: Final = frozenset({"gateway"})
CHARGER_KINDS: Final = ("dc_charger", "ac_charger")


def tree_identifier(station_id: str, serial: str) -> tuple[str, str]:
    """Device registry identifier of a device of the station's tree."""
    return (DOMAIN, f"{station_id}{TREE_MARK}{serial}")


def _parse(identifier: str) -> tuple[str, str] | None:
    station_id, mark, serial = identifier.partition(TREE_MARK)
    return (station_id, serial) if mark and serial else None


def _nodes(station: StationRuntime) -> tuple[DeviceNode, ...]:
    """The station's tree as last read (empty without one)."""
    devices = station.devices
    data = None if devices is None else devices.data
    return () if data is None or data.tree is None else data.tree


def _keys(data: DevicesData) -> list[str] | None:
    """The serials of the tree's devices that become devices here (``None``: unknown)."""
    if not data.tree_known:
        return None
    return [node.serial for node in data.tree or () if node.kind in TRANSLATION_KEYS]


@callback
def async_track_tree_devices(hass: HomeAssistant, entry: SigenConfigEntry) -> None:
    """Keep the devices of every station's tree in line with it."""
    registry = dr.async_get(hass)

    def add(station: StationRuntime, serial: str, via_device_id: str) -> None:
        nodes = _nodes(station)
        node = next((n for n in nodes if n.serial == serial), None)
        if node is None or node.kind is None:
            return
        same = [n.serial for n in nodes if n.kind == node.kind]
        translation_key = TRANSLATION_KEYS[node.kind]
        if node.kind in SINGULAR_KINDS and len(same) > 1:
            translation_key = f"{translation_key}_numbered"
        registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={tree_identifier(station.station_id, serial)},
            manufacturer="Sigenergy",
            model=node.model or node.type_name,
            serial_number=node.shown_serial or serial,
            sw_version=node.firmware,
            translation_key=translation_key,
            translation_placeholders={"number": str(same.index(serial) + 1)},
            via_device=(DOMAIN, station.station_id),
        )
        _link_chargers(station)

    def _link_chargers(station: StationRuntime) -> None:
        """Give the station's charger devices the tree's model and firmware."""
        for node in _nodes(station):
            if node.kind not in CHARGER_KINDS:
                continue
            device = registry.async_get_device_by_identifier(
                charger_identifier(station.station_id, node.serial), entry.entry_id
            )
            if device is not None and (node.firmware or node.model):
                registry.async_update_device(
                    device.id,
                    sw_version=node.firmware or device.sw_version,
                    model=node.model or device.model,
                )

    async_track_child_devices(
        hass,
        entry,
        ChildDevices[str](
            source=lambda station: station.devices,
            keys=_keys,
            add=add,
            identifier=tree_identifier,
            parse=_parse,
            label="Device",
            refresh=add,
        ),
    )
