"""EV chargers: the AC charger (EVAC), the DC charger and V2X (the tree: :mod:`.devices`).

Shapes of §7.10, §7.11 and §7.17 of the API notes. Reads take the query ``stationId``
(and ``snCode``, or ``dcSnCode`` for the V2X session info); writes a JSON body with
``stationId`` and ``snCode``, except the AC current and the DC start/stop, whose
parameters are in the query. A charger the station does not have, or of the wrong
kind, is code 1000. With ``SimConfig.ev_dc_object_answers`` the DC status and plug
read as objects.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..model.ev import AcCharger, DcCharger
from ._common import AppRoutes, applies, authorized_station, envelope, param_illegal, to_int
from ._settings import json_object

if TYPE_CHECKING:
    from ..model import SimStation

DC_STATUS_TEXT = {1: "Ready", 2: "Preparing", 3: "Charging"}


def dc_realtime(station: SimStation, dc: DcCharger) -> dict[str, Any]:
    """The DC charge realtime (``pileOutputPower`` as a magnitude; the run state signs it)."""
    t = station.synced_until
    power = dc.power_kw(t)
    return {
        "vehicleSoc": round(dc.car.soc, 1),
        "seccRunState": dc.run_state(t),
        "pileOutputPower": round(abs(power), 2),
        "chargingOutputCurrent": round(max(power, 0.0) * 1000 / 400, 1),
        "chargingStartTime": None if dc.charging_since is None else int(dc.charging_since),
        "singleChargePower": round(dc.session_kwh, 2),
        "totalChargeEnergy": round(dc.total_charge_kwh, 2),
    }


def dc_mode(dc: DcCharger) -> dict[str, Any]:
    """The DC charge mode and its options."""
    return {
        "chargeMode": dc.charge_mode,
        "enableFromPack": False,
        "cutoffSocFromPack": 30,
        "allowsDischargePower": dc.v2x_cap_kw if dc.v2x_cap_kw is not None else dc.rated_kw,
        "vehicleDischargeCutoffSoc": dc.v2x_cutoff_soc,
        "minimumDischargeCutoffSoc": 10,
        "maximumDischargeCutoffSoc": 90,
    }


class EvRoutes(AppRoutes):
    """The charger endpoints of the app API that read (the writes: :mod:`.ev_writes`)."""

    def register(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        r = app.router
        r.add_get("/device/acevse/charge/read/current", self.ac_read)
        r.add_put("/device/acevse/charge/current", self.ac_set_current)
        r.add_post("/device/acevse/more-setting", self.ac_more)
        r.add_get("/device/acevse/charge/mode", self.ac_mode)
        r.add_get("/device/dcevse/status", self.dc_status)
        r.add_get("/device/dcevse/plug/status", self.dc_plug)
        r.add_get("/device/dcevse/charge/realtime", self.dc_charge_realtime)
        r.add_get("/device/dcevse/discharge/realtime", self.dc_discharge_realtime)
        r.add_get("/device/dcevse/charge/setting", self.dc_settings)
        r.add_get("/device/charge/mode/dc", self.dc_mode)
        r.add_get("/device/station-v2x/select", self.v2x_settings)
        r.add_get("/device/station-v2x/discharge/info", self.v2x_info)
        r.add_get("/data-process/dcevse/total/{station_id}/{sn}", self.dc_totals)

    # ------------------------------------------------------------------ lookups

    def _lookup(
        self, request: web.Request, raw_id: Any, serial: Any, kind: type[AcCharger | DcCharger]
    ) -> tuple[SimStation, Any] | web.Response:
        """The station and its charger of ``kind`` (``serial`` None: the station's one)."""
        station = authorized_station(self.api, request, raw_id)
        if isinstance(station, web.Response):
            return station
        station.sync()
        charger = station.chargers.ac if kind is AcCharger else station.chargers.dc
        if serial is not None:
            charger = station.chargers.by_serial(str(serial))
        if not isinstance(charger, kind):
            name = "AC" if kind is AcCharger else "DC"
            return param_illegal(f"param illegal: no {name} charger {serial or ''}".strip())
        return station, charger

    def _query(
        self, request: web.Request, kind: type[AcCharger | DcCharger], key: str = "snCode"
    ) -> tuple[SimStation, Any] | web.Response:
        return self._lookup(request, request.query.get("stationId"), request.query.get(key), kind)

    async def _body(
        self, request: web.Request
    ) -> tuple[SimStation, DcCharger, dict[str, Any]] | web.Response:
        """A DC write's body, its station and charger."""
        body = await json_object(request)
        if isinstance(body, web.Response):
            return body
        found = self._lookup(request, body.get("stationId"), body.get("snCode"), DcCharger)
        if isinstance(found, web.Response):
            return found
        return found[0], found[1], body

    # ------------------------------------------------------------------ AC

    async def ac_read(self, request: web.Request) -> web.Response:
        """The AC charger's current setting."""
        found = self._query(request, AcCharger, key="-")
        if isinstance(found, web.Response):
            return found
        ac: AcCharger = found[1]
        return envelope(
            {"lastSetCurrent": ac.current, "maxCurrent": ac.max_current, "dlmStatus": int(ac.dlm)}
        )

    async def ac_set_current(self, request: web.Request) -> web.Response:
        """``PUT ...?stationId=&current=`` (A, 6 up to the largest)."""
        found = self._query(request, AcCharger, key="-")
        if isinstance(found, web.Response):
            return found
        ac: AcCharger = found[1]
        try:
            amps = float(request.query.get("current", ""))
        except ValueError:
            amps = math.nan
        if not 6 <= amps <= ac.max_current:
            return param_illegal(f"param illegal: current must be 6-{ac.max_current:g} A")
        if applies(request):
            ac.set_current(amps)
        return envelope(True)

    async def ac_more(self, request: web.Request) -> web.Response:
        """``POST more-setting``: ``dlmStatus`` 0/1 (the null keys change nothing)."""
        body = await json_object(request)
        if isinstance(body, web.Response):
            return body
        found = self._lookup(request, body.get("stationId"), None, AcCharger)
        if isinstance(found, web.Response):
            return found
        dlm = to_int(body.get("dlmStatus"))
        if body.get("dlmStatus") is not None and dlm not in (0, 1):
            return param_illegal("param illegal: dlmStatus must be 0 or 1")
        if dlm is not None and applies(request):
            found[1].dlm = dlm == 1
        return envelope(True)

    async def ac_mode(self, request: web.Request) -> web.Response:
        """The AC charge mode (read only)."""
        found = self._query(request, AcCharger)
        if isinstance(found, web.Response):
            return found
        mode = found[1].charge_mode
        return envelope(
            {
                "chargeMode": mode,
                "minKeepChargeTime": 5,
                "maxGridChargePower": 7.0,
                "pvEnergyStartPower": 0.0,
            }
        )

    # ------------------------------------------------------------------ DC reads

    async def dc_status(self, request: web.Request) -> web.Response:
        """An int (1 ready, 2 preparing, 3 charging), or the object form."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        station, dc = found
        state = dc.run_state(station.synced_until)
        code = 3 if state in (3, 8) else (2 if dc.car.plugged else 1)
        if self.sim.config.ev_dc_object_answers:
            return envelope({"status": code, "statusDesc": DC_STATUS_TEXT[code]})
        return envelope(code)

    async def dc_plug(self, request: web.Request) -> web.Response:
        """A bool, or ``{"pluggedIn": bool}``."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        plugged = found[1].car.plugged
        return envelope({"pluggedIn": plugged} if self.sim.config.ev_dc_object_answers else plugged)

    async def dc_charge_realtime(self, request: web.Request) -> web.Response:
        """SOC, run state, power, current, session and lifetime energy."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        return envelope(dc_realtime(*found))

    async def dc_discharge_realtime(self, request: web.Request) -> web.Response:
        """Run state, power and current while discharging."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        station, dc = found
        power = dc.power_kw(station.synced_until)
        return envelope(
            {
                "seccRunState": dc.run_state(station.synced_until),
                "pileOutputPower": round(abs(power), 2),
                "dischargingOutputCurrent": round(max(-power, 0.0) * 1000 / 400, 1),
            }
        )

    async def dc_settings(self, request: web.Request) -> web.Response:
        """Allowed power, the car's cut-off SOC, the rating."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        dc: DcCharger = found[1]
        return envelope(
            {
                "allowedChargePower": dc.allowed_kw,
                "vehicleChargingCutoffSoc": dc.cutoff_soc,
                "ratedPower": dc.rated_kw,
            }
        )

    async def dc_mode(self, request: web.Request) -> web.Response:
        """The DC charge mode and its options."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        return envelope(dc_mode(found[1]))

    async def v2x_settings(self, request: web.Request) -> web.Response:
        """``dischargeEnable``, ``hasCar`` and the app's flags."""
        found = self._query(request, DcCharger)
        if isinstance(found, web.Response):
            return found
        dc: DcCharger = found[1]
        return envelope(
            {
                "dischargeEnable": int(dc.v2x_enabled),
                "hasCar": dc.car.plugged,
                "hasDisclaimer": True,
                "hasUsed": dc.total_discharge_kwh > 0,
            }
        )

    async def v2x_info(self, request: web.Request) -> web.Response:
        """The discharge power (negative) and a timed session's end."""
        found = self._query(request, DcCharger, key="dcSnCode")
        if isinstance(found, web.Response):
            return found
        station, dc = found
        running = dc.v2x_active(station.synced_until)
        return envelope(
            {
                "disChargePower": round(min(dc.power_kw(station.synced_until), 0.0), 2) + 0.0,
                "delayCutout": 1 if running else 0,
                "evdcCutoutEnableTime": int(dc.v2x_end) if dc.v2x_end is not None else None,
            }
        )

    async def dc_totals(self, request: web.Request) -> web.Response:
        """``GET data-process/dcevse/total/{stationId}/{sn}``: lifetime kWh."""
        info = request.match_info
        found = self._lookup(request, info["station_id"], info["sn"], DcCharger)
        if isinstance(found, web.Response):
            return found
        dc: DcCharger = found[1]
        return envelope(
            {
                "totalChargeEnergy": round(dc.total_charge_kwh, 2),
                "totalDischargeEnergy": round(dc.total_discharge_kwh, 2),
            }
        )
