"""A third-party controller holding the battery: a VPP, or an NBI party such as Axle.

The API notes (§2) say VPP (mode 6) and NBI (mode 8) are mutually exclusive, and that
while a system is in either the owner's app cannot control the battery. The simulator
models the outside party as a :class:`Controller` on the station: who holds it
(``"vpp"`` or ``"nbi"``, and the party's name), since when, and what it makes the
battery do until it lets go (hold at 0 kW, or charge or discharge at a power). While it
holds, the station's one mode (app ``mode/current``, northbound ``query_mode``,
telemetry ``operationalMode``) is the holder's: 6 or 8.

It lets go when the party releases it (the mode it found comes back) or when the owner
switches the mode away from the holder's through the northbound API, REST or MQTT
(:func:`release_on_switch`, called by :meth:`SimStation.set_mode`); the app's own mode
switch and manual control are refused or accepted without effect while it holds
(``SimConfig.app_while_controlled``, checked by the app routes, :func:`app_refusal`).

In :func:`~.decision.decide` the controller's hold comes after an active northbound
battery command (the cloud executes every command it accepted, whoever sent it; the
party's standing hold fills the time between) and before manual control and the
operating mode, which the app owns.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .commands import directed_battery
from .modes import MODE_MSC, MODE_NBI, MODE_VPP

if TYPE_CHECKING:
    from .commands import Limits
    from .station import SimStation

#: holder -> the mode the station shows while it holds
HOLDER_MODES = {"vpp": MODE_VPP, "nbi": MODE_NBI}
#: what a controller makes the battery do
ACTIONS = ("hold", "charge", "discharge")
#: The app API's answer to an owner's command while a controller holds (with
#: ``SimConfig.app_while_controlled == "refuse"``): the cloud's "in another VPP".
HELD_CODE = 1103


class HeldByControllerError(Exception):
    """The owner's app asked for something a controller holding the battery refuses."""


@dataclass(frozen=True)
class Controller:
    """An outside party holding the battery (times in epoch seconds)."""

    holder: str  # "vpp" or "nbi"
    party: str
    since: float
    action: str = "hold"
    power_kw: float | None = None  # None: the battery's own (rated, owner-limited) power
    mode_before: int = MODE_MSC
    profile_before: int = -1

    @property
    def mode(self) -> int:
        """The mode the station shows while this controller holds it (6 or 8)."""
        return HOLDER_MODES[self.holder]

    def describe(self) -> str:
        """A short text for logs and refusals: ``"nbi (Axle), hold"``."""
        return f"{self.holder} ({self.party}), {self.action}"


def make_controller(
    holder: str, party: str, action: str, power_kw: float | None, now: float
) -> Controller:
    """A controller taking the battery at ``now`` (ValueError/TypeError for a bad argument)."""
    if holder not in HOLDER_MODES:
        raise ValueError(f"unknown holder {holder!r} ({', '.join(HOLDER_MODES)})")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} ({', '.join(ACTIONS)})")
    if not isinstance(party, str) or not party.strip():
        raise TypeError("the party must be a non-empty name")
    if power_kw is not None and (
        isinstance(power_kw, bool)
        or not isinstance(power_kw, int | float)
        or not math.isfinite(power_kw)
        or power_kw < 0
    ):
        raise ValueError(f"the power must be a finite number >= 0 kW, not {power_kw!r}")
    if action == "hold":
        power_kw = None
    return Controller(holder, party.strip(), now, action, power_kw)


def take_control(station: SimStation, controller: Controller) -> Controller:
    """``controller`` takes the battery of ``station``; the station's mode becomes its own.

    The same holder taking it again changes what it does and keeps since when it holds;
    the other holder is refused (ValueError): VPP and NBI are mutually exclusive.
    """
    held = station.controller
    if held is not None and held.holder != controller.holder:
        raise ValueError(
            f"the battery is held by {held.describe()}; VPP and NBI exclude each other"
        )
    station.sync()
    if held is not None:
        controller = Controller(
            held.holder,
            controller.party,
            held.since,
            controller.action,
            controller.power_kw,
            held.mode_before,
            held.profile_before,
        )
    else:
        controller = Controller(
            controller.holder,
            controller.party,
            controller.since,
            controller.action,
            controller.power_kw,
            station.mode,
            station.profile_id,
        )
    station.controller = controller
    station.mode = controller.mode
    return controller


def release_control(station: SimStation) -> Controller | None:
    """The party lets go: the mode it found comes back (None when nobody held it)."""
    held = station.controller
    if held is None:
        return None
    station.sync()
    station.controller = None
    station.mode, station.profile_id = held.mode_before, held.profile_before
    return held


def release_on_switch(station: SimStation, mode: int) -> None:
    """An owner's switch to ``mode``: a controller holding another mode lets go."""
    held = station.controller
    if held is not None and mode != held.mode:
        station.controller = None


def app_refusal(station: SimStation, variant: str) -> Controller | None:
    """The controller the app's command meets (None: the command acts as usual).

    Raises :class:`HeldByControllerError` when the variant is ``"refuse"``; with
    ``"ignore"`` the caller accepts the command without effect.
    """
    held = station.controller
    if held is None:
        return None
    if variant == "refuse":
        raise HeldByControllerError(
            f"the battery is controlled by {held.describe()}; the app cannot control it"
        )
    return held


def hand_back_mode(station: SimStation, mode: int, profile_id: int) -> None:
    """The app's mode switch accepted while a controller holds: the mode it hands back."""
    held = station.controller
    if held is not None:
        station.controller = dataclasses.replace(held, mode_before=mode, profile_before=profile_id)


def controller_battery(controller: Controller, limits: Limits) -> float:
    """The battery's power (+ = charging) while ``controller`` holds it."""
    directed = directed_battery(controller.action, controller.power_kw, limits)
    return 0.0 if directed is None else directed  # "hold"
