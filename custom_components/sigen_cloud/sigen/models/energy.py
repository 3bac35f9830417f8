"""Live power flow of a station, from the app API and from the northbound API.

Both give the library's signs (``grid_power`` + = importing, ``battery_power`` + =
discharging); the cloud's own, inverted values stay readable as ``*_raw`` /
``buy_sell_power``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._parse import parse_bool, parse_int, parse_number, parse_str
from ._base import PowerSplit, SigenModel, negated, wire

#: ``stationStatus`` of an offline station in the app API's energy flow.
STATION_STATUS_OFFLINE = 4


@dataclass(frozen=True)
class EnergyFlow(SigenModel, PowerSplit):
    """Live power flow of a station (app API ``device/sigen/station/energyflow``).

    Powers in kW, ``battery_soc`` in %, ``pv_day_energy`` in kWh.

    Signs (the library's convention, as ``TelemetryData``):

    * ``grid_power`` + = **importing** from the grid, - = exporting. It is
      ``-buySellPower``: the app API sends ``buySellPower`` + = selling/exporting, kept
      as ``buy_sell_power``.
    * ``battery_power`` + = **discharging**, - = charging. It is ``-batteryPower``: the
      app API sends ``batteryPower`` + = charging, kept as ``battery_power_raw``.

    So ``pv_power + grid_power + battery_power ≈ load_power`` (plus EV, heat pump…).

    An offline station (``station_status`` 4) sends every power as ``null``: those
    attributes are ``None``, never 0 (``is_offline`` tells). ``station_sn`` is the
    ``stationSnCode`` as sent (numeric in real payloads), not the northbound system id.
    ``grid_import_power``, ``grid_export_power``, ``battery_charge_power`` and
    ``battery_discharge_power`` split them into non-negative parts.
    """

    WHAT = "the energy flow"

    pv_power: float | None = wire("pvPower", parse_number)
    grid_power: float | None = wire("buySellPower", negated(parse_number))
    buy_sell_power: float | None = wire("buySellPower", parse_number)
    battery_power: float | None = wire("batteryPower", negated(parse_number))
    battery_power_raw: float | None = wire("batteryPower", parse_number)
    load_power: float | None = wire("loadPower", parse_number)
    ev_power: float | None = wire("evPower", parse_number)
    ac_power: float | None = wire("acPower", parse_number)
    heat_pump_power: float | None = wire("heatPumpPower", parse_number)
    third_party_pv_power: float | None = wire("thirdPvPower", parse_number)
    generator_power: float | None = wire("generatorPower", parse_number)
    battery_soc: float | None = wire("batterySoc", parse_number)
    pv_day_energy: float | None = wire("pvDayNrg", parse_number)
    on_grid: bool | None = wire("onGrid", parse_bool)
    on_off_grid_status: int | None = wire("onOffGridStatus", parse_int)
    station_status: int | None = wire("stationStatus", parse_int)
    station_sn: str | None = wire("stationSnCode", parse_str)

    @property
    def is_offline(self) -> bool:
        """Whether the cloud reports the station offline (``stationStatus`` 4)."""
        return self.station_status == STATION_STATUS_OFFLINE


@dataclass(frozen=True)
class NBEnergyFlow(SigenModel, PowerSplit):
    """Power flow from the northbound ``/openapi/systems/{id}/energyFlow``.

    kW and %, with the library's signs (as :class:`EnergyFlow`): ``grid_power`` + =
    importing, ``battery_power`` + = discharging. The northbound API sends
    ``gridPower`` + = export and ``batteryPower`` + = charging (derived from sample data
    by energy balance), kept as ``grid_power_raw`` and ``battery_power_raw``.
    """

    WHAT = "the northbound energy flow"

    pv_power: float | None = wire("pvPower", parse_number)
    grid_power: float | None = wire("gridPower", negated(parse_number))
    grid_power_raw: float | None = wire("gridPower", parse_number)
    battery_power: float | None = wire("batteryPower", negated(parse_number))
    battery_power_raw: float | None = wire("batteryPower", parse_number)
    load_power: float | None = wire("loadPower", parse_number)
    ev_power: float | None = wire("evPower", parse_number)
    heat_pump_power: float | None = wire("heatPumpPower", parse_number)
    battery_soc: float | None = wire("batterySoc", parse_number)
