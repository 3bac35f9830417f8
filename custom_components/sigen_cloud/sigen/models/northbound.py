"""Results of the northbound (developer) API: systems, totals, onboarding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._parse import parse_bool, parse_int, parse_int_list, parse_number, parse_str
from ..const import CODE_PENDING_REVIEW, ERROR_MESSAGES
from ._base import SigenModel, wire


@dataclass(frozen=True)
class NBSystem(SigenModel):
    """A system of the northbound ``/openapi/system`` list.

    ``system_id`` is the string id used by MQTT (the app API's ``stationCode``);
    ``status`` e.g. ``"normal"``, ``on_off_grid_status`` e.g. ``"onGrid"``;
    ``pv_capacity`` kW(p), ``battery_capacity`` kWh; ``grid_connect_time`` epoch s.
    """

    WHAT = "a northbound system"

    system_id: str = wire("systemId", parse_str, required=True)
    name: str | None = wire("systemName", parse_str)
    status: str | None = wire("status", parse_str)
    is_activate: bool | None = wire("isActivate", parse_bool)
    on_off_grid_status: str | None = wire("onOffGridStatus", parse_str)
    time_zone: str | None = wire("timeZone", parse_str)
    pv_capacity: float | None = wire("pvCapacity", parse_number)
    battery_capacity: float | None = wire("batteryCapacity", parse_number)
    address: str | None = wire("addr", parse_str)
    grid_connect_time: int | None = wire("gridConnectTime", parse_int)


@dataclass(frozen=True)
class NBSummary(SigenModel):
    """Generation totals of a system (northbound ``summary``): kWh, CO₂ in tons."""

    WHAT = "the northbound summary"

    daily_generation: float | None = wire("dailyPowerGeneration", parse_number)
    monthly_generation: float | None = wire("monthlyPowerGeneration", parse_number)
    annual_generation: float | None = wire("annualPowerGeneration", parse_number)
    lifetime_generation: float | None = wire("lifetimePowerGeneration", parse_number)
    lifetime_co2: float | None = wire("lifetimeCo2", parse_number)
    lifetime_coal: float | None = wire("lifetimeCoal", parse_number)
    lifetime_tree_equivalent: float | None = wire("lifetimeTreeEquivalent", parse_number)


@dataclass(frozen=True)
class OnboardResult(SigenModel):
    """The outcome of onboarding (or offboarding) one system.

    ``result`` is the cloud's verdict, ``codes`` its ``codeList``; ``pending`` is true
    while the owner has not yet approved (code 1116): telemetry starts after approval.
    """

    WHAT = "an onboarding result"

    system_id: str = wire("systemId", parse_str, required=True)
    result: bool = wire("result", parse_bool, default=False)
    codes: list[int] = wire("codeList", parse_int_list, "codes", default_factory=list)
    pending: bool = False

    @classmethod
    def _derive(cls, values: dict[str, Any]) -> None:
        """Pending: refused for now with code 1116 (waiting for the owner)."""
        values["pending"] = CODE_PENDING_REVIEW in values.get("codes", ()) and not values.get(
            "result", False
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
