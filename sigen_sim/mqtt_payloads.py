"""The shapes of the cloud's MQTT pushes: ``period`` telemetry, ``change`` and ``alarm``.

Values are strings, as the cloud sends them. Telemetry is in W with the MQTT signs
(grid + = import, storage + = charging); the station model keeps kW in the app API's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import SimStation

# Fields kept by the "partial payload" fault.
PARTIAL_KEYS = ("storageSOC%", "gridActivePowerW")


def _w(kw: float) -> str:
    return f"{kw * 1000:.1f}"


def telemetry_values(station: SimStation) -> dict[str, str]:
    """MQTT ``period`` fields, values as strings (W; grid + = import, storage + = charging)."""
    s = station.sample()
    grid_import = -s.buy_sell
    inverter = s.pv - s.battery
    phase = grid_import / 3
    capacity = station.battery_capacity
    room = max(0.0, station.charge_cutoff_soc - station.soc) / 100 * capacity
    avail = max(0.0, station.soc - station.discharge_cutoff_soc) / 100 * capacity
    return {
        station.telemetry_pv_key: _w(s.pv),
        "gridActivePowerW": _w(grid_import),
        "gridReactivePowerVar": "0.0",
        "gridPhaseAActivePowerW": _w(phase),
        "gridPhaseBActivePowerW": _w(phase),
        "gridPhaseCActivePowerW": _w(phase),
        "gridPhaseAReactivePowerVar": "0.0",
        "gridPhaseBReactivePowerVar": "0.0",
        "gridPhaseCReactivePowerVar": "0.0",
        "inverterActivePowerW": _w(inverter),
        "inverterReactivePowerVar": "0.0",
        "inverterPhaseAActivePowerW": _w(inverter / 3),
        "inverterPhaseBActivePowerW": _w(inverter / 3),
        "inverterPhaseCActivePowerW": _w(inverter / 3),
        "inverterMaxFeedInActivePowerW": _w(station.inverter_max_kw),
        "inverterMaxAbsorptionActivePowerW": _w(station.inverter_max_kw),
        "inverterMaxChargePowerW": _w(station.max_charge_kw),
        "inverterMaxDischargePowerW": _w(station.max_discharge_kw),
        "storageChargeCapacityWh": _w(room),
        "storageDischargeCapacityWh": _w(avail),
        "storageChargeDischargePowerW": _w(s.battery),
        "storageSOC%": f"{s.soc:.1f}",
        "operationalMode": f"{float(station.mode):.1f}",
        "systemStatus": "1.0",
        "onOffGridStatus": "0.0",
    }


def system_values(station: SimStation) -> dict[str, str]:
    """MQTT ``change`` fields, values as strings."""
    return {
        "onOffGridStatus": str(station.on_off_grid_status),
        "inverterMaxActivePowerW": _w(station.inverter_max_kw),
        "inverterMaxApprentPowerVar": _w(station.inverter_max_kw),
        "systemStatus": station.system_status,
        "batteryRatedChargePowerW": _w(station.max_charge_kw),
        "batteryRatedDischargePowerW": _w(station.max_discharge_kw),
        "gridMaxBackfeedPowerW": _w(station.grid_max_backfeed_kw),
        "batteryRatedCapabilityWh": _w(station.battery_capacity),
        "inverterMaxAbsorptionActivePowerW": _w(station.inverter_max_kw),
        "chargeCutOffSOC%": f"{station.charge_cutoff_soc:.1f}",
        "dischargeCutOffSOC%": f"{station.discharge_cutoff_soc:.1f}",
        "backupCutOffSOC%": f"{station.backup_cutoff_soc:.1f}",
        "peakShavingCutOffSOC%": f"{station.peak_shaving_cutoff_soc:.1f}",
        "peakShavingStatus": "on" if station.peak_shaving_status else "off",
        "stormWatchStatus": "on" if station.storm_watch_status else "off",
    }


def telemetry_message(system_id: str, values: dict[str, str], now: float) -> list[dict[str, Any]]:
    """A ``period`` payload: a list with the system's one item."""
    return [
        {
            "deviceType": "system",
            "systemId": system_id,
            "snCode": system_id,
            "statisticsTime": int(now),
            "value": values,
        }
    ]


def malformed_telemetry(system_id: str) -> bytes:
    """A truncated ``period`` payload (the malformed-telemetry fault)."""
    return b'[{"deviceType": "system", "systemId": "' + system_id.encode() + b'", "val'


def change_message(system_id: str, values: dict[str, str]) -> list[dict[str, Any]]:
    """A ``change`` payload."""
    return [{"deviceType": "system", "systemId": system_id, "value": values}]


def alarm_message(
    system_id: str,
    alarms: Sequence[tuple[str, str]],
    now: float,
    texts: Sequence[str | None] = (),
) -> list[dict[str, Any]]:
    """An ``alarm`` payload of ``(code, status)`` alarms, one millisecond apart, in order.

    ``texts`` gives alarms, in the same order, an ``alarmName`` (``None``: none), as the
    app API's alarm list carries (the documented push has only the code).
    """
    now_ms = int(now * 1000)
    payload: list[dict[str, Any]] = []
    for i, (code, status) in enumerate(alarms):
        item: dict[str, Any] = {"systemId": system_id, "alarmCode": code}
        text = texts[i] if i < len(texts) else None
        if text is not None:
            item["alarmName"] = text
        payload.append({**item, "status": status, "changeTime": now_ms + i})
    return payload
