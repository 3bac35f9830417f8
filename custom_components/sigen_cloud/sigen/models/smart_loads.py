"""Smart loads (switchable consumers such as a heat pump) and their energy use."""

from __future__ import annotations

from dataclasses import dataclass

from .._parse import (
    method_suffix,
    parse_bool,
    parse_energy_kwh,
    parse_int,
    parse_power_kw,
    parse_str,
)
from ._base import SigenModel, wire

ENABLE_LOAD_PREFIX = "enable_smart_load_"
DISABLE_LOAD_PREFIX = "disable_smart_load_"


@dataclass(frozen=True)
class SmartLoad(SigenModel):
    """A smart load (a card of ``systemDevice/card``).

    ``name``, ``path`` (its ``loadPath``), ``power`` in kW (from ``valueWithUnit``),
    ``on`` (``manualSwitch`` 1).
    """

    WHAT = "a smart load"

    name: str = wire("name", parse_str, required="name")
    path: int = wire("path", parse_int, "loadPath", required="integer path")
    power: float | None = wire("valueWithUnit", parse_power_kw, "value", "power")
    on: bool = wire("manualSwitch", parse_bool, default=False)

    @property
    def enable_method_name(self) -> str:
        """Name of the dynamic method of :class:`Sigen` that switches it on."""
        return ENABLE_LOAD_PREFIX + method_suffix(self.name)

    @property
    def disable_method_name(self) -> str:
        """Name of the dynamic method of :class:`Sigen` that switches it off."""
        return DISABLE_LOAD_PREFIX + method_suffix(self.name)


@dataclass(frozen=True)
class SmartLoadConsumption(SigenModel):
    """Energy used by a smart load, kWh: ``today``, ``month`` and ``lifetime``.

    The cloud sends strings with units such as ``"4.79 kWh"``.
    """

    WHAT = "the smart load's consumption"

    today: float | None = wire("todayConsumption", parse_energy_kwh)
    month: float | None = wire("monthConsumption", parse_energy_kwh)
    lifetime: float | None = wire("lifetimeConsumption", parse_energy_kwh)
