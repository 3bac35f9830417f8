"""Smart loads: switchable loads (an immersion heater, a pool pump) that count their energy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def smart_load_id(station_index: int, path: int) -> int:
    """The cloud's ``smartLoadId`` of a station's load path."""
    return 7000 + station_index * 10 + path


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
        """What the load draws now (its power when on, else nothing)."""
        return self.power_kw if self.on else 0.0

    def count(self, hours: float) -> None:
        """Add ``hours`` of the current draw to the energy counters."""
        kwh = self.current_kw * hours
        self.today_kwh += kwh
        self.month_kwh += kwh
        self.lifetime_kwh += kwh


def default_smart_loads(station_index: int) -> list[SmartLoad]:
    """The two loads every simulated station starts with."""
    return [
        SmartLoad("Immersion", 1, 3.0, smart_load_id(station_index, 1)),
        SmartLoad("Pool pump", 2, 1.2, smart_load_id(station_index, 2)),
    ]


def build_smart_loads(
    definitions: Iterable[tuple[str, int, float]], station_index: int
) -> list[SmartLoad]:
    """Smart loads (off) from ``(name, path, power kW)`` definitions.

    Raises ValueError for an empty name, a path that is not a positive integer or
    repeats, or a negative power.
    """
    loads: list[SmartLoad] = []
    for name, path, power_kw in definitions:
        if not name or isinstance(path, bool) or not isinstance(path, int) or path < 1:
            raise ValueError(f"smart load {name!r}: no name, or path {path!r} is not positive")
        if power_kw < 0 or path in {sl.path for sl in loads}:
            raise ValueError(f"smart load {name!r}: negative power or a repeated path")
        loads.append(SmartLoad(name, path, float(power_kw), smart_load_id(station_index, path)))
    return loads
