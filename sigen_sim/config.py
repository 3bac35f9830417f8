"""The simulator's configuration: :class:`SimConfig` and what follows from it.

Every variant the sources disagree on is a switch here (see ``sigen_sim/README.md``);
:func:`check_config` refuses an impossible one, :func:`make_station` builds a station
the way the configuration says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .model import SimStation
from .model.ev import make_chargers
from .model.schedule import schedule_of

if TYPE_CHECKING:
    from .clock import SimClock

TelemetryShape = Literal["captured", "official"]
# The PV power key of each telemetry shape.
TELEMETRY_PV_KEYS: dict[str, str] = {"captured": "PV power", "official": "pvPowerW"}


@dataclass
class SimConfig:
    """Everything that can be tuned about a simulator instance."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port
    stations: int = 1
    username: str = "demo@sigen.invalid"
    password: str = "demo-password"
    # the shard (region) holding the account: a request's shard is its client-server
    # header, else the api-<shard>.sigencloud.com Host name, else this one; another
    # shard answers a login like a wrong password (not counted towards the lockout)
    shard: str = "eu"
    app_key: str = "sim-app-key"
    app_secret: str = "sim-app-secret"
    app_identifier: str = "sim-app"
    user_id: int = 1000001
    login_includes_user_id: bool = False
    # clock and model
    time_scale: float = 1.0  # simulated seconds per real second (0 = only advance() moves time)
    start_time: float | None = None  # simulated epoch seconds at start (None = now)
    timezone: str = "Europe/Dublin"
    seed: int = 1234
    initial_soc: float = 50.0
    pv_capacity: float = 10.3
    battery_capacity: float = 10.0
    # MQTT telemetry: "captured" (as a real capture: the "PV power" key, and after a
    # full first message per subscription only the fields that changed) or "official"
    # (the documented pvPowerW, every field in every message)
    telemetry_shape: TelemetryShape = "captured"
    telemetry_pv_key: str | None = None  # the PV key; None: the shape's
    commands_need_remote_mode: bool = False
    # auth
    access_token_lifetime: float = 43199.0
    refresh_token_lifetime: float = 30 * 86400.0
    nb_token_lifetime: float = 43199.0
    # bad app-API credentials: HTTP 200 envelope with code 11003 ("envelope") or
    # HTTP 400 {"error": "invalid_grant"} ("oauth"); lockout is code 11002 in both
    login_error_style: Literal["envelope", "oauth"] = "envelope"
    rotate_refresh_tokens: bool = True  # False: a refresh answers the same refresh token
    station_id_as_string: bool = False  # station/home stationId as "2024..." (a variant)
    # station/home carries stationCode (= the systemId); False: a station whose home
    # data lacks it (the library must find it in the northbound system list)
    station_code_in_home: bool = True
    # indices of stations that start offline (energy flow: stationStatus 4, null powers)
    offline_stations: tuple[int, ...] = ()
    lockout_attempts: int = 5
    lockout_window: float = 3600.0
    lockout_duration: float = 180.0
    # northbound
    nb_rate_limits: bool = True
    nb_rate_limit_interval: float = 300.0
    nb_system_items_as_strings: bool = False  # /openapi/system items as JSON strings
    nb_double_encode_all: bool = False  # every northbound ``data`` object as a JSON string
    auto_approve: bool = False
    # the northbound password login accepts the password "plain" or "aes"-encrypted
    # (sources disagree; the other form answers authentication failed and counts)
    nb_password_form: Literal["plain", "aes"] = "plain"
    # the REST mode switch accepts MSC, FFG and NBI (refuses VPP); True: MSC and FFG only
    nb_rest_msc_ffg_only: bool = False
    # history (statistics/energy, statistics/v1/energy, northbound v1/history): the
    # station was commissioned history_days before the start's local date, or on
    # commissioning_date (ISO); a share history_dropout_rate of the 5-minute rows read 0;
    # no rows inside the offline stretches, pairs of local ISO date-times (None: one
    # from 10:00 20 days before the start to 14:00 18 days before); numbers as strings
    history_days: int = 400
    commissioning_date: str | None = None
    history_dropout_rate: float = 0.002
    history_offline: tuple[tuple[str, str], ...] | None = None
    history_values_as_strings: bool = False
    # app-API statistics: history_rate_limit requests per history_rate_window simulated
    # seconds per endpoint and station (HTTP 429 beyond; 0 = no limit)
    history_rate_limit: int = 30
    history_rate_window: float = 60.0
    # the northbound lifetime totals lack the day before for this long after midnight
    nb_lifetime_dip_minutes: float = 30.0
    # faults
    block_aiohttp_user_agent: bool = True
    # MQTT
    mqtt: bool = False
    require_client_cert: bool = False
    telemetry_interval: float = 300.0
    mqtt_port: int = 0  # the broker's TLS port; 0 = a free one
    # A northbound login makes its token the app key's only broker password (older
    # tokens are refused, connections using them cut), as mosquitto's password change
    # does; False: every unexpired token stays a valid broker password (no cut). Which
    # one the real cloud does is unknown. (REST calls accept any unexpired token.)
    nb_one_token_per_key: bool = True
    # The broker answers CONNACK 2 (identifier rejected) to a persistent session
    # (clean session 0), and to these client ids (sigen_sim/mqtt_gate.py).
    mqtt_refuse_persistent_sessions: bool = False
    mqtt_refused_client_ids: tuple[str, ...] = ()
    # Keep the MQTT certificates here and reuse a valid set found there (None: new ones
    # in a temporary directory, removed at stop).
    cert_dir: str | None = None
    state_dir: str | None = None  # python -m sigen_sim --state-dir: where files are written
    # names of the account's things, for examples that name them (the original library's
    # README): the stations' systemIds in order (None: SIMSYS00000001, ...; at most one
    # per station, the others keep the default form), and every station's smart loads
    # as (name, path, power kW) (None: ("Immersion", 1, 3.0), ("Pool pump", 2, 1.2))
    system_ids: tuple[str, ...] | None = None
    smart_loads: tuple[tuple[str, int, float], ...] | None = None
    # the owner's settings and manual control of the app API (§7 of the API notes):
    # the battery keeps the backup SOC in reserve (False: it discharges down to the
    # discharge cut-off, as the simulator did before it had the setting)
    backup_reserve: bool = True
    # SOC levels read "99" (False) or "99.0" (True); clients must accept both
    soc_level_decimals: bool = False
    # an owner value never set (grid limitation, current limit, a manual control never
    # started) reads "" ("empty") or null ("null"); sources show both
    unset_value: Literal["empty", "null"] = "empty"
    # the battery-export flag ownerSetEnable: true = the battery may export ("allowed")
    # or true = the limitation is on, it may not ("limited"); the one source is ambiguous
    battery_export_flag: Literal["allowed", "limited"] = "allowed"
    # manual-control durations the cloud takes: 1-1440 min ("wide") or 30-120 min in
    # steps of 30 ("app", what the app offers)
    manual_control_durations: Literal["wide", "app"] = "wide"
    # device/setting/backup/reserve is the backup SOC ("shared") or a value of its own
    # without effect ("separate"); unknown
    backup_reserve_endpoint: Literal["shared", "separate"] = "shared"
    # the TOU schedule (§7.8): whichDay reads back "1,2,3" ("text") or [1, 2, 3]
    # ("list"), a save takes both; a schedule whose periods do not tile each day (or
    # has over 24) is "refuse"d with code 1000 or "store"d as sent; a null limit reads
    # back "null" or is "absent"; a station never saved reads [] ("empty") or null
    schedule_days: Literal["text", "list"] = "text"
    schedule_untiled: Literal["refuse", "store"] = "refuse"
    schedule_nulls: Literal["null", "absent"] = "null"
    schedule_unset: Literal["empty", "null"] = "empty"
    # the TOU schedule's whichDay 1 is Monday ("monday", ISO, what the library assumes)
    # or Sunday ("sunday"); the day's end reads back "24:00" or "00:00". Both unknown
    schedule_first_day: Literal["monday", "sunday"] = "monday"
    schedule_day_end: Literal["24:00", "00:00"] = "24:00"
    # settings writes take only the documented types (numbers as strings, an integer
    # stationId and backupReserve); False: a JSON number for a string too
    strict_setting_types: bool = False
    # peak shaving (§7.7): its shavingSOC is the SOC levels' peakShavingSOC ("linked":
    # one value, writing either changes both) or a value of its own ("separate");
    # whichDay 1 is Monday ("monday", ISO) or Sunday ("sunday"); whichDay reads as
    # "1,2,3" ("text") or [1, 2, 3] ("list"). All three unknown
    peak_shaving_soc: Literal["linked", "separate"] = "linked"
    peak_shaving_first_day: Literal["monday", "sunday"] = "monday"
    peak_shaving_days: Literal["text", "list"] = "text"
    # the northbound REST mode switch answers code 1504 "peak shaving enabled" while the
    # station's peak shaving is on (what the code's name suggests; unknown)
    peak_shaving_refuses_nb: bool = False
    # EV chargers of every station (issue 20): "ac" (the station's AC charger, the
    # acSnList serial) and/or "dc" (a bidirectional DC charger, SIMDC...); none by
    # default, when station/home keeps its old charger fields and evPower stays 0. The
    # car on each starts unplugged at ev_car_soc % (the control API plugs it in); the
    # AC charger has ac_charger_phases phases; the DC status and plug read as objects
    # ({"status", "statusDesc"}, {"pluggedIn"}) with ev_dc_object_answers
    ev_chargers: tuple[str, ...] = ()
    ev_car_soc: float = 40.0
    ac_charger_phases: int = 3
    ev_dc_object_answers: bool = False
    # the AI forecast's points are off the curves the station follows by at most this
    # share (deterministic noise)
    forecast_noise: float = 0.1
    # the app API's alarm list (device/alarm/page) and device tree (issue 18): the
    # record field set ("solidfox": alarmName, cause, fixSuggest, alarmLevel,
    # deviceSnCode, chlidAlarmCode; "paulczar": alarmDesc, alarmType, alarmTime as a
    # string), alarmTime in "s" or "ms", recovered alarms listed (with recoverTime) or
    # dropped, and the tree's nodes with or without model and firmware keys
    alarm_fields: Literal["solidfox", "paulczar"] = "solidfox"
    alarm_time_unit: Literal["s", "ms"] = "ms"
    alarm_list_recovered: bool = False
    # the alarm list serves at most this many records per page, whatever size is asked
    # for (its "size" says the cap; a cloud capping the page size), None: as asked
    alarm_page_cap: int | None = None
    device_model_keys: bool = True
    # while an outside VPP/NBI controller holds the battery (sigen_sim/model/controller.py)
    # the app's mode switch and manual-control start are "refuse"d (code 1103) or
    # accepted without effect ("ignore": they act once it lets go); unknown
    app_while_controlled: Literal["refuse", "ignore"] = "refuse"


# the other SimConfig fields that take one of a few words
CHOICES: dict[str, tuple[str, ...]] = {
    "unset_value": ("empty", "null"),
    "peak_shaving_soc": ("linked", "separate"),
    "peak_shaving_first_day": ("monday", "sunday"),
    "peak_shaving_days": ("text", "list"),
    "battery_export_flag": ("allowed", "limited"),
    "manual_control_durations": ("wide", "app"),
    "backup_reserve_endpoint": ("shared", "separate"),
    "alarm_fields": ("solidfox", "paulczar"),
    "alarm_time_unit": ("s", "ms"),
    "schedule_days": ("text", "list"),
    "schedule_untiled": ("refuse", "store"),
    "schedule_nulls": ("null", "absent"),
    "schedule_unset": ("empty", "null"),
    "schedule_first_day": ("monday", "sunday"),
    "schedule_day_end": ("24:00", "00:00"),
    "app_while_controlled": ("refuse", "ignore"),
}


def check_system_ids(system_ids: tuple[str, ...] | None, stations: int) -> None:
    """``SimConfig.system_ids``: at most one per station, distinct, usable in a topic."""
    if system_ids is None:
        return
    if len(system_ids) > stations:
        raise ValueError(f"{len(system_ids)} system ids for {stations} station(s)")
    if len(set(system_ids)) != len(system_ids):
        raise ValueError("the system ids must be distinct")
    for system_id in system_ids:
        if not system_id or any(ch in system_id for ch in "/+# "):
            raise ValueError(f"{system_id!r} cannot be a system id (empty, or in no topic)")


def check_config(config: SimConfig) -> None:
    """Refuse a configuration no simulator can run (ValueError)."""
    if config.stations < 1:
        raise ValueError("a simulator needs at least one station")
    if config.telemetry_shape not in TELEMETRY_PV_KEYS:
        raise ValueError(
            f"telemetry_shape must be one of {', '.join(TELEMETRY_PV_KEYS)}, "
            f"not {config.telemetry_shape!r}"
        )
    check_system_ids(config.system_ids, config.stations)
    for name, allowed in CHOICES.items():
        if getattr(config, name) not in allowed:
            raise ValueError(
                f"{name} must be one of {', '.join(allowed)}, not {getattr(config, name)!r}"
            )


def make_station(config: SimConfig, clock: SimClock, index: int) -> SimStation:
    """Station ``index`` of the account, with the configuration's variants."""
    station = SimStation(
        index,
        clock,
        seed=config.seed,
        pv_capacity=config.pv_capacity,
        battery_capacity=config.battery_capacity,
        initial_soc=config.initial_soc,
        telemetry_pv_key=config.telemetry_pv_key or TELEMETRY_PV_KEYS[config.telemetry_shape],
        commands_need_remote_mode=config.commands_need_remote_mode,
    )
    station.station_code_in_home = config.station_code_in_home
    station.offline = index in config.offline_stations
    station.backup_reserve = config.backup_reserve
    station.peak_shaving.link = config.peak_shaving_soc
    station.peak_shaving.first_day = config.peak_shaving_first_day
    schedule_of(station).first_day = config.schedule_first_day
    if config.system_ids is not None and index < len(config.system_ids):
        station.system_id = config.system_ids[index]
    if config.smart_loads is not None:
        station.set_smart_loads(config.smart_loads)
    if config.ev_chargers:
        station.chargers = make_chargers(
            config.ev_chargers, index, station.ac_sn, config.ac_charger_phases
        )
        for charger in station.chargers.all():
            charger.car.soc = config.ev_car_soc
    return station
