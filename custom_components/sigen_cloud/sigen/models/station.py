"""The account's station as the app API describes it."""

from __future__ import annotations

from dataclasses import dataclass

from .._parse import (
    parse_bool,
    parse_id,
    parse_number,
    parse_str,
    parse_str_list,
    parse_timestamp_text,
)
from ._base import SigenModel, wire


@dataclass(frozen=True)
class StationInfo(SigenModel):
    """The account's home station (app API ``device/owner/station/home``).

    ``station_id`` is the app API's plant id as a string (the cloud sends a number or
    a string; 13-15 digits): every app endpoint takes it.

    ``system_id`` is the northbound and MQTT ``systemId`` (letters and digits, like
    ``TAETN1768371966``): the app API sends it as ``stationCode`` (kept as
    ``station_code``). When ``stationCode`` is missing, ``system_id`` is ``None``
    until it is found in the northbound system list (:func:`match_system`;
    :meth:`Sigen.nb_system_id` does that and stores the result here).

    ``sn_code`` is ``stationSnCode`` as sent: a numeric, station-id-like serial in the
    real payloads, **not** the system id (never pair a station with a northbound
    system by it). ``pv_capacity`` in kW(p), ``battery_capacity`` in kWh.

    ``time_zone`` is the station's IANA zone (``timeZoneName``, e.g.
    "Australia/Sydney"), in which its history is dated; ``open_time`` its
    commissioning (``stationOpenTime``) as sent, a date text or an epoch.
    """

    WHAT = "the station"

    station_id: str = wire("stationId", parse_id, required=True)
    sn_code: str | None = wire("stationSnCode", parse_str, "snCode")
    has_pv: bool | None = wire("hasPv", parse_bool)
    has_ev: bool | None = wire("hasEv", parse_bool)
    has_ac_charger: bool | None = wire("hasAcCharger", parse_bool)
    ac_sn_list: list[str] = wire("acSnList", parse_str_list, default_factory=list)
    dc_sn_list: list[str] = wire("dcSnList", parse_str_list, default_factory=list)
    on_grid: bool | None = wire("onGrid", parse_bool)
    pv_capacity: float | None = wire("pvCapacity", parse_number)
    battery_capacity: float | None = wire("batteryCapacity", parse_number)
    name: str | None = wire("stationName", parse_str, "stationShowName", "name")
    station_code: str | None = wire("stationCode", parse_str)
    system_id: str | None = wire("stationCode", parse_str)
    time_zone: str | None = wire("timeZoneName", parse_str, "timeZone")
    open_time: str | None = wire("stationOpenTime", parse_timestamp_text)
