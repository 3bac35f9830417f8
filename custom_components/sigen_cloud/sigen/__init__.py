"""sigen: an async client for Sigenergy's cloud.

* :class:`Sigen` — the end-user ("app") API: station, energy flow, modes, smart loads.
* :class:`NorthboundClient` — the developer API: onboarding, northbound modes.
* :class:`SigenMQTT` — telemetry push and battery commands over MQTT with TLS.
* :func:`find_region` — which region (shard) holds an account.
"""

from .client import Sigen
from .const import NBMode
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
    BatteryCommand,
    CurrentMode,
    EnergyFlow,
    NBEnergyFlow,
    NBSummary,
    NBSystem,
    OnboardResult,
    OperationalMode,
    SmartLoad,
    SmartLoadConsumption,
    StationInfo,
    match_system,
    pair_stations,
)
from .mqtt import SigenMQTT
from .northbound import NorthboundClient
from .regions import REGIONS, Region, get_region
from .telemetry import AlarmEvent, SystemData, TelemetryData

__all__ = [
    "REGIONS",
    "AlarmEvent",
    "BatteryCommand",
    "CurrentMode",
    "EnergyFlow",
    "NBEnergyFlow",
    "NBMode",
    "NBSummary",
    "NBSystem",
    "NorthboundClient",
    "OnboardResult",
    "OperationalMode",
    "Region",
    "RegionAttempt",
    "RegionSearch",
    "Sigen",
    "SigenAPIError",
    "SigenAccountLockedError",
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
    "StationInfo",
    "SystemData",
    "TelemetryData",
    "find_region",
    "get_region",
    "match_system",
    "pair_stations",
]
__version__ = "0.1.0"
