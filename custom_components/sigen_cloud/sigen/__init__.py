"""sigen: an async client for Sigenergy's cloud.

* :class:`Sigen` — the end-user ("app") API: station, energy flow, modes, smart loads; the
  original library's surface over :class:`SigenAppClient`, whose areas (``.stations``,
  ``.modes``, ``.smart_loads``, ``.battery``, ``.grid``, ``.control``) hold the endpoints.
* :class:`NorthboundClient` — the developer API: onboarding, northbound modes.
* :class:`SigenMQTT` — telemetry push and battery commands over MQTT with TLS, configured
  by one :class:`MQTTConfig`.
* :func:`find_region` — which region (shard) holds an account.
"""

from .app import SigenAppClient
from .client import Sigen
from .const import (
    MANUAL_CONTROL_DURATION_RANGE,
    MANUAL_CONTROL_MODES,
    MANUAL_CONTROL_POWER_MODES,
    MAX_COMMANDS_PER_BATCH,
    MAX_MANUAL_CONTROL_POWER_KW,
    MQTT_PORT,
    NBMode,
)
from .discovery import RegionAttempt, RegionSearch, find_region
from .errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenRateLimitError,
    SigenTokenExpiredError,
    SigenValidationError,
)
from .models import (
    BATTERY_MODES,
    MAX_COMMAND_POWER_KW,
    MAX_DURATION_MIN,
    PAST_TOLERANCE_S,
    BatteryCommand,
    BatteryPowerLimits,
    CurrentMode,
    EnergyFlow,
    GridCurrentLimit,
    GridLimit,
    ManualControl,
    NBEnergyFlow,
    NBSummary,
    NBSystem,
    OnboardResult,
    OperationalMode,
    PvLimit,
    SmartLoad,
    SmartLoadConsumption,
    SocLevels,
    StationInfo,
    match_system,
    pair_stations,
    validate_commands,
)
from .mqtt import MQTTConfig, SigenMQTT
from .northbound import NorthboundClient
from .regions import REGIONS, Region, get_region
from .telemetry import AlarmEvent, SystemData, TelemetryData

__all__ = [
    "BATTERY_MODES",
    "MANUAL_CONTROL_DURATION_RANGE",
    "MANUAL_CONTROL_MODES",
    "MANUAL_CONTROL_POWER_MODES",
    "MAX_COMMANDS_PER_BATCH",
    "MAX_COMMAND_POWER_KW",
    "MAX_DURATION_MIN",
    "MAX_MANUAL_CONTROL_POWER_KW",
    "MQTT_PORT",
    "PAST_TOLERANCE_S",
    "REGIONS",
    "AlarmEvent",
    "BatteryCommand",
    "BatteryPowerLimits",
    "CurrentMode",
    "EnergyFlow",
    "GridCurrentLimit",
    "GridLimit",
    "MQTTConfig",
    "ManualControl",
    "NBEnergyFlow",
    "NBMode",
    "NBSummary",
    "NBSystem",
    "NorthboundClient",
    "OnboardResult",
    "OperationalMode",
    "PvLimit",
    "Region",
    "RegionAttempt",
    "RegionSearch",
    "Sigen",
    "SigenAPIError",
    "SigenAccountLockedError",
    "SigenAppClient",
    "SigenAuthError",
    "SigenConnectionError",
    "SigenError",
    "SigenMQTT",
    "SigenMQTTError",
    "SigenRateLimitError",
    "SigenTokenExpiredError",
    "SigenValidationError",
    "SmartLoad",
    "SmartLoadConsumption",
    "SocLevels",
    "StationInfo",
    "SystemData",
    "TelemetryData",
    "find_region",
    "get_region",
    "match_system",
    "pair_stations",
    "validate_commands",
]
__version__ = "0.1.0"
