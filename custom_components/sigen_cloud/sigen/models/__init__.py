"""Typed results of the REST clients, declared field by field.

Every model is a frozen dataclass built by ``from_dict`` from the cloud's JSON; each
field names its wire key and parser (:func:`~sigen.models._base.wire`), and the
original object stays available as ``raw``. Values are converted (``"4.79 kWh"`` →
4.79) and a missing or unreadable value is ``None``, never 0.

Units and signs are the library's everywhere: power in kW, energy in kWh, state of
charge in %; ``grid_power`` + = importing from the grid, ``battery_power`` + =
discharging the battery. The cloud's own signs differ (see each class) and its own
values stay available.

The MQTT push models (``TelemetryData``, ``SystemData``, ``AlarmEvent``) live in
:mod:`sigen.telemetry`; battery commands in :mod:`sigen.models.commands`.
"""

from ..const import MAX_COMMANDS_PER_BATCH
from ._base import PowerSplit, SigenModel, wire
from .battery import BatteryPowerLimits, SocLevels
from .commands import (
    BATTERY_MODES,
    MAX_COMMAND_POWER_KW,
    MAX_DURATION_MIN,
    PAST_TOLERANCE_S,
    BatteryCommand,
    validate_commands,
)
from .control import ManualControl
from .devices import DEVICE_KINDS, AlarmRecord, DeviceNode, devices_in_tree
from .energy import STATION_STATUS_OFFLINE, EnergyFlow, NBEnergyFlow
from .ev import (
    DC_CHARGE_MODES,
    AcChargeMode,
    AcChargerCurrent,
    AcChargerState,
    Charger,
    DcChargeMode,
    DcChargerState,
    DcChargeSettings,
    DcEnergyTotals,
    V2xSession,
    V2xSettings,
    chargers_in_topology,
)
from .forecast import Forecast, ForecastPoint
from .grid import GridCurrentLimit, GridLimit, PvLimit
from .history import (
    DayEnergy,
    EnergyAmounts,
    EnergyDelta,
    EnergyRow,
    EnergyTotals,
    HourEnergy,
    PowerPoint,
    PowerSeries,
    hourly_sums,
    interval_deltas,
    merge_lifetime_totals,
)
from .modes import MODE_METHOD_PREFIX, CurrentMode, OperationalMode
from .northbound import NBSummary, NBSystem, OnboardResult
from .pairing import match_system, pair_stations
from .peak_shaving import PeakShaving, PeakShavingPeriod
from .schedule import MAX_SCHEDULE_PERIODS, SCHEDULE_ACTIONS, SchedulePeriod
from .smart_loads import (
    DISABLE_LOAD_PREFIX,
    ENABLE_LOAD_PREFIX,
    SmartLoad,
    SmartLoadConsumption,
)
from .station import StationInfo
from .tariff import LOAD_TYPES, PriceCost, PriceFee, SpikeLoad, TariffPlan, TariffSlot

__all__ = [
    "BATTERY_MODES",
    "DC_CHARGE_MODES",
    "DEVICE_KINDS",
    "DISABLE_LOAD_PREFIX",
    "ENABLE_LOAD_PREFIX",
    "LOAD_TYPES",
    "MAX_COMMANDS_PER_BATCH",
    "MAX_COMMAND_POWER_KW",
    "MAX_DURATION_MIN",
    "MAX_SCHEDULE_PERIODS",
    "MODE_METHOD_PREFIX",
    "PAST_TOLERANCE_S",
    "SCHEDULE_ACTIONS",
    "STATION_STATUS_OFFLINE",
    "AcChargeMode",
    "AcChargerCurrent",
    "AcChargerState",
    "AlarmRecord",
    "BatteryCommand",
    "BatteryPowerLimits",
    "Charger",
    "CurrentMode",
    "DayEnergy",
    "DcChargeMode",
    "DcChargeSettings",
    "DcChargerState",
    "DcEnergyTotals",
    "DeviceNode",
    "EnergyAmounts",
    "EnergyDelta",
    "EnergyFlow",
    "EnergyRow",
    "EnergyTotals",
    "Forecast",
    "ForecastPoint",
    "GridCurrentLimit",
    "GridLimit",
    "HourEnergy",
    "ManualControl",
    "NBEnergyFlow",
    "NBSummary",
    "NBSystem",
    "OnboardResult",
    "OperationalMode",
    "PeakShaving",
    "PeakShavingPeriod",
    "PowerPoint",
    "PowerSeries",
    "PowerSplit",
    "PriceCost",
    "PriceFee",
    "PvLimit",
    "SchedulePeriod",
    "SigenModel",
    "SmartLoad",
    "SmartLoadConsumption",
    "SocLevels",
    "SpikeLoad",
    "StationInfo",
    "TariffPlan",
    "TariffSlot",
    "V2xSession",
    "V2xSettings",
    "chargers_in_topology",
    "devices_in_tree",
    "hourly_sums",
    "interval_deltas",
    "match_system",
    "merge_lifetime_totals",
    "pair_stations",
    "validate_commands",
    "wire",
]
