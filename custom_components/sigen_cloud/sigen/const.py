"""Constants of Sigenergy's cloud: hosts, headers, modes and error codes."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import Final

from .regions import REGIONS

# The six shards live in :mod:`.regions`; these per-key tables are derived from it and
# kept for code written against the four-region tables.
REGION_BASE_URLS: Final[dict[str, str]] = {k: r.app_base_url for k, r in REGIONS.items()}
# Value of the ``client-server`` header per region.
CLIENT_SERVER_BY_REGION: Final[dict[str, str]] = {k: r.client_server for k, r in REGIONS.items()}
NB_BASE_URLS: Final[dict[str, str]] = {k: r.nb_base_url for k, r in REGIONS.items()}
# The first broker candidate per region (``Region.mqtt_hosts`` lists them all).
MQTT_BROKERS: Final[dict[str, str]] = {k: r.mqtt_host for k, r in REGIONS.items()}
MQTT_PORT: Final = 8883

# The cloud's firewall answers 403 to any User-Agent containing "aiohttp".
DEFAULT_USER_AGENT: Final = "sigen-cloud/0.1 (+https://github.com/sigen-cloud/sigen-cloud)"

# OAuth client of the app API (HTTP Basic sigen:sigen).
OAUTH_CLIENT_ID: Final = "sigen"
OAUTH_CLIENT_SECRET: Final = "sigen"  # noqa: S105 - the public client of the web app


class NBMode(IntEnum):
    """Operating modes known to the northbound (developer) API."""

    MSC = 0  # Maximum self-consumption
    FFG = 5  # Fully feed-in to grid
    VPP = 6  # Virtual power plant (a northbound controller has the battery)
    NBI = 8  # North-bound interface (a third-party controller)


# Error codes of the northbound API (``code`` in the envelope).
CODE_OK: Final = 0
CODE_PARAM_ILLEGAL: Final = 1000
CODE_CURRENT_LIMITED: Final = 1110
CODE_PENDING_REVIEW: Final = 1116
CODE_ACCESS_RESTRICTION: Final = 1201
CODE_ACCOUNT_LOCKED: Final = 11002
CODE_AUTH_FAILED: Final = 11003
RATE_LIMIT_CODES: Final = frozenset({CODE_CURRENT_LIMITED, CODE_ACCESS_RESTRICTION, 429})

ERROR_MESSAGES: Final[dict[int, str]] = {
    1000: "parameter illegal",
    1101: "wrong serial number",
    1102: "registration incomplete",
    1103: "the system is in another VPP",
    1104: "the device is offline",
    1105: "the firmware does not support VPP",
    1106: "station not found",
    1107: "only AIO systems and inverters are supported",
    1108: "station information not found",
    1109: "remote call failed",
    1110: "the interface is current-limited",
    1111: "the station is not permitted",
    1112: "the system is in another VPP (Evergen)",
    1116: "waiting for the owner's approval",
    1201: "access restriction (rate limit)",
    1301: "client not found",
    1302: "station status anomaly",
    1303: "client already exists",
    1304: "firmware mismatch",
    1401: "no permission for this station",
    1402: "no permission",
    1501: "command failed",
    1502: "internal error",
    1503: "anti-backflow is enabled",
    1504: "peak shaving is enabled",
    1600: "invitation invalid",
    1601: "account system error",
    1602: "account already registered",
    1603: "account not reviewed yet",
    1604: "developer not approved",
    11002: "account locked after too many failed logins; wait a few minutes",
    11003: "authentication failed",
}

BATTERY_COMMAND_MODES: Final = (
    "charge",
    "discharge",
    "idle",
    "selfConsumption",
    "selfConsumption-grid",
)
CHARGE_PRIORITY_TYPES: Final = ("PV", "GRID")
DISCHARGE_PRIORITY_TYPES: Final = ("PV", "BATTERY")
MAX_COMMANDS_PER_BATCH: Final = 24

# --- REST clients (library side) -------------------------------------------------------

#: Seconds to wait after a rate-limit answer that does not say how long (codes 1110/1201
#: limit most northbound endpoints to one call per 5 minutes).
DEFAULT_RATE_LIMIT_RETRY_AFTER: Final = 300.0
#: Seconds to wait after an HTTP 429 without a Retry-After header.
DEFAULT_HTTP_429_RETRY_AFTER: Final = 60.0

#: The app API's access token is refreshed this many seconds before it expires.
APP_TOKEN_REFRESH_MARGIN: Final = 60.0
#: The northbound token (no refresh token) is renewed by logging in again this many
#: seconds before it expires.
NB_TOKEN_RENEW_MARGIN: Final = 600.0
DEFAULT_REQUEST_TIMEOUT: Final = 30.0

#: The mySigen web app's version (``sg-v``): if the cloud starts refusing logins
#: wholesale, a newer value from a capture of the current web app goes here.
WEB_APP_VERSION: Final = "3.5.2"
APP_LANG: Final = "en_US"
#: The web app's fixed headers (§1.2 of the API notes), sent with every app request;
#: the client adds User-Agent, Origin/Referer, client-server, sg-ts, sg-log-id and
#: sg-session per request. Every header the cloud may check is here, in one place.
WEB_APP_HEADERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Accept": "application/json, text/plain, */*",
        "Accept-Language": "en-US,en;q=0.9",
        "Sec-Fetch-Dest": "empty",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Site": "same-site",
        "lang": APP_LANG,
        "AUTH-CLIENT-ID": OAUTH_CLIENT_ID,
        "VERSION": "RELEASE",
        "sg-v": WEB_APP_VERSION,
        "sg-bui": "1",
        "sg-env": "1",
        "sg-platform": "web",
        "sg-pkg": "sigen_app",
    }
)

#: ``operationMode`` of the app API for custom energy profiles (with their profileId).
APP_MODE_CUSTOM_PROFILE: Final = 9
#: ``profileId`` of the default (non-profile) modes.
APP_DEFAULT_PROFILE_ID: Final = -1

# --- App-API settings and manual control (issue 17; §7 of the API notes) --------------

#: The cloud's "no limit" / "depends on the system" power, kW ((2**32 - 1) / 1000); it
#: sends it and takes it back in writes, always as this text.
UNLIMITED_POWER_TEXT: Final = "4294967.295"
#: A power at or above this many kW is the "no limit" sentinel, however it is spelt.
UNLIMITED_POWER_THRESHOLD_KW: Final = 4294967.294
#: Largest power setting the library sends, kW: a sanity bound (the cloud's own is
#: unknown, and anything near the sentinel would read back as "no limit").
MAX_SETTING_POWER_KW: Final = 1000.0
#: Largest grid connection current the library sends when the installer set none, A.
MAX_GRID_CURRENT_A: Final = 1000.0
#: The SOC levels' ranges, % (those the mySigen app offers; §7.1).
CHARGE_CUT_OFF_RANGE: Final = (1, 100)
DISCHARGE_CUT_OFF_RANGE: Final = (0, 99)
PEAK_SHAVING_SOC_RANGE: Final = (0, 100)
BACKUP_SOC_RANGE: Final = (0, 100)
#: The grid limitation directions (``device/energy-profile/grid/limitation/<direction>``).
GRID_DIRECTIONS: Final = ("export", "import")
#: Instant manual control: the library's mode names → the cloud's ``mode`` code.
MANUAL_CONTROL_MODES: Final[Mapping[str, str]] = MappingProxyType(
    {"charge": "0", "discharge": "1", "hold": "2", "self_consumption": "3"}
)
#: The modes whose power the cloud takes (the others send ``""``).
MANUAL_CONTROL_POWER_MODES: Final = frozenset({"charge", "discharge"})
#: Largest manual-control power, kW (the one client that bounds it caps it so).
MAX_MANUAL_CONTROL_POWER_KW: Final = 100.0
#: Shortest and longest manual control, minutes. The app offers 30-120; other clients
#: send 1-1440 and the cloud takes them, so the wider range is allowed.
MANUAL_CONTROL_DURATION_RANGE: Final = (1, 1440)
