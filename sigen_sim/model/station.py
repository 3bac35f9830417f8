"""One simulated station: its state and physics (the cloud's JSON shapes live beside the routes).

Sign conventions are the real cloud's (app API): ``battery_kw`` + = charging,
``buy_sell_kw`` + = export. The balance ``pv - battery - buy_sell == load`` holds for
every sample (values are rounded to 2 decimals first, then the grid is the remainder).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from . import curves
from .commands import BatteryCommand, parse_command
from .controller import Controller, release_on_switch
from .decision import Sample, decide
from .devices import StationDevices
from .ev import Chargers
from .manual_control import ManualControl, start_control
from .modes import ALL_MODES, MODE_CUSTOM, MODE_MSC, REMOTE_MODES, mode_label
from .owner_settings import OwnerSettings, check_settings
from .peak_shaving import PeakShavingState, PeakShavingStatus
from .pricing import Pricing
from .settings import parse_system_values
from .smart_loads import SmartLoad, build_smart_loads, default_smart_loads, smart_load_id

if TYPE_CHECKING:
    from ..clock import SimClock

_LOGGER = logging.getLogger(__name__)

STEP_SECONDS = 15.0


class SimStation:
    """One simulated station (app-API ``stationId`` + northbound ``systemId``)."""

    controller: Controller | None = None  # an outside VPP/NBI party holding the battery

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
        """Station ``index`` of the account (its ids follow from it), on ``clock``."""
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
        # the owner's other battery and grid settings, the app's manual control, and
        # whether the battery keeps the backup SOC in reserve (False: it goes down to the
        # discharge cut-off)
        self.settings, self.manual, self.backup_reserve = OwnerSettings(), ManualControl(), True
        # The rest of the MQTT ``change`` fields (see set_system_values).
        self.system_status = "running"
        # peak shaving (§7.7) holds peak_shaving_status, its on/off
        self.on_off_grid_status, self.peak_shaving = 0, PeakShavingState()
        self.storm_watch_status = False
        self.soc = float(initial_soc)
        self.mode: int = MODE_MSC
        self.profile_id: int = -1
        self.profiles: list[tuple[str, int]] = [("Summer 50kWh", 3126), ("Storm Ready", 3939)]
        self.telemetry_pv_key = telemetry_pv_key
        self.commands_need_remote_mode = commands_need_remote_mode
        # the AC charger's serial, the EV chargers (none unless SimConfig.ev_chargers),
        # the tariff plan and spike loads
        self.ac_sn, self.chargers, self.pricing = f"SIMAC{index + 1:010d}", Chargers(), Pricing()
        self.devices = StationDevices()  # tree changes and alarm log (model/devices.py)
        self.grid_connect_time = 1711814399
        self.smart_loads: list[SmartLoad] = default_smart_loads(index)
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
        self.synced_until = clock.now()  # integrated up to here (epoch s)
        self._local_cache: tuple[float, datetime] | None = None
        self._date = self.local(self.synced_until).date()

    def local(self, t: float) -> datetime:
        """Local time of ``t`` (one-entry cache: a step asks several times)."""
        cache = self._local_cache
        if cache is None or cache[0] != t:
            cache = (t, self.clock.local(t))
            self._local_cache = cache
        return cache[1]

    peak_shaving_status = PeakShavingStatus()  # MQTT peakShavingStatus: the app's controlMode

    # ---------------------------------------------------------------- physics inputs
    def pv_kw(self, t: float) -> float:
        """PV power at ``t`` (the day curve with clouds)."""
        return curves.pv_kw(self.pv_capacity, self.seed, t, self.local(t))

    def household_kw(self, t: float) -> float:
        """Household load at ``t``, smart loads not included."""
        return curves.household_kw(self.base_load_kw, self.seed, t, self.local(t))

    def load_kw(self, t: float) -> float:
        """The whole load at ``t``: household plus the smart loads that are on."""
        return self.household_kw(t) + sum(sl.current_kw for sl in self.smart_loads)

    # ---------------------------------------------------------------- commands
    def active_command(self, t: float) -> BatteryCommand | None:
        """The command the battery follows at ``t`` (the latest received wins on overlap)."""
        if self.commands_need_remote_mode and self.mode not in REMOTE_MODES:
            return None
        current = None
        for cmd in self.commands:
            if cmd.active_at(t):
                current = cmd
        return current

    def apply_battery_commands(self, commands: list[dict[str, Any]]) -> None:
        """Schedule battery commands (the cloud's camelCase items); invalid ones are skipped."""
        now = self.clock.now()
        for item in commands:
            try:
                cmd = parse_command(item, self.system_id, now)
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
        """Battery/grid decision at time ``t`` (see :func:`~.decision.decide`)."""
        return decide(self, t)

    # ---------------------------------------------------------------- integration
    def sync(self, until: float | None = None) -> None:
        """Integrate the model from its last time up to ``until`` (default: now)."""
        target = self.clock.now() if until is None else until
        while self.synced_until < target:
            dt = min(STEP_SECONDS, target - self.synced_until)
            end = self.manual.end if self.manual.enabled else None
            if end is not None and self.synced_until < end < self.synced_until + dt:
                dt = end - self.synced_until  # a manual session ends on the second
            self._step(self.synced_until, dt)
            self.synced_until += dt

    def _step(self, t: float, dt: float) -> None:
        day = self.local(t).date()
        if day != self._date:
            roll_day(self, self._date, day)
            self._date = day
        s = self._decide(t)
        hours = dt / 3600.0
        before = self.soc
        self.soc += s.battery * hours / self.battery_capacity * 100.0
        # a cut-off lowered below the SOC stops charging; it does not empty the battery
        self.soc = min(max(self.charge_cutoff_soc, before), max(0.0, self.soc))
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
            sl.count(hours)
        if self.chargers:
            self.chargers.step(t, hours)

    # ---------------------------------------------------------------- outputs
    def sample(self) -> Sample:
        """Current values, rounded to 2 decimals, satisfying the balance exactly."""
        self.sync()
        s = self._decide(self.synced_until)
        pv = round(s.pv, 2)
        load = round(s.load, 2)
        battery = round(s.battery, 2)
        ev = round(s.ev, 2)
        buy_sell = round(pv - battery - load - ev, 2)
        return Sample(
            pv=pv, load=load, battery=battery, buy_sell=buy_sell, soc=round(self.soc, 1), ev=ev
        )

    def mode_label(self) -> str:
        """The current mode's name, as the app shows it."""
        return mode_label(self.mode, self.profile_id, self.profiles)

    # ---------------------------------------------------------------- changes
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
        release_on_switch(self, mode)  # a switch away from VPP/NBI lets the holder go
        self.mode = mode

    def set_system_values(self, values: dict[str, Any]) -> None:
        """Change system settings, named as in the ``change`` message.

        Everything is checked first (see :func:`~.settings.parse_system_values`): a bad
        value raises ValueError (TypeError for a value that is not even a number or a
        string) and changes nothing.
        """
        updates = parse_system_values(
            values,
            charge_cutoff=self.charge_cutoff_soc,
            discharge_cutoff=self.discharge_cutoff_soc,
        )
        self.sync()  # integrate up to now under the old limits
        for attribute, value in updates.items():
            setattr(self, attribute, value)

    def set_settings(self, settings: OwnerSettings) -> None:
        """The owner's battery and grid settings change (see :mod:`.owner_settings`).

        Checked first (ValueError, nothing changed); the model is integrated up to now
        under the old ones.
        """
        check_settings(settings)
        self.sync()
        self.settings = settings

    def start_manual_control(
        self, mode: str, duration_min: float, power_kw: float | None = None
    ) -> ManualControl:
        """Start a manual-control session now (``mode`` in ``MANUAL_MODES``; ValueError)."""
        session = start_control(mode, self.clock.now(), duration_min, power_kw)
        self.sync()
        self.manual = session
        return session

    def stop_manual_control(self) -> None:
        """Stop the manual-control session (its mode and planned end are kept)."""
        self.sync()
        self.manual = self.manual.stopped()

    def manual_control_active(self) -> bool:
        """Whether a manual-control session drives the battery now."""
        return self.manual.active_at(self.clock.now())

    def smart_load(self, path: int) -> SmartLoad:
        """The smart load on ``path`` (KeyError when there is none)."""
        for sl in self.smart_loads:
            if sl.path == path:
                return sl
        raise KeyError(f"No smart load with path {path}")

    def set_smart_load(self, path: int, on: bool) -> None:
        """Switch the smart load on ``path`` on or off."""
        self.sync()
        self.smart_load(path).on = on

    def add_smart_load(self, name: str, power_kw: float, *, on: bool = False) -> SmartLoad:
        """A new smart load appears on the station (next free path)."""
        if not name or power_kw < 0:
            raise ValueError("a smart load needs a name and a non-negative power")
        self.sync()
        path = max((sl.path for sl in self.smart_loads), default=0) + 1
        smart_load = SmartLoad(name, path, float(power_kw), smart_load_id(self.index, path), on=on)
        self.smart_loads.append(smart_load)
        return smart_load

    def set_smart_loads(self, definitions: Iterable[tuple[str, int, float]]) -> None:
        """Replace the station's smart loads with ``(name, path, power kW)`` ones (off).

        Raises ValueError for an empty name, a path that is not a positive integer or
        repeats, or a negative power.
        """
        loads = build_smart_loads(definitions, self.index)
        self.sync()
        self.smart_loads = loads

    def remove_smart_load(self, path: int) -> None:
        """A smart load disappears from the station."""
        self.sync()
        self.smart_loads.remove(self.smart_load(path))


def roll_day(station: SimStation, old: date, new: date) -> None:
    """A new local day (month, year) starts: the counters of the period that ended reset."""
    station.pv_day_kwh = 0.0
    for sl in station.smart_loads:
        sl.today_kwh = 0.0
    if (old.year, old.month) != (new.year, new.month):
        station.pv_month_kwh = 0.0
        for sl in station.smart_loads:
            sl.month_kwh = 0.0
    if old.year != new.year:
        station.pv_year_kwh = 0.0
