"""One rule for zero on both paths: every parsed, converted or negated zero is +0.0.

The issue: "Grid power shows -0.00 kW, flipping between -0.0 after telemetry and 0.0
after a poll". REST models parse through ``sigen._parse`` (``parse_number``,
``parse_power_kw``, ``negate``), MQTT telemetry through ``sigen.telemetry``; both give
``+0.0`` for every zero, whatever sign the cloud sent it with.
"""

from __future__ import annotations

import math

import pytest

from sigen._parse import negate, parse_energy_kwh, parse_number, parse_power_kw, plus_zero
from sigen.models import EnergyFlow, NBEnergyFlow
from sigen.telemetry import TelemetryData

ZEROS = ["-0.0", "-0", "-0.00 kW", -0.0, 0.0, "0.0", "+0"]


def _is_plus_zero(value: float | None) -> bool:
    return value == 0.0 and math.copysign(1.0, value) == 1.0


@pytest.mark.parametrize("zero", ZEROS)
def test_util_parsers_give_plus_zero(zero: object) -> None:
    assert _is_plus_zero(parse_number(zero))
    assert _is_plus_zero(parse_power_kw(zero))
    assert _is_plus_zero(parse_energy_kwh(zero))
    assert _is_plus_zero(negate(parse_number(zero)))


def test_plus_zero_keeps_other_values() -> None:
    assert _is_plus_zero(plus_zero(-0.0))
    assert plus_zero(-1.5) == -1.5
    assert plus_zero(2.0) == 2.0
    assert _is_plus_zero(negate(0.0))
    assert negate(None) is None


@pytest.mark.parametrize("zero", ZEROS)
def test_rest_and_mqtt_paths_agree_on_zero(zero: object) -> None:
    """The same zero through a poll (REST) and through telemetry (MQTT) is the same +0.0."""
    flow = EnergyFlow.from_dict({"buySellPower": zero, "batteryPower": zero, "pvPower": zero})
    nb_flow = NBEnergyFlow.from_dict({"gridPower": zero, "batteryPower": zero})
    telemetry_zero = zero if not isinstance(zero, str) else zero.replace(" kW", "")
    (data,) = TelemetryData.from_mqtt_payload(
        [
            {
                "systemId": "S",
                "value": {
                    "gridActivePowerW": telemetry_zero,
                    "storageChargeDischargePowerW": telemetry_zero,
                    "pvPowerW": telemetry_zero,
                },
            }
        ]
    )
    for value in (
        flow.grid_power,
        flow.buy_sell_power,
        flow.battery_power,
        flow.battery_power_raw,
        flow.pv_power,
        flow.grid_export_power,
        nb_flow.grid_power,
        nb_flow.grid_power_raw,
        nb_flow.battery_power,
        data.grid_power,
        data.grid_power_kw,
        data.battery_power,
        data.battery_power_kw,
        data.pv_power,
        data.load_power,
    ):
        assert _is_plus_zero(value), (zero, value)
    assert f"{flow.grid_power:.2f}" == f"{data.grid_power:.2f}" == "0.00"
