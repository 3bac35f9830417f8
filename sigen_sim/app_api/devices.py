"""A station's device tree and alarm list (§7.16, §7.17 of the API notes; issue 18).

``GET device/devicetreepanel/topology?stationId=`` answers the gateway holding the
AIO (its battery packs under it) and the chargers; ``GET
device/alarm/page?stationId=&current=&size=`` pages through the station's alarms,
newest first. The variants are ``SimConfig`` switches: the record field set
(``alarm_fields``), ``alarmTime`` in s or ms (``alarm_time_unit``), recovered alarms
listed or dropped (``alarm_list_recovered``), pages capped at a size of the server's
(``alarm_page_cap``), model and firmware keys in the tree
(``device_model_keys``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model.devices import SimAlarm, SimDevice, station_devices
from ._common import (
    AppRoutes,
    authorized_station,
    envelope,
    param_illegal,
    to_int,
)

if TYPE_CHECKING:
    from ..config import SimConfig
    from ..model import SimStation

#: The largest page the list serves (a bigger ``size`` is refused, as a server would).
MAX_PAGE_SIZE = 100


def node(device: SimDevice, config: SimConfig) -> dict[str, Any]:
    """One node of the tree (without its children)."""
    item: dict[str, Any] = {
        "deviceType": device.kind,
        "deviceTypeDesc": device.type_name,
        "snCode": device.serial,
        "showSnCode": device.serial,
        "deviceStatus": device.status,
        "communicateStatus": 2 if device.online else 1,
    }
    if config.device_model_keys:
        item["pn"] = device.model
        item["firmwareVersion"] = device.firmware
    return item


def topology(station: SimStation, config: SimConfig) -> dict[str, Any]:
    """The device tree: each node's children in its ``nodeList``."""
    nodes: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for device in station_devices(station):
        item = nodes[device.serial] = node(device, config)
        parent = nodes.get(device.parent or "")
        if parent is None:
            top.append(item)
        else:
            parent.setdefault("nodeList", []).append(item)
    return {"stationStatus": 4 if station.offline else 1, "nodeList": top}


def _stamp(epoch: float, config: SimConfig) -> int:
    """An epoch time in the configured unit."""
    return int(epoch * 1000) if config.alarm_time_unit == "ms" else int(epoch)


def _time_text(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def alarm_record(alarm: SimAlarm, config: SimConfig) -> dict[str, Any]:
    """One record of the alarm list, in the configured field set."""
    stamp = _stamp(alarm.raised_at, config)
    if config.alarm_fields == "paulczar":
        record: dict[str, Any] = {
            "id": alarm.id,
            "alarmCode": alarm.code,
            "alarmDesc": alarm.name,
            "alarmTime": str(stamp),
            "alarmType": alarm.level,
        }
    else:
        record = {
            "id": str(alarm.id),
            "alarmCode": alarm.code,
            "chlidAlarmCode": f"{alarm.code}-1",
            "alarmName": alarm.name,
            "alarmReasonIdName": alarm.name,
            "cause": f"{alarm.name} detected",
            "fixSuggest": "Check the device; contact the installer if it persists.",
            "alarmTimeStr": _time_text(alarm.raised_at),
            "alarmTime": stamp,
            "alarmLevel": alarm.level,
            "deviceSnCode": alarm.device_serial,
            "rawDeviceSnCode": alarm.device_serial,
        }
    if alarm.recovered_at is not None:
        record["recoverTime"] = _stamp(alarm.recovered_at, config)
    return record


def alarm_page(station: SimStation, config: SimConfig, page: int, size: int) -> dict[str, Any]:
    """One page of the alarm list: ``records``, ``total``, ``current``, ``size``."""
    alarms = station.devices.listed(recovered=config.alarm_list_recovered)
    if config.alarm_page_cap is not None:
        size = min(size, config.alarm_page_cap)
    chosen = alarms[(page - 1) * size : page * size]
    return {
        "records": [alarm_record(alarm, config) for alarm in chosen],
        "total": len(alarms),
        "current": page,
        "size": size,
    }


class DeviceRoutes(AppRoutes):
    """The device tree and the alarm list of the app API."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/device/devicetreepanel/topology", self.topology)
        app.router.add_get("/device/alarm/page", self.alarms)

    async def topology(self, request: web.Request) -> web.Response:
        """``GET device/devicetreepanel/topology?stationId=``."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        return envelope(topology(station, self.sim.config))

    async def alarms(self, request: web.Request) -> web.Response:
        """``GET device/alarm/page?stationId=&current=&size=`` (page 1 of 10 by default)."""
        station = authorized_station(self.api, request, request.query.get("stationId"))
        if isinstance(station, web.Response):
            return station
        page = to_int(request.query.get("current", "1"))
        size = to_int(request.query.get("size", "10"))
        if page is None or size is None or page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return param_illegal()
        return envelope(alarm_page(station, self.sim.config, page, size))
