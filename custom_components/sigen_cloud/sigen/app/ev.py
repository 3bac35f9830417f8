"""EV chargers of the app API: which chargers a station has, the AC charger, the DC one.

The station's chargers come from its device topology (and, for the home station, its
``acSnList``/``dcSnList``); the area remembers them per station, so that a write to a
charger is checked against its kind before it is sent (a V2X session on an AC charger
is refused without a request). The DC charger and V2X methods live in :mod:`._ev_dc`.
"""

from __future__ import annotations

from typing import Final

from ..models import AcChargeMode, AcChargerCurrent, AcChargerState, Charger
from ..models.ev import EV_CURRENT_MIN_A, EV_MAX_CURRENT_A
from ._ev_dc import DcChargerArea, check_serial
from ._settings import StationRef, body_station_id, check_bool, check_whole

_AC_READ: Final = "device/acevse/charge/read/current"
_AC_SET: Final = "device/acevse/charge/current"
_AC_MORE: Final = "device/acevse/more-setting"
_AC_MODE: Final = "device/acevse/charge/mode"
_ENERGY_FLOW: Final = "device/sigen/station/energyflow"


class EvApi(DcChargerArea):
    """A station's EV chargers (app API); the home station by default."""

    # ------------------------------------------------------------------ AC charger

    async def get_ac_current(self, *, station_id: StationRef | None = None) -> AcChargerCurrent:
        """The AC charger's charging current, its largest current (A) and DLM on/off."""
        sid = await self._station(station_id)
        what = f"Reading the AC charger's current of station {sid}"
        reply = await self._request("GET", _AC_READ, what=what, params={"stationId": sid})
        return AcChargerCurrent.from_dict(reply.object())

    async def set_ac_current(self, current: int, *, station_id: StationRef | None = None) -> None:
        """Set the AC charger's charging current: whole A from 6 to the charger's largest.

        Reads the setting first for the charger's largest current (80 A when the cloud
        reports none).
        """
        check_whole("The charging current", current, EV_CURRENT_MIN_A, EV_MAX_CURRENT_A, "A")
        sid = await self._station(station_id)
        setting = await self.get_ac_current(station_id=sid)
        high = int(setting.max_current or EV_MAX_CURRENT_A)
        amps = check_whole("The charging current", current, EV_CURRENT_MIN_A, high, "A")
        await self._request(
            "PUT",
            _AC_SET,
            what=f"Setting the AC charger's current of station {sid} to {amps} A",
            params={"stationId": sid, "current": str(amps)},
        )

    async def set_ac_dlm(self, enabled: bool, *, station_id: StationRef | None = None) -> None:
        """Switch the AC charger's dynamic load management on or off."""
        check_bool("enabled", enabled)
        sid = await self._station(station_id)
        body = {
            "chargingOutputCurrent": None,
            "outputMode": None,
            "stationId": body_station_id(sid),
            "dlmStatus": 1 if enabled else 0,
            "meterPhase": None,
            "homeCircuitBreaker": None,
            "phaseAutoSwitch": None,
            "offGridCharge": None,
        }
        word = "on" if enabled else "off"
        what = f"Switching the AC charger's load management {word} on station {sid}"
        await self._request("POST", _AC_MORE, what=what, json=body)

    async def get_ac_charge_mode(
        self, serial: str | Charger, *, station_id: StationRef | None = None
    ) -> AcChargeMode:
        """The AC charger's charge mode (read only: no write path is known)."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        what = f"Reading the charge mode of AC charger {sn}"
        reply = await self._request(
            "GET", _AC_MODE, what=what, params={"stationId": sid, "snCode": sn}
        )
        return AcChargeMode.from_dict(reply.object())

    async def get_ac_state(self, *, station_id: StationRef | None = None) -> AcChargerState:
        """The AC charger's power (kW) and whether it charges.

        The station's EV power (the energy flow's ``evPower``) less what its DC
        chargers deliver (read when the station has any).
        """
        sid = await self._station(station_id)
        what = f"Reading the energy flow of station {sid}"
        reply = await self._request("GET", _ENERGY_FLOW, what=what, params={"id": sid})
        flow = reply.object()
        state = AcChargerState.from_dict(flow)
        chargers = self._chargers.get(sid)
        if chargers is None:
            chargers = await self.list_chargers(station_id=sid)
        if state.power is None:
            return state
        power = state.power
        for charger in chargers:
            if charger.kind == "dc":
                dc_power = (await self.get_dc_state(charger.serial, station_id=sid)).power
                power -= dc_power or 0.0
        return AcChargerState.build(flow, power=round(power, 3) + 0.0)


__all__ = ["EvApi", "check_serial"]
