"""The "Battery controller" sensor: who is in charge of a station's battery now.

First match wins, the order in which the system itself gives way (§2 and §7.9 of the API
notes):

1. ``vpp``, ``nbi``, ``remote_ems``: the EMS work mode is VPP (6), NBI (8) or Remote EMS
   (7): an outside controller has the battery, and while it does the owner's app cannot
   control it (manual control and the app's modes do not act). The freshest
   northbound mode (queried, set through us, or pushed in telemetry
   ``operationalMode``) or the app's current mode says so;
2. ``manual_control``: the app's instant manual control runs (``enable`` alone says so;
   ``until`` is its end);
3. ``tou_schedule``: the app's mode is the time-of-use schedule (TOU, 2);
4. ``operational_mode``: the station follows its operational mode (maximum
   self-consumption, AI, fully feed-in, a custom profile; the ``operational_mode``
   attribute names it).

It needs only the app API (modes and manual control); with developer credentials the
northbound mode and the telemetry join in. A push-only station reads the telemetry.
A battery command sent over MQTT is not tracked by the integration, so it is no state
of its own: the cloud reports the mode it runs under.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription

from .coordinator import SigenSettingsCoordinator
from .entity import SigenEntity, SigenEntityDescription
from .sigen import NBMode

if TYPE_CHECKING:
    from .data import StationRuntime
    from .view import StationView

#: EMS work modes in which an outside controller has the battery, and their states.
REMOTE_STATES: Final = {int(NBMode.VPP): "vpp", 7: "remote_ems", int(NBMode.NBI): "nbi"}
#: The app's time-of-use mode.
MODE_TOU: Final = 2
CONTROLLER_OPTIONS: Final = [
    "vpp",
    "nbi",
    "remote_ems",
    "manual_control",
    "tou_schedule",
    "operational_mode",
]
#: The names of EMS work modes no mode list of the station names.
_MODE_NAMES: Final = {
    0: "Maximum Self-Powered",
    1: "Sigen AI Mode",
    2: "TOU",
    5: "Fully Fed to Grid",
    6: "VPP",
    7: "Remote EMS Mode",
    8: "North Bound",
}


@dataclass(frozen=True, slots=True)
class BatteryController:
    """Who controls the battery (a state of :data:`CONTROLLER_OPTIONS`), and details."""

    state: str
    mode: int | None = None
    until: datetime | None = None


def _pushed_mode(view: StationView) -> int | None:
    """The telemetry's operational mode, unless the northbound mode learned later says more."""
    telemetry = view.telemetry
    if telemetry is None or telemetry.operational_mode is None:
        return None
    learned, pushed_at = view.settings.nb_mode_at, view.push.operational_mode_at
    if learned is not None and pushed_at is not None and pushed_at < learned:
        return None
    return telemetry.operational_mode


def ems_mode(view: StationView) -> int | None:
    """The station's EMS work mode: the freshest northbound mode, else pushed, else the app's."""
    if (nb_mode := view.nb_mode) is not None:
        return int(nb_mode)
    if (pushed := _pushed_mode(view)) is not None:
        return pushed
    current = view.settings.current_mode
    return None if current is None else current.mode


def remote_mode(view: StationView) -> int | None:
    """The VPP, Remote EMS or NBI mode the station is in, if any.

    Either the freshest northbound reading or the app's current mode may say so: the
    northbound mode is asked at most every 5 minutes, so the app's may be the newer
    one, and a held battery shown as free would be the worse mistake.
    """
    current = view.settings.current_mode
    for candidate in (ems_mode(view), None if current is None else current.mode):
        if candidate in REMOTE_STATES:
            return candidate
    return None


def battery_controller(view: StationView) -> BatteryController | None:
    """Who controls the battery now (``None`` while nothing is known yet)."""
    if (remote := remote_mode(view)) is not None:
        return BatteryController(REMOTE_STATES[remote], remote)
    mode = ems_mode(view)
    manual = None if view.controls is None else view.controls.manual
    if manual is not None and manual.active:
        return BatteryController("manual_control", mode, manual.ends_at)
    if mode is None:
        return None
    if mode == MODE_TOU:
        return BatteryController("tou_schedule", mode)
    return BatteryController("operational_mode", mode)


def mode_name(view: StationView, mode: int | None) -> str | None:
    """The name of the station's mode: the app's label, else a known name, else its number."""
    if mode is None:
        return None
    current = view.settings.current_mode
    if current is not None and current.mode == mode and (label := view.current_mode_label):
        return label
    return _MODE_NAMES.get(mode, str(mode))


@dataclass(frozen=True, kw_only=True)
class SigenControllerSensorEntityDescription(SensorEntityDescription, SigenEntityDescription):
    """The battery-controller sensor's description."""


BATTERY_CONTROLLER: Final = SigenControllerSensorEntityDescription(
    key="battery_controller",
    translation_key="battery_controller",
    device_class=SensorDeviceClass.ENUM,
    options=CONTROLLER_OPTIONS,
)


class SigenBatteryControllerSensor(SigenEntity[SigenSettingsCoordinator], SensorEntity):
    """Who controls the battery: the modes' coordinator, with manual control and telemetry."""

    entity_description: SigenControllerSensorEntityDescription

    def __init__(self, station: StationRuntime) -> None:
        """Follow the station's modes, its manual control and its pushed telemetry."""
        super().__init__(
            station.settings, station, BATTERY_CONTROLLER, also=(station.controls, station.push)
        )

    @property
    def _controller(self) -> BatteryController | None:
        view = self.view
        return None if view is None else battery_controller(view)

    @property
    @override
    def native_value(self) -> str | None:
        """The state of who controls the battery."""
        controller = self._controller
        return None if controller is None else controller.state

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """``until``: manual control's end; ``operational_mode``: the mode's name."""
        view, controller = self.view, self._controller
        if view is None or controller is None:
            return None
        until = controller.until
        return {
            "until": None if until is None else until.isoformat(),
            "operational_mode": mode_name(view, controller.mode),
        }


def controller_sensors(station: StationRuntime) -> list[SensorEntity]:
    """The station's battery-controller sensor (every station has one)."""
    return [SigenBatteryControllerSensor(station)]
