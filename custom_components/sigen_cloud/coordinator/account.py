"""The account coordinator: which stations the account has, and their runtimes.

It reads the home station (app API) and, with developer credentials, the northbound
system list every 30 minutes, and reconciles: a new station gets its coordinators (and
their first data) before the platforms hear of it; a station that left the account
loses its coordinators and its device, and with it every entity of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.helpers import device_registry as dr

from ..client import has_developer_credentials
from ..const import ACCOUNT_REFRESH_INTERVAL, DOMAIN, LOGGER
from ..data import StationRuntime
from ..models import AccountData, AccountStation
from ..sigen import NBSystem, StationInfo, pair_stations
from .base import NorthboundAccess, SigenCoordinator, gather_all
from .controls import SigenControlsCoordinator
from .devices import SigenDevicesCoordinator
from .ev import async_update_chargers
from .forecast import SigenForecastCoordinator
from .history import SigenHistoryCoordinator
from .live import SigenLiveCoordinator, SigenSmartLoadCoordinator
from .push import SigenPushCoordinator
from .schedule import SigenScheduleCoordinator
from .settings import SigenSettingsCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..session_store import SavedStation
    from ..sigen import Sigen


def reconcile(
    known: Mapping[str, AccountStation], app: list[StationInfo], systems: list[NBSystem] | None
) -> dict[str, AccountStation]:
    """The account's stations from the app API's and the northbound API's lists.

    App API stations are keyed by their stationId and paired with their northbound
    system by its stationCode (the system id), never by stationSnCode; a station whose
    data lacks stationCode is matched in the northbound list by name and capacities
    (:func:`~sigen.pair_stations`), so one system is always one device. Northbound
    systems without an app API station become push-only stations keyed by the system
    id. Without a (working) northbound list the known push-only stations stay.
    """
    pairs = pair_stations(app, systems) if systems is not None else {}
    stations: dict[str, AccountStation] = {}
    for info in app:
        previous = known.get(info.station_id)
        system_id = info.system_id
        if not system_id and info.station_id in pairs:
            system_id = pairs[info.station_id].system_id
        if not system_id and previous is not None:
            system_id = previous.system_id
        stations[info.station_id] = AccountStation(info.station_id, system_id, info)
    paired = {station.system_id for station in stations.values()}
    if systems is None:
        stations.update((key, st) for key, st in known.items() if st.info is None)
    else:
        for system in systems:
            if system.system_id not in paired:
                stations[system.system_id] = AccountStation(system.system_id, system.system_id)
    return stations


class SigenAccountCoordinator(SigenCoordinator[AccountData]):
    """The account's stations, every 30 minutes; ``stations`` holds their runtimes.

    It holds the entry's lane (see :mod:`.base`): it and every station's coordinators
    but the live one take turns through it.
    """

    interval = ACCOUNT_REFRESH_INTERVAL

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        client: Sigen,
        northbound: NorthboundAccess | None,
    ) -> None:
        """Set up the coordinator; the stations come with the first refresh."""
        super().__init__(hass, entry, client)
        self.northbound = northbound
        self.stations: dict[str, StationRuntime] = {}
        self.lane = asyncio.Lock()
        # The last run's stations (issue 21): their coordinators are built, and their
        # first data asked for, before the station read (see _async_start_saved).
        self.saved_stations: tuple[SavedStation, ...] = ()
        # Called once the stations are known, before their first data is in (the
        # push listener starts then).
        self.on_stations: Callable[[], None] | None = None
        self._starting: dict[str, asyncio.Task[None]] = {}

    async def _async_fetch(self) -> AccountData:
        """Read the station lists and bring the station runtimes in line with them."""
        northbound = self.northbound
        self._async_start_saved()
        try:
            info, systems = await self._async_both(
                self.client.get_station_info,
                northbound.get_systems if northbound is not None else _none,
            )
            known = {key: runtime.station for key, runtime in self.stations.items()}
            stations = reconcile(known, [info], systems)
            await self._async_apply(stations)
        finally:
            self._drop_starting()
        # The list is complete unless developer credentials are set but their system
        # list is missing (then push-only stations may be missing from it too).
        complete = systems is not None or not has_developer_credentials(self.config_entry.data)
        self._async_remove_devices(set(known) - set(stations), sweep=complete)
        return AccountData(stations, None if systems is None else tuple(systems))

    async def _async_apply(self, stations: Mapping[str, AccountStation]) -> None:
        """Bring the station runtimes in line with the account's stations.

        New stations get runtimes (with their first data), known ones their new
        account entry; those that left the account are dropped. The stations started
        from the last run (their first data on its way) are waited for here.
        """
        for station_id in set(self.stations) - set(stations):
            LOGGER.info("Station %s is no longer on the account; removing it", station_id)
            runtime = self.stations.pop(station_id)
            runtime.removed = True
            _cancel(self._starting.pop(station_id, None))
            for coordinator in runtime.coordinators():
                await coordinator.async_shutdown()
        starting = self._starting
        started: list[Awaitable[None]] = []
        for station_id, station in stations.items():
            if (known := self.stations.get(station_id)) is not None:
                known.station = station
                known.settings.account_refreshed(station, modes_due=station_id not in starting)
                if (task := starting.pop(station_id, None)) is not None:
                    started.append(task)
                else:
                    started.append(self._async_update_chargers(known))
                continue
            new = self._new_runtime(station)
            self.stations[station_id] = new
            started.append(self._async_start(new))
        if self.on_stations is not None:
            on_stations, self.on_stations = self.on_stations, None
            on_stations()
        await gather_all(started)

    def _async_start_saved(self) -> None:
        """Build the last run's stations and ask for their first data at once (issue 21).

        Only at start-up, and only for stations whose reads need nothing the station
        read brings: push-only stations, and app stations stored with their app data.
        The station read goes out beside them and reconciles as at any refresh.
        """
        saved_stations, self.saved_stations = self.saved_stations, ()
        if not all(saved.info is not None or not saved.app for saved in saved_stations):
            return  # stored by an earlier version: wait for the station read
        for saved in saved_stations:
            station = AccountStation(saved.station_id, saved.system_id, saved.info)
            runtime = self.stations[saved.station_id] = self._new_runtime(station)
            self._starting[saved.station_id] = self.hass.async_create_task(
                self._async_start(runtime), "sigen_cloud station start-up", eager_start=True
            )
        if self.stations and self.on_stations is not None:
            on_stations, self.on_stations = self.on_stations, None
            on_stations()

    def _drop_starting(self) -> None:
        """Stop the start-ups no station took (the station read failed)."""
        for task in self._starting.values():
            _cancel(task)
        self._starting.clear()

    async def _async_start(self, runtime: StationRuntime) -> None:
        """A new station's first data, and its chargers' once they are listed."""
        await gather_all([self._async_first_refresh(runtime), self._async_first_chargers(runtime)])

    async def _async_first_chargers(self, runtime: StationRuntime) -> None:
        """List a new station's chargers; an EV coordinator's first data follows."""
        await async_update_chargers(
            self.hass, self.config_entry, self.client, runtime, refresh=False
        )
        if runtime.ev is not None:
            await self._async_first_refresh(runtime, [runtime.ev])

    async def _async_update_chargers(self, runtime: StationRuntime) -> None:
        """A known station's chargers, listed again."""
        await async_update_chargers(
            self.hass, self.config_entry, self.client, runtime, refresh=True
        )

    def _new_runtime(self, station: AccountStation) -> StationRuntime:
        """The coordinators of a new station (polling only what its APIs offer)."""
        hass, entry, client = self.hass, self.config_entry, self.client
        has_app = station.info is not None
        runtime = StationRuntime(
            station=station,
            settings=SigenSettingsCoordinator(hass, entry, client, self.northbound, station),
            push=SigenPushCoordinator(hass, entry, station.station_id),
            live=SigenLiveCoordinator(hass, entry, client, station.station_id) if has_app else None,
            smart_loads=(
                SigenSmartLoadCoordinator(hass, entry, client, station.station_id)
                if has_app
                else None
            ),
            controls=(
                SigenControlsCoordinator(hass, entry, client, station.station_id)
                if has_app
                else None
            ),
        )
        if has_app:
            runtime.history = SigenHistoryCoordinator(hass, entry, client, station)
            runtime.devices = SigenDevicesCoordinator(hass, entry, client, station.station_id)
        if runtime.controls is not None:
            runtime.forecast = SigenForecastCoordinator(
                hass, entry, client, station, runtime.controls.write_lock
            )
            runtime.schedule = SigenScheduleCoordinator(
                hass, entry, client, station, runtime.controls.write_lock
            )
        # Every 10 minutes they read together: one after another, not side by side.
        for coordinator in runtime.coordinators():
            if isinstance(coordinator, SigenCoordinator) and coordinator is not runtime.live:
                coordinator.lane = self.lane
        return runtime

    async def _async_first_refresh(
        self, runtime: StationRuntime, coordinators: Sequence[Any] | None = None
    ) -> None:
        """The first data of a new station's polling coordinators, all at once.

        Every coordinator of the station's runtime joins (a new kind of data needs no
        code here). During the entry's setup a failure fails the setup (Home Assistant
        retries it); later, the station's entities stay unavailable until the next poll
        succeeds.
        """
        polling = coordinators or [c for c in runtime.coordinators() if c is not runtime.push]
        if self.config_entry.state is ConfigEntryState.SETUP_IN_PROGRESS:
            await gather_all(c.async_config_entry_first_refresh() for c in polling)
        else:
            await asyncio.gather(*(c.async_refresh() for c in polling))

    def _async_remove_devices(self, gone: set[str], *, sweep: bool) -> None:
        """Remove the devices (and with them the entities) of stations that are gone.

        With ``sweep``, also the devices of stations that left the account while Home
        Assistant was not running: every station device of the entry whose station is
        not on the account. Smart-load, charger and device-tree devices are their trackers'.
        """
        device_registry = dr.async_get(self.hass)
        entries = dr.async_entries_for_config_entry(device_registry, self.config_entry.entry_id)
        for device in entries:
            station_ids = {
                identifier
                for domain, identifier in device.identifiers
                if domain == DOMAIN
                and "_smart_load_" not in identifier
                and "_charger_" not in identifier
                and "_device_" not in identifier
            }
            if not station_ids:
                continue
            if station_ids & gone or (sweep and not station_ids & set(self.stations)):
                LOGGER.debug("Removing the device of station(s) %s", sorted(station_ids))
                device_registry.async_remove_device(device.id)

    def system_ids(self) -> list[str]:
        """The northbound system ids of every station, for the MQTT subscription."""
        return sorted({rt.system_id for rt in self.stations.values() if rt.system_id})


async def _none() -> None:
    """No northbound system list (no developer credentials)."""


def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a station's start-up no one waits for, and take its outcome."""
    if task is not None:
        task.cancel()
        task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Take a dropped start-up's outcome, so that its failure is not reported."""
    if not task.cancelled():
        task.exception()
