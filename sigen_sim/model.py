"""The live system model: stations with PV, load, battery, grid and smart loads.

Sign conventions are the real cloud's (app API): ``battery_kw`` + = charging,
``buy_sell_kw`` + = export. The balance ``pv - battery - buy_sell == load`` holds for
every sample (values are rounded to 2 decimals first, then the grid is the remainder).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .clock import SimClock

_LOGGER = logging.getLogger(__name__)

# Operational modes (app API values).
MODE_MSC = 0  # Maximum Self-Powered
MODE_AI = 1  # Sigen AI Mode
MODE_TOU = 2
MODE_FFG = 5  # Fully Fed to Grid
MODE_VPP = 6
MODE_REMOTE_EMS = 7
MODE_NBI = 8
MODE_CUSTOM = 9

DEFAULT_WORKING_MODES: list[tuple[str, int]] = [
    ("Sigen AI Mode", MODE_AI),
    ("Maximum Self-Powered", MODE_MSC),
    ("TOU", MODE_TOU),
    ("Fully Fed to Grid", MODE_FFG),
    ("Remote EMS Mode", MODE_REMOTE_EMS),
]
ALL_MODES = {MODE_MSC, MODE_AI, MODE_TOU, MODE_FFG, MODE_VPP, MODE_REMOTE_EMS, MODE_NBI}
COMMAND_MODES = ("charge", "discharge", "idle", "selfConsumption", "selfConsumption-grid")
REMOTE_MODES = {MODE_VPP, MODE_REMOTE_EMS, MODE_NBI}
SYSTEM_STATUSES = ("standby", "running", "fault", "shutdown", "disconnected")

STEP_SECONDS = 15.0
TOU_CHEAP_HOURS = (1, 5)  # local hours [start, end): charge from the grid


@functools.lru_cache(maxsize=8192)
def _noise(seed: int, key: str, bucket: int) -> float:
    """Deterministic pseudo-random number in [0, 1) for (seed, key, time bucket)."""
    digest = hashlib.blake2b(f"{seed}:{key}:{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _smooth_noise(seed: int, key: str, t: float, period: float) -> float:
    """Noise in [0, 1) that varies smoothly over ``period`` seconds (linear interpolation)."""
    pos = t / period
    bucket = math.floor(pos)
    frac = pos - bucket
    a = _noise(seed, key, bucket)
    b = _noise(seed, key, bucket + 1)
    return a + (b - a) * frac


@dataclass
class SmartLoad:
    """A switchable load (e.g. an immersion heater)."""

    name: str
    path: int
    power_kw: float
    smart_load_id: int
    on: bool = False
    today_kwh: float = 0.0
    month_kwh: float = 0.0
    lifetime_kwh: float = 0.0

    @property
    def current_kw(self) -> float:
        return self.power_kw if self.on else 0.0


@dataclass
class BatteryCommand:
    """One accepted battery command (times in epoch seconds)."""

    active_mode: str
    start: float
    duration_min: float
    charging_power: float | None = None
    pv_power: float | None = None
    max_sell_power: float | None = None
    max_purchase_power: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    received_at: float = 0.0

    @property
    def end(self) -> float:
        return self.start + self.duration_min * 60.0

    def active_at(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class Sample:
    """Instantaneous values (kW, %) in the app API's signs."""

    pv: float
    load: float
    battery: float  # + = charging
    buy_sell: float  # + = export
    soc: float

    @property
    def grid_import(self) -> float:
        return -self.buy_sell


class SimStation:
    """One simulated station (app-API ``stationId`` + northbound ``systemId``)."""

    def __init__(
        self,
        index: int,
        clock: SimClock,
        *,
        seed: int = 1234,
        pv_capacity: float = 10.3,
        battery_capacity: float = 10.0,
        max_charge_kw: float = 5.0,
        max_discharge_kw: float = 5.0,
        initial_soc: float = 50.0,
        base_load_kw: float = 0.4,
        telemetry_pv_key: str = "pvPowerW",
        commands_need_remote_mode: bool = False,
    ) -> None:
        self.index = index
        self.clock = clock
        self.seed = seed + index * 7919
        self.station_id: int = 20240523012345 + index
        self.system_id: str = f"SIMSYS{index + 1:08d}"
        # stationSnCode: numeric and station-id-like in the real payloads (13 digits in
        # the one capture), neither the stationId nor the northbound systemId.
        self.sn_code: str = str(2025041600173 + index)
        # station/home carries stationCode (= systemId) unless this is False.
        self.station_code_in_home = True
        # An offline station: the energy flow has stationStatus 4 and null powers.
        self.offline = False
        self.name = f"Sim Station {index + 1}"
        self.address = "1 Simulated Road, Dublin, Ireland"
        self.pv_capacity = pv_capacity
        self.battery_capacity = battery_capacity
        self.max_charge_kw = max_charge_kw
        self.max_discharge_kw = max_discharge_kw
        self.base_load_kw = base_load_kw
        self.inverter_max_kw = 10.0
        self.grid_max_backfeed_kw = 5.0
        self.charge_cutoff_soc = 100.0
        self.discharge_cutoff_soc = 5.0
        self.backup_cutoff_soc = 15.0
        self.peak_shaving_cutoff_soc = 20.0
        # The rest of the MQTT ``change`` fields (see system_values / set_system_values).
        self.system_status = "running"
        self.on_off_grid_status = 0
        self.peak_shaving_status = False
        self.storm_watch_status = False
        self.soc = float(initial_soc)
        self.mode: int = MODE_MSC
        self.profile_id: int = -1
        self.profiles: list[tuple[str, int]] = [("Summer 50kWh", 3126), ("Storm Ready", 3939)]
        self.telemetry_pv_key = telemetry_pv_key
        self.commands_need_remote_mode = commands_need_remote_mode
        self.ac_sn = f"SIMAC{index + 1:010d}"
        self.grid_connect_time = 1711814399
        self.smart_loads: list[SmartLoad] = [
            SmartLoad("Immersion", 1, 3.0, 7001 + index * 10),
            SmartLoad("Pool pump", 2, 1.2, 7002 + index * 10),
        ]
        self.commands: list[BatteryCommand] = []
        self.applied_commands: list[dict[str, Any]] = []
        self.pv_day_kwh = 0.0
        self.pv_month_kwh = 0.0
        self.pv_year_kwh = 0.0
        self.pv_lifetime_kwh = 1394.38 + 100.0 * index
        self.grid_import_kwh = 0.0
        self.grid_export_kwh = 0.0
        self.battery_charge_kwh = 0.0
        self.battery_discharge_kwh = 0.0
        self.load_kwh = 0.0
        self._t = clock.now()
        self._local_cache: tuple[float, datetime] | None = None
        self._date = self._local(self._t).date()

    def _local(self, t: float) -> datetime:
        """Local time of ``t`` (one-entry cache: a step asks several times)."""
        cache = self._local_cache
        if cache is None or cache[0] != t:
            cache = (t, self.clock.local(t))
            self._local_cache = cache
        return cache[1]

    # ---------------------------------------------------------------- physics inputs
    def pv_kw(self, t: float) -> float:
        """PV power following a day curve (sunrise 06:00, sunset 20:00 local) with clouds."""
        local = self._local(t)
        hour = local.hour + local.minute / 60 + local.second / 3600
        sunrise, sunset = 6.0, 20.0
        if hour <= sunrise or hour >= sunset:
            return 0.0
        elevation = math.sin(math.pi * (hour - sunrise) / (sunset - sunrise))
        clouds = 0.75 + 0.25 * _smooth_noise(self.seed, "cloud", t, 900.0)
        return max(0.0, self.pv_capacity * 0.85 * math.pow(elevation, 1.3) * clouds)

    def household_kw(self, t: float) -> float:
        """Base household load with morning/evening peaks and noise (no smart loads)."""
        local = self._local(t)
        hour = local.hour + local.minute / 60
        morning = 0.8 * math.exp(-(((hour - 7.5) / 1.0) ** 2))
        evening = 1.5 * math.exp(-(((hour - 19.0) / 1.5) ** 2))
        noise = 0.3 * _smooth_noise(self.seed, "load", t, 120.0)
        return self.base_load_kw + morning + evening + noise

    def load_kw(self, t: float) -> float:
        return self.household_kw(t) + sum(sl.current_kw for sl in self.smart_loads)

    # ---------------------------------------------------------------- commands
    def active_command(self, t: float) -> BatteryCommand | None:
        if self.commands_need_remote_mode and self.mode not in REMOTE_MODES:
            return None
        current = None
        for cmd in self.commands:  # the latest received one wins on overlap
            if cmd.active_at(t):
                current = cmd
        return current

    def apply_battery_commands(self, commands: list[dict[str, Any]]) -> None:
        """Schedule battery commands (the cloud's camelCase items); invalid ones are skipped."""
        now = self.clock.now()
        for item in commands:
            try:
                cmd = _parse_command(item, self.system_id, now)
            except (TypeError, ValueError, KeyError) as err:
                _LOGGER.warning("Skipping invalid battery command for %s: %s", self.system_id, err)
                continue
            self.sync()
            self.commands.append(cmd)
            self.applied_commands.append(dict(item))
        # forget commands that ended more than a day ago
        self.commands = [c for c in self.commands if c.end > now - 86400]

    # ---------------------------------------------------------------- decision
    def _decide(self, t: float) -> Sample:
        """Battery/grid decision at time ``t`` for the current SOC (not yet rounded)."""
        pv = self.pv_kw(t)
        load = self.load_kw(t)
        room_kw = max(0.0, (self.charge_cutoff_soc - self.soc) / 100 * self.battery_capacity) * 60
        avail_kw = (
            max(0.0, (self.soc - self.discharge_cutoff_soc) / 100 * self.battery_capacity) * 60
        )
        # room_kw/avail_kw: power that would fill/empty the battery within one minute;
        # it tapers the power near the limits so SOC never leaves [cut-off, 100].
        max_ch = min(self.max_charge_kw, room_kw)
        max_dis = min(self.max_discharge_kw, avail_kw)

        def self_consume(*, battery_covers_deficit: bool = True) -> float:
            surplus = pv - load
            if surplus >= 0:
                return min(surplus, max_ch)
            if not battery_covers_deficit:
                return 0.0
            return -min(-surplus, max_dis)

        cmd = self.active_command(t)
        if cmd is not None:
            if cmd.active_mode == "charge":
                battery = min(
                    max_ch, cmd.charging_power if cmd.charging_power is not None else max_ch
                )
                if cmd.max_purchase_power is not None:
                    battery = max(0.0, min(battery, pv - load + cmd.max_purchase_power))
            elif cmd.active_mode == "discharge":
                battery = -min(
                    max_dis, cmd.charging_power if cmd.charging_power is not None else max_dis
                )
            elif cmd.active_mode == "idle":
                battery = 0.0
            elif cmd.active_mode == "selfConsumption-grid":
                battery = self_consume(battery_covers_deficit=False)
            else:
                battery = self_consume()
            if cmd.max_sell_power is not None:
                export = pv - battery - load
                if export > cmd.max_sell_power:
                    if battery < 0:  # discharging: discharge less
                        battery = min(0.0, battery + (export - cmd.max_sell_power))
                        export = pv - battery - load
                    if export > cmd.max_sell_power:  # curtail PV
                        pv = max(0.0, pv - (export - cmd.max_sell_power))
        elif self.mode == MODE_FFG:
            battery = 0.0
        elif self.mode == MODE_TOU:
            hour = self._local(t).hour
            cheap = TOU_CHEAP_HOURS[0] <= hour < TOU_CHEAP_HOURS[1]
            # charge from the grid in the cheap window
            battery = max_ch if cheap else self_consume()
        else:  # MSC, AI, custom profiles, remote modes without a command
            battery = self_consume()
        return Sample(pv=pv, load=load, battery=battery, buy_sell=pv - battery - load, soc=self.soc)

    # ---------------------------------------------------------------- integration
    def sync(self, until: float | None = None) -> None:
        """Integrate the model from its last time up to ``until`` (default: now)."""
        target = self.clock.now() if until is None else until
        while self._t < target:
            dt = min(STEP_SECONDS, target - self._t)
            self._step(self._t, dt)
            self._t += dt

    def _step(self, t: float, dt: float) -> None:
        day = self._local(t).date()
        if day != self._date:
            self._roll_day(self._date, day)
            self._date = day
        s = self._decide(t)
        hours = dt / 3600.0
        self.soc += s.battery * hours / self.battery_capacity * 100.0
        self.soc = min(self.charge_cutoff_soc, max(0.0, self.soc))
        pv_kwh = s.pv * hours
        self.pv_day_kwh += pv_kwh
        self.pv_month_kwh += pv_kwh
        self.pv_year_kwh += pv_kwh
        self.pv_lifetime_kwh += pv_kwh
        self.load_kwh += s.load * hours
        if s.buy_sell >= 0:
            self.grid_export_kwh += s.buy_sell * hours
        else:
            self.grid_import_kwh += -s.buy_sell * hours
        if s.battery >= 0:
            self.battery_charge_kwh += s.battery * hours
        else:
            self.battery_discharge_kwh += -s.battery * hours
        for sl in self.smart_loads:
            kwh = sl.current_kw * hours
            sl.today_kwh += kwh
            sl.month_kwh += kwh
            sl.lifetime_kwh += kwh

    def _roll_day(self, old: date, new: date) -> None:
        self.pv_day_kwh = 0.0
        for sl in self.smart_loads:
            sl.today_kwh = 0.0
        if (old.year, old.month) != (new.year, new.month):
            self.pv_month_kwh = 0.0
            for sl in self.smart_loads:
                sl.month_kwh = 0.0
        if old.year != new.year:
            self.pv_year_kwh = 0.0

    # ---------------------------------------------------------------- outputs
    def sample(self) -> Sample:
        """Current values, rounded to 2 decimals, satisfying the balance exactly."""
        self.sync()
        s = self._decide(self._t)
        pv = round(s.pv, 2)
        load = round(s.load, 2)
        battery = round(s.battery, 2)
        buy_sell = round(pv - battery - load, 2)
        return Sample(pv=pv, load=load, battery=battery, buy_sell=buy_sell, soc=round(self.soc, 1))

    def set_mode(self, mode: int, profile_id: int = -1) -> None:
        """Switch the operational mode (9 = custom profile with ``profile_id``)."""
        self.sync()
        if mode == MODE_CUSTOM:
            if profile_id not in {pid for _, pid in self.profiles}:
                raise ValueError(f"Unknown energy profile {profile_id}")
            self.profile_id = profile_id
        elif mode in ALL_MODES:
            self.profile_id = -1
        else:
            raise ValueError(f"Unknown operational mode {mode}")
        self.mode = mode

    def set_smart_load(self, path: int, on: bool) -> None:
        self.sync()
        self.smart_load(path).on = on

    def add_smart_load(self, name: str, power_kw: float, *, on: bool = False) -> SmartLoad:
        """A new smart load appears on the station (next free path)."""
        if not name or power_kw < 0:
            raise ValueError("a smart load needs a name and a non-negative power")
        self.sync()
        path = max((sl.path for sl in self.smart_loads), default=0) + 1
        smart_load = SmartLoad(name, path, float(power_kw), 7000 + self.index * 10 + path, on=on)
        self.smart_loads.append(smart_load)
        return smart_load

    def set_smart_loads(self, definitions: Iterable[tuple[str, int, float]]) -> None:
        """Replace the station's smart loads with ``(name, path, power kW)`` ones (off).

        Raises ValueError for an empty name, a path that is not a positive integer or
        repeats, or a negative power.
        """
        loads: list[SmartLoad] = []
        for name, path, power_kw in definitions:
            if not name or isinstance(path, bool) or not isinstance(path, int) or path < 1:
                raise ValueError(f"smart load {name!r}: no name, or path {path!r} is not positive")
            if power_kw < 0 or path in {sl.path for sl in loads}:
                raise ValueError(f"smart load {name!r}: negative power or a repeated path")
            loads.append(SmartLoad(name, path, float(power_kw), 7000 + self.index * 10 + path))
        self.sync()
        self.smart_loads = loads

    def remove_smart_load(self, path: int) -> None:
        """A smart load disappears from the station."""
        self.sync()
        self.smart_loads.remove(self.smart_load(path))

    def smart_load(self, path: int) -> SmartLoad:
        for sl in self.smart_loads:
            if sl.path == path:
                return sl
        raise KeyError(f"No smart load with path {path}")

    def mode_label(self) -> str:
        if self.mode == MODE_CUSTOM:
            return next((n for n, pid in self.profiles if pid == self.profile_id), "Custom")
        names = dict((v, k) for k, v in DEFAULT_WORKING_MODES)
        names.update({MODE_VPP: "VPP", MODE_NBI: "North Bound"})
        return names.get(self.mode, str(self.mode))

    def energy_flow(self) -> dict[str, Any]:
        """The app API's energy-flow ``data`` object (the offline form when offline)."""
        if self.offline:
            return self.offline_energy_flow()
        s = self.sample()
        return {
            "acPower": 0.0,
            "acRunStatus": None,
            "batteryPower": s.battery,
            "batterySoc": s.soc,
            "buySellPower": s.buy_sell,
            "dateCurrTimeStamp": "",
            "evPower": 0.0,
            "generatorPower": 0.0,
            "heatPumpPower": 0.0,
            "loadPower": s.load,
            "onGrid": True,
            "onOffGridStatus": 0,
            "pvDayNrg": round(self.pv_day_kwh, 2),
            "pvPower": s.pv,
            "showHibernateStatus": None,
            "stationSnCode": self.sn_code,
            "stationStatus": 1,
            "thirdPvPower": 0.0,
            "greenSourceInfos": [
                {"sourceId": "FROM_SOLAR", "currentPower": s.pv, "soc": 0.0},
                {"sourceId": "FROM_THIRD_PARTY_INV", "currentPower": 0.0, "soc": 0.0},
                {"sourceId": "FROM_GRID", "currentPower": max(-s.buy_sell, 0.0), "soc": 0.0},
                {"sourceId": "FROM_GENERATOR", "currentPower": 0.0, "soc": 0.0},
                {"sourceId": "FROM_EVDC", "currentPower": 0.0, "soc": 0.0},
            ],
        }

    def offline_energy_flow(self) -> dict[str, Any]:
        """The energy flow of an offline station as captured: ``stationStatus`` 4,
        every power (and the SOC) ``null``, no ``greenSourceInfos``.
        """
        self.sync()
        return {
            "acPower": None,
            "acRunStatus": None,
            "batteryPower": None,
            "batterySoc": None,
            "buySellPower": None,
            "dateCurrTimeStamp": "",
            "evPower": None,
            "generatorPower": None,
            "heatPumpPower": None,
            "loadPower": None,
            "onGrid": True,
            "onOffGridStatus": 0,
            "pvDayNrg": None,
            "pvPower": None,
            "showHibernateStatus": None,
            "stationSnCode": self.sn_code,
            "stationStatus": 4,
            "thirdPvPower": None,
            "greenSourceInfos": [],
        }

    def station_home(self) -> dict[str, Any]:
        """The app API's ``station/home`` ``data`` object (stationId as an int).

        ``stationCode`` is the northbound/MQTT systemId (left out when
        ``station_code_in_home`` is False); ``stationSnCode`` is the numeric serial.
        """
        data: dict[str, Any] = {
            "stationId": self.station_id,
            "stationName": self.name,
            "stationCode": self.system_id,
            "stationSnCode": self.sn_code,
            "hasPv": True,
            "hasEv": False,
            "hasAcCharger": True,
            "acSnList": [self.ac_sn],
            "dcSnList": [],
            "onGrid": True,
            "pvCapacity": self.pv_capacity,
            "batteryCapacity": self.battery_capacity,
        }
        if not self.station_code_in_home:
            del data["stationCode"]
        return data

    def nb_system(self) -> dict[str, Any]:
        return {
            "systemId": self.system_id,
            "systemName": self.name,
            "addr": "*** Dublin Ireland",
            "status": "normal",
            "isActivate": True,
            "onOffGridStatus": "onGrid",
            "timeZone": self.clock.timezone,
            "gridConnectTime": self.grid_connect_time,
            "pvCapacity": self.pv_capacity,
            "batteryCapacity": self.battery_capacity,
        }

    def nb_energy_flow(self) -> dict[str, Any]:
        """Northbound energy flow: gridPower + = export, batteryPower + = charging."""
        s = self.sample()
        return {
            "pvPower": s.pv,
            "gridPower": s.buy_sell,
            "evPower": 0.0,
            "loadPower": s.load,
            "heatPumpPower": 0.0,
            "batteryPower": s.battery,
            "batterySoc": s.soc,
        }

    def nb_summary(self) -> dict[str, Any]:
        self.sync()
        return {
            "dailyPowerGeneration": round(self.pv_day_kwh, 2),
            "monthlyPowerGeneration": round(self.pv_month_kwh, 2),
            "annualPowerGeneration": round(self.pv_year_kwh, 2),
            "lifetimePowerGeneration": round(self.pv_lifetime_kwh, 2),
            "lifetimeCo2": round(self.pv_lifetime_kwh * 0.000475, 2),
            "lifetimeCoal": round(self.pv_lifetime_kwh * 0.0004, 2),
            "lifetimeTreeEquivalent": round(self.pv_lifetime_kwh * 0.00065, 2),
        }

    def telemetry_values(self) -> dict[str, str]:
        """MQTT ``period`` fields, values as strings (W; grid + = import, storage + = charging)."""
        s = self.sample()

        def w(kw: float) -> str:
            return f"{kw * 1000:.1f}"

        grid_import = -s.buy_sell
        inverter = s.pv - s.battery
        phase = grid_import / 3
        room = max(0.0, self.charge_cutoff_soc - self.soc) / 100 * self.battery_capacity
        avail = max(0.0, self.soc - self.discharge_cutoff_soc) / 100 * self.battery_capacity
        return {
            self.telemetry_pv_key: w(s.pv),
            "gridActivePowerW": w(grid_import),
            "gridReactivePowerVar": "0.0",
            "gridPhaseAActivePowerW": w(phase),
            "gridPhaseBActivePowerW": w(phase),
            "gridPhaseCActivePowerW": w(phase),
            "gridPhaseAReactivePowerVar": "0.0",
            "gridPhaseBReactivePowerVar": "0.0",
            "gridPhaseCReactivePowerVar": "0.0",
            "inverterActivePowerW": w(inverter),
            "inverterReactivePowerVar": "0.0",
            "inverterPhaseAActivePowerW": w(inverter / 3),
            "inverterPhaseBActivePowerW": w(inverter / 3),
            "inverterPhaseCActivePowerW": w(inverter / 3),
            "inverterMaxFeedInActivePowerW": w(self.inverter_max_kw),
            "inverterMaxAbsorptionActivePowerW": w(self.inverter_max_kw),
            "inverterMaxChargePowerW": w(self.max_charge_kw),
            "inverterMaxDischargePowerW": w(self.max_discharge_kw),
            "storageChargeCapacityWh": w(room),
            "storageDischargeCapacityWh": w(avail),
            "storageChargeDischargePowerW": w(s.battery),
            "storageSOC%": f"{s.soc:.1f}",
            "operationalMode": f"{float(self.mode):.1f}",
            "systemStatus": "1.0",
            "onOffGridStatus": "0.0",
        }

    def system_values(self) -> dict[str, str]:
        """MQTT ``change`` fields, values as strings."""
        return {
            "onOffGridStatus": str(self.on_off_grid_status),
            "inverterMaxActivePowerW": f"{self.inverter_max_kw * 1000:.1f}",
            "inverterMaxApprentPowerVar": f"{self.inverter_max_kw * 1000:.1f}",
            "systemStatus": self.system_status,
            "batteryRatedChargePowerW": f"{self.max_charge_kw * 1000:.1f}",
            "batteryRatedDischargePowerW": f"{self.max_discharge_kw * 1000:.1f}",
            "gridMaxBackfeedPowerW": f"{self.grid_max_backfeed_kw * 1000:.1f}",
            "batteryRatedCapabilityWh": f"{self.battery_capacity * 1000:.1f}",
            "inverterMaxAbsorptionActivePowerW": f"{self.inverter_max_kw * 1000:.1f}",
            "chargeCutOffSOC%": f"{self.charge_cutoff_soc:.1f}",
            "dischargeCutOffSOC%": f"{self.discharge_cutoff_soc:.1f}",
            "backupCutOffSOC%": f"{self.backup_cutoff_soc:.1f}",
            "peakShavingCutOffSOC%": f"{self.peak_shaving_cutoff_soc:.1f}",
            "peakShavingStatus": "on" if self.peak_shaving_status else "off",
            "stormWatchStatus": "on" if self.storm_watch_status else "off",
        }

    def set_system_values(self, values: dict[str, Any]) -> None:
        """Change system settings, named as in the ``change`` message.

        Accepted: the four ``...CutOffSOC%`` (0-100), ``peakShavingStatus`` and
        ``stormWatchStatus`` ("on"/"off" or a bool), ``systemStatus`` (standby, running,
        fault, shutdown, disconnected) and ``onOffGridStatus`` (an int). Everything is
        checked first: a bad value raises ValueError (TypeError for a value that is not
        even a number or a string) and changes nothing.
        """
        socs = {
            "chargeCutOffSOC%": "charge_cutoff_soc",
            "dischargeCutOffSOC%": "discharge_cutoff_soc",
            "backupCutOffSOC%": "backup_cutoff_soc",
            "peakShavingCutOffSOC%": "peak_shaving_cutoff_soc",
        }
        switches = {
            "peakShavingStatus": "peak_shaving_status",
            "stormWatchStatus": "storm_watch_status",
        }
        updates: dict[str, Any] = {}
        for key, value in values.items():
            if key in socs:
                number = _number(value, key)
                if not 0.0 <= number <= 100.0:
                    raise ValueError(f"{key} must be between 0 and 100, not {value!r}")
                updates[socs[key]] = number
            elif key in switches:
                if isinstance(value, bool):
                    updates[switches[key]] = value
                elif isinstance(value, str) and value.lower() in ("on", "off"):
                    updates[switches[key]] = value.lower() == "on"
                else:
                    raise ValueError(f"{key} must be 'on' or 'off', not {value!r}")
            elif key == "systemStatus":
                if value not in SYSTEM_STATUSES:
                    raise ValueError(
                        f"systemStatus must be one of {', '.join(SYSTEM_STATUSES)}, not {value!r}"
                    )
                updates["system_status"] = value
            elif key == "onOffGridStatus":
                updates["on_off_grid_status"] = int(_number(value, key))
            else:
                raise ValueError(f"{key!r} is not a system setting the simulator can change")
        charge = updates.get("charge_cutoff_soc", self.charge_cutoff_soc)
        discharge = updates.get("discharge_cutoff_soc", self.discharge_cutoff_soc)
        if discharge > charge:
            raise ValueError("dischargeCutOffSOC% must not be above chargeCutOffSOC%")
        self.sync()  # integrate up to now under the old limits
        for attribute, value in updates.items():
            setattr(self, attribute, value)

    def state(self) -> dict[str, Any]:
        """A JSON-friendly view for the control API."""
        s = self.sample()
        return {
            "stationId": self.station_id,
            "systemId": self.system_id,
            "snCode": self.sn_code,
            "offline": self.offline,
            "name": self.name,
            "time": self._t,
            "localTime": self._local(self._t).isoformat(),
            "mode": self.mode,
            "profileId": self.profile_id,
            "modeLabel": self.mode_label(),
            "pvPower": s.pv,
            "loadPower": s.load,
            "batteryPower": s.battery,
            "buySellPower": s.buy_sell,
            "batterySoc": s.soc,
            "pvDayNrg": round(self.pv_day_kwh, 3),
            "smartLoads": [
                {
                    "name": sl.name,
                    "path": sl.path,
                    "on": sl.on,
                    "powerKw": sl.power_kw,
                    "todayKwh": round(sl.today_kwh, 3),
                    "lifetimeKwh": round(sl.lifetime_kwh, 3),
                }
                for sl in self.smart_loads
            ],
            "activeCommand": (None if (c := self.active_command(self._t)) is None else dict(c.raw)),
            "appliedCommands": list(self.applied_commands),
        }


def _number(value: Any, key: str) -> float:
    """A finite number from an int, a float or a numeric string (else TypeError/ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{key} must be a number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{key} must be a finite number, not {value!r}")
    return number


def _opt_float(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{key} must be a number, got a boolean")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key} must be a non-negative number, got {value!r}")
    return number


def _parse_command(item: dict[str, Any], system_id: str, now: float) -> BatteryCommand:
    if not isinstance(item, dict):
        raise TypeError(f"a command must be an object, got {type(item).__name__}")
    sid = item.get("systemId")
    if sid is not None and sid != system_id:
        raise ValueError(f"command is for {sid}, not {system_id}")
    mode = item["activeMode"]
    if mode not in COMMAND_MODES:
        raise ValueError(f"unknown activeMode {mode!r}")
    start = item.get("startTime")
    if start is None:
        start = now
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise TypeError(f"startTime must be a number, got {start!r}")
    start = float(start)
    if start > 1e11:  # milliseconds (a documented inconsistency)
        start /= 1000.0
    duration = item["duration"]
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise ValueError(f"duration must be a positive number of minutes, got {duration!r}")
    return BatteryCommand(
        active_mode=mode,
        start=start,
        duration_min=float(duration),
        charging_power=_opt_float(item, "chargingPower"),
        pv_power=_opt_float(item, "pvPower"),
        max_sell_power=_opt_float(item, "maxSellPower"),
        max_purchase_power=_opt_float(item, "maxPurchasePower"),
        raw=dict(item),
        received_at=now,
    )
