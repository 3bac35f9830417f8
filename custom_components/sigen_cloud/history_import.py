"""Importing a station's past into the long-term statistics, and keeping them going.

One :class:`StationHistory` per app API station writes its external statistics
(:mod:`.statistics`), one day at a time, under one lock:

* **live**: each poll of the history coordinator hands over today's rows; today's
  completed hours are (re)written from the sum stored before local midnight, and the
  day that just ended is written whole once more, so the series stays continuous day
  after day (skipped while an import runs: the import catches up at its end);
* **imports**: a range of days read from the cloud (one request a day, paced under its
  rate limits, waiting what a rate-limit answer asks), the most recent month first and
  then older months backwards (:mod:`.history_job`), so the Energy dashboard shows the
  recent past within minutes. Each day's hours continue the previous day's sums; after
  each month the hours after it (the months done before, today's) are shifted by what
  it changed, and today's completed hours are written again.

:class:`HistoryImports` (one per entry) runs them: on first set-up, in the background,
everything from the commissioning date; at every start, the days missed while Home
Assistant was down; on demand (``sigen_cloud.import_history``). Progress is kept in
Home Assistant's storage after every day (an import resumes there after a restart)
and shown in a persistent notification; ``sigen_cloud.cancel_history_import`` stops
one (unloading the entry pauses it until the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .history_job import ImportJob
from .sigen import SigenError, SigenRateLimitError
from .statistics import StationStatistics, day_rows, midnight, recorder_loaded

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .coordinator.history import SigenHistoryCoordinator
    from .data import SigenConfigEntry
    from .sigen.models import DayEnergy

STORE_VERSION: Final = 1
#: Seconds between two history requests of an import: 24 a minute, below the 30 a minute
#: per station the cloud (as simulated) allows, leaving room for the 5-minute poll.
REQUEST_PAUSE: Final = 2.5
#: Without a known commissioning date, how far back the first import goes (days).
DEFAULT_HISTORY_DAYS: Final = 366
#: A failing request is tried this many times, this far apart (seconds), before the
#: import stops (it resumes at the next start).
ATTEMPTS: Final = 3
RETRY_PAUSE: Final = 30.0
#: The progress notification is updated every this many days.
PROGRESS_EVERY: Final = 7


async def pause(seconds: float) -> None:
    """Wait between requests (a simulated clock's wait in the bench)."""
    await asyncio.sleep(seconds)


class StationHistory:
    """The statistics of one station: live hours, and imports (one thing at a time)."""

    def __init__(
        self, imports: HistoryImports, coordinator: SigenHistoryCoordinator, name: str
    ) -> None:
        """Write the statistics of the station ``coordinator`` reads."""
        self.imports = imports
        self.coordinator = coordinator
        self.station_id = coordinator.station_id
        self.name = name
        self.stats = StationStatistics(imports.hass, self.station_id, name)
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.job: ImportJob | None = None
        self.requests = 0

    @property
    def state(self) -> dict[str, Any]:
        """What the store keeps of this station."""
        state: dict[str, Any] = self.imports.stored.setdefault(self.station_id, {})
        return state

    async def async_on_day(self, energy: DayEnergy, final: bool) -> None:
        """Write a day the coordinator read: today's completed hours, or a day that ended."""
        if self.lock.locked():
            return  # an import runs; it writes the live hours when it ends
        async with self.lock:
            await self._async_write_live(energy, final=final)

    async def _async_write_live(self, energy: DayEnergy, *, final: bool) -> None:
        base = await self.stats.async_sums_before(midnight(energy.day, self.coordinator.zone))
        self.stats.write(day_rows(energy, base, complete_only=not final))
        if final:
            self.mark_synced(energy.day)

    def mark_synced(self, day: date) -> None:
        """The statistics are continuous through ``day``."""
        synced = self.state.get("synced")
        if synced is None or date.fromisoformat(synced) < day:
            self.state["synced"] = day.isoformat()
            self.imports.save()

    async def async_run(self, job: ImportJob) -> None:
        """Run an import to its end (its progress stored after each day)."""
        async with self.lock:
            self.job = job
            self.task = asyncio.current_task()
            try:
                await self._async_import(job)
            finally:
                self.job = None
                persistent_notification.async_dismiss(self.imports.hass, self.notification_id)
        # Today's hours continue from the new sums at once.
        await self.coordinator.async_request_refresh()

    async def _async_import(self, job: ImportJob) -> None:
        """Import the job's chunks, the newest month first (see :mod:`.history_job`)."""
        LOGGER.info(
            "Importing the energy history of station %s: %s to %s",
            self.station_id,
            job.start,
            job.end,
        )
        while True:
            await self._async_import_chunk(job)
            self._synced_through(job)
            if not job.next_chunk():
                break
            self._store_job(job)
            await self._async_write_today()
        self.state.pop("job", None)
        self.imports.save()
        await self.stats.async_flush()
        LOGGER.info("Imported the energy history of station %s", self.station_id)

    async def _async_import_chunk(self, job: ImportJob) -> None:
        """Import the chunk's days from ``next`` on, then shift the hours after it."""
        zone = self.coordinator.zone
        after = midnight(job.last + timedelta(days=1), zone)
        if job.old_end is None:
            job.old_end = await self.stats.async_sums_before(after)
        self._store_job(job)
        base = await self.stats.async_sums_before(midnight(job.next, zone))
        while job.next <= job.last:
            if (job.next - job.first).days % PROGRESS_EVERY == 0:
                self._notify(job)
            rows = day_rows(await self._async_read(job.next), base)
            self.stats.write(rows)
            base = rows.sums
            job.next += timedelta(days=1)
            self._store_job(job)
        # No await from here until the next chunk is stored: a cancel cannot shift twice.
        self.stats.adjust_after(after, job.old_end, base)

    def _synced_through(self, job: ImportJob) -> None:
        """After a chunk: whether the series is now continuous through the job's end.

        It is once the chunks reach back to the day after the last synced one (or when
        nothing was synced before: the first import).
        """
        synced = self.state.get("synced")
        if synced is None or job.first <= date.fromisoformat(synced) + timedelta(days=1):
            self.mark_synced(job.end)

    async def _async_write_today(self) -> None:
        """Between two chunks: today's completed hours, continuing the sums written."""
        data = self.coordinator.data
        if data is not None and not data.final and data.day == self.coordinator.today():
            await self._async_write_live(data.energy, final=False)

    def _store_job(self, job: ImportJob) -> None:
        self.state["job"] = job.as_json()
        self.imports.save()

    async def _async_read(self, day: date) -> DayEnergy:
        """A day from the cloud, paced; a rate limit waits what it asks, errors retry."""
        failures = 0
        while True:
            if self.requests:
                await self.imports.sleep(self.imports.pause)
            self.requests += 1
            try:
                return await self.coordinator.async_read_day(day)
            except SigenRateLimitError as err:
                wait = err.retry_after or RETRY_PAUSE
                LOGGER.debug("History import rate limited; waiting %s s", wait)
                await self.imports.sleep(wait)
            except SigenError:
                failures += 1
                if failures >= ATTEMPTS:
                    raise
                await self.imports.sleep(RETRY_PAUSE)

    @property
    def notification_id(self) -> str:
        """The id of the station's progress notification."""
        return f"{DOMAIN}_history_{self.station_id}"

    def _notify(self, job: ImportJob) -> None:
        """Show the dates done and to do."""
        persistent_notification.async_create(
            self.imports.hass,
            f"Importing the energy history of {self.name} into the statistics, "
            "the most recent days first.\n\n"
            f"{job.progress()}\n\n"
            "The action `sigen_cloud.cancel_history_import` stops it.",
            title="Sigen Cloud: energy history",
            notification_id=self.notification_id,
        )


class HistoryImports:
    """The statistics writers of an entry's stations and their imports."""

    def __init__(self, hass: HomeAssistant, entry: SigenConfigEntry) -> None:
        """Keep the imports' progress in the entry's own storage."""
        self.hass = hass
        self.entry = entry
        self.store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.history.{entry.entry_id}"
        )
        self.stored: dict[str, Any] = {}
        self.stations: dict[str, StationHistory] = {}
        self.pause = REQUEST_PAUSE
        self.sleep: Callable[[float], Awaitable[None]] = pause

    async def async_load(self) -> None:
        """Read the stored progress."""
        self.stored = await self.store.async_load() or {}

    def save(self) -> None:
        """Store the progress (written within a second, and at shutdown)."""
        self.store.async_delay_save(lambda: self.stored, 1)

    def attach(self, coordinator: SigenHistoryCoordinator, name: str) -> StationHistory:
        """The statistics writer of a station, fed by its history coordinator."""
        station = self.stations.get(coordinator.station_id)
        if station is None or station.coordinator is not coordinator:
            station = self.stations[coordinator.station_id] = StationHistory(
                self, coordinator, name
            )
            coordinator.on_day = station.async_on_day
        return station

    def start_catch_up(self, station: StationHistory) -> None:
        """In the background: resume, first import, then the days missed meanwhile."""
        station.task = self.entry.async_create_background_task(
            self.hass,
            self._async_catch_up(station),
            f"{DOMAIN} history catch-up {station.station_id}",
        )

    async def async_unload(self) -> None:
        """Stop the imports (a stored one resumes at the next start) and store the progress."""
        for station in self.stations.values():
            if station.task is not None and not station.task.done():
                station.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await station.task
        await self.store.async_save(self.stored)

    async def _async_catch_up(self, station: StationHistory) -> None:
        """Resume a stored import, or import from commissioning once; then the missed days."""
        try:
            await self._async_resume(station)
            yesterday = station.coordinator.today() - timedelta(days=1)
            synced = station.state.get("synced")
            if synced is not None and date.fromisoformat(synced) < yesterday:
                missed = date.fromisoformat(synced) + timedelta(days=1)
                await station.async_run(ImportJob.new(missed, yesterday))
        except SigenError as err:
            LOGGER.warning(
                "The energy history of station %s could not be imported now (%s); "
                "it continues at the next start",
                station.station_id,
                err,
            )

    async def _async_resume(self, station: StationHistory) -> None:
        state = station.state
        if (job := state.get("job")) is not None:
            await station.async_run(ImportJob.from_json(job))
        elif not state.get("initialized"):
            state["initialized"] = True
            coordinator = station.coordinator
            start = await coordinator.client.history.commissioning_date(
                station_id=station.station_id, tz=coordinator.zone
            )
            yesterday = coordinator.today() - timedelta(days=1)
            start = start or yesterday - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
            if start <= yesterday:
                await station.async_run(ImportJob.new(start, yesterday))
            else:
                self.save()

    def start(self, station_id: str, first: date, last: date) -> None:
        """Start an import of ``first`` … ``last`` in the background (one per station)."""
        station = self.stations[station_id]
        job = ImportJob.new(first, last)
        station.task = self.entry.async_create_background_task(
            self.hass, station.async_run(job), f"{DOMAIN} history import {station_id}"
        )

    def running(self, station_id: str) -> bool:
        """Whether an import of the station runs."""
        station = self.stations.get(station_id)
        return station is not None and station.lock.locked()

    def cancel(self, station_id: str) -> bool:
        """Stop the station's running import for good (it is not resumed); whether one ran."""
        station = self.stations.get(station_id)
        if station is None or station.task is None or station.task.done():
            return False
        station.state.pop("job", None)
        self.save()
        station.task.cancel()
        return True


async def async_setup_history(hass: HomeAssistant, entry: SigenConfigEntry) -> None:
    """With the recorder: the stations' statistics writers, and the catch-up in the background.

    Stations that join the account later get theirs when they appear.
    """
    if not recorder_loaded(hass):
        return
    runtime = entry.runtime_data
    imports = runtime.history = HistoryImports(hass, entry)
    await imports.async_load()

    @callback
    def attach_new() -> None:
        for station in runtime.stations.values():
            if station.history is not None and station.station_id not in imports.stations:
                info = station.info
                name = info.name if info is not None and info.name else station.station_id
                imports.start_catch_up(imports.attach(station.history, name))

    attach_new()
    entry.async_on_unload(runtime.account.async_add_listener(attach_new))
