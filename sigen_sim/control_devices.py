"""The control API's view of a station's device tree and alarms (issue 18).

Under ``/_sim/stations/{systemId}``:

* ``GET devices``: the tree's devices and the alarm log;
* ``POST devices`` ``{"serial", "deviceType", "parent", "model", "firmware"}``: a device
  joins the tree;
* ``DELETE devices/{serial}``: the device (and what hangs under it) leaves the tree;
* ``POST alarms`` ``{"code", "status", "device", "name"}``: raise or clear an alarm.

An alarm raised or cleared here is the one the app API's alarm list shows and, with
MQTT, the one pushed on the ``alarm`` topic (a single record in the station's alarm
log, :mod:`sigen_sim.model.devices`). ``status`` is ``generation`` (default) or
``recovery``; ``device`` defaults to the AIO; ``deviceType`` to 4 (a battery pack) and
``parent`` to the AIO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_common import StationRoutes, error, for_station, json_body, ok
from .model.devices import KIND_NAMES, MODELS, SimDevice, record_alarm, station_devices

if TYPE_CHECKING:
    from .model import SimStation

STATUSES = ("generation", "recovery")


def devices_state(station: SimStation) -> dict[str, Any]:
    """The station's devices and alarms as plain JSON."""
    return {
        "devices": [
            {
                "serial": d.serial,
                "deviceType": d.kind,
                "parent": d.parent,
                "model": d.model,
                "firmware": d.firmware,
            }
            for d in station_devices(station)
        ],
        "alarms": [
            {
                "id": a.id,
                "code": a.code,
                "device": a.device_serial,
                "name": a.name,
                "raisedAt": a.raised_at,
                "recoveredAt": a.recovered_at,
            }
            for a in station.devices.alarms
        ],
    }


def new_device(station: SimStation, body: dict[str, Any]) -> SimDevice:
    """The device a body describes (ValueError for a bad one)."""
    serial = body.get("serial")
    kind = body.get("deviceType", 4)
    if not isinstance(serial, str) or not serial.strip() or any(c in serial for c in "/ "):
        raise ValueError("serial must be a non-empty string without '/' or spaces")
    if isinstance(kind, bool) or not isinstance(kind, int) or kind not in KIND_NAMES:
        raise ValueError(f"deviceType must be one of {sorted(KIND_NAMES)}")
    parent = body.get("parent", station.sn_code)
    if parent is not None and not isinstance(parent, str):
        raise ValueError("parent must be a serial or null")
    return SimDevice(
        serial.strip(),
        kind,
        parent,
        model=str(body.get("model") or MODELS[kind]),
        firmware=str(body["firmware"]) if body.get("firmware") else None,
    )


class DevicesControl(StationRoutes):
    """The device and alarm endpoints of the control API."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/_sim/stations/{system_id}/devices", self.show)
        r.add_post("/_sim/stations/{system_id}/devices", self.add)
        r.add_delete("/_sim/stations/{system_id}/devices/{serial}", self.remove)
        r.add_post("/_sim/stations/{system_id}/alarms", self.alarm)

    @for_station
    async def show(self, request: web.Request, station: SimStation) -> web.Response:
        """The tree's devices and the alarm log."""
        return ok(devices_state(station))

    @for_station
    async def add(self, request: web.Request, station: SimStation) -> web.Response:
        """A device joins the tree."""
        try:
            device = new_device(station, await json_body(request))
        except (ValueError, TypeError) as err:
            return error(str(err))
        station.devices.add(device)
        return ok(devices_state(station))

    @for_station
    async def remove(self, request: web.Request, station: SimStation) -> web.Response:
        """A device leaves the tree."""
        serial = request.match_info["serial"]
        if serial not in {d.serial for d in station_devices(station)}:
            return error(f"no device {serial}", 404)
        station.devices.remove(serial)
        return ok(devices_state(station))

    @for_station
    async def alarm(self, request: web.Request, station: SimStation) -> web.Response:
        """Raise or clear an alarm: in the app's list, and pushed when MQTT runs."""
        try:
            body = await json_body(request)
        except (ValueError, TypeError) as err:
            return error(str(err))
        code = str(body.get("code", "1001")).strip()
        status = body.get("status", "generation")
        device, name = body.get("device"), body.get("name")
        if not code or status not in STATUSES:
            return error(f"a code and a status of {', '.join(STATUSES)} are needed")
        if not isinstance(device, str | None) or not isinstance(name, str | None):
            return error("device and name must be texts")
        # recorded first with its device; the push (which names no device) finds it
        record_alarm(station, code, status, self.sim.clock.now(), name=name, device_serial=device)
        if self.sim.mqtt is not None:
            await self.sim.publish_alarm(station.system_id, code, status, name)
        return ok(devices_state(station))
