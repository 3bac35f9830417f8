"""One station as its entities read it: a typed view over its coordinators' data.

Power readings come from the freshest source: the MQTT telemetry when it is newer
than the last energy-flow poll, the polled energy flow otherwise. Entities read typed
properties of :class:`StationView`; no reading goes by an attribute's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from .models import AccountStation, OfStation, PushData, StationSettings
from .sigen import NBMode
from .sigen._parse import parse_int

if TYPE_CHECKING:
    from .coordinator.devices import DevicesData
    from .models import ControlsData, LiveData
    from .sigen import EnergyFlow, SystemData, TelemetryData

GRID_STATUS_OPTIONS = ["on_grid", "off_grid", "off_grid_auto", "off_grid_manual"]
_GRID_STATUS_CODES = {0: "on_grid", 1: "off_grid_auto", 2: "off_grid_manual"}
_GRID_STATUS_WORDS = {"ongrid": "on_grid", "offgrid": "off_grid"}
STATUS_OPTIONS = ["standby", "running", "fault", "shutdown", "disconnected"]
_STATUS_CODES = dict(enumerate(STATUS_OPTIONS))


def grid_status(value: object) -> str | None:
    """Map an on/off-grid status (code or text) to an option of the enum sensor."""
    if isinstance(value, str):
        word = value.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
        if word in _GRID_STATUS_WORDS:
            return _GRID_STATUS_WORDS[word]
    code = parse_int(value)
    return None if code is None else _GRID_STATUS_CODES.get(code)


def run_status(value: object) -> str | None:
    """Map a station/system status (code or text) to an option of the enum sensor."""
    if isinstance(value, str) and (text := value.strip().lower()) in STATUS_OPTIONS:
        return text
    code = parse_int(value)
    return None if code is None else _STATUS_CODES.get(code)


class PowerReadings(Protocol):
    """The powers (kW) the polled energy flow and the pushed telemetry both give."""

    @property
    def pv_power(self) -> float | None:
        """Solar production."""

    @property
    def grid_power(self) -> float | None:
        """Grid power, + = importing."""

    @property
    def grid_import_power(self) -> float | None:
        """Power drawn from the grid."""

    @property
    def grid_export_power(self) -> float | None:
        """Power fed into the grid."""

    @property
    def battery_power(self) -> float | None:
        """Battery power, + = discharging."""

    @property
    def battery_charge_power(self) -> float | None:
        """Power put into the battery."""

    @property
    def battery_discharge_power(self) -> float | None:
        """Power taken from the battery."""

    @property
    def load_power(self) -> float | None:
        """The home's consumption."""

    @property
    def battery_soc(self) -> float | None:
        """The battery's state of charge (%)."""


type PowerFn = Callable[[PowerReadings], float | None]

_NO_PUSH = PushData()
_NO_SETTINGS = StationSettings()


@dataclass(frozen=True, slots=True)
class StationView(OfStation):
    """A snapshot of one station: its account entry and its coordinators' data.

    ``controls`` (the battery and grid settings, the manual control) is ``None`` for a
    push-only station and until the first read.
    """

    station: AccountStation
    live: LiveData | None = None
    push: PushData = _NO_PUSH
    settings: StationSettings = _NO_SETTINGS
    controls: ControlsData | None = None
    devices: DevicesData | None = None

    @property
    def active_alarm_count(self) -> int:
        """Active alarms: the app's list and, while MQTT is connected, the pushed ones.

        An alarm both report counts once: a pushed alarm names no device, so it is the
        listed alarm of its code on any device (as the alarm event deduplicates). A
        pushed alarm raised before a restart is not pushed again; the list still has it.
        Without a list (not offered, not read yet) the pushed alarms count alone.
        """
        listed = None if self.devices is None else self.devices.alarms
        if listed is None:
            return len(self.push.active_alarms)
        if not self.push.connected:
            return len(listed)
        listed_codes = {record.code for record in listed}
        return len(listed) + sum(code not in listed_codes for code in self.push.active_alarms)

    @property
    def energy_flow(self) -> EnergyFlow | None:
        """The last polled energy flow."""
        return None if self.live is None else self.live.energy_flow

    @property
    def last_poll(self) -> datetime | None:
        """When the energy flow was last polled."""
        return None if self.live is None else self.live.polled_at

    @property
    def telemetry(self) -> TelemetryData | None:
        """The merged MQTT telemetry."""
        return self.push.telemetry

    @property
    def system(self) -> SystemData | None:
        """The merged MQTT system data (``change`` topic)."""
        return self.push.system

    @property
    def last_telemetry(self) -> datetime | None:
        """When telemetry last arrived."""
        return self.push.last_telemetry

    @property
    def telemetry_is_fresher(self) -> bool:
        """Whether the MQTT telemetry is newer than the last energy-flow poll.

        Read straight from the parts: it runs for most entities on every pushed message.
        """
        push, live = self.push, self.live
        if push.telemetry is None:
            return False
        if live is None or live.energy_flow is None or live.polled_at is None:
            return True
        return push.last_telemetry is not None and push.last_telemetry >= live.polled_at

    @property
    def offline(self) -> bool:
        """Whether the cloud reports the station offline and no newer push disagrees.

        The energy flow says so with ``stationStatus`` 4 and every power ``null``; the
        station's measurements are then unknown, not 0, and not the last pushed values
        either (they are older than the cloud's word).
        """
        flow = None if self.live is None else self.live.energy_flow
        return flow is not None and flow.is_offline and not self.telemetry_is_fresher

    def from_flow[V](self, read: Callable[[EnergyFlow], V | None]) -> V | None:
        """A value of the polled energy flow."""
        return None if self.energy_flow is None else read(self.energy_flow)

    def from_telemetry[V](self, read: Callable[[TelemetryData], V | None]) -> V | None:
        """A value of the pushed telemetry."""
        return None if self.telemetry is None else read(self.telemetry)

    def from_system[V](self, read: Callable[[SystemData], V | None]) -> V | None:
        """A value of the pushed system data (``change`` topic)."""
        return None if self.system is None else read(self.system)

    def freshest(self, read: PowerFn) -> float | None:
        """A power from the freshest of telemetry and energy flow."""
        telemetry = self.push.telemetry
        if telemetry is not None and self.telemetry_is_fresher:
            value = read(telemetry)
            if value is not None:
                return value
        flow = None if self.live is None else self.live.energy_flow
        return None if flow is None else read(flow)

    def power_sample(self, read: PowerFn) -> tuple[datetime | None, float | None]:
        """The freshest sample of a power: its time and value (kW)."""
        if self.telemetry is not None and self.telemetry_is_fresher:
            value = read(self.telemetry)
            if value is not None:
                return self.last_telemetry or self.last_poll, value
        return self.last_poll, None if self.energy_flow is None else read(self.energy_flow)

    @property
    def grid_status(self) -> str | None:
        """On/off grid: the freshest status code, else the energy flow's on-grid flag."""
        telemetry = self.telemetry if self.telemetry_is_fresher else None
        for source in (telemetry, self.system, self.energy_flow):
            if source is not None and (status := grid_status(source.on_off_grid_status)):
                return status
        on_grid = None if self.energy_flow is None else self.energy_flow.on_grid
        if on_grid is None:
            return None
        return "on_grid" if on_grid else "off_grid"

    @property
    def station_status(self) -> str | None:
        """The station's status from the energy flow ("disconnected" while offline)."""
        return None if self.energy_flow is None else run_status(self.energy_flow.station_status)

    @property
    def system_status(self) -> str | None:
        """The system's status from the telemetry, else from the system data."""
        status = None if self.telemetry is None else run_status(self.telemetry.system_status)
        if status is None and self.system is not None:
            status = run_status(self.system.system_status)
        return status

    @property
    def nb_mode(self) -> NBMode | None:
        """The northbound mode: the newer of the last one learned and the telemetry's.

        ``None`` while the EMS runs another mode (AI, TOU, a custom profile).
        """
        settings = self.settings
        value: int | None = settings.nb_mode
        pushed = None if self.telemetry is None else self.telemetry.operational_mode
        mode_at = self.push.operational_mode_at
        if pushed is not None and (
            (settings.nb_mode is None and settings.nb_mode_at is None)
            or (
                settings.nb_mode_at is not None
                and mode_at is not None
                and mode_at > settings.nb_mode_at
            )
        ):
            value = pushed
        if value is None:
            return None
        try:
            return NBMode(value)
        except ValueError:
            return None

    @property
    def current_mode_label(self) -> str | None:
        """The label of the current operational mode, when it is one of the station's."""
        current, modes = self.settings.current_mode, self.settings.modes
        if current is None:
            return None
        if any(mode.label == current.label for mode in modes):
            return current.label
        for mode in modes:
            if mode.value == current.mode and (
                not mode.is_profile or mode.profile_id == current.profile_id
            ):
                return mode.label
        return None
