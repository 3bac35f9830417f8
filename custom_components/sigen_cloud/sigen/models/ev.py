"""EV chargers of the app API: the AC charger (EVAC) and the DC charger with V2X.

The AC charger's endpoints address the station (it has one AC charger); the DC
charger's take its serial (``snCode``). Currents are in A, powers in kW, energies in
kWh, SOC in %. Shapes and sources: §7.10, §7.11 and §7.17 of the API notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from .._parse import parse_bool, parse_epoch, parse_id, parse_int, parse_number, parse_str
from ._base import SigenModel, wire

type ChargerKind = Literal["ac", "dc"]

#: The DC charger's charge modes (``chargeMode`` of ``device/charge/mode/dc``).
DC_CHARGE_MODES: Final = {"fast": 0, "pv_surplus": 1, "v2x": 2}
#: ``seccRunState`` codes seen in captures (§7.11): 8 is discharging (V2X).
SECC_RUN_STATES: Final = {
    1: "idle",
    2: "connecting",
    3: "charging",
    8: "discharging",
    10: "insulation_check",
}
#: ``device/dcevse/status`` codes (an int, or an object with ``status``).
DC_STATUSES: Final = {1: "ready", 2: "preparing", 3: "charging"}
#: Below this (kW) a V2X discharge power counts as none (as [solidfox-ha] reads it).
DISCHARGING_BELOW_KW: Final = -0.05


def _parse_kind(value: object) -> ChargerKind | None:
    """``"ac"`` or ``"dc"`` (any case), else ``None``."""
    text = parse_str(value)
    kind = None if text is None else text.strip().lower()
    if kind == "ac":
        return "ac"
    return "dc" if kind == "dc" else None


@dataclass(frozen=True)
class Charger(SigenModel):
    """A charger the station lists: its serial and kind (``"ac"`` or ``"dc"``).

    Read from the device topology (``deviceType`` 5 is a DC charger; an AC charger is
    told by its ``deviceTypeDesc``, since its type code is unknown) or from the home
    station's ``acSnList``/``dcSnList``. ``online`` is ``communicateStatus`` 2 (``None``
    when the source does not say); ``can_discharge`` whether it can run V2X (DC only).
    """

    WHAT = "a charger"

    serial: str = wire("snCode", parse_id, "showSnCode", required="serial (snCode)")
    kind: ChargerKind = wire("kind", _parse_kind, required="kind (ac or dc)")
    status: int | None = wire("deviceStatus", parse_int)
    online: bool | None = None

    @property
    def can_discharge(self) -> bool:
        """Whether the charger can discharge a car into the home (V2X): DC chargers."""
        return self.kind == "dc"


@dataclass(frozen=True)
class AcChargerCurrent(SigenModel):
    """The AC charger's current setting (``device/acevse/charge/read/current``).

    ``current`` is the last set charging current, ``max_current`` the largest the
    charger takes (A); ``dlm`` whether dynamic load management is on (``dlmStatus`` 1).
    """

    WHAT = "the AC charger's current"

    current: float | None = wire("lastSetCurrent", parse_number, "current")
    max_current: float | None = wire("maxCurrent", parse_number)
    dlm: bool | None = wire("dlmStatus", parse_bool)


@dataclass(frozen=True)
class AcChargeMode(SigenModel):
    """The AC charger's charge mode (``device/acevse/charge/mode``; read only).

    ``mode`` is the cloud's ``chargeMode`` code (its meanings are unknown);
    ``min_keep_charge_time`` in minutes, ``max_grid_charge_power`` and
    ``pv_start_power`` in kW.
    """

    WHAT = "the AC charger's charge mode"

    mode: int | None = wire("chargeMode", parse_int)
    min_keep_charge_time: float | None = wire("minKeepChargeTime", parse_number)
    max_grid_charge_power: float | None = wire("maxGridChargePower", parse_number)
    pv_start_power: float | None = wire("pvEnergyStartPower", parse_number)


@dataclass(frozen=True)
class AcChargerState(SigenModel):
    """What the AC charger does now: its power (kW) and whether it charges.

    No documented endpoint reports the AC charger's own power or session energy; the
    power is the energy flow's ``evPower`` (the station's EV power), less what the DC
    chargers deliver. ``session_energy`` stays ``None`` until a source names a key.
    """

    WHAT = "the AC charger's state"

    power: float | None = wire("evPower", parse_number)
    session_energy: float | None = wire("sessionEnergy", parse_number)

    @property
    def charging(self) -> bool | None:
        """Whether the charger delivers power (``None`` when the power is unknown)."""
        return None if self.power is None else self.power > abs(DISCHARGING_BELOW_KW)


def _parse_plug(value: object) -> bool | None:
    """The plug state: a bool or 0/1, or an object with one of the keys seen."""
    if isinstance(value, dict):
        for key in ("plugged", "pluggedIn", "isPlugged", "plugStatus", "status"):
            found = parse_bool(value.get(key))
            if found is not None:
                return found
        return None
    return parse_bool(value)


def _parse_dc_status(value: object) -> int | None:
    """The DC status code: an int, or an object's ``status``."""
    if isinstance(value, dict):
        return parse_int(value.get("status"))
    return parse_int(value)


@dataclass(frozen=True)
class DcChargerState(SigenModel):
    """What the DC charger does now, from its status, plug and realtime answers.

    ``status`` is the status code (1 ready, 2 preparing, 3 charging; ``status_text``
    its description), ``plugged`` whether a car is plugged in, ``run_state`` the
    ``seccRunState`` (see :data:`SECC_RUN_STATES`). ``power`` is signed as a
    bidirectional device: + = charging the car, - = discharging it (V2X); the cloud's
    ``pileOutputPower`` sign is unreliable, so the run state decides it.
    ``session_energy`` (``singleChargePower``, kWh despite its name) and
    ``total_charge_energy`` (kWh) come with the charge realtime.
    """

    WHAT = "the DC charger's state"

    status: int | None = wire("status", _parse_dc_status)
    status_text: str | None = wire("statusDesc", parse_str)
    plugged: bool | None = wire("plug", _parse_plug)
    run_state: int | None = wire("seccRunState", parse_int)
    vehicle_soc: float | None = wire("vehicleSoc", parse_number)
    output_power: float | None = wire("pileOutputPower", parse_number)
    charging_current: float | None = wire("chargingOutputCurrent", parse_number)
    discharging_current: float | None = wire("dischargingOutputCurrent", parse_number)
    charging_started: datetime | None = wire("chargingStartTime", parse_epoch)
    session_energy: float | None = wire("singleChargePower", parse_number)
    total_charge_energy: float | None = wire("totalChargeEnergy", parse_number)

    @property
    def discharging(self) -> bool:
        """Whether the car discharges into the home (run state 8)."""
        return self.run_state == 8

    @property
    def power(self) -> float | None:
        """The power through the charger, kW: + = into the car, - = out of it."""
        if self.output_power is None:
            return None
        size = abs(self.output_power)
        return -size if self.discharging else size

    @property
    def run_state_name(self) -> str | None:
        """The run state's name (``"charging"``, ``"discharging"``, …), if known."""
        return None if self.run_state is None else SECC_RUN_STATES.get(self.run_state)


@dataclass(frozen=True)
class DcChargeSettings(SigenModel):
    """The DC charger's charge settings (``device/dcevse/charge/setting``).

    ``allowed_power`` is the charging power allowed (kW), ``cutoff_soc`` the car's SOC
    at which charging stops (%), ``rated_power`` the charger's rating (kW).
    """

    WHAT = "the DC charger's charge settings"

    allowed_power: float | None = wire("allowedChargePower", parse_number)
    cutoff_soc: int | None = wire("vehicleChargingCutoffSoc", parse_int)
    rated_power: float | None = wire("ratedPower", parse_number)


def _parse_dc_mode(value: object) -> str | None:
    """The DC charge mode's name from its code (0 fast, 1 PV surplus, 2 V2X)."""
    code = parse_int(value)
    names = {number: name for name, number in DC_CHARGE_MODES.items()}
    return None if code is None else names.get(code)


@dataclass(frozen=True)
class DcChargeMode(SigenModel):
    """The DC charger's charge mode (``device/charge/mode/dc``).

    ``mode`` is ``"fast"``, ``"pv_surplus"`` or ``"v2x"`` (``code`` the cloud's
    number); ``boost_from_battery`` (``enableFromPack``) lets the home battery help,
    down to ``battery_cutoff_soc``; ``discharge_power`` (kW) and
    ``vehicle_discharge_cutoff_soc`` (%) bound V2X, within ``min_/max_discharge_cutoff_soc``.
    """

    WHAT = "the DC charge mode"

    mode: str | None = wire("chargeMode", _parse_dc_mode)
    code: int | None = wire("chargeMode", parse_int)
    boost_from_battery: bool | None = wire("enableFromPack", parse_bool)
    battery_cutoff_soc: float | None = wire("cutoffSocFromPack", parse_number)
    discharge_power: float | None = wire("allowsDischargePower", parse_number)
    vehicle_discharge_cutoff_soc: float | None = wire("vehicleDischargeCutoffSoc", parse_number)
    min_discharge_cutoff_soc: float | None = wire("minimumDischargeCutoffSoc", parse_number)
    max_discharge_cutoff_soc: float | None = wire("maximumDischargeCutoffSoc", parse_number)


@dataclass(frozen=True)
class V2xSettings(SigenModel):
    """The station's V2X settings (``device/station-v2x/select``)."""

    WHAT = "the V2X settings"

    enabled: bool | None = wire("dischargeEnable", parse_bool)
    has_car: bool | None = wire("hasCar", parse_bool)
    has_disclaimer: bool | None = wire("hasDisclaimer", parse_bool)
    has_used: bool | None = wire("hasUsed", parse_bool)


@dataclass(frozen=True)
class V2xSession(SigenModel):
    """The V2X discharge (``device/station-v2x/discharge/info``).

    ``power`` is ``disChargePower`` (kW, negative while discharging), ``timed`` whether
    a manual timed session was started (``delayCutout`` 1) and ``ends_at`` its end
    (``evdcCutoutEnableTime``, epoch s).
    """

    WHAT = "the V2X session"

    power: float | None = wire("disChargePower", parse_number, "dischargePower")
    timed: bool | None = wire("delayCutout", parse_bool)
    ends_at: datetime | None = wire("evdcCutoutEnableTime", parse_epoch)

    def running(self, now: datetime) -> bool:
        """Whether a timed session runs at ``now`` (aware): started and not yet ended."""
        return bool(self.timed) and self.ends_at is not None and self.ends_at > now

    @property
    def discharging(self) -> bool:
        """Whether the car gives power now (below -0.05 kW)."""
        return self.power is not None and self.power < DISCHARGING_BELOW_KW


@dataclass(frozen=True)
class DcEnergyTotals(SigenModel):
    """The DC charger's lifetime energy (kWh) into and out of cars."""

    WHAT = "the DC charger's totals"

    charged: float | None = wire("totalChargeEnergy", parse_number)
    discharged: float | None = wire("totalDischargeEnergy", parse_number)


def _node_kind(node: dict[str, object]) -> ChargerKind | None:
    """Whether a topology node is a DC charger (type 5), an AC charger, or neither.

    The AC charger's type code is unknown: its description tells it (``"AC Charger"``,
    ``"EVAC"``), as it does for a DC charger without its code.
    """
    if parse_int(node.get("deviceType")) == 5:
        return "dc"
    text = (parse_str(node.get("deviceTypeDesc")) or "").lower().replace(" ", "")
    if "evac" in text or ("ac" in text and ("charger" in text or "evse" in text)):
        return "ac"
    if "evdc" in text or ("dc" in text and ("charger" in text or "evse" in text)):
        return "dc"
    return None


def chargers_in_topology(data: object) -> list[Charger]:
    """The chargers of a ``device/devicetreepanel/topology`` answer, at any depth.

    ``data`` is the object with ``nodeList`` (a list of nodes is read too); a node
    without a serial is skipped.
    """
    found: list[Charger] = []
    pending: list[object] = [data]
    while pending:
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
            continue
        if not isinstance(item, dict):
            continue
        kind = _node_kind(item)
        serial = parse_id(item.get("snCode")) or parse_id(item.get("showSnCode"))
        if kind is not None and serial is not None:
            online = {1: False, 2: True}.get(parse_int(item.get("communicateStatus")) or 0)
            found.append(Charger.build(item, serial=serial, kind=kind, online=online))
        children = item.get("nodeList")
        if isinstance(children, list):
            pending[:0] = children
    return found


#: The AC charging current (A): IEC 61851's least, and the largest when the cloud
#: reports none.
EV_CURRENT_MIN_A: Final = 6
EV_MAX_CURRENT_A: Final = 80
#: A DC charger's allowed charging power (kW): the least, and the largest when the
#: charger reports no rating.
DC_CHARGE_POWER_MIN_KW: Final = 1.0
DC_RATED_POWER_KW: Final = 50.0
#: The car's charging cut-off SOC (%) a DC charger takes ([solidfox-ha] offers 50-100).
DC_CUTOFF_SOC_RANGE: Final = (50, 100)
#: A V2X session's length (minutes) and largest power cap (kW), as [solidfox-ha] offers.
V2X_DURATION_RANGE: Final = (5, 720)
V2X_MAX_POWER_KW: Final = 50.0
