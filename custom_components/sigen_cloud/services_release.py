"""``sigen_cloud.release_control``: give a station's battery back to its owner's mode.

Two steps, each confirmed by reading it back before the action reports success:

1. ``manual_control``: a running manual control is stopped through the controls
   coordinator (the station's write lock, read back: ``enable`` false);
2. ``northbound_mode``: a VPP (6), Remote EMS (7) or NBI (8) mode, in which an outside
   controller holds the battery and the owner's app cannot control it, is switched back
   to maximum self-consumption (MSC) over REST, or over MQTT when the REST switch is
   refused or not available. It is read back with the northbound query, the app's
   current mode (the same EMS setting; the query is allowed once per 5 minutes) and,
   where MQTT runs, the next telemetry's ``operationalMode`` (waited for a bounded
   time). Success needs at least one of them to read MSC and none to read otherwise.

The owner's own modes (MSC, FFG, AI, TOU, a custom profile) are left as they are. The
response lists each step (``{"steps": [{"step", "result", ...}]}``); a step that does
not release raises a translated error naming it and what was released before it, so a
half-released battery is never reported as free. Without developer credentials a
battery held in VPP/NBI cannot be released: the error says so before anything changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .models import StationSettings
from .sensor_controller import REMOTE_STATES, ems_mode, remote_mode
from .sigen import NBMode, SigenAPIError, SigenAuthError, SigenError, SigenRateLimitError

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import SigenConfigEntry, StationRuntime

SERVICE_RELEASE_CONTROL: Final = "release_control"
RELEASE_CONTROL_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
#: How long the release waits for telemetry to confirm the mode (where MQTT runs).
TELEMETRY_WAIT: Final = timedelta(seconds=30)
#: How often, and how far apart, the read-back of an MQTT switch is tried.
CONFIRM_ATTEMPTS: Final = 5
CONFIRM_PAUSE: Final = timedelta(seconds=1)
#: The names the response gives the EMS work modes.
MODE_NAMES: Final = {0: "MSC", 1: "AI", 2: "TOU", 5: "FFG", 6: "VPP", 7: "REMOTE_EMS", 8: "NBI"}

type Step = dict[str, Any]


def _name(mode: int | None) -> str | None:
    return None if mode is None else MODE_NAMES.get(mode, str(mode))


class Release:
    """One release of one station: its steps, what was released so far, the errors."""

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, station: StationRuntime
    ) -> None:
        """Release ``station`` of ``entry``."""
        self.hass, self.entry, self.station = hass, entry, station
        self.released: list[str] = []

    def error(self, key: str, step: str, **placeholders: str) -> HomeAssistantError:
        """A translated error of ``step``, naming what was released before it."""
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "step": step,
                "station": self.station.station_id,
                "released": ", ".join(self.released) or "-",
                **placeholders,
            },
        )

    @asynccontextmanager
    async def step(self, step: str) -> AsyncIterator[None]:
        """The library's errors of ``step`` as the step's translated error."""
        try:
            yield
        except SigenAuthError as err:
            self.entry.async_start_reauth(self.hass)
            raise self.error("release_step_failed", step, error=str(err)) from err
        except SigenError as err:
            raise self.error("release_step_failed", step, error=str(err)) from err

    async def async_run(self) -> dict[str, Any]:
        """Both steps, in order; the response."""
        before = await self._async_mode_now()
        runtime = self.entry.runtime_data
        held = before in REMOTE_STATES
        if held and (not runtime.developer_api or self.station.system_id is None):
            raise self.error(
                "release_needs_developer_credentials", "northbound_mode", mode=str(_name(before))
            )
        steps = [await self._async_manual_control()]
        if held:
            steps.append(await self._async_northbound(before))
        else:
            steps.append({"step": "northbound_mode", "from": _name(before), "result": "not_active"})
        return {"steps": steps}

    # ------------------------------------------------------------------ manual control
    async def _async_manual_control(self) -> Step:
        step = "manual_control"
        controls = self.station.controls
        if controls is None:  # a push-only station: manual control is the app API's
            return {"step": step, "result": "not_available"}
        async with self.step(step):
            manual = await controls.client.control.get_manual_control(
                station_id=controls.station_id
            )
        if not manual.active:
            return {"step": step, "result": "not_active"}
        async with self.step(step):
            await controls.async_stop_manual_control()
        after = None if controls.data is None else controls.data.manual
        if after is None or after.active:
            raise self.error("release_not_applied", step, value="active")
        self.released.append(step)
        until = manual.ends_at.isoformat() if manual.ends_at is not None else None
        return {"step": step, "result": "released", "until": until}

    # ------------------------------------------------------------------ northbound mode
    async def _async_mode_now(self) -> int | None:
        """The EMS work mode now: a remote mode any fresh source reports wins."""
        read = await self._async_read_modes()
        self._record(read)  # shown from now on, whatever the steps do
        view = self.station.view()
        known = [m for m in (remote_mode(view), ems_mode(view), *read.values()) if m is not None]
        return next((m for m in known if m in REMOTE_STATES), known[0] if known else None)

    async def _async_read_modes(self) -> dict[str, int]:
        """The mode read now from the northbound query and the app's current mode."""
        station, found = self.station, {}
        settings = station.settings
        if settings.northbound is not None and station.system_id is not None:
            settings.nb_mode_checked_at = dt_util.utcnow()
            value = await settings.northbound.query_mode(station.system_id)  # None: not now
            if value is not None:
                found["query_mode"] = value
        if station.info is not None:
            try:
                current = await settings.client.get_current_mode(station_id=station.station_id)
            except SigenError as err:
                LOGGER.debug("Current mode of station %s not read: %s", station.station_id, err)
            else:
                found["app_mode"] = current.mode
        return found

    async def _async_northbound(self, before: int | None) -> Step:
        step = "northbound_mode"
        switched_at = dt_util.utcnow()
        via = await self._async_switch_to_msc(step)
        readings = await self._async_confirm(switched_at, retry=via == "mqtt")
        self._record(readings)
        if wrong := {source: v for source, v in readings.items() if v != NBMode.MSC}:
            source, value = next(iter(wrong.items()))
            raise self.error("release_not_applied", step, value=f"{_name(value)} ({source})")
        if not readings:
            raise self.error("release_unconfirmed", step)
        self.released.append(step)
        return {
            "step": step,
            "from": _name(before),
            "result": "released",
            "via": via,
            "confirmed_by": sorted(readings),
        }

    async def _async_confirm(self, since: datetime, *, retry: bool) -> dict[str, int]:
        """The mode read back after a switch: the telemetry after ``since``, then the reads.

        An MQTT switch is acknowledged by the broker before the cloud acts on it: its
        read-back is tried again a few times while it still shows the old mode.
        """
        pushed = await self._async_pushed_mode(since)
        for attempt in range(CONFIRM_ATTEMPTS if retry else 1):
            if attempt:
                await asyncio.sleep(CONFIRM_PAUSE.total_seconds())
            readings = await self._async_read_modes()
            if all(value == NBMode.MSC for value in readings.values()):
                break
        if pushed is not None:
            readings["telemetry"] = pushed
        return readings

    async def _async_switch_to_msc(self, step: str) -> str:
        """Switch to MSC: REST, else MQTT (when REST is refused or not there); the way used."""
        runtime, settings = self.entry.runtime_data, self.station.settings
        system_id = self.station.system_id
        assert system_id is not None
        mqtt = runtime.mqtt
        if settings.northbound is not None:
            try:
                async with self.step(step):
                    await settings.async_set_northbound_mode(NBMode.MSC, mqtt)
            except HomeAssistantError as err:
                cause = err.__cause__
                # the cloud's verdict on the mode (an error code), not a failure of the cloud
                refused = (
                    isinstance(cause, SigenAPIError)
                    and not isinstance(cause, SigenRateLimitError)
                    and cause.code is not None
                )
                if mqtt is None or not refused:
                    raise
                LOGGER.debug("REST switch to MSC refused (%s); trying MQTT", cause)
            else:
                return "rest"
        if mqtt is None:
            raise self.error("release_unconfirmed", step)
        async with self.step(step):
            await mqtt.switch_mode(system_id, NBMode.MSC)
        return "mqtt"

    async def _async_pushed_mode(self, since: datetime) -> int | None:
        """The operational mode of the first telemetry after ``since`` (bounded wait)."""
        push = self.station.push
        if self.entry.runtime_data.mqtt is None or not push.data.connected:
            return None
        arrived = asyncio.Event()

        def fresh() -> bool:
            at = push.data.operational_mode_at
            return at is not None and at > since

        def check() -> None:
            if fresh():
                arrived.set()

        unsub = push.async_add_listener(check)
        try:
            check()
            with suppress(TimeoutError):
                async with asyncio.timeout(TELEMETRY_WAIT.total_seconds()):
                    await arrived.wait()
        finally:
            unsub()
        telemetry = push.data.telemetry
        return telemetry.operational_mode if fresh() and telemetry is not None else None

    def _record(self, readings: dict[str, int]) -> None:
        """Show what was read back (not what was asked for) in the mode entities."""
        settings = self.station.settings
        value = readings.get("query_mode", readings.get("app_mode", readings.get("telemetry")))
        if value is None or settings.northbound is None:
            return  # without the northbound API the next poll of the modes shows them
        try:
            nb_mode: NBMode | None = NBMode(value)
        except ValueError:
            nb_mode = None
        known = settings.data or StationSettings()
        settings.async_set_updated_data(
            replace(known, nb_mode=nb_mode, nb_mode_at=dt_util.utcnow())
        )


async def async_release_control(
    hass: HomeAssistant, entry: SigenConfigEntry, station: StationRuntime
) -> dict[str, Any]:
    """Release ``station``'s battery (see the module); the steps as the response."""
    response = await Release(hass, entry, station).async_run()
    await station.settings.async_refresh()  # the app's mode too, before the response
    return response
