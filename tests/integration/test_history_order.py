"""The history import's order and pacing through Home Assistant's recorder (issue 19).

An import does the most recent month first, then older months backwards, so the
Energy dashboard shows the recent past soon after set-up; the hours imported before
move when an older month is imported under them, ending where an oldest-first import
ends. Rate limits are waited out, and the progress notification names the dates done and to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import pairwise
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.coordinator.history import SigenHistoryCoordinator
from custom_components.sigen_cloud.sigen.app.history import HistoryApi
from custom_components.sigen_cloud.sigen.models.history import COUNTERS

from .platform_helpers import STATION_ID, unload
from .test_history import assert_days, hourly, imports_done, rows_of, sim_at, start, truth

MODULE = "custom_components.sigen_cloud.history_import"
JOB = "custom_components.sigen_cloud.history_job"
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first (it must start before Home Assistant), then the integration."""


@pytest.fixture(autouse=True)
def no_pause() -> Iterator[None]:
    """Imports do not pause between requests (the frozen clock never opens the window)."""
    with patch(f"{MODULE}.REQUEST_PAUSE", 0.0):
        yield


def days_from(first: date, last: date) -> list[date]:
    """Each day from ``first`` to ``last``."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def assert_today_continues(stats: dict[str, list[Any]], yesterday: date) -> None:
    """Today's hours continue the imported sums (no jump, no double count at the seam)."""
    for kind in COUNTERS:
        today = rows_of(stats[kind], yesterday + timedelta(days=1))
        assert today, kind
        before = rows_of(stats[kind], yesterday)[-1]["sum"]
        assert today[-1]["sum"] - before == pytest.approx(today[-1]["state"], abs=1e-6), kind


async def device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The station's device."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry.entry_id)
    assert device is not None
    return device.id


@sim_at("2026-06-15T12:00", "2026-06-07")
async def test_newest_month_first_then_older(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The newest chunk comes first (with today's hours); older ones follow backwards.

    Chunks are 3 days here (31 in use), so the test reads few days.

    While the second month waits, the notification names the dates done and to do;
    at the end the sums run on from the first day, as a single oldest-first import
    of the same range writes them.
    """
    read: list[date] = []
    original = SigenHistoryCoordinator.async_read_day

    async def reading(self: SigenHistoryCoordinator, day: date) -> Any:
        read.append(day)
        return await original(self, day)

    after_first_month = asyncio.Event()
    release: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def pause(_seconds: float) -> None:
        if date(2026, 6, 14) in read and not after_first_month.is_set():
            after_first_month.set()  # the first month is done: wait before the next
            await release

    notify = patch.object(
        persistent_notification, "async_create", wraps=persistent_notification.async_create
    )
    with (
        patch.object(SigenHistoryCoordinator, "async_read_day", reading),
        patch(f"{MODULE}.pause", pause),
        patch(f"{JOB}.CHUNK_DAYS", 3),
        notify as notified,
    ):
        entry = await start(hass, sim, freezer)
        async with asyncio.timeout(60):
            await after_first_month.wait()
        imports = entry.runtime_data.history
        await imports.stations[STATION_ID].stats.async_flush()
        month = days_from(date(2026, 6, 12), date(2026, 6, 14))
        stats = await hourly(hass, month[0], TODAY)
        for kind in COUNTERS:  # each day's hours add up to its total already
            for previous, day in pairwise(month):
                delta = (
                    rows_of(stats[kind], day)[-1]["sum"] - rows_of(stats[kind], previous)[-1]["sum"]
                )
                assert delta == pytest.approx(truth(sim, day)[kind], abs=0.006), (kind, day)
        assert_today_continues(stats, month[-1])
        assert rows_of(stats["pv"], date(2026, 6, 11)) == []
        stored = imports.stored[STATION_ID]
        assert stored["synced"] == "2026-06-14"
        assert stored["job"]["first"] == "2026-06-09"
        assert stored["job"]["last"] == "2026-06-11"
        message = notified.call_args.args[1]
        assert "Done: 2026-06-12 to 2026-06-14 (3 days)." in message
        assert "To do: 2026-06-07 to 2026-06-11 (5 days)." in message
        release.set_result(None)
        await imports_done(hass, entry)

    imported = [day for day in read if day != TODAY]
    expected = (
        days_from(date(2026, 6, 12), date(2026, 6, 14))
        + days_from(date(2026, 6, 9), date(2026, 6, 11))
        + days_from(date(2026, 6, 7), date(2026, 6, 8))
    )
    assert imported == expected
    everything = days_from(date(2026, 6, 7), date(2026, 6, 14))
    newest_first = await hourly(hass, everything[0], TODAY)
    assert_days(newest_first, sim, everything)
    assert_today_continues(newest_first, everything[-1])

    # The same range as one chunk (oldest day first) writes the very same rows.
    with patch(f"{JOB}.CHUNK_DAYS", 1000):
        await hass.services.async_call(
            DOMAIN,
            "import_history",
            {"device_id": await device_id(hass, entry), "start": "2026-06-07"},
            blocking=True,
        )
        await imports_done(hass, entry)
    oldest_first = await hourly(hass, everything[0], TODAY)
    for kind in COUNTERS:  # the same hours, the same sums (to the recorder's rounding)
        assert [row["start"] for row in oldest_first[kind]] == [
            row["start"] for row in newest_first[kind]
        ]
        for old, new in zip(oldest_first[kind], newest_first[kind], strict=True):
            assert new["sum"] == pytest.approx(old["sum"], abs=1e-5), kind
            assert new["state"] == pytest.approx(old["state"], abs=1e-5), kind
    await unload(hass, entry)


@sim_at("2026-06-15T12:00", "2026-06-01")
async def test_older_range_imported_under_later_hours(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Days imported before the ones stored (in chunks, newest first) shift the later sums.

    Set-up imports only the last five days (the cloud names a later commissioning date);
    importing 1 to 9 June (chunks of 3 days) then moves those days and today's hours by
    what it added, so the series runs on from 1 June as an oldest-first import writes it.
    """
    with patch.object(HistoryApi, "commissioning_date", return_value=date(2026, 6, 10)):
        entry = await start(hass, sim, freezer)
        await imports_done(hass, entry)
    recent = days_from(date(2026, 6, 10), date(2026, 6, 14))
    assert_days(await hourly(hass, recent[0], TODAY), sim, recent)

    with patch(f"{JOB}.CHUNK_DAYS", 3):
        await hass.services.async_call(
            DOMAIN,
            "import_history",
            {"device_id": await device_id(hass, entry), "start": "2026-06-01", "end": "2026-06-09"},
            blocking=True,
        )
        await imports_done(hass, entry)
    everything = days_from(date(2026, 6, 1), date(2026, 6, 14))
    stats = await hourly(hass, everything[0], TODAY)
    assert_days(stats, sim, everything)
    assert_today_continues(stats, everything[-1])
    assert entry.runtime_data.history.stored[STATION_ID]["synced"] == "2026-06-14"
    await unload(hass, entry)


@sim_at("2026-06-15T12:00", "2026-06-03", history_rate_limit=4, history_rate_window=60.0)
async def test_rate_limit_waited_out(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 during the import waits its Retry-After (simulated seconds); no day is lost."""
    waits: list[float] = []

    async def sim_sleep(seconds: float) -> None:
        waits.append(seconds)
        if seconds:
            await sim.advance(seconds)
            freezer.tick(timedelta(seconds=seconds))

    with patch(f"{MODULE}.pause", sim_sleep):
        entry = await start(hass, sim, freezer)
        await imports_done(hass, entry)
    assert any(wait >= 1 for wait in waits)  # the simulator's Retry-After was waited
    days = days_from(date(2026, 6, 3), date(2026, 6, 14))
    assert_days(await hourly(hass, days[0], days[-1]), sim, days)
    assert entry.runtime_data.history.stored[STATION_ID]["synced"] == "2026-06-14"
    await unload(hass, entry)
