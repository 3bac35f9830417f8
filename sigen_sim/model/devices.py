"""A station's devices and its alarms: state only (the JSON is in ``app_api/devices.py``).

The device tree is a gateway holding the AIO (with its battery packs) and the
station's EV chargers, plus what a test adds; a test may also remove any device. The
alarm log holds every alarm raised on the station: the ones the MQTT side pushes and
the ones raised through the control API are the same records, so one alarm can be
seen both ways (the push and the app API's alarm list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .station import SimStation

# deviceType codes of the topology (§7.17 of the API notes); the AC charger's is unknown
# (9 is illustrative, the description tells it).
AIO: Final = 2
INVERTER: Final = 3
BATTERY: Final = 4
DC_CHARGER: Final = 5
GATEWAY: Final = 8
AC_CHARGER: Final = 9
KIND_NAMES: Final = {
    AIO: "SigenStor",
    INVERTER: "Inverter",
    BATTERY: "Battery",
    DC_CHARGER: "DC Charger",
    GATEWAY: "Sigen Gateway",
    AC_CHARGER: "AC Charger",
}
MODELS: Final = {
    AIO: "SigenStor EC 10.0 TP",
    INVERTER: "Sigen Hybrid 10.0 TP",
    BATTERY: "SigenStor BAT 8.0",
    DC_CHARGER: "Sigen EVDC 25 kW",
    GATEWAY: "Sigen Gateway HomeMax TP",
    AC_CHARGER: "Sigen EVAC 7 kW",
}
FIRMWARE: Final = "V100R001C22B028"
BATTERY_PACKS: Final = 2

# Alarm names the list gives a code without a text of its own (illustrative).
ALARM_NAMES: Final = {
    "1001": "Grid overvoltage",
    "1002": "Grid undervoltage",
    "2001": "Battery over-temperature",
    "3001": "PV string reverse connection",
}


@dataclass
class SimDevice:
    """One device of the tree: serial, ``deviceType``, where it hangs, its state."""

    serial: str
    kind: int
    parent: str | None
    model: str | None = None
    firmware: str | None = FIRMWARE
    status: int = 1  # deviceStatus: 1 normal
    online: bool = True  # communicateStatus 2 (False: 1)

    @property
    def type_name(self) -> str:
        """The node's ``deviceTypeDesc``."""
        return KIND_NAMES.get(self.kind, "Device")


@dataclass
class SimAlarm:
    """One alarm of a station: raised at ``raised_at``, recovered at ``recovered_at``."""

    id: int
    code: str
    raised_at: float
    device_serial: str | None
    name: str
    level: int = 2
    recovered_at: float | None = None

    @property
    def active(self) -> bool:
        """Whether the alarm has not recovered."""
        return self.recovered_at is None


@dataclass
class StationDevices:
    """A station's added and removed devices, and its alarm log."""

    added: list[SimDevice] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    alarms: list[SimAlarm] = field(default_factory=list)
    _next_alarm: int = 1

    # ------------------------------------------------------------------ alarms

    def raise_alarm(
        self, code: str, now: float, device_serial: str | None, name: str | None = None
    ) -> SimAlarm:
        """Record an alarm raised now; an active one of the same code and device stays.

        ``device_serial`` ``None`` (a pushed alarm names no device) matches an active
        alarm of the code on any device.
        """
        for alarm in self.alarms:
            if alarm.active and alarm.code == code and device_serial in (None, alarm.device_serial):
                return alarm
        alarm = SimAlarm(
            self._next_alarm,
            code,
            now,
            device_serial,
            name or ALARM_NAMES.get(code, f"Alarm {code}"),
        )
        self._next_alarm += 1
        self.alarms.append(alarm)
        return alarm

    def clear_alarm(self, code: str, now: float, device_serial: str | None = None) -> int:
        """Recover the active alarms of ``code`` (of one device, or any); how many."""
        cleared = 0
        for alarm in self.alarms:
            if alarm.active and alarm.code == code and device_serial in (None, alarm.device_serial):
                alarm.recovered_at = now
                cleared += 1
        return cleared

    def listed(self, *, recovered: bool) -> list[SimAlarm]:
        """The alarms the app's list shows, newest first (with the recovered ones or not)."""
        shown = [alarm for alarm in self.alarms if recovered or alarm.active]
        return sorted(shown, key=lambda alarm: (-alarm.raised_at, -alarm.id))

    # ------------------------------------------------------------------ devices

    def add(self, device: SimDevice) -> None:
        """Add a device (a serial already there is replaced)."""
        self.removed.discard(device.serial)
        self.added = [d for d in self.added if d.serial != device.serial]
        self.added.append(device)

    def remove(self, serial: str) -> None:
        """Remove a device (and with it whatever hangs under it)."""
        self.removed.add(serial)


def gateway_serial(station: SimStation) -> str:
    """The station's gateway serial."""
    return f"SIMGW{station.index + 1:010d}"


def battery_serial(station: SimStation, pack: int) -> str:
    """The serial of battery pack ``pack`` (from 1)."""
    return f"SIMBAT{station.index + 1:06d}{pack:02d}"


def station_devices(station: SimStation) -> list[SimDevice]:
    """Every device of the station's tree, parents before children, removed ones left out.

    A device whose parent was removed is gone with it.
    """
    gateway = gateway_serial(station)
    devices = [
        SimDevice(gateway, GATEWAY, None, MODELS[GATEWAY]),
        SimDevice(station.sn_code, AIO, gateway, MODELS[AIO]),
    ]
    devices += [
        SimDevice(battery_serial(station, n), BATTERY, station.sn_code, MODELS[BATTERY])
        for n in range(1, BATTERY_PACKS + 1)
    ]
    chargers = station.chargers
    if chargers.dc is not None:
        devices.append(SimDevice(chargers.dc.serial, DC_CHARGER, gateway, MODELS[DC_CHARGER]))
    if chargers.ac is not None:
        devices.append(SimDevice(chargers.ac.serial, AC_CHARGER, gateway, MODELS[AC_CHARGER]))
    state = station.devices
    devices += state.added
    present: set[str] = set()
    kept: list[SimDevice] = []
    for device in devices:
        if device.serial in state.removed or device.serial in present:
            continue
        if device.parent is not None and device.parent not in present:
            continue
        present.add(device.serial)
        kept.append(device)
    return kept


def default_alarm_device(station: SimStation) -> str:
    """The device an alarm without one concerns: the AIO."""
    return station.sn_code


def record_alarm(
    station: SimStation,
    code: str,
    status: str,
    now: float,
    *,
    name: str | None = None,
    device_serial: str | None = None,
) -> None:
    """Record a raised (``generation``) or cleared (``recovery``) alarm of the station.

    A raised alarm without a device concerns the AIO (unless one of its code is active).
    """
    log = station.devices
    if status == "recovery":
        log.clear_alarm(code, now, device_serial)
        return
    alarm = log.raise_alarm(code, now, device_serial, name)
    if alarm.device_serial is None:
        alarm.device_serial = default_alarm_device(station)
