"""The cloud's energy counters and history through Home Assistant's recorder (issue 19).

The simulator's clock and Home Assistant's are frozen at the same moment; the station
(Europe/Dublin) was commissioned a few days before, so the first set-up imports those
days in the background. Each test compares with the simulator's ground truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.coordinator.history import day_counters
from custom_components.sigen_cloud.sigen.models.history import COUNTERS
from custom_components.sigen_cloud.statistics import statistic_id

from .platform_helpers import PREFIX, STATION_ID, setup_entry, station_of, unload

DUBLIN = ZoneInfo("Europe/Dublin")
SENSORS = {
    "pv": "pv_production_today",
    "consumption": "home_consumption_today",
    "grid_import": "grid_import_today",
    "grid_export": "grid_export_today",
    "battery_charge": "battery_charge_today",
    "battery_discharge": "battery_discharge_today",
}


def at(text: str) -> float:
    """Epoch seconds of a Dublin wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=DUBLIN).timestamp()


def sim_at(start: str, first_day: str, **kwargs: Any) -> pytest.MarkDecorator:
    """A frozen simulator at ``start`` whose history begins on ``first_day``."""
    return pytest.mark.sim_config(
        time_scale=0,
        start_time=at(start),
        nb_rate_limits=False,
        commissioning_date=first_day,
        history_dropout_rate=kwargs.pop("history_dropout_rate", 0.0),
        history_offline=kwargs.pop("history_offline", ()),
        **kwargs,
    )


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first (it must start before Home Assistant), then the integration."""


@pytest.fixture(autouse=True)
def no_pause() -> Iterator[None]:
    """Imports do not pause between requests (the frozen clock never opens the window)."""
    with patch("custom_components.sigen_cloud.history_import.REQUEST_PAUSE", 0.0):
        yield


async def start(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> MockConfigEntry:
    """Home Assistant's clock on the simulator's, then the entry set up."""
    freezer.move_to(datetime.fromtimestamp(sim.clock.now(), UTC))
    return await setup_entry(hass, sim, Platform.SENSOR)


async def imports_done(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Wait for the entry's imports to end, and the recorder to write them."""
    imports = entry.runtime_data.history
    assert imports is not None
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(station.task is None or station.task.done() for station in imports.stations.values())
    await async_wait_recording_done(hass)


async def hourly(hass: HomeAssistant, first: date, last: date) -> dict[str, list[Any]]:
    """The station's hourly statistics from ``first`` to ``last`` (local days), by kind."""
    begin = datetime.combine(first, datetime.min.time(), DUBLIN)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), DUBLIN)
    ids = {statistic_id(STATION_ID, kind): kind for kind in COUNTERS}
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, begin, end, set(ids), "hour", None, {"sum", "state"}
    )
    return {ids[key]: rows for key, rows in stats.items()}


def rows_of(rows: list[Any], day: date) -> list[Any]:
    """The rows of one local day."""
    return [row for row in rows if datetime.fromtimestamp(row["start"], DUBLIN).date() == day]


def truth(sim: Any, day: date) -> dict[str, float]:
    """The simulator's true counters of a day, by the library's names."""
    totals = sim.history.day_totals(sim.stations[0], day)
    return dict(zip(COUNTERS, totals, strict=True))


def assert_days(stats: dict[str, list[Any]], sim: Any, days: list[date]) -> None:
    """Each day's hours add up to the truth, and the sums run on from day to day."""
    for kind in COUNTERS:
        previous_sum = 0.0
        for day in days:
            rows = rows_of(stats[kind], day)
            expected = truth(sim, day)[kind]
            assert rows[-1]["state"] == pytest.approx(expected, abs=0.006), (kind, day)
            assert rows[-1]["sum"] - previous_sum == pytest.approx(expected, abs=0.006)
            previous_sum = rows[-1]["sum"]


@sim_at("2026-03-30T12:00", "2026-03-27")
async def test_first_set_up_imports_dst_day(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Set-up imports the days since commissioning; 29 March has 23 hours."""
    entry = await start(hass, sim, freezer)
    await imports_done(hass, entry)
    days = [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29)]
    stats = await hourly(hass, days[0], days[-1])
    assert_days(stats, sim, days)
    assert len(rows_of(stats["pv"], date(2026, 3, 29))) == 23
    assert len(rows_of(stats["pv"], date(2026, 3, 28))) == 24
    assert entry.runtime_data.history.stored[STATION_ID]["synced"] == "2026-03-29"
    await unload(hass, entry)


@sim_at("2026-10-26T12:00", "2026-10-24")
async def test_autumn_dst_and_idempotent_rerun(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """25 hours on 25 October; importing the same days again changes nothing."""
    entry = await start(hass, sim, freezer)
    await imports_done(hass, entry)
    days = [date(2026, 10, 24), date(2026, 10, 25)]
    before = await hourly(hass, days[0], date(2026, 10, 26))
    assert_days(before, sim, days)
    assert len(rows_of(before["pv"], date(2026, 10, 25))) == 25
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry.entry_id)
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "import_history", {"device_id": device.id, "start": "2026-10-24"}, blocking=True
    )
    await imports_done(hass, entry)
    assert await hourly(hass, days[0], date(2026, 10, 26)) == before
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "import_history", {"device_id": device.id, "start": "2026-10-26"}, blocking=True
        )
    await unload(hass, entry)


@sim_at(
    "2026-03-30T12:00",
    "2026-03-28",
    history_offline=(
        ("2026-03-28T10:00", "2026-03-28T12:30"),
        ("2026-03-29T00:00", "2026-03-30T00:00"),
    ),
)
async def test_gaps_are_gaps(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> None:
    """Hours without rows are not written; the day's hours still add up to its total."""
    entry = await start(hass, sim, freezer)
    await imports_done(hass, entry)
    stats = await hourly(hass, date(2026, 3, 28), date(2026, 3, 29))
    hours = [datetime.fromtimestamp(row["start"], DUBLIN).hour for row in stats["pv"]]
    assert 10 not in hours
    assert 11 not in hours
    assert 12 in hours
    assert rows_of(stats["pv"], date(2026, 3, 29)) == []  # a whole day offline
    assert_days(stats, sim, [date(2026, 3, 28)])
    await unload(hass, entry)


@sim_at("2026-06-01T23:30", "2026-06-01", history_dropout_rate=0.05)
async def test_counters_follow_the_cloud_across_midnight(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The sensors show the cloud's counters, never dip on a dropout, end at the day's totals."""
    entry = await start(hass, sim, freezer)
    history = station_of(entry).history
    assert history is not None
    seen: dict[str, list[float]] = {kind: [] for kind in COUNTERS}
    entity_ids = {f"sensor.{PREFIX}_{key}": kind for kind, key in SENSORS.items()}

    @callback
    def note(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.state not in ("unknown", "unavailable"):
            seen[entity_ids[state.entity_id]].append(float(state.state))

    for entity_id, kind in entity_ids.items():
        state = hass.states.get(entity_id)
        assert state is not None
        seen[kind].append(float(state.state))
    unsubscribe = async_track_state_change_event(hass, list(entity_ids), note)
    first = hass.states.get(f"sensor.{PREFIX}_pv_production_today")
    assert first is not None
    assert float(first.state) == day_counters(history.data.energy)["pv"]
    for _ in range(8):  # 23:30 … 00:10, every 5 minutes
        await sim.advance(300)
        freezer.tick(timedelta(seconds=300))
        await history.async_refresh()
        await hass.async_block_till_done()
    unsubscribe()
    june_first = truth(sim, date(2026, 6, 1))
    for kind, values in seen.items():
        peak = values.index(max(values))
        assert values[: peak + 1] == sorted(values[: peak + 1]), kind  # no dip before midnight
        assert max(values) == pytest.approx(june_first[kind], abs=0.006), kind
        assert values[-1] < max(values) or june_first[kind] == 0  # the reset at midnight
    assert history.data.day == date(2026, 6, 2)
    await unload(hass, entry)


@sim_at("2026-03-30T12:00", "2026-03-26")
async def test_resume_after_restart_and_cancel(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """An import stopped by an unload resumes at the next start; a cancelled one does not."""
    waiting = asyncio.Event()

    async def wait_forever(_seconds: float) -> None:
        waiting.set()
        await asyncio.Future()

    with patch("custom_components.sigen_cloud.history_import.pause", wait_forever):
        entry = await start(hass, sim, freezer)
        await waiting.wait()  # the first day is in; the import waits before the second
        job = entry.runtime_data.history.stored[STATION_ID]["job"]
        assert job["next"] == "2026-03-27"
        await unload(hass, entry)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await imports_done(hass, entry)
    days = [date(2026, 3, 26) + timedelta(days=n) for n in range(4)]
    assert_days(await hourly(hass, days[0], days[-1]), sim, days)

    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry.entry_id)
    assert device is not None
    waiting.clear()
    with patch("custom_components.sigen_cloud.history_import.pause", wait_forever):
        entry.runtime_data.history.sleep = wait_forever
        await hass.services.async_call(
            DOMAIN, "import_history", {"device_id": device.id, "start": "2026-03-26"}, blocking=True
        )
        await waiting.wait()
        with pytest.raises(ServiceValidationError):
            await hass.services.async_call(
                DOMAIN,
                "import_history",
                {"device_id": device.id, "start": "2026-03-26"},
                blocking=True,
            )
        await hass.services.async_call(
            DOMAIN, "cancel_history_import", {"device_id": device.id}, blocking=True
        )
        await imports_done(hass, entry)
    assert "job" not in entry.runtime_data.history.stored[STATION_ID]
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "cancel_history_import", {"device_id": device.id}, blocking=True
        )
    assert_days(await hourly(hass, days[0], days[-1]), sim, days)  # nothing lost
    await unload(hass, entry)
