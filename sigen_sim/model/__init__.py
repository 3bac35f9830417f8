"""The live system model: stations with PV, load, battery, grid and smart loads.

State and physics only; the cloud's JSON shapes are made beside the routes that answer
with them (:mod:`sigen_sim.app_api`, :mod:`sigen_sim.northbound_api`,
:mod:`sigen_sim.mqtt_payloads`, :mod:`sigen_sim.control_stations`).

* :mod:`.modes`: operational modes and their labels;
* :mod:`.curves`: the day curves of PV and household load, with deterministic noise;
* :mod:`.commands`: battery commands and the battery's decision;
* :mod:`.smart_loads`: switchable loads and their energy counters;
* :mod:`.settings`: the system settings of the MQTT ``change`` message;
* :mod:`.owner_settings`: the owner's grid and battery limits of the app API;
* :mod:`.manual_control`: the app's manual-control sessions;
* :mod:`.decision`: what the battery and the grid do at a moment, every limit applied;
* :mod:`.station`: :class:`SimStation`, the state and its integration over time.
"""

from __future__ import annotations

from .commands import COMMAND_MODES, TOU_CHEAP_HOURS, BatteryCommand
from .decision import Sample
from .manual_control import MANUAL_MODES, ManualControl
from .modes import (
    ALL_MODES,
    DEFAULT_WORKING_MODES,
    MODE_AI,
    MODE_CUSTOM,
    MODE_FFG,
    MODE_MSC,
    MODE_NBI,
    MODE_REMOTE_EMS,
    MODE_TOU,
    MODE_VPP,
    REMOTE_MODES,
)
from .owner_settings import CurrentLimit, GridLimit, OwnerSettings, updated
from .settings import SYSTEM_STATUSES
from .smart_loads import SmartLoad
from .station import STEP_SECONDS, SimStation

__all__ = [
    "ALL_MODES",
    "COMMAND_MODES",
    "DEFAULT_WORKING_MODES",
    "MANUAL_MODES",
    "MODE_AI",
    "MODE_CUSTOM",
    "MODE_FFG",
    "MODE_MSC",
    "MODE_NBI",
    "MODE_REMOTE_EMS",
    "MODE_TOU",
    "MODE_VPP",
    "REMOTE_MODES",
    "STEP_SECONDS",
    "SYSTEM_STATUSES",
    "TOU_CHEAP_HOURS",
    "BatteryCommand",
    "CurrentLimit",
    "GridLimit",
    "ManualControl",
    "OwnerSettings",
    "Sample",
    "SimStation",
    "SmartLoad",
    "updated",
]
