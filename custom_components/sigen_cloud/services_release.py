"""``sigen_cloud.release_control``: give a station's battery back to its owner's mode.

Two steps, each confirmed by reading it back before the action reports success:

1. ``manual_control``: a running manual control is stopped through the controls
   coordinator (the station's write lock, read back: ``enable`` false);
2. ``northbound_mode``: a VPP (6), Remote EMS (7) or NBI (8) mode, in which an outside
   controller holds the battery and the owner's app cannot control it, is switched back
   to maximum self-consumption (MSC) over REST, or over MQTT when the REST switch is
   refused or not available. It is read back with the app's current mode (the same
   EMS setting), the northbound query only when its 5-minute gate (the settings
   coordinator's, §2.3: once per 5 minutes per system) allows, and, where MQTT runs,
   the telemetry's ``operationalMode``: samples after the switch are waited for (a
   bounded time) until one reads MSC, as a sample taken before the cloud applied the
   switch still shows the old mode. Success needs a read or the telemetry to read MSC
   and no read to read otherwise; the telemetry disagrees only when its last sample
   still does and no read says MSC.

A northbound battery command accepted earlier runs to its end (the cloud cannot cancel
one, and it comes before a controller's hold); the integration does not track the
commands in flight, so the release neither stops nor reports one.

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
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
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
#: How long after the switch the release waits for telemetry to read MSC (where MQTT runs).
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
            # a configuration problem, found before anything is changed
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="release_needs_developer_credentials",
                translation_placeholders={
                    "station": self.station.station_id,
                    "mode": str(_name(before)),
                },
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
        # the query is kept for the read-back unless the app's mode cannot tell
        read = await self._async_read_modes(query=self.station.info is None)
        self._record(read)  # shown from now on, whatever the steps do
        view = self.station.view()
        known = [m for m in (remote_mode(view), ems_mode(view), *read.values()) if m is not None]
        return next((m for m in known if m in REMOTE_STATES), known[0] if known else None)

    async def _async_read_modes(self, *, query: bool = True) -> dict[str, int]:
        """The mode read now: the app's current mode, and the northbound query if allowed."""
        station, found = self.station, {}
        settings = station.settings
        # The settings coordinator's gate: once per 5 minutes per system (None: not now).
        if query and (value := await settings.async_query_nb_mode()) is not None:
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
        readings = await self._async_read_back(retry=via == "mqtt")
        pushed = await self._async_pushed_mode(switched_at)
        # A sample still showing the old mode at the deadline disagrees only when no
        # read says MSC (it may have been taken before the cloud applied the switch).
        if pushed is not None and (pushed == NBMode.MSC or NBMode.MSC not in readings.values()):
            readings["telemetry"] = pushed
        self._record(readings)
        if wrong := {source: v for source, v in readings.items() if v != NBMode.MSC}:
            source, value = next(iter(wrong.items()))
            raise self.error("release_not_applied", step, value=f"{_name(value)} ({source})")
        if not readings:
            raise self.error("release_unconfirmed", step, via=via)
        self.released.append(step)
        return {
            "step": step,
            "from": _name(before),
            "result": "released",
            "via": via,
            "confirmed_by": sorted(readings),
        }

    async def _async_read_back(self, *, retry: bool) -> dict[str, int]:
        """The mode read back after a switch (the app's mode; the query when allowed).

        An MQTT switch is acknowledged by the broker before the cloud acts on it: its
        read-back is tried again a few times while it still shows the old mode.
        """
        readings: dict[str, int] = {}
        for attempt in range(CONFIRM_ATTEMPTS if retry else 1):
            if attempt:
                await asyncio.sleep(CONFIRM_PAUSE.total_seconds())
            readings = await self._async_read_modes()
            if all(value == NBMode.MSC for value in readings.values()):
                break
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
                    # not through the settings coordinator: its refresh right after
                    # would spend the 5-minute query the read-back may need
                    await settings.northbound.client.switch_mode(system_id, NBMode.MSC)
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
        if mqtt is None:  # nothing was sent
            raise self.error("release_no_channel", step)
        async with self.step(step):
            await mqtt.switch_mode(system_id, NBMode.MSC)
        return "mqtt"

    async def _async_pushed_mode(self, since: datetime) -> int | None:
        """The telemetry's operational mode after ``since``: MSC, else its last sample's.

        Samples are waited for until one reads MSC, at most :data:`TELEMETRY_WAIT` after
        ``since``: the first after the switch may have been taken before the cloud
        applied it. ``None`` when no sample came.
        """
        push = self.station.push
        if self.entry.runtime_data.mqtt is None or not push.data.connected:
            return None
        confirmed = asyncio.Event()

        def pushed() -> int | None:
            at, telemetry = push.data.operational_mode_at, push.data.telemetry
            if at is None or at <= since or telemetry is None:
                return None
            return telemetry.operational_mode

        def check() -> None:
            if pushed() == NBMode.MSC:
                confirmed.set()

        left = (TELEMETRY_WAIT - (dt_util.utcnow() - since)).total_seconds()
        unsub = push.async_add_listener(check)
        try:
            check()
            with suppress(TimeoutError):
                async with asyncio.timeout(max(left, 0.0)):
                    await confirmed.wait()
        finally:
            unsub()
        return pushed()

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
