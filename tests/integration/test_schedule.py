"""The TOU schedule through Home Assistant, against the simulator (issue 18).

A schedule written with ``sigen_cloud.set_schedule`` shows in the station's "Battery
schedule" calendar and, in TOU mode, drives the simulated battery at its times: the
battery power and SOC sensors show charging inside a charge period and not outside it.
``get_schedule`` returns the schedule in the shape ``set_schedule`` takes; bad input is
refused with translated errors naming the period and the range, and nothing is sent; a
write the cloud acknowledges but does not apply (or that cannot be read back) is a
translated error, and the calendar keeps showing what the cloud holds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.components.select import SERVICE_SELECT_OPTION
from homeassistant.const import ATTR_ENTITY_ID, ATTR_OPTION, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.diagnostics import async_get_config_entry_diagnostics

from .platform_helpers import (
    FROZEN_SIM,
    NOON,
    PREFIX,
    STATION_ID,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
    snapshot_entities,
    station_device_id,
    station_of,
    unload,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

ZONE = ZoneInfo("Europe/Dublin")
CALENDAR = f"calendar.{PREFIX}_battery_schedule"
BATTERY_POWER = f"sensor.{PREFIX}_battery_power"
BATTERY_SOC = f"sensor.{PREFIX}_battery"  # the SOC, named as a device class battery
MODE = f"select.{PREFIX}_operational_mode"
WEEK = [1, 2, 3, 4, 5, 6, 7]
DAY = {"days": WEEK, "start": "00:00", "end": "22:00", "action": "self_consumption"}
NIGHT = {
    "days": WEEK,
    "start": "22:00",
    "end": "24:00",
    "action": "charge",
    "max_charge": 3,
    "charge_cut_off_soc": 90,
}
LIMITS = dict.fromkeys(
    (
        "max_buy",
        "max_sell",
        "max_charge",
        "max_discharge",
        "max_pack_charge",
        "max_pack_discharge",
        "charge_cut_off_soc",
        "discharge_cut_off_soc",
    )
)


@pytest.fixture
async def entry(hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory) -> Any:
    """The demo account with its calendar, sensors and selects, at the simulator's noon."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    loaded = await setup_entry(hass, sim, Platform.CALENDAR, Platform.SENSOR, Platform.SELECT)
    yield loaded
    await unload(hass, loaded)


async def _call(
    hass: HomeAssistant, entry: Any, service: str, data: dict[str, Any], *, response: bool = True
) -> Any:
    answer = await hass.services.async_call(
        DOMAIN,
        service,
        {"device_id": station_device_id(hass, entry.entry_id), **data},
        blocking=True,
        return_response=response,
    )
    await hass.async_block_till_done()
    return answer


async def _stored(sim: Any) -> dict[str, Any]:
    """The simulator's view of the schedule (control API)."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/schedule"
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        body = await answer.json()
    assert body["ok"]
    return body["data"]  # type: ignore[no-any-return]


async def _events(hass: HomeAssistant, start: datetime, hours: float) -> list[dict[str, Any]]:
    """The calendar's events (found by its unique id: its name follows the language)."""
    entity_id = er.async_get(hass).async_get_entity_id(
        CALENDAR_DOMAIN, DOMAIN, f"{STATION_ID}_battery_schedule"
    )
    assert entity_id is not None
    answer = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {ATTR_ENTITY_ID: entity_id, "start_date_time": start, "duration": {"hours": hours}},
        blocking=True,
        return_response=True,
    )
    return answer[entity_id]["events"]  # type: ignore[index,no-any-return]


async def _power(hass: HomeAssistant, entry: Any) -> tuple[float, float]:
    """The battery power (+ = discharging) and SOC sensors after a live refresh."""
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()
    power, soc = hass.states.get(BATTERY_POWER), hass.states.get(BATTERY_SOC)
    assert power is not None
    assert soc is not None
    return float(power.state), float(soc.state)


async def test_schedule_shows_in_the_calendar_and_drives_the_battery(
    hass: HomeAssistant, sim: Any, entry: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The issue's "done when": written through the action, shown in the calendar,
    and in TOU mode the battery charges from the grid inside the charge period only."""
    answer = await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    assert answer == {"periods": [{**LIMITS, **DAY}, {**LIMITS, **NIGHT, "max_charge": 3.0}]}
    assert [p["dischargeType"] for p in (await _stored(sim))["periods"]] == [3, 0]

    # The calendar: Monday 1 June, 00:00-22:00 self-consumption then the charge period.
    events = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24)
    assert [(e["start"], e["end"], e["summary"]) for e in events] == [
        ("2026-06-01T00:00:00+01:00", "2026-06-01T22:00:00+01:00", "Self-consumption"),
        (
            "2026-06-01T22:00:00+01:00",
            "2026-06-02T00:00:00+01:00",
            "Charge from grid (max 3 kW, to 90 %)",
        ),
    ]
    week = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 7 * 24)
    assert len(week) == 14
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "on"  # noon: inside the self-consumption period
    assert state.attributes["message"] == "Self-consumption"

    # TOU mode through the select; 21:00, dark and outside the charge period.
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: MODE, ATTR_OPTION: "TOU"},
        blocking=True,
    )
    assert sim.stations[0].mode == 2
    await sim.advance(9 * 3600)
    freezer.tick(timedelta(hours=9))
    sim.stations[0].soc = 50.0
    power, soc = await _power(hass, entry)
    assert power > 0.0  # the battery serves the house: not charging
    assert soc <= 50.0

    # 22:30: inside the charge period, 3 kW from the grid, the SOC rising.
    await sim.advance(1800 * 3)
    freezer.tick(timedelta(minutes=90))
    power, soc = await _power(hass, entry)
    assert power == -3.0
    assert soc > 50.0
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.attributes["message"] == "Charge from grid (max 3 kW, to 90 %)"


async def test_get_schedule_round_trip(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    """get_schedule answers the shape set_schedule takes; feeding it back changes nothing."""
    assert await _call(hass, entry, "get_schedule", {}) == {"periods": []}
    weekdays = {**NIGHT, "days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00:00"}
    weekend = {**NIGHT, "days": [6, 7], "action": "discharge", "max_discharge": "2.5"}
    weekend.pop("max_charge")
    weekend["discharge_cut_off_soc"] = "20"
    await _call(hass, entry, "set_schedule", {"periods": [DAY, weekdays, weekend]})
    got = await _call(hass, entry, "get_schedule", {})
    assert got["periods"][1]["days"] == [1, 2, 3, 4, 5]
    assert got["periods"][1]["start"] == "22:00"
    assert got["periods"][2]["action"] == "discharge"
    assert got["periods"][2]["max_discharge"] == 2.5
    assert got["periods"][2]["discharge_cut_off_soc"] == 20
    before = await _stored(sim)
    again = await _call(hass, entry, "set_schedule", got)
    assert again == got
    assert (await _stored(sim))["periods"] == before["periods"]
    events = await _events(hass, datetime(2026, 6, 6, tzinfo=ZONE), 24)  # a Saturday
    assert events[-1]["summary"] == "Discharge (max 2.5 kW, down to 20 %)"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    station = diagnostics["coordinator"]["stations"][0]
    assert len(station["schedule"]) == 3
    assert station["last_update_success"]["schedule"] is True


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        ([{**NIGHT, "max_charge": 150}, DAY], ("invalid_schedule_period", ("1", "0 to 100 kW"))),
        ([NIGHT, {**DAY, "end": "21:00"}], ("invalid_schedule", (None, "no period from 21:00"))),
        ([NIGHT, {**DAY, "days": [0]}], ("invalid_schedule_period", ("2", "1 (Monday) to 7"))),
        (
            [NIGHT, {**DAY, "action": "hold"}],
            ("invalid_schedule_period", ("2", "self_consumption")),
        ),
        (
            [NIGHT, {**DAY, "charge_cut_off_soc": 120}],
            ("invalid_schedule_period", ("2", "0 to 100 %")),
        ),
        ([NIGHT, "junk"], ("invalid_schedule_period", ("2", "mapping"))),
        ([], ("invalid_schedule", (None, "at least one period"))),
        ("22:00", ("invalid_schedule", (None, "list of periods"))),
        ([{**DAY, "end": "24:00"}] * 25, ("invalid_schedule", (None, "at most 24"))),
    ],
)
async def test_bad_input_is_translated_and_sends_nothing(
    hass: HomeAssistant,
    sim: Any,
    entry: Any,
    periods: Any,
    expected: tuple[str, tuple[str | None, str]],
) -> None:
    key, placeholders = expected
    sim.clear_requests()
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, entry, "set_schedule", {"periods": periods})
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    period, words = placeholders
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders.get("period") == period
    assert words in err.value.translation_placeholders["error"]
    assert sim.count("batch/save") == 0


async def test_write_not_applied_shows_the_cloud_schedule(
    hass: HomeAssistant, sim: Any, entry: Any
) -> None:
    """Acknowledged but not applied: a translated error, the calendar keeps the old one."""
    await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    sim.faults.not_applied("dischargesetting/batch", count=1)
    changed = {**NIGHT, "max_charge": 5}
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, entry, "set_schedule", {"periods": [changed, DAY]})
    assert err.value.translation_key == "schedule_not_applied"
    coordinator = station_of(entry).schedule
    assert coordinator is not None
    assert [p.max_charge for p in coordinator.periods] == [None, 3.0]
    events = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24)
    assert events[-1]["summary"] == "Charge from grid (max 3 kW, to 90 %)"


async def test_read_back_failure_is_an_error(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    """Sent, but the read-back fails: a translated error, the data left as it was."""
    sim.faults.http_error(f"dischargesetting/{STATION_ID}", 500, method="GET", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    assert err.value.translation_key == "schedule_unconfirmed"
    coordinator = station_of(entry).schedule
    assert coordinator is not None
    await hass.async_block_till_done()
    await coordinator.async_refresh()
    assert len(coordinator.periods) == 2  # the next read shows what the cloud holds


async def test_cloud_refusal_is_translated(hass: HomeAssistant, sim: Any, entry: Any) -> None:
    sim.faults.http_error("dischargesetting/batch", 500, method="POST", count=1)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    assert err.value.translation_key in {"cloud_refused", "cannot_connect"}
    assert (await _stored(sim))["saved"] is False


async def test_station_without_a_schedule(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A station whose cloud refuses the schedule read: no events, a translated refusal."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    sim.faults.http_error("device/dischargesetting/", 404, method="GET")
    entry = await setup_entry(hass, sim, Platform.CALENDAR)
    coordinator = station_of(entry).schedule
    assert coordinator is not None
    assert coordinator.last_update_success
    assert coordinator.periods == ()
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "off"
    assert await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24) == []
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, entry, "get_schedule", {})
    assert err.value.translation_key == "no_schedule"
    sim.faults.clear()
    await unload(hass, entry)


async def test_summaries_in_the_users_language(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    hass.config.language = "de"
    entry = await setup_entry(hass, sim, Platform.CALENDAR)
    odd = {**DAY, "action": 2}  # a code the library does not know, kept as the number
    await _call(hass, entry, "set_schedule", {"periods": [NIGHT, odd]})
    events = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24)
    assert [event["summary"] for event in events] == [
        "Unbekannter Modus 2",
        "Aus dem Netz laden (max. 3 kW, bis 90 %)",
    ]
    calendar = er.async_get(hass).async_get_entity_id(
        CALENDAR_DOMAIN, DOMAIN, f"{STATION_ID}_battery_schedule"
    )
    assert calendar is not None  # named in German
    state = hass.states.get(calendar)
    assert state is not None
    assert state.attributes["message"] == "Unbekannter Modus 2"  # noon: the odd period
    # HA's language changes: the state and the events follow
    await hass.config.async_update(language="fr")
    await hass.async_block_till_done()
    state = hass.states.get(calendar)
    assert state is not None
    assert state.attributes["message"] == "Mode inconnu 2"
    events = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24)
    assert events[-1]["summary"] == "Charge depuis le réseau (max. 3 kW, jusqu'à 90 %)"
    await unload(hass, entry)


async def _store(sim: Any, periods: list[dict[str, Any]]) -> None:
    """Periods stored as sent (the control API): a cloud holding what the app would not."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/schedule"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"periods": periods}) as answer,
    ):
        assert (await answer.json())["ok"]


def _wire(days: str, start: str, end: str, kind: int) -> dict[str, Any]:
    return {
        "currType": 1,
        "dischargeType": kind,
        "startTime": start,
        "endTime": end,
        "stationId": int(STATION_ID),
        "whichDay": days,
    }


@pytest.mark.sim_config(**FROZEN_SIM, timezone="Europe/Berlin")
async def test_calendar_across_dst_and_midnight(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A Berlin station seen from an HA in UTC (review A3): a period inside the spring-
    forward gap, one crossing midnight and one ending "00:00" neither break the state
    nor get_events, and each shows at its real time."""
    await hass.config.async_set_time_zone("UTC")
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, Platform.CALENDAR)
    coordinator = station_of(entry).schedule
    assert coordinator is not None
    assert str(coordinator.time_zone) == "Europe/Berlin"
    await _store(
        sim,
        [
            _wire("7", "00:00", "02:30", 0),
            _wire("7", "02:30", "03:00", 1),  # 2027-03-28: inside the gap, never runs
            _wire("7", "03:00", "00:00", 3),  # "00:00": the day's end
            _wire("1", "22:00", "06:00", 0),  # Monday night into Tuesday
        ],
    )
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert [p.end for p in coordinator.periods] == ["02:30", "03:00", "24:00", "06:00"]

    events = await _events(hass, datetime(2027, 3, 27, 22, 0, tzinfo=UTC), 48)
    spans = [
        (
            datetime.fromisoformat(e["start"]).astimezone(UTC).isoformat(),
            datetime.fromisoformat(e["end"]).astimezone(UTC).isoformat(),
            e["summary"],
        )
        for e in events
    ]
    assert spans == [
        ("2027-03-27T23:00:00+00:00", "2027-03-28T01:00:00+00:00", "Charge from grid"),
        ("2027-03-28T01:00:00+00:00", "2027-03-28T22:00:00+00:00", "Self-consumption"),
        ("2027-03-29T20:00:00+00:00", "2027-03-30T04:00:00+00:00", "Charge from grid"),
    ]

    # The state on the Saturday before: the Sunday's first period comes next.
    freezer.move_to(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    coordinator.async_update_listeners()
    await hass.async_block_till_done()
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "off"
    assert state.attributes["message"] == "Charge from grid"
    assert state.attributes["start_time"] == "2027-03-27 23:00:00"
    assert state.attributes["end_time"] == "2027-03-28 01:00:00"
    # Tuesday 03:00 Berlin: Monday's night period is still running.
    freezer.move_to(datetime(2027, 3, 30, 1, 0, tzinfo=UTC))
    coordinator.async_update_listeners()
    await hass.async_block_till_done()
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "on"
    assert state.attributes["end_time"] == "2027-03-30 04:00:00"
    await unload(hass, entry)


async def test_poll_during_a_write_ends_with_the_written_schedule(
    hass: HomeAssistant, sim: Any, entry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll that read the old schedule before a write cannot overwrite the write's
    read-back (review A7): the poll holds the station's write lock until it is done."""
    await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    coordinator = station_of(entry).schedule
    assert coordinator is not None
    api = coordinator.client.schedule
    real = api.get_schedule
    gate, read_old = asyncio.Event(), asyncio.Event()

    async def held_first_read(**kwargs: Any) -> Any:
        periods = await real(**kwargs)
        if not read_old.is_set():  # the poll: the old schedule read, its answer held
            read_old.set()
            await gate.wait()
        return periods

    monkeypatch.setattr(api, "get_schedule", held_first_read)
    poll = hass.async_create_task(coordinator.async_refresh())
    await read_old.wait()
    changed = {**NIGHT, "max_charge": 5}
    write = hass.async_create_task(_call(hass, entry, "set_schedule", {"periods": [changed, DAY]}))
    # the write gets its chance to run past the poll (it waits for the poll's lock);
    # the loop's clock is frozen, so real time passes in the executor
    for _ in range(50):
        if write.done():
            break
        await hass.async_add_executor_job(time.sleep, 0.01)
    gate.set()
    await poll
    answer = await write
    assert answer["periods"][1]["max_charge"] == 5.0
    assert [p.max_charge for p in coordinator.periods] == [None, 5.0]
    events = await _events(hass, datetime(2026, 6, 1, tzinfo=ZONE), 24)
    assert events[-1]["summary"] == "Charge from grid (max 5 kW, to 90 %)"


async def test_get_schedule_answers_from_a_recent_read(
    hass: HomeAssistant, sim: Any, entry: Any, freezer: FrozenDateTimeFactory
) -> None:
    """§7.0 asks for one request per endpoint per 5 minutes: a read (or a write's
    read-back) younger than that answers get_schedule; an older one is read again."""
    await _call(hass, entry, "set_schedule", {"periods": [NIGHT, DAY]})
    reads = sim.count(f"dischargesetting/{STATION_ID}", method="GET")
    first = await _call(hass, entry, "get_schedule", {})
    freezer.tick(timedelta(minutes=4))
    assert await _call(hass, entry, "get_schedule", {}) == first
    assert sim.count(f"dischargesetting/{STATION_ID}", method="GET") == reads
    freezer.tick(timedelta(minutes=2))
    assert await _call(hass, entry, "get_schedule", {}) == first
    assert sim.count(f"dischargesetting/{STATION_ID}", method="GET") == reads + 1


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


async def test_calendar_entity(
    hass: HomeAssistant,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The calendar's registry entry and its state at noon inside a stored period."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    await _store(
        sim,
        [_wire("1,2,3,4,5,6,7", "00:00", "22:00", 3), _wire("1,2,3,4,5,6,7", "22:00", "24:00", 0)],
    )
    entry = await setup_entry(hass, sim, Platform.CALENDAR)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    await unload(hass, entry)
