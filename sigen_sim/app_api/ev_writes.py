"""EV charger writes: DC charge settings, mode, start/stop, and the V2X session.

Each checks its values as the cloud would (code 1000, nothing changed) and is made
unless the "not applied" fault acknowledges it without applying it. Starting charging
without a car answers code 0 with ``{"successful": false, "errorCode": ...}``, as the
cloud does for a rejected command (§7.11 of the API notes).
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from ..model.ev import DcCharger
from ._common import applies, envelope, param_illegal, to_int
from .ev import EvRoutes

#: The errorCode of a start refused because no car is plugged in (illustrative).
NO_CAR = 3001


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float:
    """A JSON number in ``[low, high]`` (ValueError otherwise)."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be {low:g}-{high:g}, not {value:g}")
    return float(value)


class EvWriteRoutes(EvRoutes):
    """The charger endpoints, the writes added to the reads."""

    def register(self, app: web.Application) -> None:
        """Add the reads' and the writes' routes to ``app``."""
        super().register(app)
        r = app.router
        r.add_post("/device/dcevse/charge/setting", self.dc_set_settings)
        r.add_put("/device/dcevse/charge/start", self.dc_start)
        r.add_post("/device/charge/mode/dc", self.dc_set_mode)
        r.add_post("/device/station-v2x/open-close", self.v2x_enable)
        r.add_post("/device/station-v2x/start/discharge", self.v2x_start)
        r.add_post("/device/station-v2x/stop/discharge", self.v2x_stop)

    async def dc_set_settings(self, request: web.Request) -> web.Response:
        """``allowedChargePower`` (kW, 1 to the rating) and ``vehicleChargingCutoffSoc``."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        _station, dc, body = found
        try:
            power = _number(body, "allowedChargePower", 1.0, dc.rated_kw)
            soc = _number(body, "vehicleChargingCutoffSoc", 1, 100)
        except ValueError as err:
            return param_illegal(f"param illegal: {err}")
        if applies(request):
            dc.allowed_kw, dc.cutoff_soc = power, int(soc)
        return envelope(True)

    async def dc_start(self, request: web.Request) -> web.Response:
        """``PUT ...?enable=&stationId=&snCode=``: 0 starts, 1 stops."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        station, dc = found
        enable = request.query.get("enable")
        if enable not in ("0", "1"):
            return param_illegal("param illegal: enable must be 0 (start) or 1 (stop)")
        if enable == "0" and not dc.car.plugged:
            return envelope({"successful": False, "errorCode": NO_CAR})
        if applies(request):
            dc.charging = enable == "0"
            if dc.charging and dc.charging_since is None:
                dc.charging_since = station.clock.now()
        return envelope({"successful": True})

    async def dc_set_mode(self, request: web.Request) -> web.Response:
        """``chargeMode`` 0/1/2 and the optional V2X values."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        _station, dc, body = found
        mode = to_int(body.get("chargeMode"))
        if mode not in (0, 1, 2):
            return param_illegal("param illegal: chargeMode must be 0, 1 or 2")
        try:
            cutoff = None
            if body.get("vehicleDischargeCutoffSoc") is not None:
                cutoff = _number(body, "vehicleDischargeCutoffSoc", 10, 90)
        except ValueError as err:
            return param_illegal(f"param illegal: {err}")
        if applies(request):
            dc.charge_mode = mode
            if cutoff is not None:
                dc.v2x_cutoff_soc = cutoff
        return envelope(True)

    async def v2x_enable(self, request: web.Request) -> web.Response:
        """``dischargeEnable`` 0/1 (disabling ends a running session)."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        _station, dc, body = found
        flag = to_int(body.get("dischargeEnable"))
        if flag not in (0, 1):
            return param_illegal("param illegal: dischargeEnable must be 0 or 1")
        if applies(request):
            dc.v2x_enabled = flag == 1
            if not dc.v2x_enabled:
                dc.v2x_end = None
        return envelope(True)

    async def v2x_start(self, request: web.Request) -> web.Response:
        """``duration`` (whole minutes) and ``powerCap`` (kW or null)."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        station, dc, body = found
        duration = body.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, int):
            return param_illegal("param illegal: duration must be whole minutes")
        cap = body.get("powerCap")
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int | float)):
            return param_illegal("param illegal: powerCap must be a number or null")
        if not dc.car.plugged:
            return param_illegal("param illegal: no car is plugged in")
        try:
            if applies(request):
                dc.start_v2x(station.clock.now(), duration, None if cap is None else float(cap))
        except ValueError as err:
            return param_illegal(f"param illegal: {err}")
        return envelope(True)

    async def v2x_stop(self, request: web.Request) -> web.Response:
        """End the V2X session now."""
        found = await self._body(request)
        if isinstance(found, web.Response):
            return found
        if applies(request):
            found[1].v2x_end = None
        return envelope(True)
