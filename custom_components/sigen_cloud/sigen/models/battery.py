"""Battery settings of the app API: the SOC levels and the charge/discharge power limits.

The cloud sends every value here as text (``"99"``, ``"16.000"``) and says "no limit"
with ``"4294967.295"``; the models give numbers, and ``None`` for that sentinel.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._parse import parse_limit_kw, parse_rounded_int
from ._base import SigenModel, wire


@dataclass(frozen=True)
class SocLevels(SigenModel):
    """The battery's SOC levels, whole %.

    ``charge_cut_off`` is the highest SOC the battery charges to, ``discharge_cut_off``
    the lowest it discharges to, ``peak_shaving`` the reserve kept for peak shaving and
    ``backup`` the reserve kept for outages. The app API's keys are ``chargeSOC``,
    ``dischargeSOC``, ``peakShavingSOC`` and ``backupSOC`` (strings such as ``"99"`` or
    ``"99.0"``); the MQTT ``change`` push's ``chargeCutOffSOC%`` spellings are read too.
    A level the cloud did not report is ``None``.
    """

    WHAT = "the battery's SOC levels"

    charge_cut_off: int | None = wire(
        "chargeSOC", parse_rounded_int, "chargeCutOffSOC", "chargeCutOffSOC%"
    )
    discharge_cut_off: int | None = wire(
        "dischargeSOC", parse_rounded_int, "dischargeCutOffSOC", "dischargeCutOffSOC%"
    )
    peak_shaving: int | None = wire(
        "peakShavingSOC", parse_rounded_int, "peakShavingCutOffSOC", "peakShavingCutOffSOC%"
    )
    backup: int | None = wire("backupSOC", parse_rounded_int, "backupCutOffSOC", "backupCutOffSOC%")


@dataclass(frozen=True)
class BatteryPowerLimits(SigenModel):
    """The battery's largest charge and discharge power, kW.

    ``None`` is the system's own limit (the cloud's ``"4294967.295"``, "depends on
    system"). Keys ``batteryMaxChargingPower`` and ``batteryMaxDischargingPower``.
    """

    WHAT = "the battery's power limits"

    max_charge: float | None = wire("batteryMaxChargingPower", parse_limit_kw)
    max_discharge: float | None = wire("batteryMaxDischargingPower", parse_limit_kw)
