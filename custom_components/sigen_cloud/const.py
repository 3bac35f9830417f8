"""Constants of the Sigen Cloud integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

from homeassistant.const import Platform

from .sigen.regions import REGIONS as SHARDS

DOMAIN: Final = "sigen_cloud"
LOGGER = logging.getLogger(__package__)

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

# Config entry data keys (CONF_USERNAME / CONF_PASSWORD come from homeassistant.const).
CONF_REGION: Final = "region"
CONF_SERVER_URL: Final = "server_url"  # advanced: overrides the region's app API URL
CONF_NB_URL: Final = "northbound_url"  # advanced: overrides the northbound API URL
CONF_APP_KEY: Final = "app_key"
CONF_APP_SECRET: Final = "app_secret"  # noqa: S105 (a key name)
CONF_APP_IDENTIFIER: Final = "app_identifier"
CONF_MQTT_HOST: Final = "mqtt_host"  # advanced: overrides the region's broker
CONF_MQTT_PORT: Final = "mqtt_port"
CONF_CA_CERT: Final = "ca_cert"  # PEM text
CONF_CLIENT_CERT: Final = "client_cert"  # PEM text
CONF_CLIENT_KEY: Final = "client_key"  # PEM text

REGIONS: Final = list(SHARDS)  # the six shards: eu, apac, aus, us, jp, cn
DEFAULT_REGION: Final = "eu"
# The config flow's default region: the credentials are tried on every shard at once and
# the one that accepts them is stored (an entry never stores "auto").
REGION_AUTO: Final = "auto"

ENERGY_FLOW_INTERVAL: Final = timedelta(seconds=60)
SLOW_REFRESH_INTERVAL: Final = timedelta(minutes=10)  # modes, smart loads, consumption
# The station list and the northbound systems (and with them the list of modes).
ACCOUNT_REFRESH_INTERVAL: Final = timedelta(minutes=30)
RATE_LIMIT_BACKOFF: Final = timedelta(minutes=5)
# Telemetry older than this (no push, no poll) makes push-only entities unavailable.
TELEMETRY_STALE_AFTER: Final = timedelta(minutes=15)
STALE_CHECK_INTERVAL: Final = timedelta(minutes=1)
# The northbound mode query may be called once per 5 minutes per system.
NB_MODE_MIN_INTERVAL: Final = timedelta(minutes=5)
# A read this recent answers an action that asks for a whole setting again (the TOU
# schedule, peak shaving): the cloud asks for about one request per endpoint per 5 min.
READ_REUSE_WINDOW: Final = timedelta(minutes=5)
# The battery and grid settings and the manual control (issue 17): every 10 minutes,
# and each part right after a write through us.
CONTROLS_INTERVAL: Final = timedelta(minutes=10)
# EV chargers (issue 20): every 2 minutes, every 30 s while a car is plugged in; the
# energy counters, the charge mode and the V2X session no more often than every 2 min.
EV_INTERVAL: Final = timedelta(minutes=2)
EV_PLUGGED_INTERVAL: Final = timedelta(seconds=30)
# After manual control's end time, its state is read again this much later.
MANUAL_CONTROL_END_GRACE: Final = timedelta(seconds=5)
# Sigen's AI forecast and the tariff plan with its price summary (issue 20): hourly,
# as often as the cloud remakes the forecast; the plan again right after a write.
FORECAST_INTERVAL: Final = timedelta(hours=1)

# The largest value of a number where the cloud reports no ceiling of its own (kW / A):
# the battery's power limits without a rated power (push SystemData), the PV limit
# without the station's PV capacity, the grid limits without the installer's. A value
# the cloud reports above it raises the maximum to that value.
DEFAULT_BATTERY_POWER_MAX_KW: Final = 30.0
DEFAULT_PV_LIMIT_MAX_KW: Final = 30.0
DEFAULT_GRID_LIMIT_MAX_KW: Final = 50.0
DEFAULT_GRID_CURRENT_MAX_A: Final = 100.0
# Manual control's duration and power numbers before the owner sets them (the power's
# 0 means the battery's own, unlimited power).
DEFAULT_MANUAL_DURATION_MIN: Final = 60
DEFAULT_MANUAL_POWER_KW: Final = 0.0

ATTR_STATION: Final = "station"

# The model of a station's device; services.yaml's device filter matches on it.
DEVICE_MODEL_STATION: Final = "SigenStor station"
# The model of a smart load's own device.
DEVICE_MODEL_SMART_LOAD: Final = "Smart load"
# The models of a charger's own device (under its station's).
DEVICE_MODEL_AC_CHARGER: Final = "AC charger"
DEVICE_MODEL_DC_CHARGER: Final = "DC charger"
