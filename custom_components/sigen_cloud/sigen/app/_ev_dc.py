"""The station's chargers and its DC charger with V2X (the base of :class:`~.ev.EvApi`).

DC charger requests take the station (``stationId``, text in a query, a number in a
body) and the charger's serial (``snCode``; the V2X session info alone calls it
``dcSnCode``). A write names a charger the station lists, of the kind it needs: the
list is read once per station and remembered (§7.11, §7.17 of the API notes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..errors import SigenValidationError
from ..models import (
    Charger,
    DcChargeMode,
    DcChargerState,
    DcChargeSettings,
    DcEnergyTotals,
    StationInfo,
    V2xSession,
    V2xSettings,
    chargers_in_topology,
)
from ..models.ev import (
    DC_CHARGE_MODES,
    DC_CHARGE_POWER_MIN_KW,
    DC_CUTOFF_SOC_RANGE,
    DC_RATED_POWER_KW,
    V2X_DURATION_RANGE,
    V2X_MAX_POWER_KW,
    ChargerKind,
)
from ._settings import (
    HomeStation,
    SettingsArea,
    StationRef,
    body_station_id,
    check_bool,
    check_number,
    check_whole,
    in_path,
)

if TYPE_CHECKING:
    from .._envelope import Reply
    from ._transport import AppTransport

_TOPOLOGY: Final = "device/devicetreepanel/topology"
_DC: Final = "device/dcevse"
_DC_MODE: Final = "device/charge/mode/dc"
_V2X: Final = "device/station-v2x"
_DC_TOTAL: Final = "data-process/dcevse/total"

type SerialRef = str | Charger


def check_serial(serial: object) -> str:
    """A charger's serial: a non-empty string (a :class:`Charger` gives its own)."""
    if isinstance(serial, Charger):
        return serial.serial
    if not isinstance(serial, str) or not serial.strip():
        raise SigenValidationError(f"A charger serial must be a non-empty string, got {serial!r}")
    return serial.strip()


def check_dc_mode(mode: object) -> int:
    """A DC charge mode's code from its name (``"fast"``, ``"pv_surplus"``, ``"v2x"``)."""
    if isinstance(mode, str):
        code = DC_CHARGE_MODES.get(mode.strip().lower().replace("-", "_").replace(" ", "_"))
        if code is not None:
            return code
    allowed = ", ".join(DC_CHARGE_MODES)
    raise SigenValidationError(f"Unknown DC charge mode {mode!r}; allowed: {allowed}")


class DcChargerArea(SettingsArea):
    """The station's chargers and the DC charger's reads, settings, charging and V2X."""

    def __init__(self, transport: AppTransport, home: HomeStation | None = None) -> None:
        """As :class:`SettingsArea`; the chargers read are remembered per station."""
        super().__init__(transport, home)
        self._chargers: dict[str, list[Charger]] = {}

    async def list_chargers(self, *, station_id: StationRef | None = None) -> list[Charger]:
        """The station's chargers (serial, ``"ac"``/``"dc"``), from its device topology.

        The home station's ``acSnList``/``dcSnList``, when the client has read it, add
        the chargers the topology leaves out. Remembered for the checks of writes.
        """
        sid = await self._station(station_id)
        what = f"Reading the device topology of station {sid}"
        reply = await self._request("GET", _TOPOLOGY, what=what, params={"stationId": sid})
        chargers = chargers_in_topology(reply.data)
        home = getattr(self._home, "station", None)
        if isinstance(home, StationInfo) and home.station_id == sid:
            known = {charger.serial for charger in chargers}
            listed: tuple[tuple[ChargerKind, list[str]], ...] = (
                ("ac", home.ac_sn_list),
                ("dc", home.dc_sn_list),
            )
            for kind, serials in listed:
                chargers += [
                    Charger.build({"snCode": serial}, kind=kind)
                    for serial in serials
                    if serial not in known
                ]
        self._chargers[sid] = chargers
        return list(chargers)

    async def _charger(self, sid: str, serial: object, kind: ChargerKind, doing: str) -> str:
        """The serial of a charger of ``kind`` on the station, else an error naming why."""
        serial_text = check_serial(serial)
        chargers = self._chargers.get(sid)
        if chargers is None:
            chargers = await self.list_chargers(station_id=sid)
        found = next((item for item in chargers if item.serial == serial_text), None)
        if found is None:
            listed = ", ".join(f"{item.serial} ({item.kind.upper()})" for item in chargers)
            raise SigenValidationError(
                f"Station {sid} lists no charger {serial_text!r} (its chargers: {listed or 'none'})"
            )
        if found.kind != kind:
            needs = "a DC charger (one that can discharge)" if kind == "dc" else "an AC charger"
            raise SigenValidationError(
                f"{doing} needs {needs}; {serial_text} is an {found.kind.upper()} charger"
            )
        return serial_text

    async def _dc_get(self, path: str, sid: str, sn: str, what: str, key: str = "snCode") -> Reply:
        """``GET <path>?stationId=&snCode=``."""
        return await self._request("GET", path, what=what, params={"stationId": sid, key: sn})

    async def _dc_post(self, path: str, sid: str, sn: str, body: dict[str, Any], what: str) -> None:
        """``POST <path>`` with the charger's serial and the station (a number) first."""
        payload = {"snCode": sn, "stationId": body_station_id(sid), **body}
        await self._request("POST", path, what=what, json=payload)

    # ------------------------------------------------------------------ reads

    async def get_dc_state(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> DcChargerState:
        """Status, plug, SOC, power (+ into the car, - out of it) and energy: four reads."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        source: dict[str, Any] = {}
        status = await self._dc_get(f"{_DC}/status", sid, sn, f"Reading DC charger {sn}'s status")
        source.update(status.data if isinstance(status.data, dict) else {"status": status.data})
        plug = await self._dc_get(f"{_DC}/plug/status", sid, sn, f"Reading DC charger {sn}'s plug")
        source["plug"] = plug.data
        for path in ("discharge/realtime", "charge/realtime"):  # charging's values win
            what = f"Reading DC charger {sn}'s {path.replace('/', ' ')}"
            reply = await self._dc_get(f"{_DC}/{path}", sid, sn, what)
            if isinstance(reply.data, dict):
                source.update(
                    {key: value for key, value in reply.data.items() if value is not None}
                )
        return DcChargerState.from_dict(source)

    async def get_dc_totals(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> DcEnergyTotals:
        """The DC charger's lifetime energy into and out of cars (kWh)."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        path = f"{_DC_TOTAL}/{in_path(sid)}/{in_path(sn)}"
        reply = await self._request("GET", path, what=f"Reading DC charger {sn}'s totals")
        return DcEnergyTotals.from_dict(reply.object())

    async def get_dc_settings(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> DcChargeSettings:
        """The allowed charging power, the car's cut-off SOC and the charger's rating."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        what = f"Reading DC charger {sn}'s charge settings"
        reply = await self._dc_get(f"{_DC}/charge/setting", sid, sn, what)
        return DcChargeSettings.from_dict(reply.object())

    async def get_dc_mode(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> DcChargeMode:
        """The DC charge mode (fast, PV surplus, V2X) and its options."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        reply = await self._dc_get(_DC_MODE, sid, sn, f"Reading DC charger {sn}'s charge mode")
        return DcChargeMode.from_dict(reply.object())

    async def get_v2x_settings(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> V2xSettings:
        """Whether V2X discharge is enabled, and whether a car is known."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        reply = await self._dc_get(f"{_V2X}/select", sid, sn, "Reading the V2X settings")
        return V2xSettings.from_dict(reply.object())

    async def get_v2x_session(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> V2xSession:
        """The V2X discharge: its power (kW, - while discharging) and a timed session's end."""
        sn = check_serial(serial)
        sid = await self._station(station_id)
        what = f"Reading DC charger {sn}'s V2X session"
        reply = await self._dc_get(f"{_V2X}/discharge/info", sid, sn, what, key="dcSnCode")
        return V2xSession.from_dict(reply.object())

    # ------------------------------------------------------------------ writes

    async def set_dc_settings(
        self,
        serial: SerialRef,
        *,
        allowed_power: float | None = None,
        cutoff_soc: int | None = None,
        station_id: StationRef | None = None,
    ) -> DcChargeSettings:
        """Set the allowed charging power (kW, 1 to the rating) and/or the cut-off SOC.

        Both are written together: the one left out is read first and kept.
        """
        if allowed_power is None and cutoff_soc is None:
            raise SigenValidationError("Give allowed_power (kW), cutoff_soc (%) or both")
        if allowed_power is not None:
            check_number(
                "The allowed charging power",
                allowed_power,
                DC_CHARGE_POWER_MIN_KW,
                DC_RATED_POWER_KW,
                "kW",
            )
        if cutoff_soc is not None:
            check_whole("The car's charging cut-off SOC", cutoff_soc, *DC_CUTOFF_SOC_RANGE, "%")
        sid = await self._station(station_id)
        sn = await self._charger(sid, serial, "dc", "Changing the charge settings")
        current = await self.get_dc_settings(sn, station_id=sid)
        high = current.rated_power or DC_RATED_POWER_KW
        power = allowed_power if allowed_power is not None else current.allowed_power
        power = check_number(
            "The allowed charging power", power, DC_CHARGE_POWER_MIN_KW, high, "kW"
        )
        soc = cutoff_soc if cutoff_soc is not None else current.cutoff_soc
        soc = check_whole("The car's charging cut-off SOC", soc, *DC_CUTOFF_SOC_RANGE, "%")
        body = {"allowedChargePower": power, "vehicleChargingCutoffSoc": soc}
        await self._dc_post(f"{_DC}/charge/setting", sid, sn, body, f"Writing {sn}'s settings")
        return DcChargeSettings.build(body, rated_power=current.rated_power)

    async def set_dc_mode(
        self, serial: SerialRef, mode: str, *, station_id: StationRef | None = None
    ) -> None:
        """Switch the DC charge mode (``"fast"``, ``"pv_surplus"`` or ``"v2x"``).

        The mode's options are read first and sent again, as the app does.
        """
        code = check_dc_mode(mode)
        sid = await self._station(station_id)
        sn = await self._charger(sid, serial, "dc", "Switching the DC charge mode")
        current = await self.get_dc_mode(sn, station_id=sid)
        options = {
            key: current.raw[key]
            for key in (
                "enableFromPack",
                "cutoffSocFromPack",
                "allowsDischargePower",
                "vehicleDischargeCutoffSoc",
            )
            if current.raw.get(key) is not None
        }
        what = f"Switching DC charger {sn} to {mode!r} charging"
        await self._dc_post(_DC_MODE, sid, sn, {"chargeMode": code, **options}, what)

    async def start_charging(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> None:
        """Start charging the car on a DC charger."""
        await self._start_stop(serial, start=True, station_id=station_id)

    async def stop_charging(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> None:
        """Stop charging the car on a DC charger."""
        await self._start_stop(serial, start=False, station_id=station_id)

    async def _start_stop(
        self, serial: SerialRef, *, start: bool, station_id: StationRef | None
    ) -> None:
        """``PUT device/dcevse/charge/start?enable=`` (0 starts, 1 stops: inverted)."""
        sid = await self._station(station_id)
        word = "Starting" if start else "Stopping"
        sn = await self._charger(sid, serial, "dc", f"{word} charging")
        what = f"{word} charging on DC charger {sn}"
        params = {"enable": "0" if start else "1", "stationId": sid, "snCode": sn}
        reply = await self._request("PUT", f"{_DC}/charge/start", what=what, params=params)
        if isinstance(reply.data, dict) and reply.data.get("successful") is False:
            code = reply.data.get("errorCode")
            raise reply.error(
                f"the charger refused (errorCode {code!r})",
                code=code if isinstance(code, int) else None,
            )

    async def set_v2x_enabled(
        self, serial: SerialRef, enabled: bool, *, station_id: StationRef | None = None
    ) -> None:
        """Allow (``True``) or forbid V2X discharge on a DC charger."""
        check_bool("enabled", enabled)
        sid = await self._station(station_id)
        sn = await self._charger(sid, serial, "dc", "V2X")
        body = {"dischargeEnable": 1 if enabled else 0}
        word = "Enabling" if enabled else "Disabling"
        await self._dc_post(f"{_V2X}/open-close", sid, sn, body, f"{word} V2X on {sn}")

    async def start_v2x_discharge(
        self,
        serial: SerialRef,
        duration: int,
        power_cap: float | None = None,
        *,
        station_id: StationRef | None = None,
    ) -> None:
        """Discharge the car into the home for ``duration`` minutes (5 … 720).

        ``power_cap`` caps the discharge (kW, above 0 up to 50; ``None``: no cap). Only
        a DC charger can discharge: any other serial is refused before sending.
        """
        low, high = V2X_DURATION_RANGE
        minutes = check_whole("The V2X session's duration", duration, low, high, "minutes")
        cap = None
        if power_cap is not None:
            cap = check_number(
                "The V2X power cap", power_cap, 0.0, V2X_MAX_POWER_KW, "kW", above_low=True
            )
        sid = await self._station(station_id)
        sn = await self._charger(sid, serial, "dc", "A V2X discharge")
        body = {"duration": minutes, "powerCap": cap}
        shown = "" if cap is None else f" at up to {cap:g} kW"
        what = f"Starting a {minutes} min V2X discharge{shown} on DC charger {sn}"
        await self._dc_post(f"{_V2X}/start/discharge", sid, sn, body, what)

    async def stop_v2x_discharge(
        self, serial: SerialRef, *, station_id: StationRef | None = None
    ) -> None:
        """Stop the V2X discharge on a DC charger."""
        sid = await self._station(station_id)
        sn = await self._charger(sid, serial, "dc", "Stopping a V2X discharge")
        await self._dc_post(f"{_V2X}/stop/discharge", sid, sn, {}, f"Stopping V2X on {sn}")


__all__ = ["DcChargerArea", "SerialRef", "check_dc_mode", "check_serial"]
