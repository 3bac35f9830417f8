"""What a loaded config entry keeps in ``entry.runtime_data``: clients and coordinators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import OfStation, StationSettings
from .view import StationView

# The settings of a station whose settings coordinator has no data yet.
NO_SETTINGS = StationSettings()

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

    from .coordinator import (
        SigenAccountCoordinator,
        SigenControlsCoordinator,
        SigenEvCoordinator,
        SigenForecastCoordinator,
        SigenLiveCoordinator,
        SigenPushCoordinator,
        SigenSettingsCoordinator,
        SigenSmartLoadCoordinator,
    )
    from .coordinator.devices import SigenDevicesCoordinator
    from .coordinator.history import SigenHistoryCoordinator
    from .coordinator.schedule import SigenScheduleCoordinator
    from .history_import import HistoryImports
    from .models import AccountStation
    from .push import SigenPushListener
    from .session_store import SessionStore
    from .sigen import NorthboundClient, Sigen, SigenMQTT


@dataclass(kw_only=True)
class StationRuntime(OfStation):
    """One station of the account and its coordinators.

    Every station has a settings and a push coordinator; a station of the app API (not
    a push-only northbound system) also has a live, a smart-load and a controls
    coordinator (the battery and grid settings and the manual control) and a forecast
    coordinator (the AI forecast and the prices), and an EV coordinator once it lists
    EV chargers. An app API station has a history coordinator too (the cloud's day
    counters, issue 19) and a schedule coordinator (the TOU schedule, issue 18).
    An app API station also has a devices coordinator (its alarm list and device tree,
    issue 18).
    ``removed`` turns true when the station leaves the account (its entities go with
    its device right after).
    """

    station: AccountStation
    settings: SigenSettingsCoordinator
    push: SigenPushCoordinator
    live: SigenLiveCoordinator | None = None
    smart_loads: SigenSmartLoadCoordinator | None = None
    controls: SigenControlsCoordinator | None = None
    forecast: SigenForecastCoordinator | None = None
    ev: SigenEvCoordinator | None = None
    history: SigenHistoryCoordinator | None = None
    schedule: SigenScheduleCoordinator | None = None
    devices: SigenDevicesCoordinator | None = None
    removed: bool = False
    _view: StationView | None = field(default=None, init=False, repr=False)

    def coordinators(self) -> list[DataUpdateCoordinator[Any]]:
        """Every coordinator of the station, the polling ones first."""
        polling: list[DataUpdateCoordinator[Any]] = [
            coordinator
            for coordinator in (
                self.live,
                self.settings,
                self.smart_loads,
                self.controls,
                self.forecast,
                self.ev,
                self.history,
                self.schedule,
                self.devices,
            )
            if coordinator is not None
        ]
        return [*polling, self.push]

    def view(self) -> StationView:
        """The station's current data as one typed snapshot (rebuilt when it changed).

        A coordinator whose first refresh failed (a station added while the cloud
        failed) has no data yet: its part of the view is empty.
        """
        live = None if self.live is None else self.live.data
        settings: StationSettings | None = self.settings.data
        controls = None if self.controls is None else self.controls.data
        devices = None if self.devices is None else self.devices.data
        view = self._view
        if (
            view is None
            or view.station is not self.station
            or view.live is not live
            or view.push is not self.push.data
            or view.settings is not (settings or NO_SETTINGS)
            or view.controls is not controls
            or view.devices is not devices
        ):
            view = self._view = StationView(
                self.station,
                live=live,
                push=self.push.data,
                settings=settings or NO_SETTINGS,
                controls=controls,
                devices=devices,
            )
        return view


@dataclass(kw_only=True)
class SigenRuntimeData:
    """The entry's clients, its account coordinator and the MQTT push listener.

    The account coordinator holds the stations' runtimes.
    """

    client: Sigen
    account: SigenAccountCoordinator
    push: SigenPushListener
    northbound: NorthboundClient | None = None
    # The energy history's imports into the statistics (with the recorder only).
    history: HistoryImports | None = None
    # The stored session a restart starts from (issue 21).
    session: SessionStore | None = None

    @property
    def stations(self) -> dict[str, StationRuntime]:
        """The stations on the account, by key."""
        return self.account.stations

    @property
    def mqtt(self) -> SigenMQTT | None:
        """The MQTT client (developer credentials with usable certificates only)."""
        return self.push.mqtt

    @property
    def developer_api(self) -> bool:
        """Whether the entry runs with the developer API (northbound, and MQTT)."""
        return self.northbound is not None or self.mqtt is not None

    def coordinators(self) -> list[DataUpdateCoordinator[Any]]:
        """Every coordinator of the entry: the account's, then each station's."""
        found: list[DataUpdateCoordinator[Any]] = [self.account]
        for station in self.stations.values():
            found.extend(station.coordinators())
        return found


type SigenConfigEntry = ConfigEntry[SigenRuntimeData]
