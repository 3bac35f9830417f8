"""What each coordinator of Sigen Cloud holds: small immutable snapshots.

A coordinator replaces its data as a whole on every update (a poll, a push, a write
accepted by the cloud); nothing outside the coordinator changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sigen import (
        AcChargeMode,
        AcChargerCurrent,
        AlarmEvent,
        BatteryPowerLimits,
        Charger,
        CurrentMode,
        DcChargeMode,
        DcChargerState,
        DcEnergyTotals,
        EnergyFlow,
        Forecast,
        GridCurrentLimit,
        GridLimit,
        ManualControl,
        NBMode,
        NBSystem,
        OperationalMode,
        PeakShaving,
        PriceCost,
        PvLimit,
        SmartLoad,
        SmartLoadConsumption,
        SocLevels,
        StationInfo,
        SystemData,
        TariffPlan,
        TelemetryData,
        V2xSession,
    )

_EMPTY: Mapping[str, AlarmEvent] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AccountStation:
    """One station of the account, as the account coordinator last saw it.

    ``station_id`` is the key of the station everywhere in the integration (device
    identifier, unique ids): the app API's stationId, or for a northbound system
    without an app API station (a push-only station) its system id. ``system_id`` is
    the northbound/MQTT systemId, when known. ``info`` is ``None`` for a push-only
    station.
    """

    station_id: str
    system_id: str | None = None
    info: StationInfo | None = None


class OfStation:
    """The station's ids and app API details, forwarded from its ``station`` entry.

    For what holds a station's :class:`AccountStation` as ``station`` (the runtime and
    the view), so both answer ``station_id``, ``system_id`` and ``info`` the same way.
    """

    __slots__ = ()
    station: AccountStation

    @property
    def station_id(self) -> str:
        """The station's key (device identifier, unique ids)."""
        return self.station.station_id

    @property
    def system_id(self) -> str | None:
        """The northbound/MQTT system id, when known."""
        return self.station.system_id

    @property
    def info(self) -> StationInfo | None:
        """The app API's station (``None`` for a push-only station)."""
        return self.station.info


@dataclass(frozen=True, slots=True)
class AccountData:
    """The account coordinator's data: the stations, and the northbound system list.

    ``systems`` is ``None`` without developer credentials or while the developer API
    fails.
    """

    stations: Mapping[str, AccountStation]
    systems: tuple[NBSystem, ...] | None = None


@dataclass(frozen=True, slots=True)
class LiveData:
    """The live coordinator's data: the polled energy flow and when it was asked for."""

    energy_flow: EnergyFlow
    polled_at: datetime


@dataclass(frozen=True, slots=True)
class StationSettings:
    """The settings coordinator's data: the EMS work mode, as the app and API see it.

    ``nb_mode_at`` is when ``nb_mode`` was last learned (queried, or set through us):
    a pushed operational mode newer than that wins (see ``StationView``).
    """

    modes: tuple[OperationalMode, ...] = ()
    current_mode: CurrentMode | None = None
    nb_mode: NBMode | None = None
    nb_mode_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ControlsData:
    """The controls coordinator's data: the owner's battery and grid settings, manual control.

    A part is ``None`` when the station does not report it (the cloud refused to read
    it): its entities are not created (first read) or unavailable (later reads).
    ``peak_shaving`` is the app's peak-shaving setting (§7.7), whole.
    """

    soc_levels: SocLevels | None = None
    power_limits: BatteryPowerLimits | None = None
    export_allowed: bool | None = None
    export_limit: GridLimit | None = None
    import_limit: GridLimit | None = None
    current_limit: GridCurrentLimit | None = None
    pv_limit: PvLimit | None = None
    manual: ManualControl | None = None
    peak_shaving: PeakShaving | None = None


@dataclass(frozen=True, slots=True)
class ForecastData:
    """The forecast coordinator's data: Sigen's AI forecast, the tariff plan, the price summary.

    A part is ``None`` (``()`` for the summary) when the station does not offer it;
    ``plan`` has no slots before a tariff was ever saved.
    """

    forecast: Forecast | None = None
    plan: TariffPlan | None = None
    price_cost: tuple[PriceCost, ...] = ()


@dataclass(frozen=True, slots=True)
class SmartLoadsData:
    """The smart-load coordinator's data: the loads and their consumption, by path."""

    loads: Mapping[int, SmartLoad] = field(default_factory=dict)
    consumption: Mapping[int, SmartLoadConsumption] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PushData:
    """The push coordinator's data: what MQTT brought for one station.

    ``telemetry`` and ``system`` are the merged deltas of the ``period`` and
    ``change`` topics; ``last_telemetry`` is when telemetry last arrived;
    ``operational_mode_at`` when it last carried the operational mode.
    """

    connected: bool = False
    telemetry: TelemetryData | None = None
    system: SystemData | None = None
    last_telemetry: datetime | None = None
    operational_mode_at: datetime | None = None
    active_alarms: Mapping[str, AlarmEvent] = _EMPTY
    last_alarm: AlarmEvent | None = None


@dataclass(frozen=True, slots=True)
class ChargerData:
    """One EV charger as the EV coordinator last read it (issue 20).

    ``power`` is kW through the charger, + = into the car (the Energy dashboard's
    consumption of a device), - = out of it (V2X). The AC charger has ``ac_current``
    (and ``ac_mode`` when the cloud reports it); the DC charger ``dc_state`` and, read
    less often, ``dc_totals``, ``dc_mode`` and ``v2x``. A part is ``None`` when unknown.
    """

    charger: Charger
    power: float | None = None
    ac_current: AcChargerCurrent | None = None
    ac_mode: AcChargeMode | None = None
    dc_state: DcChargerState | None = None
    dc_totals: DcEnergyTotals | None = None
    dc_mode: DcChargeMode | None = None
    v2x: V2xSession | None = None

    @property
    def serial(self) -> str:
        """The charger's serial."""
        return self.charger.serial

    @property
    def kind(self) -> str:
        """``"ac"`` or ``"dc"``."""
        return self.charger.kind

    @property
    def plugged(self) -> bool | None:
        """Whether a car is plugged in: the DC plug; an AC charger only tells by charging."""
        if self.dc_state is not None:
            return self.dc_state.plugged
        return None if self.power is None else self.power > 0


@dataclass(frozen=True, slots=True)
class EvData:
    """The EV coordinator's data: the chargers that answer, by serial."""

    chargers: Mapping[str, ChargerData] = field(default_factory=dict)

    @property
    def car_plugged(self) -> bool:
        """Whether a car is plugged in on any charger (the coordinator polls faster)."""
        return any(charger.plugged for charger in self.chargers.values())
