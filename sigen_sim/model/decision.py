"""What the battery and the grid do at one moment: :func:`decide`.

Who drives the battery, first match wins: an active northbound battery command, an
outside VPP/NBI controller holding the battery (:mod:`.controller`), an active
manual-control session, the operating mode. Then the owner's hard limits apply
to every one of them: the PV limit caps the PV, the battery power limits cap the
battery, a battery not allowed to export discharges only for the house, an export cap
curtails first the battery's discharge and then the PV, an import cap cuts first the
battery's charging from the grid and then lets the battery serve the load (whatever the
battery cannot give is still drawn: the model sheds no load). The battery keeps the
backup SOC in reserve (unless the station is told not to), except under a northbound
command, which may go down to the discharge cut-off.

EV chargers (:mod:`.ev`) are a load beside the house's: the battery serves them (and
takes a V2X discharge) as it does the house; in TOU mode a station with a tariff plan
charges in its cheapest slots (:mod:`.pricing`), unless the owner's TOU schedule has a
period for now (:mod:`.schedule`), which comes first.

Sign conventions are the app API's: ``battery`` + = charging, ``buy_sell`` + = export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .commands import Limits, command_battery, mode_battery
from .controller import controller_battery
from .manual_control import manual_battery
from .modes import MODE_TOU
from .peak_shaving import shave_peak
from .pricing import tariff_battery
from .schedule import active_period, schedule_battery

if TYPE_CHECKING:
    from .owner_settings import OwnerSettings
    from .station import SimStation


@dataclass
class Sample:
    """Instantaneous values (kW, %) in the app API's signs."""

    pv: float
    load: float
    battery: float  # + = charging
    buy_sell: float  # + = export
    soc: float
    ev: float = 0.0  # EV chargers, + = into cars (a load beside ``load``)

    @property
    def grid_import(self) -> float:
        """Power bought from the grid (+ = import)."""
        return -self.buy_sell


def reserve_soc(station: SimStation) -> float:
    """The SOC the battery does not discharge below in normal operation."""
    if station.backup_reserve:
        return max(station.discharge_cutoff_soc, station.backup_cutoff_soc)
    return station.discharge_cutoff_soc


def power_caps(station: SimStation) -> tuple[float, float]:
    """The battery's charging and discharging power (kW): rated, lowered by the owner."""
    settings = station.settings
    charge, discharge = station.max_charge_kw, station.max_discharge_kw
    if settings.max_charge_kw is not None:
        charge = min(charge, settings.max_charge_kw)
    if settings.max_discharge_kw is not None:
        discharge = min(discharge, settings.max_discharge_kw)
    return charge, discharge


def decide(station: SimStation, t: float) -> Sample:
    """The battery/grid decision at time ``t`` for the current SOC (not yet rounded)."""
    settings = station.settings
    pv = station.pv_kw(t)
    if settings.pv_limit_kw is not None:
        pv = min(pv, settings.pv_limit_kw)
    load = station.load_kw(t)
    ev = station.chargers.power_kw(t) if station.chargers else 0.0
    cmd = station.active_command(t)
    held = station.controller if cmd is None else None
    manual = cmd is None and held is None and station.manual.active_at(t)
    outside = cmd is not None or held is not None  # may go down to the discharge cut-off
    floor = station.discharge_cutoff_soc if outside else reserve_soc(station)
    room_kw = (
        max(0.0, (station.charge_cutoff_soc - station.soc) / 100 * station.battery_capacity) * 60
    )
    avail_kw = max(0.0, (station.soc - floor) / 100 * station.battery_capacity) * 60
    # room_kw/avail_kw: power that would fill/empty the battery within one minute;
    # it tapers the power near the limits so SOC never leaves [floor, charge cut-off].
    max_charge, max_discharge = power_caps(station)
    limits = Limits(
        pv=pv,
        load=load + ev,
        max_charge=min(max_charge, room_kw),
        max_discharge=min(max_discharge, avail_kw),
    )
    if cmd is not None:
        battery, pv = command_battery(cmd, limits)
    elif held is not None:
        battery = controller_battery(held, limits)
    elif manual:
        battery = manual_battery(station.manual, limits)
    elif station.mode == MODE_TOU and (period := active_period(station, t)) is not None:
        battery, pv = schedule_battery(period, limits, station.soc, station.battery_capacity)
    elif station.mode == MODE_TOU and station.pricing.buy:
        battery = tariff_battery(station.pricing, station.local(t), limits)
    else:
        battery = mode_battery(station.mode, station.local(t).hour, limits)
    if cmd is None and held is None and not manual:  # it shapes the mode's decision only
        battery = shave_peak(station, t, battery, limits, max_discharge)
    battery, pv = grid_rules(battery, pv, limits, settings)
    buy_sell = pv - battery - limits.load
    return Sample(pv=pv, load=load, battery=battery, buy_sell=buy_sell, soc=station.soc, ev=ev)


def grid_rules(
    battery: float, pv: float, limits: Limits, settings: OwnerSettings
) -> tuple[float, float]:
    """The battery power and PV after the owner's grid limits (both unchanged if none binds)."""
    load = limits.load
    if not settings.battery_export and battery < 0.0 and pv - battery - load > 0.0:
        battery = min(0.0, pv - load)  # discharge only what the house uses
    export_cap, import_cap = settings.grid_caps()
    if export_cap is not None and pv - battery - load > export_cap:
        battery, pv = _cap_export(battery, pv, load, export_cap)
    if import_cap is not None and load + battery - pv > import_cap:
        battery = _cap_import(battery, pv, limits, import_cap)
    return battery, pv


def _cap_export(battery: float, pv: float, load: float, cap: float) -> tuple[float, float]:
    """Less discharge first, then PV curtailed, until the export is ``cap``."""
    excess = pv - battery - load - cap
    if battery < 0.0:
        less = min(excess, -battery)
        battery += less
        excess -= less
    return battery, max(0.0, pv - excess)


def _cap_import(battery: float, pv: float, limits: Limits, cap: float) -> float:
    """Less charging first, then the battery serves the load, until the import is ``cap``."""
    excess = limits.load + battery - pv - cap
    if battery > 0.0:
        less = min(excess, battery)
        battery -= less
        excess -= less
    more = max(0.0, min(excess, limits.max_discharge + battery))
    return battery - more
