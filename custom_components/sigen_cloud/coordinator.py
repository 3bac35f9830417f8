"""The data coordinator of Sigen Cloud: polling the app API, merging the MQTT push.

One :class:`SigenCoordinator` per config entry owns a :class:`SigenCloudData` with every
station of the account. Polling (``_async_update_data``) fetches the energy flow of all
stations every minute and the slower data (modes, smart loads, consumption, northbound
mode, the station list) every ten minutes or right after a change made through us. The
MQTT listener feeds telemetry, system changes and alarms into the same objects and
notifies the entities at once, without touching the polling schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .client import build_mqtt, has_developer_credentials
from .const import (
    DOMAIN,
    ENERGY_FLOW_INTERVAL,
    LOGGER,
    NB_MODE_MIN_INTERVAL,
    RATE_LIMIT_BACKOFF,
    SLOW_REFRESH_INTERVAL,
    STALE_CHECK_INTERVAL,
    TELEMETRY_STALE_AFTER,
)
from .data import SigenCloudData, StationData
from .helpers import async_unblock_reauth
from .repairs import async_create_developer_issue, async_update_onboarding_issues
from .sigen import (
    AlarmEvent,
    NBMode,
    NBSystem,
    NorthboundClient,
    Sigen,
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTT,
    SigenRateLimitError,
    SigenValidationError,
    StationInfo,
    SystemData,
    TelemetryData,
    pair_stations,
)

if TYPE_CHECKING:
    from .data import SigenConfigEntry


def _as_list[T](value: T | Iterable[T] | None) -> list[T]:
    """Callbacks may hand over one parsed message or a list of them."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [cast("T", value)]


class SigenCoordinator(DataUpdateCoordinator[SigenCloudData]):
    """Polls the Sigen cloud and merges the MQTT push into one view of all stations."""

    config_entry: SigenConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        client: Sigen,
        northbound: NorthboundClient | None = None,
    ) -> None:
        """Set up the coordinator; nothing is fetched before the first refresh."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=ENERGY_FLOW_INTERVAL,
        )
        self.client = client
        self.northbound = northbound
        self.mqtt: SigenMQTT | None = None
        self.mqtt_system_ids: set[str] = set()
        self._mqtt_broker: str | None = None  # the broker candidate that answered
        self.data = SigenCloudData()
        self._has_data = False
        self._slow_due = True
        self._last_slow: datetime | None = None
        # async_initialize() has just read the home station's modes and smart loads:
        # the first slow poll reuses them instead of asking again (bench/README.md).
        self._reuse_initial_reads = True
        self._nb_mode_checked: dict[str, datetime] = {}
        self._rate_limited = False
        self._mqtt_lost = False
        self._stale: set[str] = set()
        self._offline: set[str] = set()  # stations whose energy flow says offline
        self._unknown_systems: set[str] = set()
        self._delivering: set[str] = set()  # systems whose telemetry arrived (approved)
        self._nb_failed = False
        self._unsub_stale: CALLBACK_TYPE | None = None
        # Entities per station, told about pushed data of their station only.
        self._station_listeners: dict[str, dict[CALLBACK_TYPE, None]] = {}

    # --- what the platforms use ---------------------------------------------------------

    @property
    def station_ids(self) -> set[str]:
        """The keys of the stations currently on the account."""
        return set(self.data.stations)

    @callback
    def async_add_station_listener(
        self, station_id: str, update_callback: CALLBACK_TYPE
    ) -> CALLBACK_TYPE:
        """Call ``update_callback`` when pushed data of this station arrives; returns the
        function that removes it. Polls still reach every listener of the coordinator
        (``async_add_listener``); a push reaches only its station's listeners.
        """
        listeners = self._station_listeners.setdefault(station_id, {})
        listeners[update_callback] = None

        @callback
        def remove() -> None:
            listeners.pop(update_callback, None)
            if not listeners and self._station_listeners.get(station_id) is listeners:
                del self._station_listeners[station_id]

        return remove

    def telemetry_available(self, station_id: str) -> bool:
        """Whether MQTT push data of this station is connected and fresh."""
        station = self.data.stations.get(station_id)
        if station is None or station.last_telemetry is None or not self.data.mqtt_connected:
            return False
        return dt_util.utcnow() - station.last_telemetry <= TELEMETRY_STALE_AFTER

    async def async_request_slow_refresh(self) -> None:
        """Refresh modes, smart loads and consumption soon (after a change through us)."""
        self._slow_due = True
        await self.async_request_refresh()

    async_request_refresh_slow = async_request_slow_refresh

    # --- polling ------------------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Learn the account's stations once, before the first refresh."""
        info = self.client.station  # async_initialize() read station/home
        if info is None:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="no_station")
        systems = await self._async_nb_systems()
        self._reconcile_stations([info], systems, remove=False)

    async def _async_update_data(self) -> SigenCloudData:
        """Fetch the energy flow of every station, and the slower data when it is due."""
        try:
            await self._async_poll()
        except SigenRateLimitError as err:
            return self._slow_down(err)
        except SigenAuthError as err:
            raise self._auth_failed(err) from err
        except SigenError as err:
            raise self._update_failed(err) from err
        if self._rate_limited:
            self._rate_limited = False
            self.update_interval = ENERGY_FLOW_INTERVAL
            LOGGER.info("The Sigen cloud answers again; polling every %s", ENERGY_FLOW_INTERVAL)
        self._has_data = True
        self._async_update_onboarding_issues()
        return self.data

    async def _async_poll(self) -> None:
        now = dt_util.utcnow()
        slow = (
            self._slow_due
            or self._last_slow is None
            or now - self._last_slow >= SLOW_REFRESH_INTERVAL
        )
        if slow and self._has_data:
            info = await self.client.get_station_info()
            systems = await self._async_nb_systems()
            self._reconcile_stations([info], systems, remove=True)

        app_stations = [st for st in self.data.stations.values() if st.info is not None]
        flows = await self._gather(
            self.client.get_energy_flow(station_id=st.station_id) for st in app_stations
        )
        for station, flow in zip(app_stations, flows, strict=True):
            station.energy_flow = flow
            station.last_poll = now
            self._note_offline(station.station_id, offline=flow.is_offline)

        if slow:
            await self._gather(self._async_poll_slow(st) for st in app_stations)
            if self.northbound is not None:
                # A few at a time, not one by one: 50 stations took 50 round trips.
                gate = asyncio.Semaphore(4)

                async def nb_mode(station: StationData) -> None:
                    async with gate:
                        await self._async_poll_nb_mode(station, now)

                await self._gather(nb_mode(st) for st in list(self.data.stations.values()))
            self._slow_due = False
            self._last_slow = now

    def _note_offline(self, station_id: str, *, offline: bool) -> None:
        """Log once when the cloud reports a station offline, and once when it is back."""
        if offline and station_id not in self._offline:
            self._offline.add(station_id)
            LOGGER.warning(
                "The Sigen cloud reports station %s offline; its readings are unavailable "
                "until it is back",
                station_id,
            )
        elif not offline and station_id in self._offline:
            self._offline.discard(station_id)
            LOGGER.info("Station %s is online again", station_id)

    async def _async_poll_slow(self, station: StationData) -> None:
        """Modes, current mode, smart loads and their consumption of one station."""
        sid = station.station_id
        reuse = self._reuse_initial_reads and sid == self.client.station_id
        if reuse:
            self._reuse_initial_reads = False
        initial_modes = self.client.operational_modes if reuse else []
        initial_loads = self.client.home_smart_loads if reuse else []
        # One round trip for the three, not three (bench/README.md: start-up).
        modes, current, loads = await asyncio.gather(
            _given(initial_modes)
            if initial_modes
            else self.client.get_operational_modes(station_id=sid),
            self.client.get_current_mode(station_id=sid),
            _given(initial_loads) if initial_loads else self.client.get_smart_loads(station_id=sid),
            return_exceptions=True,
        )
        # Every call has finished; the first failure is raised.
        if isinstance(modes, BaseException):
            raise modes
        if isinstance(current, BaseException):
            raise current
        if isinstance(loads, BaseException):
            raise loads
        station.modes = list(modes)
        station.current_mode = current
        station.smart_loads = {load.path: load for load in loads}
        consumption = await self._gather(
            self.client.get_smart_load_consumption(load.path, station_id=sid) for load in loads
        )
        station.consumption = {
            load.path: value for load, value in zip(loads, consumption, strict=True)
        }

    async def _async_poll_nb_mode(self, station: StationData, now: datetime) -> None:
        """Query the northbound mode, at most once per 5 minutes per system (cloud limit)."""
        assert self.northbound is not None
        system_id = station.system_id
        if not system_id:
            return
        last = self._nb_mode_checked.get(system_id)
        if last is not None and now - last < NB_MODE_MIN_INTERVAL:
            return
        self._nb_mode_checked[system_id] = now
        try:
            value = await self.northbound.query_mode(system_id)
        except SigenRateLimitError:
            LOGGER.debug("Northbound mode of a system not queried: rate limited")
            return
        except SigenError as err:
            self._nb_failure(err)
            return
        self._nb_success()
        station.nb_mode_at = now
        try:
            station.nb_mode = NBMode(value)
        except ValueError:
            # AI, TOU, a custom profile...: the EMS runs a mode that is not a northbound one.
            LOGGER.debug("Northbound mode %s is none of %s", value, [m.name for m in NBMode])
            station.nb_mode = None

    async def _async_nb_systems(self) -> list[NBSystem] | None:
        """The northbound system list; None without a (working) northbound API.

        The northbound API only adds to what the app API gives: its failures are
        logged (once) and never fail the update.
        """
        if self.northbound is None:
            return None
        try:
            systems = await self.northbound.get_systems()
        except SigenRateLimitError:
            return None
        except SigenError as err:
            self._nb_failure(err)
            return None
        self._nb_success()
        return systems

    def _nb_failure(self, err: SigenError) -> None:
        if not self._nb_failed:
            self._nb_failed = True
            LOGGER.warning("The Sigen developer (northbound) API failed: %s", err)

    def _nb_success(self) -> None:
        if self._nb_failed:
            self._nb_failed = False
            LOGGER.info("The Sigen developer (northbound) API answers again")

    @staticmethod
    async def _gather[T](aws: Iterable[Awaitable[T]]) -> list[T]:
        """Run concurrently; raise the first failure once every call has finished."""
        results = await asyncio.gather(*aws, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return cast("list[T]", results)

    def _slow_down(self, err: SigenRateLimitError) -> SigenCloudData:
        """Keep the last data and poll less often until the cloud answers again."""
        # Wait what the cloud asks for, and at least twice the normal interval: being
        # limited means we asked too often.
        seconds = err.retry_after or RATE_LIMIT_BACKOFF.total_seconds()
        delay = max(timedelta(seconds=seconds), 2 * ENERGY_FLOW_INTERVAL)
        if not self._has_data:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_rate_limited",
                translation_placeholders={"seconds": str(int(delay.total_seconds()))},
                retry_after=delay.total_seconds(),
            ) from err
        if not self._rate_limited:
            LOGGER.warning(
                "The Sigen cloud asks us to slow down (%s); polling every %s until it answers",
                err,
                delay,
            )
        self._rate_limited = True
        self.update_interval = delay
        return self.data

    def _auth_failed(self, err: SigenAuthError) -> ConfigEntryAuthFailed:
        async_unblock_reauth(self.hass, self.config_entry)
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="update_auth_failed",
            translation_placeholders={"error": str(err)},
        )

    @staticmethod
    def _update_failed(err: SigenError) -> UpdateFailed:
        key = "update_failed"
        if isinstance(err, SigenConnectionError):
            key = "update_cannot_connect"
        elif isinstance(err, SigenAPIError):
            key = "update_api_error"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"error": str(err)},
        )

    # --- the station set ----------------------------------------------------------------

    @callback
    def _reconcile_stations(
        self, app: list[StationInfo], systems: list[NBSystem] | None, *, remove: bool
    ) -> None:
        """Bring ``data.stations`` in line with the account; drop vanished stations.

        App API stations are keyed by their stationId and paired with their northbound
        system by its stationCode (the system id), never by stationSnCode; a station
        whose data lacks stationCode is matched in the northbound list by name and
        capacities (:func:`~sigen.models.pair_stations`), so one system is always one
        device. Northbound systems without an app API station become stations of their
        own, keyed by the system id and fed by MQTT only.
        """
        stations = self.data.stations
        seen: set[str] = set()
        pairs = pair_stations(app, systems) if systems is not None else {}
        for info in app:
            station = stations.setdefault(info.station_id, StationData(info.station_id))
            station.info = info
            if info.system_id:
                station.system_id = info.system_id
            elif info.station_id in pairs:
                station.system_id = pairs[info.station_id].system_id
            seen.add(info.station_id)
        paired = {st.system_id for st in stations.values() if st.info is not None}
        if systems is None:
            # No (working) northbound list: keep the push-only stations we know.
            seen.update(sid for sid, st in stations.items() if st.info is None)
        else:
            for system in systems:
                if system.system_id in paired:
                    continue
                stations.setdefault(
                    system.system_id, StationData(system.system_id, system_id=system.system_id)
                )
                seen.add(system.system_id)
        gone = set(stations) - seen if remove else set()
        for station_id in gone:
            LOGGER.info("Station %s is no longer on the account; removing it", station_id)
            del stations[station_id]
            self._stale.discard(station_id)
            self._offline.discard(station_id)
        # The list is complete unless developer credentials are set but their system
        # list is missing (then push-only stations may be missing from it too).
        complete = systems is not None or not has_developer_credentials(self.config_entry.data)
        self._async_remove_station_devices(gone, sweep=complete)
        if not remove:
            return
        if self.mqtt is not None and any(
            st.system_id and st.system_id not in self.mqtt_system_ids for st in stations.values()
        ):
            LOGGER.info("New stations on the account; subscribing to their telemetry")
            self.config_entry.async_create_background_task(
                self.hass, self.async_restart_mqtt(), name=f"{DOMAIN} MQTT resubscribe"
            )

    @callback
    def _async_remove_station_devices(self, gone: set[str], *, sweep: bool) -> None:
        """Remove the devices (and with them the entities) of stations that are gone.

        With ``sweep``, also the devices of stations that left the account while Home
        Assistant was not running: every station device of the entry whose station is
        not in the data. Smart-load devices are the smart-load tracker's (entity.py).
        """
        entry_id = self.config_entry.entry_id
        device_registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(device_registry, entry_id):
            station_ids = {
                identifier
                for domain, identifier in device.identifiers
                if domain == DOMAIN and "_smart_load_" not in identifier
            }
            if not station_ids:
                continue
            if station_ids & gone or (sweep and not station_ids & set(self.data.stations)):
                LOGGER.debug("Removing the device of station(s) %s", sorted(station_ids))
                device_registry.async_remove_device(device.id)

    def system_ids(self) -> list[str]:
        """The northbound system ids of every known station, for the MQTT subscription."""
        return sorted({st.system_id for st in self.data.stations.values() if st.system_id})

    def _station_for_system(self, system_id: str | None) -> StationData | None:
        stations = self.data.stations
        for station in stations.values():
            if station.system_id == system_id:
                return station
        if len(stations) == 1:
            return next(iter(stations.values()))
        if system_id not in self._unknown_systems:
            self._unknown_systems.add(str(system_id))
            LOGGER.warning("MQTT message for a system that is not on the account ignored")
        return None

    # --- MQTT push ----------------------------------------------------------------------

    @callback
    def async_create_mqtt(self) -> bool:
        """Create the MQTT client for every known system (``runtime_data.mqtt``)."""
        entry = self.config_entry
        system_ids = self.system_ids()
        if self.northbound is None or not system_ids:
            return False
        # The broker candidate that answered the previous client (the Australian
        # broker is not settled) is kept for the entry's life.
        if self.mqtt is not None and self.mqtt.answered_broker is not None:
            self._mqtt_broker = self.mqtt.answered_broker
        try:
            mqtt = build_mqtt(
                entry.data,
                system_ids,
                async_get_clientsession(self.hass),
                self.northbound,
                answered_broker=self._mqtt_broker,
            )
        except SigenValidationError as err:
            LOGGER.error("The MQTT push cannot start: %s", err)
            async_create_developer_issue(self.hass, entry, err)
            return False
        entry.runtime_data.mqtt = self.mqtt = mqtt
        self.mqtt_system_ids = set(system_ids)
        return True

    @callback
    def async_start_mqtt(self) -> None:
        """Run the MQTT listener as a background task of the entry."""
        entry = self.config_entry
        if self.mqtt is None:
            return
        entry.runtime_data.mqtt_task = entry.async_create_background_task(
            self.hass, self.async_run_mqtt(), name=f"{DOMAIN} MQTT push {entry.entry_id}"
        )

    async def async_stop_mqtt(self) -> None:
        """Stop the MQTT listener (cancel and await its task) and close the client."""
        runtime = self.config_entry.runtime_data
        if (task := runtime.mqtt_task) is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            runtime.mqtt_task = None
        if self.mqtt is not None:
            await self.mqtt.close()

    async def async_restart_mqtt(self) -> None:
        """Subscribe again, with the current set of systems."""
        await self.async_stop_mqtt()
        if self.async_create_mqtt():
            self.async_start_mqtt()

    async def async_run_mqtt(self) -> None:
        """Run the MQTT listener until the entry unloads (the task is cancelled)."""
        assert self.mqtt is not None
        self._unsub_stale = async_track_time_interval(
            self.hass, self._async_check_stale, STALE_CHECK_INTERVAL, cancel_on_shutdown=True
        )
        try:
            await self.mqtt.listen(
                self.async_handle_telemetry,
                on_system=self.async_handle_system,
                on_alarm=self.async_handle_alarm,
                on_connection_change=self.async_handle_connection_change,
            )
        except SigenAuthError as err:
            LOGGER.error("The MQTT push stopped: the developer credentials were refused")
            async_create_developer_issue(self.hass, self.config_entry, err)
        except SigenError as err:
            LOGGER.error("The MQTT push listener stopped: %s", err)
        finally:
            if self._unsub_stale is not None:
                self._unsub_stale()
                self._unsub_stale = None
            if self.data.mqtt_connected:
                self.data.mqtt_connected = False
                self.async_update_listeners()

    @callback
    def async_handle_telemetry(self, telemetry: TelemetryData | Iterable[TelemetryData]) -> None:
        """Merge a ``period`` message (possibly a delta) into its station and push it."""
        now = dt_util.utcnow()
        changed: set[str] = set()
        for item in _as_list(telemetry):
            station = self._station_for_system(item.system_id)
            if station is None:
                continue
            station.telemetry = (
                station.telemetry.merge(item) if station.telemetry is not None else item
            )
            station.last_telemetry = now
            if item.operational_mode is not None:
                station.operational_mode_at = now
            if item.system_id and item.system_id not in self._delivering:
                # Data flows, so the owner approved: the onboarding issue is obsolete.
                self._delivering.add(item.system_id)
                self._async_update_onboarding_issues()
            if station.station_id in self._stale:
                self._stale.discard(station.station_id)
                LOGGER.info("Telemetry of station %s is flowing again", station.station_id)
            changed.add(station.station_id)
        if changed:
            self._push(changed)

    @callback
    def async_handle_system(self, system: SystemData | Iterable[SystemData]) -> None:
        """Merge a ``change`` message into its station and push it."""
        changed: set[str] = set()
        for item in _as_list(system):
            station = self._station_for_system(item.system_id)
            if station is None:
                continue
            station.system = station.system.merge(item) if station.system else item
            changed.add(station.station_id)
        if changed:
            self._push(changed)

    @callback
    def async_handle_alarm(self, alarm: AlarmEvent | Iterable[AlarmEvent]) -> None:
        """Record alarms (generation or recovery) and push them, every one of them.

        Each alarm of the call is appended, in order, to its station's ``new_alarms``
        for the listeners of this one update (the event entity fires an event per
        alarm), then the list is emptied again.
        """
        touched: list[StationData] = []
        for item in _as_list(alarm):
            station = self._station_for_system(item.system_id)
            if station is None:
                continue
            station.last_alarm = item
            if item.active:
                station.active_alarms[item.alarm_code] = item
            else:
                station.active_alarms.pop(item.alarm_code, None)
            station.new_alarms.append(item)
            touched.append(station)
        if touched:
            try:
                self._push({station.station_id for station in touched})
            finally:
                for station in touched:
                    station.new_alarms.clear()

    @callback
    def async_handle_connection_change(self, connected: bool) -> None:
        """Log once when the push stream is lost and once when it is back."""
        if not connected and not self._mqtt_lost:
            self._mqtt_lost = True
            LOGGER.warning("The MQTT push connection to the Sigen cloud was lost")
        elif connected and self._mqtt_lost:
            self._mqtt_lost = False
            LOGGER.info("The MQTT push connection to the Sigen cloud is restored")
        if self.data.mqtt_connected != connected:
            self.data.mqtt_connected = connected
            self._push()
        self._async_update_onboarding_issues()

    @callback
    def _push(self, station_ids: Iterable[str] | None = None) -> None:
        """Tell the entities about pushed data: those of ``station_ids`` only (their
        station listeners), or every listener when ``None`` (connection, staleness).

        ``async_set_updated_data`` would cancel and reschedule the poll timer on every
        message; with telemetry arriving more often than the poll interval the energy
        flow (and modes, smart loads) would never be polled again. Notifying the
        listeners directly keeps the polling schedule untouched. One station's message
        does not make the other stations' entities write their states.
        """
        if station_ids is None:
            self.async_update_listeners()
            return
        for station_id in station_ids:
            for update_callback in list(self._station_listeners.get(station_id, ())):
                update_callback()

    @callback
    def _async_check_stale(self, _now: datetime | None = None) -> None:
        """Log once when a station's telemetry goes stale, and update availability."""
        changed = False
        for station in self.data.stations.values():
            if station.last_telemetry is None or station.station_id in self._stale:
                continue
            if dt_util.utcnow() - station.last_telemetry > TELEMETRY_STALE_AFTER:
                self._stale.add(station.station_id)
                LOGGER.warning(
                    "No telemetry from station %s for %s; its push sensors are unavailable",
                    station.station_id,
                    TELEMETRY_STALE_AFTER,
                )
                changed = True
        if changed:
            self._push()

    @callback
    def _async_update_onboarding_issues(self) -> None:
        """One repair issue per system whose onboarding waits for the owner's approval."""
        if self.mqtt is not None:
            async_update_onboarding_issues(self.hass, self.mqtt.onboarding, self._delivering)


async def _given[T](value: list[T]) -> list[T]:
    """An already known result, as an awaitable for ``asyncio.gather``."""
    return value
