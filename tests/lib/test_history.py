"""sigen.history: a day's energy, its 5-minute rows and what is made of them (issue 19).

Fake-transport tests read every answer variant of ``fixtures/history.json`` (captured
from the simulator, then reshaped into each nesting and spelling §7.18 allows); the
arithmetic (dropouts, DST days, gaps, the lifetime dip) runs on rows built here; the
last tests run the library against the simulator.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sigen import NorthboundClient, Sigen
from sigen._envelope import Reply, check_envelope
from sigen._http import answer_from_text
from sigen._nb_history import lifetime_totals
from sigen.app import HistoryApi
from sigen.errors import SigenAPIError, SigenRateLimitError, SigenValidationError
from sigen.models import (
    EnergyRow,
    StationInfo,
    hourly_sums,
    interval_deltas,
    merge_lifetime_totals,
)
from sigen.models._history_read import parse_wall_time, read_day, read_power_series
from sigen_sim import Simulator

FIXTURES = Path(__file__).parent / "fixtures"
STATION = "20240523012345"
BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 6, 30)
COUNTER_KEYS = (
    "powerGeneration",
    "powerUse",
    "powerToGrid",
    "powerFromGrid",
    "esCharging",
    "esDischarging",
)
NAMES = ("pv", "consumption", "grid_export", "grid_import", "battery_charge", "battery_discharge")


def fixture() -> Any:
    return json.loads((FIXTURES / "history.json").read_text(encoding="utf-8"))


def variants() -> dict[str, Any]:
    return fixture()["energy_variants"]  # type: ignore[no-any-return]


class FakeTransport:
    """Stands in for ``AppTransport``: answers each request with the next queued body."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> Reply:
        self.calls.append((method, path, kwargs))
        body = self.bodies.pop(0)
        if isinstance(body, Exception):
            raise body
        answer = answer_from_text(200, {"content-type": "application/json"}, json.dumps(body))
        return Reply(what, check_envelope(what, answer), answer)


class FakeHome:
    """The client's home station as the history sees it."""

    def __init__(self, info: StationInfo | None = None) -> None:
        self.station = info
        self.station_id = None if info is None else info.station_id
        self.reads = 0

    async def get_station_info(self) -> StationInfo:
        self.reads += 1
        info = StationInfo.from_dict({"stationId": STATION, "timeZoneName": "Europe/Berlin"})
        self.station, self.station_id = info, info.station_id
        return info


def history(*bodies: Any, home: Any = None) -> tuple[HistoryApi, FakeTransport]:
    transport = FakeTransport(*bodies)
    api = HistoryApi(transport, home)  # type: ignore[arg-type]
    api.today = lambda zone: date(2026, 7, 1)
    return api, transport


def day_query(day: str = "20260630") -> dict[str, str]:
    return {"stationId": STATION, "dateFlag": "1", "startDate": day, "endDate": day}


# --------------------------------------------------------------------------- the day


async def test_get_day_sends_the_live_accounts_get() -> None:
    api, transport = history(variants()["get_flat"])
    day = await api.get_day(DAY, station_id=STATION, tz="Europe/Berlin")
    assert transport.calls == [
        ("GET", "data-process/sigen/station/statistics/energy", {"params": day_query()})
    ]
    assert api.request_form == "get"
    assert (day.pv, day.consumption, day.grid_export, day.grid_import) == (3.56, 6.29, 0.0, 0.39)
    assert (day.battery_charge, day.battery_discharge) == (1.3, 3.64)
    assert day.day == DAY
    assert len(day.rows) == 12
    first = day.rows[0]
    assert first.start == datetime(2026, 6, 30, 8, 0, tzinfo=BERLIN)
    assert first.start.utcoffset() == timedelta(hours=2)
    assert first.label == "20260630 08:00"
    assert (first.pv, first.consumption, first.battery_discharge) == (1.61, 5.53, 3.64)
    assert (first.pv_power, first.load_power, first.soc) == (1.79, 1.22, 6.1)
    assert first.battery_charge_power == 0.57
    assert first.grid_import_power == 0.0
    assert day.rows[-1].start == datetime(2026, 6, 30, 8, 55, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "variant",
    ["post_list", "strings", "nested_totals", "units", "double_encoded", "dashed_labels"],
)
async def test_every_variant_reads_the_same(variant: str) -> None:
    reference = read_day(variants()["get_flat"]["data"], DAY, BERLIN)
    api, _ = history(variants()[variant])
    day = await api.get_day("2026-06-30", station_id=STATION, tz=BERLIN)
    assert day.counters() == reference.counters()
    assert [row.start for row in day.rows] == [row.start for row in reference.rows]
    assert [row.counters() for row in day.rows] == [row.counters() for row in reference.rows]
    assert [row.pv_power for row in day.rows] == [row.pv_power for row in reference.rows]


def test_bare_rows_and_empty_answers() -> None:
    rows = variants()["get_flat"]["data"]["itemList"]
    bare = read_day(rows, DAY, BERLIN)
    assert len(bare.rows) == 12
    assert bare.pv is None  # no totals sent: None, never 0
    for empty in (None, "", [], {}, {"itemList": []}):
        day = read_day(empty, DAY, BERLIN)
        assert day.rows == ()
        assert day.counters() == dict.fromkeys(NAMES)
    with pytest.raises(SigenAPIError, match="expected a JSON object or list"):
        read_day(42, DAY, BERLIN)


async def test_unreadable_answer_names_the_request() -> None:
    api, _ = history({"code": 0, "data": "x" * 128})
    with pytest.raises(SigenAPIError, match=r"Reading the energy of station .* on 2026-06-30"):
        await api.get_day(DAY, station_id=STATION)


def test_row_times() -> None:
    assert parse_wall_time("20260630 14:35") == datetime(2026, 6, 30, 14, 35)
    assert parse_wall_time("2026-06-30 14:35:10") == datetime(2026, 6, 30, 14, 35, 10)
    assert parse_wall_time("2026-06-30T14:35") == datetime(2026, 6, 30, 14, 35)
    assert parse_wall_time("14:35", DAY) == datetime(2026, 6, 30, 14, 35)
    assert parse_wall_time("14:35") is None
    assert parse_wall_time("20260630 24:00") == datetime(2026, 7, 1)
    assert parse_wall_time(1782800000) == datetime.fromtimestamp(1782800000, UTC)
    assert parse_wall_time("1782800000000") == datetime.fromtimestamp(1782800000, UTC)
    for bad in ("", "yesterday", "20261330 10:00", None, True, "2026-06-30 25:00"):
        assert parse_wall_time(bad) is None


def test_rows_without_a_time_are_skipped_and_duplicates_kept_once() -> None:
    rows = [
        {"dataTime": "20260630 00:05", "powerGeneration": 0.0},
        {"powerGeneration": 1.0},
        {"dataTime": "20260630 00:00", "powerGeneration": 0.0},
        {"dataTime": "20260630 00:05", "powerGeneration": 0.5},
        "junk",
    ]
    day = read_day({"itemList": rows}, DAY, BERLIN)
    assert [row.label for row in day.rows] == ["20260630 00:00", "20260630 00:05"]
    assert day.rows[1].pv == 0.0  # the first of two rows with one time wins


# --------------------------------------------------------------------------- request forms


async def test_falls_back_to_post_once_and_keeps_it() -> None:
    refused = SigenAPIError("method not allowed", status_code=405)
    post = variants()["post_list"]
    api, transport = history(refused, post, post)
    day = await api.get_day(DAY, station_id=STATION, tz=BERLIN)
    assert len(day.rows) == 12
    assert api.request_form == "post"
    await api.get_day(DAY, station_id=STATION, tz=BERLIN)
    path = "data-process/sigen/station/statistics/energy"
    assert transport.calls == [
        ("GET", path, {"params": day_query()}),
        ("POST", path, {"json": day_query()}),
        ("POST", path, {"json": day_query()}),
    ]


@pytest.mark.parametrize(
    "error",
    [
        SigenRateLimitError("slow down", retry_after=30.0, status_code=429),
        SigenAPIError("station not found", code=1106),
        SigenAPIError("server error", status_code=500),
    ],
)
async def test_no_fallback_for_other_errors(error: SigenAPIError) -> None:
    api, transport = history(error)
    with pytest.raises(type(error)):
        await api.get_day(DAY, station_id=STATION)
    assert len(transport.calls) == 1
    assert api.request_form is None


async def test_a_working_get_is_not_second_guessed() -> None:
    api, transport = history(variants()["get_flat"], SigenAPIError("param illegal", code=1000))
    await api.get_day(DAY, station_id=STATION)
    with pytest.raises(SigenAPIError, match="param illegal"):
        await api.get_day(DAY, station_id=STATION)
    assert [call[0] for call in transport.calls] == ["GET", "GET"]


# --------------------------------------------------------------------------- dates and zones


async def test_dates_are_checked_before_sending() -> None:
    api, transport = history()
    with pytest.raises(SigenValidationError, match=r"2026-07-02 is in the future"):
        await api.get_day(date(2026, 7, 2), station_id=STATION)
    with pytest.raises(SigenValidationError, match="must be a date"):
        await api.get_day("30/06/2026", station_id=STATION)
    with pytest.raises(SigenValidationError, match="must be a date"):
        await api.get_day(20260630, station_id=STATION)  # type: ignore[arg-type]
    with pytest.raises(SigenValidationError, match="after the end date"):
        async for _ in api.get_days(date(2026, 6, 30), date(2026, 6, 1), station_id=STATION):
            pass
    with pytest.raises(SigenValidationError, match="The end date 2026-07-05 is in the future"):
        async for _ in api.get_days(date(2026, 6, 30), "2026-07-05", station_id=STATION):
            pass
    with pytest.raises(SigenValidationError, match="Unknown time zone"):
        await api.get_day(DAY, station_id=STATION, tz="Mars/Olympus")
    with pytest.raises(SigenValidationError, match="station id"):
        await api.get_day(DAY, station_id=True)
    assert transport.calls == []


async def test_get_days_asks_one_day_at_a_time() -> None:
    flat = variants()["get_flat"]
    api, transport = history(flat, flat, flat)
    days = [day.day async for day in api.get_days("20260629", station_id=STATION)]
    assert days == [date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 1)]
    assert [call[2]["params"]["startDate"] for call in transport.calls] == [
        "20260629",
        "20260630",
        "20260701",
    ]


async def test_an_aware_datetime_is_dated_in_the_station_zone() -> None:
    api, transport = history(variants()["get_flat"])
    late = datetime(2026, 6, 29, 23, 30, tzinfo=UTC)  # 01:30 on the 30th in Berlin
    await api.get_day(late, station_id=STATION, tz=BERLIN)
    assert transport.calls[0][2]["params"]["startDate"] == "20260630"


async def test_the_home_stations_zone_is_used() -> None:
    home = FakeHome()
    api, transport = history(variants()["get_flat"], variants()["get_flat"], home=home)
    day = await api.get_day(DAY)
    assert home.reads == 1  # read once, as async_initialize would
    assert day.zone == BERLIN
    assert transport.calls[0][2]["params"]["stationId"] == STATION
    other = await api.get_day(DAY, station_id="99")  # another station: no zone known
    assert other.zone == UTC
    assert other.rows[0].start == datetime(2026, 6, 30, 8, 0, tzinfo=UTC)


async def test_zone_order_and_commissioning_date() -> None:
    info = StationInfo.from_dict(
        {"stationId": STATION, "timeZoneName": "Australia/Sydney", "stationOpenTime": "2025-01-02"}
    )
    api, _ = history(home=FakeHome(info))
    assert (await api.station_and_zone()) == (STATION, ZoneInfo("Australia/Sydney"))
    assert (await api.station_and_zone(tz="Europe/Berlin"))[1] == BERLIN
    assert await api.commissioning_date() == date(2025, 1, 2)
    assert await api.commissioning_date(station_id="99") is None
    epoch = StationInfo.from_dict({"stationId": STATION, "stationOpenTime": 1735768800000})
    api, _ = history(home=FakeHome(epoch))
    assert await api.commissioning_date(tz="Australia/Sydney") == date(2025, 1, 2)
    bad = StationInfo.from_dict({"stationId": STATION, "timeZoneName": "Nowhere/Land"})
    api, _ = history(home=FakeHome(bad))
    assert (await api.station_and_zone())[1] == UTC
    api, _ = history()
    with pytest.raises(Exception, match="pass station_id"):
        await api.get_day(DAY)


# --------------------------------------------------------------------------- arithmetic


def make_rows(
    day: date, zone: tzinfo, *, kw: float = 1.2, skip: tuple[int, ...] = ()
) -> list[dict[str, Any]]:
    """Rows of a whole local day (as the cloud labels them), ``kw`` of PV all day."""
    first = datetime.combine(day, datetime.min.time(), tzinfo=zone).timestamp()
    last = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    count = round((last.timestamp() - first) / 300)
    rows = []
    for index in range(count):
        start = datetime.fromtimestamp(first + 300 * index, zone)
        energy = round(kw * (index + 1) / 12, 6)
        row: dict[str, Any] = {"dataTime": start.strftime("%Y%m%d %H:%M")}
        row.update(dict.fromkeys(COUNTER_KEYS, energy))
        if index not in skip:
            rows.append(row)
    return rows


def test_the_dropout_rule() -> None:
    rows = make_rows(DAY, BERLIN)
    rows[100].update(dict.fromkeys(COUNTER_KEYS, 0.0))  # the cloud's dropout: all zero
    day = read_day({"itemList": rows}, DAY, BERLIN)
    deltas = interval_deltas(day.rows)
    assert len(deltas) == 287  # the dropout row is skipped, not read as a reset
    after = deltas[100]
    assert after.start == day.rows[101].start
    assert after.since == day.rows[99].start + timedelta(minutes=5)
    assert after.pv == pytest.approx(0.2)  # two intervals' energy
    assert sum(d.pv or 0 for d in deltas) == pytest.approx(rows[-1]["powerGeneration"])
    assert all(d.pv is not None and d.pv >= 0 for d in deltas)
    hours = hourly_sums(deltas)
    assert len(hours) == 24
    assert sum(h.pv or 0 for h in hours) == pytest.approx(1.2 * 24)


def test_one_counter_dropping_skips_the_row() -> None:
    rows = make_rows(DAY, BERLIN)[:4]
    rows[2]["esCharging"] = 0.0
    deltas = interval_deltas(read_day(rows, DAY, BERLIN).rows)
    assert [d.start.minute for d in deltas] == [0, 5, 15]
    assert deltas[-1].battery_charge == pytest.approx(0.2)


def test_missing_counters_are_none_not_zero() -> None:
    rows = make_rows(DAY, BERLIN)[:3]
    del rows[1]["powerToGrid"]
    rows.insert(2, {"dataTime": "20260630 00:07", "batSoc": 50})  # no counter at all
    deltas = interval_deltas(read_day(rows, DAY, BERLIN).rows)
    assert [d.grid_export for d in deltas] == [pytest.approx(0.1), None, pytest.approx(0.2)]
    assert len(deltas) == 3
    hours = hourly_sums(deltas)
    assert hours[0].grid_export == pytest.approx(0.3)
    only_none = hourly_sums(interval_deltas(read_day(rows[1:2], DAY, BERLIN).rows))
    assert only_none[0].grid_export is None


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)])
def test_dst_days(day: date, hours: int) -> None:
    rows = make_rows(day, BERLIN)
    assert len(rows) == hours * 12
    energy = read_day({"itemList": rows}, day, BERLIN)
    assert len(energy.rows) == hours * 12
    starts = [row.start.timestamp() for row in energy.rows]
    assert starts == sorted(starts)
    assert all(b - a == 300 for a, b in itertools.pairwise(starts))
    hourly = energy.hourly()
    assert len(hourly) == hours
    assert all(hour.intervals == 12 for hour in hourly)
    assert all(hour.pv == pytest.approx(1.2) for hour in hourly)
    assert sum(hour.pv or 0 for hour in hourly) == pytest.approx(1.2 * hours)
    ends = [hour.end.timestamp() - hour.start.timestamp() for hour in hourly]
    assert ends == [3600] * hours


def test_the_repeated_hour_in_any_order() -> None:
    day = date(2026, 10, 25)
    rows = make_rows(day, BERLIN)
    by_label = sorted(rows, key=lambda row: row["dataTime"])  # duplicates side by side
    energy = read_day({"itemList": by_label}, day, BERLIN)
    twos = [row for row in energy.rows if row.start.hour == 2]
    assert len(twos) == 24
    assert [row.start.fold for row in twos] == [0] * 12 + [1] * 12
    assert [row.start.utcoffset() for row in twos] == [timedelta(hours=2)] * 12 + [
        timedelta(hours=1)
    ] * 12
    assert len(energy.hourly()) == 25


def test_a_gap_is_not_a_zero() -> None:
    rows = make_rows(DAY, BERLIN, skip=tuple(range(120, 144)))  # 10:00-11:55 missing
    energy = read_day({"itemList": rows}, DAY, BERLIN)
    deltas = energy.deltas()
    after = next(d for d in deltas if d.start.hour == 12)
    assert after.since == datetime(2026, 6, 30, 10, 0, tzinfo=BERLIN)
    assert after.pv == pytest.approx(0.1 * 25)  # the gap's energy, where the cloud gave it
    hours = energy.hourly()
    assert [h.start.hour for h in hours] == [h for h in range(24) if h not in (10, 11)]
    assert sum(h.pv or 0 for h in hours) == pytest.approx(1.2 * 24)


def test_midnight_resets_across_days() -> None:
    rows = make_rows(DAY, BERLIN)[-2:] + make_rows(DAY + timedelta(days=1), BERLIN)[:2]
    energy = read_day({"itemList": rows}, DAY, BERLIN)
    deltas = interval_deltas(energy.rows)
    assert len(deltas) == 4
    assert deltas[0].pv == pytest.approx(0.1 * 287)  # from midnight: the rows before are gone
    assert deltas[2].since == datetime(2026, 7, 1, tzinfo=BERLIN)
    assert deltas[2].pv == pytest.approx(0.1)


def test_the_lifetime_dip_helper() -> None:
    before = {"FROM_SOLAR": 100.0, "TO_GRID": 40.0, "TO_BATTERY": 20.0}
    dipped = {"FROM_SOLAR": 90.0, "TO_GRID": 41.0}  # a dip, a rise, a missing node
    merged = merge_lifetime_totals(before, dipped)
    assert merged == {"FROM_SOLAR": 100.0, "TO_GRID": 41.0, "TO_BATTERY": 20.0}
    assert merge_lifetime_totals({}, dipped) == dipped
    assert merge_lifetime_totals(merged, {"NEW": 1.0})["NEW"] == 1.0
    assert before == {"FROM_SOLAR": 100.0, "TO_GRID": 40.0, "TO_BATTERY": 20.0}  # unchanged


# --------------------------------------------------------------------------- series, lifetime


async def test_power_series() -> None:
    api, transport = history(fixture()["power_series"])
    series = await api.get_power_series(DAY, station_id=STATION, tz=BERLIN)
    assert transport.calls == [
        ("GET", "data-process/sigen/station/statistics/v1/energy", {"params": day_query()})
    ]
    assert set(series.series) == {
        "FROM_SOLAR",
        "FROM_THIRD_PARTY_INV",
        "TO_LOAD",
        "BATTERY",
        "GRID",
        "TO_EVDC",
        "FROM_EVDC",
    }
    solar = series["FROM_SOLAR"]
    assert len(solar) == 11  # the point without a value is left out
    assert solar[0].time == datetime(2026, 6, 30, 8, 0, tzinfo=BERLIN)
    assert solar[0].kw == 1.79
    time, kw = series["TO_LOAD"][0]
    assert kw == -1.222  # the cloud's sign, kept
    assert time.tzinfo == BERLIN
    with pytest.raises(SigenAPIError, match="a list of series"):
        read_power_series({"chartData": {"dataSeries": "no"}}, DAY, BERLIN)
    assert read_power_series([], DAY, BERLIN).series == {}


@pytest.mark.parametrize("name", ["lifetime", "lifetime_double_encoded"])
async def test_lifetime_totals(name: str) -> None:
    transport = FakeTransport(fixture()[name])
    totals = await lifetime_totals(transport.request, "SIMSYS00000001")
    assert totals["FROM_SOLAR"] == 10792.74
    assert totals["TO_EVDC"] == 0.0
    assert len(totals) == 9
    method, path, kwargs = transport.calls[0]
    assert (method, path) == ("GET", "openapi/systems/SIMSYS00000001/v1/history")
    assert kwargs["params"]["level"] == "Lifetime"
    assert kwargs["params"]["systemId"] == "SIMSYS00000001"
    date.fromisoformat(kwargs["params"]["date"])  # YYYY-MM-DD, not YYYYMMDD


async def test_lifetime_totals_odd_answers() -> None:
    odd = {"code": 0, "data": {"nodes": [{"id": "FROM_SOLAR", "value": "12.5 kWh"}, {"id": 3}]}}
    transport = FakeTransport(odd, {"code": 0, "data": {"sankeyData": {}}})
    assert await lifetime_totals(transport.request, "S") == {"FROM_SOLAR": 12.5}
    with pytest.raises(SigenAPIError, match="Reading the northbound lifetime totals of S"):
        await lifetime_totals(transport.request, "S")


def test_energy_row_is_built_with_its_start() -> None:
    start = datetime(2026, 6, 30, 8, 0, tzinfo=BERLIN)
    row = EnergyRow.build({"dataTime": "20260630 08:00", "powerUse": "1.5"}, start=start)
    assert row.consumption == 1.5
    assert row.start is start


# --------------------------------------------------------------------------- the simulator


SIM_START = datetime(2026, 11, 2, 12, 0, tzinfo=BERLIN).timestamp()
SIM = pytest.mark.sim_config(
    time_scale=0, start_time=SIM_START, timezone="Europe/Berlin", history_offline=()
)


def sim_today(sim: Simulator) -> Any:
    return lambda zone: datetime.fromtimestamp(sim.clock.now(), zone).date()


@SIM
async def test_against_the_simulator(sim: Simulator, socket_enabled: None) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        client.history.today = sim_today(sim)
        dst = await client.history.get_day(date(2026, 10, 25))  # the zone from station/home
        assert dst.zone == BERLIN
        assert len(dst.rows) == 300
        station = sim.stations[0]
        truth = sim.history.day(station, date(2026, 10, 25))
        assert truth.totals is not None
        expected = [round(value, 2) for value in truth.totals]
        assert list(dst.counters().values()) == expected
        hours = dst.hourly()
        assert len(hours) == 25
        for name, total in zip(NAMES, expected, strict=True):
            summed = sum(getattr(hour, name) or 0.0 for hour in hours)
            assert summed == pytest.approx(total, abs=1e-6)  # the totals agree with the rows
        assert await client.history.commissioning_date() == date(2025, 9, 28)
        spring = await client.history.get_day(date(2026, 3, 29))
        assert len(spring.hourly()) == 23
        today = await client.history.get_day(date(2026, 11, 2))
        assert len(today.rows) == 144  # 00:00 … 11:55, the intervals that ended
        series = await client.history.get_power_series(date(2026, 10, 25))
        assert len(series["FROM_SOLAR"]) == 300
        assert sim.count("statistics/energy", method="GET") == 3


@pytest.mark.sim_config(history_dropout_rate=0.05)
@SIM
async def test_dropouts_from_the_simulator(sim: Simulator, socket_enabled: None) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        client.history.today = sim_today(sim)
        day = await client.history.get_day(date(2026, 10, 1))
        zero_rows = [row for row in day.rows if row.pv == 0 and row.consumption == 0]
        assert zero_rows  # some dropouts (the night's PV is 0 but the use never is)
        deltas = day.deltas()
        assert len(deltas) == len(day.rows) - len(zero_rows)
        assert sum(d.consumption or 0 for d in deltas) == pytest.approx(day.consumption)


@SIM
async def test_the_post_fallback_against_the_simulator(
    sim: Simulator, socket_enabled: None
) -> None:
    sim.faults.http_error("statistics/energy", 405, method="GET")
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        client.history.today = sim_today(sim)
        day = await client.history.get_day(date(2026, 10, 30))
        assert len(day.rows) == 288
        assert client.history.request_form == "post"
    assert sim.count("statistics/energy", method="POST") == 1


@pytest.mark.sim_config(history_rate_limit=2)
@SIM
async def test_the_rate_limit_against_the_simulator(sim: Simulator, socket_enabled: None) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        client.history.today = sim_today(sim)
        await client.history.get_day(date(2026, 10, 30))
        await client.history.get_day(date(2026, 10, 29))
        with pytest.raises(SigenRateLimitError) as caught:
            await client.history.get_day(date(2026, 10, 28))
        assert caught.value.retry_after == 60
        await sim.advance(60)
        await client.history.get_day(date(2026, 10, 28))


@pytest.mark.sim_config(nb_rate_limits=False)
@SIM
async def test_lifetime_dip_against_the_simulator(sim: Simulator, socket_enabled: None) -> None:
    client = NorthboundClient(sim.nb_url, sim.username, sim.password)
    async with client:
        evening = await client.get_lifetime_totals("SIMSYS00000001")
        await sim.advance(12 * 3600 + 300)  # 00:05 the next day: in the dip, a node missing
        dipped = await client.get_lifetime_totals("SIMSYS00000001")
        assert dipped["TO_LOAD"] < evening["TO_LOAD"]
        assert "TO_BATTERY" not in dipped
        published = merge_lifetime_totals(evening, dipped)
        assert published["TO_LOAD"] == evening["TO_LOAD"]
        assert published["TO_BATTERY"] == evening["TO_BATTERY"]
        await sim.advance(30 * 60)  # 00:35: the dip is over
        later = await client.get_lifetime_totals("SIMSYS00000001")
        assert later["TO_LOAD"] > evening["TO_LOAD"]
        assert merge_lifetime_totals(published, later) == later
