"""The MQTT push listener: one background task per entry, one message at a time.

It runs the library's :meth:`~sigen.SigenMQTT.listen` as a background task of the
entry and routes each message to its station's push coordinator. When the account
coordinator finds systems it does not listen to, it subscribes again; it keeps the
onboarding repair issues current and checks every minute for stale telemetry.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .client import build_mqtt
from .const import DOMAIN, LOGGER, STALE_CHECK_INTERVAL
from .repairs import async_create_developer_issue, async_update_onboarding_issues
from .sigen import SigenAuthError, SigenError, SigenValidationError

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from .coordinator import SigenAccountCoordinator, SigenPushCoordinator
    from .data import SigenConfigEntry
    from .sigen import AlarmEvent, NorthboundClient, SigenMQTT, SystemData, TelemetryData


class SigenPushListener:
    """Receives the entry's MQTT push and feeds the stations' push coordinators."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        account: SigenAccountCoordinator,
        northbound: NorthboundClient | None,
        session: ClientSession | None = None,
    ) -> None:
        """Nothing connects before :meth:`async_start`.

        ``session`` is the entry's HTTP session (Home Assistant's shared one if none).
        """
        self.hass = hass
        self.session = session or async_get_clientsession(hass)
        self.entry = entry
        self.account = account
        self.northbound = northbound
        self.mqtt: SigenMQTT | None = None
        self.task: asyncio.Task[None] | None = None
        self.system_ids: set[str] = set()  # the systems subscribed to
        self.connected = False
        self._answered_broker: str | None = None  # the broker candidate that answered
        self._lost = False
        self._unknown_systems: set[str] = set()
        self._delivering: set[str] = set()  # systems whose telemetry arrived (approved)
        # Whether every telemetry the stations hold came from the current client: its
        # messages are then whole (the library merges each delta into what it handed
        # before), and the stations need not merge them again (issue 21).
        self._one_client = True

    @callback
    def async_create(self) -> bool:
        """Create the MQTT client for every known system (developer credentials only)."""
        system_ids = self.account.system_ids()
        if self.northbound is None or not system_ids:
            return False
        # The broker candidate that answered the previous client (the Australian
        # broker is not settled) is kept for the entry's life.
        if self.mqtt is not None and self.mqtt.answered_broker is not None:
            self._answered_broker = self.mqtt.answered_broker
        try:
            mqtt = build_mqtt(
                self.entry.data,
                system_ids,
                self.session,
                self.northbound,
                answered_broker=self._answered_broker,
            )
        except SigenValidationError as err:
            LOGGER.error("The MQTT push cannot start: %s", err)
            async_create_developer_issue(self.hass, self.entry, err)
            return False
        self.mqtt = mqtt
        self.system_ids = set(system_ids)
        return True

    @callback
    def async_start(self) -> None:
        """Run the listener as a background task of the entry."""
        if self.mqtt is None:
            return
        entry = self.entry
        self.task = entry.async_create_background_task(
            self.hass, self._async_run(), name=f"{DOMAIN} MQTT push {entry.entry_id}"
        )

    async def async_stop(self) -> None:
        """Stop the listener (cancel and await its task) and close the client."""
        if (task := self.task) is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.task = None
        if self.mqtt is not None:
            await self.mqtt.close()

    async def async_restart(self) -> None:
        """Subscribe again, with the current set of systems."""
        self._one_client = False  # the stations' telemetry predates the new client
        await self.async_stop()
        if self.async_create():
            self.async_start()

    @callback
    def async_account_updated(self) -> None:
        """Follow the account: subscribe again when it has a system we do not listen to.

        A station that joined without a new system gets the connection state.
        """
        if self.mqtt is not None and any(
            system_id not in self.system_ids for system_id in self.account.system_ids()
        ):
            LOGGER.info("New stations on the account; subscribing to their telemetry")
            self.entry.async_create_background_task(
                self.hass, self.async_restart(), name=f"{DOMAIN} MQTT resubscribe"
            )
            return
        self._set_connected(self.connected)
        self.async_update_onboarding_issues()

    async def _async_run(self) -> None:
        """Listen until the entry unloads (the task is cancelled)."""
        assert self.mqtt is not None
        unsub_stale: CALLBACK_TYPE = async_track_time_interval(
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
            async_create_developer_issue(self.hass, self.entry, err)
        except SigenError as err:
            LOGGER.error("The MQTT push listener stopped: %s", err)
        finally:
            unsub_stale()
            self._set_connected(False)

    def _station_for_system(self, system_id: str | None) -> SigenPushCoordinator | None:
        """The push coordinator of a system's station (the only station takes any)."""
        stations = self.account.stations
        for runtime in stations.values():
            if runtime.system_id == system_id:
                return runtime.push
        if len(stations) == 1:
            return next(iter(stations.values())).push
        if system_id not in self._unknown_systems:
            self._unknown_systems.add(str(system_id))
            LOGGER.warning("MQTT message for a system that is not on the account ignored")
        return None

    @callback
    def async_handle_telemetry(self, telemetry: TelemetryData) -> None:
        """Route a ``period`` message to its station."""
        if (push := self._station_for_system(telemetry.system_id)) is None:
            return
        push.async_push_telemetry(telemetry, whole=self._one_client)
        if telemetry.system_id and telemetry.system_id not in self._delivering:
            # Data flows, so the owner approved: the onboarding issue is obsolete.
            self._delivering.add(telemetry.system_id)
            self.async_update_onboarding_issues()

    @callback
    def async_handle_system(self, system: SystemData) -> None:
        """Route a ``change`` message to its station."""
        if (push := self._station_for_system(system.system_id)) is not None:
            push.async_push_system(system)

    @callback
    def async_handle_alarm(self, alarm: AlarmEvent) -> None:
        """Route an alarm (raised or cleared) to its station."""
        if (push := self._station_for_system(alarm.system_id)) is not None:
            push.async_push_alarm(alarm)

    @callback
    def async_handle_connection_change(self, connected: bool) -> None:
        """Log once when the push stream is lost and once when it is back."""
        if not connected and not self._lost:
            self._lost = True
            LOGGER.warning("The MQTT push connection to the Sigen cloud was lost")
        elif connected and self._lost:
            self._lost = False
            LOGGER.info("The MQTT push connection to the Sigen cloud is restored")
        self._set_connected(connected)
        self.async_update_onboarding_issues()

    @callback
    def _set_connected(self, connected: bool) -> None:
        """Tell every station's push coordinator (their push entities follow)."""
        self.connected = connected
        for runtime in self.account.stations.values():
            runtime.push.async_set_connected(connected)

    @callback
    def _async_check_stale(self, _now: datetime | None = None) -> None:
        """Let each station log once when its telemetry goes stale."""
        now = dt_util.utcnow()
        for runtime in list(self.account.stations.values()):
            runtime.push.async_check_stale(now)

    @callback
    def async_update_onboarding_issues(self) -> None:
        """One repair issue per system whose onboarding waits for the owner's approval."""
        if self.mqtt is not None:
            async_update_onboarding_issues(self.hass, self.mqtt.onboarding, self._delivering)
