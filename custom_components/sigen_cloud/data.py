"""Typed data shared by the coordinator and the entity platforms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from homeassistant.config_entries import ConfigEntry

    from .coordinator import SigenCoordinator
    from .sigen import (
        AlarmEvent,
        CurrentMode,
        EnergyFlow,
        NBMode,
        NorthboundClient,
        OperationalMode,
        Sigen,
        SigenMQTT,
        SmartLoad,
        SmartLoadConsumption,
        StationInfo,
        SystemData,
        TelemetryData,
    )


@dataclass
class StationData:
    """Everything known about one station, from polling and from MQTT push.

    ``station_id`` is the key of the station everywhere in the integration (device
    identifier, unique ids): the app API's stationId as a string. ``system_id`` is the
    northbound/MQTT systemId (the station's SN code), when known.
    """

    station_id: str
    system_id: str | None = None
    info: StationInfo | None = None
    energy_flow: EnergyFlow | None = None
    telemetry: TelemetryData | None = None  # merged deltas from the period topic
    system: SystemData | None = None  # from the change topic
    modes: list[OperationalMode] = field(default_factory=list)
    current_mode: CurrentMode | None = None
    smart_loads: dict[int, SmartLoad] = field(default_factory=dict)  # by load path
    consumption: dict[int, SmartLoadConsumption] = field(default_factory=dict)
    nb_mode: NBMode | None = None
    # When nb_mode was last learned (queried, or set through us): the telemetry's
    # operationalMode shows the mode instead once it is newer.
    nb_mode_at: datetime | None = None
    operational_mode_at: datetime | None = None  # telemetry last carried operationalMode
    active_alarms: dict[str, AlarmEvent] = field(default_factory=dict)  # by alarm code
    last_alarm: AlarmEvent | None = None
    # The alarms pushed since the last listener update, in the order received: set
    # while the coordinator notifies its listeners (the event entity fires one event
    # each), empty otherwise.
    new_alarms: list[AlarmEvent] = field(default_factory=list)
    last_poll: datetime | None = None
    last_telemetry: datetime | None = None


@dataclass
class SigenCloudData:
    """The coordinator's data: all stations of the account."""

    stations: dict[str, StationData] = field(default_factory=dict)
    mqtt_connected: bool = False


@dataclass
class SigenRuntimeData:
    """What a loaded config entry keeps in ``entry.runtime_data``."""

    client: Sigen
    coordinator: SigenCoordinator
    northbound: NorthboundClient | None = None
    mqtt: SigenMQTT | None = None
    mqtt_task: asyncio.Task[None] | None = None


type SigenConfigEntry = ConfigEntry[SigenRuntimeData]
