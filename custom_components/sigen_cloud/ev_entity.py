"""The base of an EV charger's entities, their descriptions, and the chargers' devices.

Each charger is its own device under its station's (``via_device``), created when the
station's EV coordinator first reads it and removed, with every entity of it, when the
station no longer lists it (or leaves the account). An entity exists only for what
the charger has (its kind, the parts the cloud reports on the first read).

A change (a current, DLM, the charge mode) shows at once while it is written, then
the entity shows what the cloud reports: the read-back, or the value from before when
the write failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, override

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo

from .child_devices import ChildDevices, async_track_child_devices
from .const import DEVICE_MODEL_AC_CHARGER, DEVICE_MODEL_DC_CHARGER, DOMAIN
from .coordinator import SigenEvCoordinator
from .coordinator.ev import may_have_chargers
from .entity import SigenEntity, SigenEntityDescription
from .helpers import sigen_errors

if TYPE_CHECKING:
    from .coordinator.ev_writes import EvWrite
    from .data import SigenConfigEntry, StationRuntime
    from .models import ChargerData

CHARGER_MARK = "_charger_"


def _any_charger(_data: ChargerData) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class SigenChargerEntityDescription(SigenEntityDescription):
    """What every charger entity description has.

    ``kinds``: the chargers (``"ac"``, ``"dc"``) that get the entity; ``has_fn``
    whether the charger reports what it shows (checked on the first read: no entity;
    later: unavailable).
    """

    kinds: tuple[str, ...] = ("ac", "dc")
    has_fn: Callable[[ChargerData], bool] = _any_charger


def charger_identifier(station_id: str, serial: str) -> tuple[str, str]:
    """Device registry identifier of a charger's own device."""
    return (DOMAIN, f"{station_id}{CHARGER_MARK}{serial}")


def wanted(description: SigenChargerEntityDescription, data: ChargerData) -> bool:
    """Whether a charger gets the entity of ``description``."""
    return data.kind in description.kinds and description.has_fn(data)


class SigenChargerEntity(SigenEntity[SigenEvCoordinator]):
    """An entity of one EV charger, on the charger's own device.

    ``pending`` is the value shown while ``writing``.
    """

    entity_description: SigenChargerEntityDescription

    def __init__(
        self,
        station: StationRuntime,
        serial: str,
        description: SigenChargerEntityDescription,
        via_device_id: str,
    ) -> None:
        """Describe the entity of charger ``serial``."""
        assert station.ev is not None
        super().__init__(
            station.ev, station, description, key=f"charger_{serial}_{description.key}"
        )
        self.serial = serial
        self.pending: object | None = None
        self.writing = False
        data = station.ev.charger(serial)
        kind = "dc" if data is None else data.kind
        self._attr_device_info = DeviceInfo(
            identifiers={charger_identifier(station.station_id, serial)},
            manufacturer="Sigenergy",
            model=DEVICE_MODEL_DC_CHARGER if kind == "dc" else DEVICE_MODEL_AC_CHARGER,
            name=f"{kind.upper()} charger {serial}",
            serial_number=serial,
            via_device_id=via_device_id,
        )

    @property
    def data(self) -> ChargerData | None:
        """The charger's latest data (``None`` once it is gone)."""
        return None if self.station.removed else self.coordinator.charger(self.serial)

    @property
    @override
    def available(self) -> bool:
        """Available while the charger answers and reports what the entity shows."""
        data = self.data
        return super().available and data is not None and self.entity_description.has_fn(data)

    async def async_write_charger(self, shown: object, write: EvWrite) -> None:
        """Show ``shown`` at once, write, and show the cloud's value after.

        The library's errors become translated Home Assistant errors.
        """
        self.pending, self.writing = shown, True
        self.async_write_ha_state()
        try:
            async with sigen_errors(self.hass, self.coordinator.config_entry):
                await self.coordinator.async_write(self.serial, write)
        finally:
            self.pending, self.writing = None, False
            self.async_write_ha_state()


type AddCharger = Callable[[StationRuntime, "ChargerData", str], None]


@callback
def async_track_chargers(hass: HomeAssistant, entry: SigenConfigEntry, add: AddCharger) -> None:
    """Call ``add(station, charger, via_device_id)`` for every charger, now and later.

    ``via_device_id`` is the station device's registry id. Chargers that disappear
    (or whose station leaves the account) lose their device, and with it every entity
    of theirs on every platform; devices of chargers gone while Home Assistant was not
    running are removed at start-up, once the station's chargers were listed (see
    :func:`_chargers_unknown`).
    """

    def add_charger(station: StationRuntime, serial: str, via_device_id: str) -> None:
        assert station.ev is not None
        data = station.ev.charger(serial)
        assert data is not None
        add(station, data, via_device_id)

    async_track_child_devices(
        hass,
        entry,
        ChildDevices[str](
            source=lambda station: station.ev,
            keys=lambda data: data.chargers,
            add=add_charger,
            identifier=charger_identifier,
            parse=_parse_charger,
            label="Charger",
            unknown_without_source=_chargers_unknown,
        ),
    )


def _chargers_unknown(station: StationRuntime) -> bool:
    """Whether a station without an EV coordinator may still have chargers.

    The coordinator comes with the first charger listed; a station that may have
    chargers and has none listed may have had its listing fail (as at a start-up
    while the cloud fails): its charger devices stay. (A listing that answered
    "none" looks the same; such devices can be deleted by hand.)
    """
    return station.info is not None and may_have_chargers(station.info)


def _parse_charger(identifier: str) -> tuple[str, str] | None:
    """The station and serial of a charger's device identifier."""
    station_id, mark, serial = identifier.partition(CHARGER_MARK)
    return (station_id, serial) if mark else None
