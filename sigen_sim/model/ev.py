"""A station's EV chargers and the car on each: state and physics (no JSON here).

An AC charger charges a plugged-in car at its set current (A x 230 V x phases) while
the car is below full; a DC charger charges at its allowed power (within its rating)
while started and the car is below the cut-off SOC, and in a V2X session discharges
the car into the home (at most the power cap, down to the V2X cut-off SOC) until the
session's end. Powers are kW, + = into the car; the station adds them to its load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VOLTS = 230.0
#: Power that fills or empties the car within this many hours tapers near its limits.
_TAPER_H = 1.0 / 60.0


@dataclass
class SimCar:
    """A car: its battery (kWh, %) and whether it is plugged in."""

    capacity_kwh: float = 60.0
    soc: float = 40.0
    plugged: bool = False

    def room_kw(self, up_to: float) -> float:
        """The power that would fill the car to ``up_to`` % within a minute."""
        return max(0.0, (up_to - self.soc) / 100.0 * self.capacity_kwh) / _TAPER_H

    def avail_kw(self, down_to: float) -> float:
        """The power that would empty the car to ``down_to`` % within a minute."""
        return max(0.0, (self.soc - down_to) / 100.0 * self.capacity_kwh) / _TAPER_H


@dataclass
class AcCharger:
    """The station's AC charger (EVAC)."""

    serial: str
    car: SimCar = field(default_factory=SimCar)
    phases: int = 3
    max_current: float = 32.0
    current: float = 16.0
    dlm: bool = True
    charge_mode: int = 0
    session_kwh: float = 0.0
    total_kwh: float = 0.0

    def power_kw(self, t: float) -> float:
        """The charging power at ``t`` (0 without a car, or with a full one)."""
        del t
        if not self.car.plugged:
            return 0.0
        rated = self.current * VOLTS * self.phases / 1000.0
        return min(rated, self.car.room_kw(100.0))

    def set_current(self, amps: float) -> None:
        """A new charging current, 6 A up to the largest (ValueError)."""
        if not 6.0 <= amps <= self.max_current:
            raise ValueError(f"current must be 6-{self.max_current:g} A, not {amps:g}")
        self.current = amps


@dataclass
class DcCharger:
    """The station's DC charger, bidirectional (V2X)."""

    serial: str
    car: SimCar = field(default_factory=SimCar)
    rated_kw: float = 25.0
    allowed_kw: float = 11.0
    cutoff_soc: int = 100
    charge_mode: int = 0
    charging: bool = True  # started (the app's start/stop); a car plugged in starts
    charging_since: float | None = None
    v2x_enabled: bool = True
    v2x_end: float | None = None
    v2x_cap_kw: float | None = None
    v2x_cutoff_soc: float = 20.0
    session_kwh: float = 0.0
    total_charge_kwh: float = 0.0
    total_discharge_kwh: float = 0.0

    def v2x_active(self, t: float) -> bool:
        """Whether a V2X session runs at ``t`` (it ends by itself)."""
        return self.v2x_end is not None and t < self.v2x_end

    def power_kw(self, t: float) -> float:
        """The power at ``t``: + charging the car, - discharging it into the home."""
        car = self.car
        if not car.plugged:
            return 0.0
        if self.v2x_active(t):
            cap = self.rated_kw if self.v2x_cap_kw is None else min(self.v2x_cap_kw, self.rated_kw)
            return -min(cap, car.avail_kw(self.v2x_cutoff_soc))
        if self.charging:
            return min(self.allowed_kw, self.rated_kw, car.room_kw(self.cutoff_soc))
        return 0.0

    def start_v2x(self, now: float, duration_min: float, cap_kw: float | None) -> None:
        """A V2X session from now for ``duration_min`` (ValueError when impossible)."""
        if not self.v2x_enabled:
            raise ValueError("V2X discharge is disabled on this charger")
        if not 1 <= duration_min <= 1440:
            raise ValueError(f"duration must be 1-1440 min, not {duration_min:g}")
        if cap_kw is not None and not 0 < cap_kw <= 1000:
            raise ValueError(f"powerCap must be above 0 kW, not {cap_kw:g}")
        self.v2x_end = now + duration_min * 60.0
        self.v2x_cap_kw = cap_kw

    def run_state(self, t: float) -> int:
        """``seccRunState``: 1 idle, 3 charging, 8 discharging."""
        power = self.power_kw(t)
        if power < 0:
            return 8
        return 3 if power > 0 else 1


@dataclass
class Chargers:
    """The chargers of one station (none by default)."""

    ac: AcCharger | None = None
    dc: DcCharger | None = None

    def __bool__(self) -> bool:
        """Whether the station has any charger."""
        return self.ac is not None or self.dc is not None

    def all(self) -> list[AcCharger | DcCharger]:
        """The chargers there are."""
        return [charger for charger in (self.ac, self.dc) if charger is not None]

    def by_serial(self, serial: str) -> AcCharger | DcCharger | None:
        """The charger with this serial."""
        return next((item for item in self.all() if item.serial == serial), None)

    def power_kw(self, t: float) -> float:
        """All chargers' power at ``t`` (+ = into cars)."""
        return sum((charger.power_kw(t) for charger in self.all()), 0.0)

    def step(self, t: float, hours: float) -> None:
        """Integrate the cars and the energy counters over ``hours`` from ``t``."""
        for charger in self.all():
            power = charger.power_kw(t)
            if power == 0.0:
                continue
            energy = power * hours
            car = charger.car
            car.soc = min(100.0, max(0.0, car.soc + energy / car.capacity_kwh * 100.0))
            if isinstance(charger, AcCharger):
                charger.session_kwh += energy
                charger.total_kwh += energy
            elif energy > 0:
                charger.session_kwh += energy
                charger.total_charge_kwh += energy
            else:
                charger.total_discharge_kwh -= energy

    def plug(self, serial: str, plugged: bool, now: float, soc: float | None = None) -> None:
        """A car is plugged in (a new session) or out (KeyError: no such charger)."""
        charger = self.by_serial(serial)
        if charger is None:
            raise KeyError(f"no charger {serial!r}")
        if soc is not None:
            if not 0 <= soc <= 100:
                raise ValueError(f"soc must be 0-100, not {soc:g}")
            charger.car.soc = float(soc)
        if plugged and not charger.car.plugged:
            charger.session_kwh = 0.0
            if isinstance(charger, DcCharger):
                charger.charging, charger.charging_since = True, now
        charger.car.plugged = plugged
        if not plugged and isinstance(charger, DcCharger):
            charger.v2x_end = None


def make_chargers(kinds: tuple[str, ...], index: int, ac_serial: str, phases: int) -> Chargers:
    """The chargers ``kinds`` (``"ac"``, ``"dc"``) of station ``index``."""
    unknown = set(kinds) - {"ac", "dc"}
    if unknown:
        raise ValueError(f"ev_chargers takes 'ac' and 'dc', not {sorted(unknown)}")
    return Chargers(
        ac=AcCharger(ac_serial, phases=phases) if "ac" in kinds else None,
        dc=DcCharger(f"SIMDC{index + 1:010d}") if "dc" in kinds else None,
    )
