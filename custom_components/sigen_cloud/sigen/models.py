"""Typed results of the REST clients.

Every model is a frozen dataclass built by ``from_dict`` from the cloud's JSON; the
original object stays available as ``raw``. Values are converted (``"4.79 kWh"`` →
4.79) and a missing or unreadable value is ``None``, never 0.

Units and signs are the library's everywhere: power in kW, energy in kWh, state of
charge in %; ``grid_power`` + = importing from the grid, ``battery_power`` + =
discharging the battery. The cloud's own signs differ (see each class) and its own
values stay available.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from ._parse import (
    method_suffix,
    negate,
    parse_bool,
    parse_energy_kwh,
    parse_int,
    parse_number,
    parse_power_kw,
    parse_str,
    parse_str_list,
)
from ._util import PowerSplit
from .const import (
    APP_DEFAULT_PROFILE_ID,
    APP_MODE_CUSTOM_PROFILE,
    CODE_PENDING_REVIEW,
    ERROR_MESSAGES,
)
from .errors import SigenAPIError

_LOGGER = logging.getLogger(__name__)

MODE_METHOD_PREFIX = "set_operational_mode_"
#: ``stationStatus`` of an offline station in the app API's energy flow.
STATION_STATUS_OFFLINE = 4
ENABLE_LOAD_PREFIX = "enable_smart_load_"
DISABLE_LOAD_PREFIX = "disable_smart_load_"


def _first_str(raw: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = parse_str(raw.get(key))
        if value is not None:
            return value
    return None


def _require_mapping(model: str, data: object) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    raise SigenAPIError(f"Cannot read {model}: expected a JSON object, got {type(data).__name__}")


# --------------------------------------------------------------------------- app API


@dataclass(frozen=True)
class StationInfo:
    """The account's home station (app API ``device/owner/station/home``).

    ``station_id`` is the app API's plant id as a string (the cloud sends a number or
    a string; 13-15 digits): every app endpoint takes it.

    ``system_id`` is the northbound and MQTT ``systemId`` (letters and digits, like
    ``TAETN1768371966``): the app API sends it as ``stationCode`` (kept as
    ``station_code``). When ``stationCode`` is missing, ``system_id`` is ``None``
    until it is found in the northbound system list (:func:`match_system`;
    :meth:`Sigen.nb_system_id` does that and stores the result here).

    ``sn_code`` is ``stationSnCode`` as sent: a numeric, station-id-like serial in the
    real payloads, **not** the system id (never pair a station with a northbound
    system by it). ``pv_capacity`` in kW(p), ``battery_capacity`` in kWh.
    """

    station_id: str
    sn_code: str | None = None
    has_pv: bool | None = None
    has_ev: bool | None = None
    has_ac_charger: bool | None = None
    ac_sn_list: list[str] = field(default_factory=list)
    dc_sn_list: list[str] = field(default_factory=list)
    on_grid: bool | None = None
    pv_capacity: float | None = None
    battery_capacity: float | None = None
    name: str | None = None
    station_code: str | None = None
    system_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``data`` of ``station/home``; raises without a ``stationId``."""
        raw = _require_mapping("the station", data)
        station_id = parse_str(raw.get("stationId"))
        if station_id is None:
            raise SigenAPIError(
                "Cannot read the station: the cloud's answer has no stationId "
                f"(fields: {', '.join(sorted(raw)) or 'none'})"
            )
        return cls(
            station_id=station_id.strip(),
            sn_code=parse_str(raw.get("stationSnCode", raw.get("snCode"))),
            has_pv=parse_bool(raw.get("hasPv")),
            has_ev=parse_bool(raw.get("hasEv")),
            has_ac_charger=parse_bool(raw.get("hasAcCharger")),
            ac_sn_list=parse_str_list(raw.get("acSnList")),
            dc_sn_list=parse_str_list(raw.get("dcSnList")),
            on_grid=parse_bool(raw.get("onGrid")),
            pv_capacity=parse_number(raw.get("pvCapacity")),
            battery_capacity=parse_number(raw.get("batteryCapacity")),
            name=_first_str(raw, "stationName", "stationShowName", "name"),
            station_code=(code := parse_str(raw.get("stationCode"))),
            system_id=code,
            raw=raw,
        )


@dataclass(frozen=True)
class EnergyFlow(PowerSplit):
    """Live power flow of a station (app API ``device/sigen/station/energyflow``).

    Powers in kW, ``battery_soc`` in %, ``pv_day_energy`` in kWh.

    Signs (the library's convention, as ``TelemetryData``):

    * ``grid_power`` + = **importing** from the grid, - = exporting. It is
      ``-buySellPower``: the app API sends ``buySellPower`` + = selling/exporting, kept
      as ``buy_sell_power``.
    * ``battery_power`` + = **discharging**, - = charging. It is ``-batteryPower``: the
      app API sends ``batteryPower`` + = charging, kept as ``battery_power_raw``.

    So ``pv_power + grid_power + battery_power ≈ load_power`` (plus EV, heat pump…).

    An offline station (``station_status`` 4) sends every power as ``null``: those
    attributes are ``None``, never 0 (``is_offline`` tells). ``station_sn`` is the
    ``stationSnCode`` as sent (numeric in real payloads), not the northbound system id.
    ``grid_import_power``, ``grid_export_power``, ``battery_charge_power`` and
    ``battery_discharge_power`` split them into non-negative parts.
    """

    pv_power: float | None = None
    grid_power: float | None = None
    buy_sell_power: float | None = None
    battery_power: float | None = None
    battery_power_raw: float | None = None
    load_power: float | None = None
    ev_power: float | None = None
    ac_power: float | None = None
    heat_pump_power: float | None = None
    third_party_pv_power: float | None = None
    generator_power: float | None = None
    battery_soc: float | None = None
    pv_day_energy: float | None = None
    on_grid: bool | None = None
    on_off_grid_status: int | None = None
    station_status: int | None = None
    station_sn: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the ``data`` of the energy-flow endpoint (unknown fields ignored)."""
        raw = _require_mapping("the energy flow", data)
        buy_sell = parse_number(raw.get("buySellPower"))
        battery_raw = parse_number(raw.get("batteryPower"))
        return cls(
            pv_power=parse_number(raw.get("pvPower")),
            grid_power=negate(buy_sell),
            buy_sell_power=buy_sell,
            battery_power=negate(battery_raw),
            battery_power_raw=battery_raw,
            load_power=parse_number(raw.get("loadPower")),
            ev_power=parse_number(raw.get("evPower")),
            ac_power=parse_number(raw.get("acPower")),
            heat_pump_power=parse_number(raw.get("heatPumpPower")),
            third_party_pv_power=parse_number(raw.get("thirdPvPower")),
            generator_power=parse_number(raw.get("generatorPower")),
            battery_soc=parse_number(raw.get("batterySoc")),
            pv_day_energy=parse_number(raw.get("pvDayNrg")),
            on_grid=parse_bool(raw.get("onGrid")),
            on_off_grid_status=parse_int(raw.get("onOffGridStatus")),
            station_status=parse_int(raw.get("stationStatus")),
            station_sn=parse_str(raw.get("stationSnCode")),
            raw=raw,
        )

    @property
    def is_offline(self) -> bool:
        """Whether the cloud reports the station offline (``stationStatus`` 4)."""
        return self.station_status == STATION_STATUS_OFFLINE


@dataclass(frozen=True)
class OperationalMode:
    """One operational mode the station can be switched to.

    Default modes (``defaultWorkingModes``: ``{"label", "value"}``) have
    ``profile_id == -1``; custom energy profiles (``energyProfileItems``: ``{"name",
    "profileId", "value"}``, value 9) have ``is_profile`` set and their own
    ``profile_id``. ``method_name`` is the dynamic method of :class:`Sigen` that selects
    it (``set_operational_mode_<label>``).
    """

    label: str
    value: int
    profile_id: int = APP_DEFAULT_PROFILE_ID
    is_profile: bool = False
    method_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a default-mode or a profile item (detected by ``profileId``)."""
        raw = _require_mapping("an operational mode", data)
        if "profileId" in raw:
            return cls.from_profile(raw)
        return cls.from_default(raw)

    @classmethod
    def from_default(cls, data: Mapping[str, Any]) -> Self:
        """Build from a ``defaultWorkingModes`` item (``value`` is often a string)."""
        raw = _require_mapping("an operational mode", data)
        label = parse_str(raw.get("label", raw.get("name")))
        value = parse_int(raw.get("value"))
        if label is None or value is None:
            raise SigenAPIError(
                f"Cannot read an operational mode: it needs a label and an integer value, "
                f"got label={raw.get('label')!r}, value={raw.get('value')!r}"
            )
        return cls(
            label=label,
            value=value,
            profile_id=APP_DEFAULT_PROFILE_ID,
            is_profile=False,
            method_name=MODE_METHOD_PREFIX + method_suffix(label),
            raw=raw,
        )

    @classmethod
    def from_profile(cls, data: Mapping[str, Any]) -> Self:
        """Build from an ``energyProfileItems`` item (a custom profile, mode 9)."""
        raw = _require_mapping("an energy profile", data)
        label = parse_str(raw.get("name", raw.get("label")))
        profile_id = parse_int(raw.get("profileId"))
        if label is None or profile_id is None:
            raise SigenAPIError(
                f"Cannot read an energy profile: it needs a name and an integer profileId, "
                f"got name={raw.get('name')!r}, profileId={raw.get('profileId')!r}"
            )
        value = parse_int(raw.get("value"))
        return cls(
            label=label,
            value=APP_MODE_CUSTOM_PROFILE if value is None else value,
            profile_id=profile_id,
            is_profile=True,
            method_name=MODE_METHOD_PREFIX + method_suffix(label),
            raw=raw,
        )


@dataclass(frozen=True)
class CurrentMode:
    """The station's current mode: ``mode`` (int), ``profile_id`` (-1 for default modes)
    and ``label`` when the mode is among the known ones.
    """

    mode: int
    profile_id: int = APP_DEFAULT_PROFILE_ID
    label: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], label: str | None = None) -> Self:
        """Build from ``mode/current`` (``currentMode``, ``currentProfileId``)."""
        raw = _require_mapping("the current mode", data)
        mode = parse_int(raw.get("currentMode"))
        if mode is None:
            raise SigenAPIError(
                f"Cannot read the current mode: currentMode is {raw.get('currentMode')!r}"
            )
        profile_id = parse_int(raw.get("currentProfileId"))
        return cls(
            mode=mode,
            profile_id=APP_DEFAULT_PROFILE_ID if profile_id is None else profile_id,
            label=label,
            raw=raw,
        )


@dataclass(frozen=True)
class SmartLoad:
    """A smart load (a card of ``systemDevice/card``): ``name``, ``path`` (its
    ``loadPath``), ``power`` in kW (from ``valueWithUnit``), ``on`` (``manualSwitch`` 1).
    """

    name: str
    path: int
    power: float | None = None
    on: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a card item; raises without a name or an integer path."""
        raw = _require_mapping("a smart load", data)
        name = parse_str(raw.get("name"))
        path = parse_int(raw.get("path", raw.get("loadPath")))
        if name is None or path is None:
            raise SigenAPIError(
                f"Cannot read a smart load: it needs a name and an integer path, "
                f"got name={raw.get('name')!r}, path={raw.get('path')!r}"
            )
        power_value = raw.get("valueWithUnit", raw.get("value", raw.get("power")))
        return cls(
            name=name,
            path=path,
            power=parse_power_kw(power_value),
            on=parse_bool(raw.get("manualSwitch")) is True,
            raw=raw,
        )

    @property
    def enable_method_name(self) -> str:
        """Name of the dynamic method of :class:`Sigen` that switches it on."""
        return ENABLE_LOAD_PREFIX + method_suffix(self.name)

    @property
    def disable_method_name(self) -> str:
        """Name of the dynamic method of :class:`Sigen` that switches it off."""
        return DISABLE_LOAD_PREFIX + method_suffix(self.name)


@dataclass(frozen=True)
class SmartLoadConsumption:
    """Energy used by a smart load, kWh: ``today``, ``month`` and ``lifetime``
    (the cloud sends strings with units such as ``"4.79 kWh"``).
    """

    today: float | None = None
    month: float | None = None
    lifetime: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from ``real-time-consumption``."""
        raw = _require_mapping("the smart load's consumption", data)
        return cls(
            today=parse_energy_kwh(raw.get("todayConsumption")),
            month=parse_energy_kwh(raw.get("monthConsumption")),
            lifetime=parse_energy_kwh(raw.get("lifetimeConsumption")),
            raw=raw,
        )


# --------------------------------------------------------------------------- northbound


@dataclass(frozen=True)
class NBSystem:
    """A system of the northbound ``/openapi/system`` list.

    ``system_id`` is the string id used by MQTT (the app API's ``stationCode``);
    ``status`` e.g. ``"normal"``, ``on_off_grid_status`` e.g. ``"onGrid"``;
    ``pv_capacity`` kW(p), ``battery_capacity`` kWh; ``grid_connect_time`` epoch s.
    """

    system_id: str
    name: str | None = None
    status: str | None = None
    is_activate: bool | None = None
    on_off_grid_status: str | None = None
    time_zone: str | None = None
    pv_capacity: float | None = None
    battery_capacity: float | None = None
    address: str | None = None
    grid_connect_time: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a system item; raises without a ``systemId``."""
        raw = _require_mapping("a northbound system", data)
        system_id = parse_str(raw.get("systemId"))
        if system_id is None:
            raise SigenAPIError(
                "Cannot read a northbound system: it has no systemId "
                f"(fields: {', '.join(sorted(raw)) or 'none'})"
            )
        return cls(
            system_id=system_id,
            name=parse_str(raw.get("systemName")),
            status=parse_str(raw.get("status")),
            is_activate=parse_bool(raw.get("isActivate")),
            on_off_grid_status=parse_str(raw.get("onOffGridStatus")),
            time_zone=parse_str(raw.get("timeZone")),
            pv_capacity=parse_number(raw.get("pvCapacity")),
            battery_capacity=parse_number(raw.get("batteryCapacity")),
            address=parse_str(raw.get("addr")),
            grid_connect_time=parse_int(raw.get("gridConnectTime")),
            raw=raw,
        )


def _same_number(a: float | None, b: float | None) -> bool | None:
    """Whether two capacities agree (``None`` when one is unknown)."""
    if a is None or b is None:
        return None
    return abs(a - b) <= max(0.01, 0.005 * max(abs(a), abs(b)))


def _attributes_agree(station: StationInfo, system: NBSystem) -> bool:
    """At least one of name, PV and battery capacity is equal, and none differs."""
    checks: list[bool | None] = [
        None
        if station.name is None or system.name is None
        else station.name.strip().casefold() == system.name.strip().casefold(),
        _same_number(station.pv_capacity, system.pv_capacity),
        _same_number(station.battery_capacity, system.battery_capacity),
    ]
    known = [check for check in checks if check is not None]
    return bool(known) and all(known)


def match_system(station: StationInfo, systems: Iterable[NBSystem]) -> NBSystem | None:
    """The northbound system that is this app station, or ``None`` when it cannot be told.

    With a ``stationCode`` (``station.station_code``) only the system with that id
    matches. Without one, the single system whose name and capacities agree with the
    station's (at least one of them equal, none different) matches; none or several
    such systems give ``None``. ``sn_code`` and ``station_id`` are never compared.
    """
    items = list(systems)
    if station.station_code is not None:
        return next((item for item in items if item.system_id == station.station_code), None)
    candidates = [item for item in items if _attributes_agree(station, item)]
    return candidates[0] if len(candidates) == 1 else None


def pair_stations(
    stations: Iterable[StationInfo], systems: Iterable[NBSystem]
) -> dict[str, NBSystem]:
    """Pair app stations with northbound systems: ``{station_id: system}``.

    A station's ``stationCode`` pairs it with the system of that id; stations without
    one are matched as :func:`match_system` does against the systems left over, and a
    system that two such stations would match pairs with neither. A station without a
    pair is absent from the result.
    """
    station_list = list(stations)
    system_list = list(systems)
    pairs: dict[str, NBSystem] = {}
    for station in station_list:
        if station.station_code is not None:
            found = match_system(station, system_list)
            if found is not None:
                pairs[station.station_id] = found
    used = {system.system_id for system in pairs.values()}
    left = [system for system in system_list if system.system_id not in used]
    guesses: dict[str, NBSystem] = {}
    for station in station_list:
        if station.station_code is None:
            found = match_system(station, left)
            if found is not None:
                guesses[station.station_id] = found
    taken = [system.system_id for system in guesses.values()]
    for station_id, system in guesses.items():
        if taken.count(system.system_id) == 1:
            pairs[station_id] = system
    return pairs


@dataclass(frozen=True)
class NBEnergyFlow(PowerSplit):
    """Power flow from the northbound ``/openapi/systems/{id}/energyFlow``.

    kW and %, with the library's signs (as :class:`EnergyFlow`): ``grid_power`` + =
    importing, ``battery_power`` + = discharging. The northbound API sends
    ``gridPower`` + = export and ``batteryPower`` + = charging (derived from sample data
    by energy balance), kept as ``grid_power_raw`` and ``battery_power_raw``.
    """

    pv_power: float | None = None
    grid_power: float | None = None
    grid_power_raw: float | None = None
    battery_power: float | None = None
    battery_power_raw: float | None = None
    load_power: float | None = None
    ev_power: float | None = None
    heat_pump_power: float | None = None
    battery_soc: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the northbound energy-flow ``data``."""
        raw = _require_mapping("the northbound energy flow", data)
        grid_raw = parse_number(raw.get("gridPower"))
        battery_raw = parse_number(raw.get("batteryPower"))
        return cls(
            pv_power=parse_number(raw.get("pvPower")),
            grid_power=negate(grid_raw),
            grid_power_raw=grid_raw,
            battery_power=negate(battery_raw),
            battery_power_raw=battery_raw,
            load_power=parse_number(raw.get("loadPower")),
            ev_power=parse_number(raw.get("evPower")),
            heat_pump_power=parse_number(raw.get("heatPumpPower")),
            battery_soc=parse_number(raw.get("batterySoc")),
            raw=raw,
        )


@dataclass(frozen=True)
class NBSummary:
    """Generation totals of a system (northbound ``summary``): kWh, CO₂ in tons."""

    daily_generation: float | None = None
    monthly_generation: float | None = None
    annual_generation: float | None = None
    lifetime_generation: float | None = None
    lifetime_co2: float | None = None
    lifetime_coal: float | None = None
    lifetime_tree_equivalent: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the summary ``data``."""
        raw = _require_mapping("the northbound summary", data)
        return cls(
            daily_generation=parse_number(raw.get("dailyPowerGeneration")),
            monthly_generation=parse_number(raw.get("monthlyPowerGeneration")),
            annual_generation=parse_number(raw.get("annualPowerGeneration")),
            lifetime_generation=parse_number(raw.get("lifetimePowerGeneration")),
            lifetime_co2=parse_number(raw.get("lifetimeCo2")),
            lifetime_coal=parse_number(raw.get("lifetimeCoal")),
            lifetime_tree_equivalent=parse_number(raw.get("lifetimeTreeEquivalent")),
            raw=raw,
        )


@dataclass(frozen=True)
class OnboardResult:
    """The outcome of onboarding (or offboarding) one system.

    ``result`` is the cloud's verdict, ``codes`` its ``codeList``; ``pending`` is true
    while the owner has not yet approved (code 1116): telemetry starts after approval.
    """

    system_id: str
    result: bool
    codes: list[int] = field(default_factory=list)
    pending: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from an item of the onboard/offboard ``data`` list."""
        raw = _require_mapping("an onboarding result", data)
        system_id = parse_str(raw.get("systemId"))
        if system_id is None:
            raise SigenAPIError("Cannot read an onboarding result: it has no systemId")
        code_list = raw.get("codeList", raw.get("codes"))
        codes: list[int] = []
        if isinstance(code_list, list):
            codes = [code for item in code_list if (code := parse_int(item)) is not None]
        elif (single := parse_int(code_list)) is not None:
            codes = [single]
        result = parse_bool(raw.get("result")) is True
        return cls(
            system_id=system_id,
            result=result,
            codes=codes,
            pending=CODE_PENDING_REVIEW in codes and not result,
            raw=raw,
        )

    @property
    def description(self) -> str:
        """A human sentence about this result (for logs and repair issues)."""
        if self.result:
            return f"{self.system_id}: done"
        if self.pending:
            return f"{self.system_id}: waiting for the owner's approval (code 1116)"
        reasons = ", ".join(
            f"{code} ({ERROR_MESSAGES.get(code, 'unknown code')})" for code in self.codes
        )
        return f"{self.system_id}: refused" + (f": {reasons}" if reasons else "")
