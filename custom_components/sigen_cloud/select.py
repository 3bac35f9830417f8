"""Selects of the Sigen Cloud integration: operational mode and northbound mode."""

from __future__ import annotations

from typing import override

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import SigenCoordinator
from .data import SigenConfigEntry, StationData
from .entity import (
    SigenEntity,
    async_remove_developer_entities,
    async_switch_northbound_mode,
    async_track_stations,
    has_developer_credentials,
    show_ems_mode,
    sigen_errors,
)
from .sigen import CurrentMode, NBMode, OperationalMode

PARALLEL_UPDATES = 1

NB_OPTIONS = [mode.name.lower() for mode in NBMode]
NORTHBOUND_MODE_KEY = "northbound_mode"


def current_mode_label(station: StationData) -> str | None:
    """The label of the station's current operational mode, when it is one of its modes."""
    current = station.current_mode
    if current is None:
        return None
    labels = [mode.label for mode in station.modes]
    if current.label in labels:
        return current.label
    for mode in station.modes:
        if mode.value == current.mode and (
            not mode.is_profile or mode.profile_id == current.profile_id
        ):
            return mode.label
    return None


def current_nb_mode(station: StationData) -> NBMode | None:
    """The station's northbound mode: the newer of the last one queried or set and the
    telemetry's operational mode (``None`` while the EMS runs another mode, like AI).
    """
    value: int | None = station.nb_mode
    pushed = getattr(station.telemetry, "operational_mode", None)
    if pushed is not None and (
        (station.nb_mode is None and station.nb_mode_at is None)
        or (
            station.nb_mode_at is not None
            and station.operational_mode_at is not None
            and station.operational_mode_at > station.nb_mode_at
        )
    ):
        value = pushed
    if value is None:
        return None
    try:
        return NBMode(value)
    except ValueError:
        # AI, TOU, a custom profile...: not a northbound mode.
        return None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the mode selects of every station, now and as stations appear."""
    coordinator = entry.runtime_data.coordinator
    with_northbound = has_developer_credentials(entry)
    async_remove_developer_entities(hass, entry, Platform.SELECT, [NORTHBOUND_MODE_KEY])

    @callback
    def add_station(station_id: str) -> None:
        entities: list[SelectEntity] = [SigenOperationalModeSelect(coordinator, station_id, entry)]
        station = coordinator.data.stations[station_id]
        if with_northbound and station.system_id is not None:
            entities.append(SigenNorthboundModeSelect(coordinator, station_id, entry))
        async_add_entities(entities)

    async_track_stations(entry, add_station)


class SigenOperationalModeSelect(SigenEntity, SelectEntity):
    """The station's operational mode: the account's modes and custom profiles, by label."""

    _attr_translation_key = "operational_mode"

    def __init__(
        self, coordinator: SigenCoordinator, station_id: str, entry: SigenConfigEntry
    ) -> None:
        super().__init__(coordinator, station_id, "operational_mode")
        self.entry = entry

    @property
    @override
    def available(self) -> bool:
        station = self.station
        return super().available and station is not None and bool(station.modes)

    @property
    @override
    def options(self) -> list[str]:
        station = self.station
        return [mode.label for mode in station.modes] if station else []

    @property
    @override
    def current_option(self) -> str | None:
        station = self.station
        return current_mode_label(station) if station else None

    def _mode(self, option: str) -> OperationalMode:
        station = self.station
        for mode in station.modes if station else []:
            if mode.label == option:
                return mode
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_mode",
            translation_placeholders={"mode": option},
        )

    @override
    async def async_select_option(self, option: str) -> None:
        mode = self._mode(option)
        async with sigen_errors(self.hass, self.entry):
            await self.entry.runtime_data.client.set_operational_mode(
                mode.value, mode.profile_id, station_id=self.station_id
            )
        # Show the accepted mode at once, the northbound mode too (the same EMS work
        # mode); the refresh right after confirms them.
        if (station := self.station) is not None:
            station.current_mode = CurrentMode(mode.value, mode.profile_id, mode.label)
            show_ems_mode(station, mode.value, profile=mode.is_profile)
        self.coordinator.async_update_listeners()
        await self.coordinator.async_request_slow_refresh()


class SigenNorthboundModeSelect(SigenEntity, SelectEntity):
    """The station's northbound mode (MSC, FFG, VPP, NBI); needs developer credentials."""

    _attr_translation_key = "northbound_mode"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_options = NB_OPTIONS

    def __init__(
        self, coordinator: SigenCoordinator, station_id: str, entry: SigenConfigEntry
    ) -> None:
        super().__init__(coordinator, station_id, NORTHBOUND_MODE_KEY)
        self.entry = entry

    @property
    @override
    def current_option(self) -> str | None:
        station = self.station
        mode = current_nb_mode(station) if station else None
        return mode.name.lower() if mode is not None else None

    @override
    async def async_select_option(self, option: str) -> None:
        station = self.station
        if station is None:  # pragma: no cover - unavailable entities are not called
            return
        await async_switch_northbound_mode(self.hass, self.entry, station, NBMode[option.upper()])
