"""The simulator's history (issue 19): statistics/energy, statistics/v1/energy, NB v1/history.

Plain aiohttp against the ``sim`` fixture, plus the generator and the archive on their
own: any day always gives the same answer, the totals agree with the rows, DST days
have 276 or 300 rows, dropouts, offline stretches, both request forms, the rate limit,
the lifetime dip.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.model.history import COUNTER_KEYS, SOC_ANCHOR_DAYS, HistoryParams, generate_day
from tests.sim.helpers import UA, app_login, nb_login

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.sim_config(
        time_scale=0,
        start_time=datetime(2026, 11, 2, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp(),
        timezone="Europe/Berlin",
    ),
]

BERLIN = ZoneInfo("Europe/Berlin")
ENERGY = "data-process/sigen/station/statistics/energy"
SERIES = "data-process/sigen/station/statistics/v1/energy"
STATION = 20240523012345
SYSTEM = "SIMSYS00000001"
POWER_KEYS = ("pvTotalPower", "loadPower", "batSoc")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


@pytest.fixture
async def token(sim: Simulator, session: aiohttp.ClientSession) -> str:
    return await app_login(session, sim)


async def stats(  # noqa: PLR0917
    session: aiohttp.ClientSession,
    sim: Simulator,
    token: str | None,
    day: str | None = "20261025",
    path: str = ENERGY,
    method: str = "GET",
    **extra: Any,
) -> tuple[int, Any]:
    params: dict[str, Any] = {"stationId": str(STATION), "dateFlag": "1"}
    if day is not None:
        params.update(startDate=day, endDate=day)
    params.update(extra)
    params = {key: value for key, value in params.items() if value is not None}
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    if method == "GET":
        request = session.get(sim.api_url + path, params=params, headers=headers)
    else:
        request = session.post(sim.api_url + path, json=params, headers=headers)
    async with request as r:
        return r.status, await r.json(content_type=None)


async def day_data(session: aiohttp.ClientSession, sim: Simulator, token: str, day: str) -> Any:
    status, body = await stats(session, sim, token, day)
    assert status == 200, body
    assert body["code"] == 0, body
    return body["data"]


async def nb_history(
    session: aiohttp.ClientSession, sim: Simulator, token: str, day: str, level: str
) -> Any:
    async with session.get(
        sim.nb_url + f"openapi/systems/{SYSTEM}/v1/history",
        params={"systemId": SYSTEM, "date": day, "level": level},
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        return await r.json()


async def lifetime(session: aiohttp.ClientSession, sim: Simulator, day: str) -> dict[str, float]:
    """The lifetime totals (a new login each time: the clock jumps over token lifetimes)."""
    nb_token = await nb_login(session, sim)
    return nodes_of(await nb_history(session, sim, nb_token, day, "Lifetime"))


def nodes_of(body: Any) -> dict[str, float]:
    return {node["id"]: node["value"] for node in body["data"]["sankeyData"]["nodes"]}


def labels(data: Any) -> list[str]:
    return [row["dataTime"] for row in data["itemList"]]


def is_dropout(row: dict[str, Any]) -> bool:
    return all(row[key] == 0 for key in COUNTER_KEYS) and row["loadPower"] > 0


# --------------------------------------------------------------------------- a day


async def test_a_day(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    data = await day_data(session, sim, token, "20261020")
    rows = data["itemList"]
    assert len(rows) == 288
    assert rows[0]["dataTime"] == "20261020 00:00"  # interval start, local wall clock
    assert rows[-1]["dataTime"] == "20261020 23:55"
    good = [row for row in rows if not is_dropout(row)]
    for key in COUNTER_KEYS:
        values = [row[key] for row in good]
        assert values == sorted(values)  # cumulative since midnight
        assert data[key] == good[-1][key]  # the totals agree with the rows
    for row in rows:
        for key in POWER_KEYS:
            assert isinstance(row[key], float)
        assert row["toGridPower"] * row["fromGridPower"] == 0
        assert row["esChargePower"] * row["esDischargePower"] == 0
    pv = [row["pvTotalPower"] for row in rows]
    assert max(pv) > 0
    assert pv[0] == 0.0  # night
    # the counters follow the powers: 5 minutes of the interval's power
    assert good[-1]["powerGeneration"] == pytest.approx(sum(pv) / 12, abs=0.01)
    assert data["powerUse"] == pytest.approx(
        data["powerGeneration"]
        + data["powerFromGrid"]
        + data["esDischarging"]
        - data["powerToGrid"]
        - data["esCharging"],
        abs=0.05,
    )


async def test_always_the_same_answer(
    sim: Simulator, session: aiohttp.ClientSession, token: str, sim_config: SimConfig
) -> None:
    first = await day_data(session, sim, token, "20260615")
    await sim.advance(3 * 86400)
    token = await app_login(session, sim)  # the first one expired meanwhile
    assert await day_data(session, sim, token, "20260615") == first
    later = dataclasses.replace(sim_config, start_time=sim.clock.now() + 40 * 86400)
    async with Simulator(later) as other:
        other_token = await app_login(session, other)
        assert await day_data(session, other, other_token, "20260615") == first
    other_day = await day_data(session, sim, token, "20260616")
    assert other_day["powerGeneration"] != first["powerGeneration"]


@pytest.mark.sim_config(stations=2)
async def test_stations_differ(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    first = await day_data(session, sim, token, "20260615")
    _, body = await stats(session, sim, token, "20260615", stationId=str(STATION + 1))
    assert body["data"]["powerGeneration"] != first["powerGeneration"]


@pytest.mark.parametrize(
    ("day", "count", "missing", "twice"),
    [("20260329", 276, "20260329 02:00", None), ("20261025", 300, None, "20261025 02:00")],
)
async def test_dst_days(  # noqa: PLR0917
    sim: Simulator,
    session: aiohttp.ClientSession,
    token: str,
    day: str,
    count: int,
    missing: str | None,
    twice: str | None,
) -> None:
    data = await day_data(session, sim, token, day)
    names = labels(data)
    assert len(names) == count
    if missing is not None:
        assert missing not in names
        assert names[23] == f"{day} 01:55"
        assert names[24] == f"{day} 03:00"
    if twice is not None:
        assert names.count(twice) == 2
        assert names.count(f"{day} 02:55") == 2
        assert len(set(names)) == 288
    assert names[-1] == f"{day} 23:55"


async def test_today_future_and_before_commissioning(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    today = await day_data(session, sim, token, "20261102")  # the clock says 12:00
    assert len(today["itemList"]) == 144
    assert today["itemList"][-1]["dataTime"] == "20261102 11:55"
    await sim.advance(600)
    assert len((await day_data(session, sim, token, "20261102"))["itemList"]) == 146
    for empty_day in ("20261103", "20250927"):  # to come; before commissioning
        data = await day_data(session, sim, token, empty_day)
        assert data["itemList"] == []
        assert all(data[key] is None for key in COUNTER_KEYS)
    commissioning = await day_data(session, sim, token, "20250928")
    assert len(commissioning["itemList"]) == 288
    assert sim.history.commissioning == date(2025, 9, 28)  # 400 days before the start


@pytest.mark.sim_config(commissioning_date="2026-10-01", history_days=5)
async def test_commissioning_date_in_station_home(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    async with session.get(
        sim.api_url + "device/owner/station/home", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        home = (await r.json())["data"]
    assert home["stationOpenTime"] == "2026-10-01"
    assert home["timeZoneName"] == "Europe/Berlin"
    assert (await day_data(session, sim, token, "20260930"))["itemList"] == []


# --------------------------------------------------------------------------- dropouts, gaps


@pytest.mark.sim_config(history_dropout_rate=0.03)
async def test_dropouts(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    data = await day_data(session, sim, token, "20261020")
    rows = data["itemList"]
    dropouts = [index for index, row in enumerate(rows) if is_dropout(row)]
    assert 2 <= len(dropouts) <= 25
    for index in dropouts:
        assert rows[index]["batSoc"] > 0  # the powers and SOC stay sane
        if 0 < index < len(rows) - 1 and not is_dropout(rows[index + 1]):
            assert rows[index + 1]["powerUse"] >= rows[index - 1]["powerUse"]
    assert data == await day_data(session, sim, token, "20261020")  # the same ones again
    truth = sim.history.true_day(sim.stations[0], date(2026, 10, 20))
    assert data["powerUse"] == round(truth[-1].counters[1], 2)


@pytest.mark.sim_config(history_dropout_rate=0.0)
async def test_no_dropouts(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    data = await day_data(session, sim, token, "20261020")
    assert not any(is_dropout(row) for row in data["itemList"])


@pytest.mark.sim_config(
    history_offline=(
        ("2026-10-20T10:00", "2026-10-20T12:30"),
        ("2026-10-21T00:00", "2026-10-22T00:00"),
    )
)
async def test_offline_stretches(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    data = await day_data(session, sim, token, "20261020")
    names = labels(data)
    assert len(names) == 288 - 30
    assert "20261020 10:00" not in names
    assert "20261020 12:25" not in names
    after = names.index("20261020 12:30")
    rows = data["itemList"]
    jump = rows[after]["powerUse"] - rows[after - 1]["powerUse"]
    assert jump > 2 * rows[after]["loadPower"] / 12  # the gap's energy came with the next row
    whole = await day_data(session, sim, token, "20261021")
    assert whole["itemList"] == []
    assert whole["powerGeneration"] is None


async def test_the_default_offline_stretch(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    # 10:00 20 days before the start to 14:00 18 days before: a whole day without rows
    assert (await day_data(session, sim, token, "20261014"))["itemList"] == []
    partial = await day_data(session, sim, token, "20261013")
    assert labels(partial)[-1] == "20261013 09:55"
    assert labels(await day_data(session, sim, token, "20261015"))[0] == "20261015 14:00"


def test_a_malformed_offline_stretch_fails_at_once() -> None:
    with pytest.raises(ValueError, match="isoformat"):
        Simulator(SimConfig(history_offline=(("yesterday", "today"),)))


# --------------------------------------------------------------------------- forms, errors


@pytest.mark.parametrize("path", [ENERGY, SERIES])
async def test_get_and_post_agree(
    sim: Simulator, session: aiohttp.ClientSession, token: str, path: str
) -> None:
    _, get = await stats(session, sim, token, "20261020", path=path)
    _, post = await stats(session, sim, token, "20261020", path=path, method="POST")
    assert post["code"] == 0
    assert post["data"] == [get["data"]]  # the POST answers a list holding the object
    _, numeric = await stats(session, sim, token, None, path=path, method="POST", stationId=STATION)
    assert numeric["code"] == 0
    assert (
        numeric["data"][0] == (await stats(session, sim, token, "20261102", path=path))[1]["data"]
    )  # no date: today


@pytest.mark.sim_config(history_values_as_strings=True)
async def test_numbers_as_strings(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    data = await day_data(session, sim, token, "20261020")
    assert isinstance(data["powerGeneration"], str)
    assert float(data["powerGeneration"]) > 0
    assert isinstance(data["itemList"][100]["batSoc"], str)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"stationId": None}, 1000),
        ({"stationId": "1"}, 1106),
        ({"dateFlag": "2"}, 1000),
        ({"startDate": "2026-10-20", "endDate": "2026-10-20"}, 1000),
        ({"startDate": "20261020", "endDate": "20261021"}, 1000),
        ({"startDate": "20261340", "endDate": "20261340"}, 1000),
    ],
)
async def test_bad_requests(
    sim: Simulator, session: aiohttp.ClientSession, token: str, extra: dict[str, Any], code: int
) -> None:
    status, body = await stats(session, sim, token, **extra)
    assert status == 200
    assert body["code"] == code


async def test_needs_a_token_and_json(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    assert (await stats(session, sim, None))[0] == 401
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(sim.api_url + ENERGY, data="not json", headers=headers) as r:
        assert (await r.json())["code"] == 1000


# --------------------------------------------------------------------------- power series


async def test_power_series(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    _, body = await stats(session, sim, token, "20261020", path=SERIES)
    series = {item["id"]: item["points"] for item in body["data"]["chartData"]["dataSeries"]}
    assert set(series) == {
        "FROM_SOLAR",
        "FROM_THIRD_PARTY_INV",
        "TO_LOAD",
        "BATTERY",
        "GRID",
        "TO_EVDC",
        "FROM_EVDC",
    }
    assert all(len(points) == 288 for points in series.values())
    assert series["FROM_SOLAR"][0]["time"] == "20261020 00:00"
    for index in range(288):
        balance = sum(
            series[name][index]["value"] for name in ("FROM_SOLAR", "TO_LOAD", "BATTERY", "GRID")
        )
        assert balance == pytest.approx(0, abs=0.01)  # load negative, discharge and import +
    assert all(point["value"] <= 0 for point in series["TO_LOAD"])
    energy = await day_data(session, sim, token, "20261020")
    pv_kwh = sum(point["value"] for point in series["FROM_SOLAR"]) / 12
    assert pv_kwh == pytest.approx(energy["powerGeneration"], abs=0.01)


# --------------------------------------------------------------------------- rate limit


@pytest.mark.sim_config(history_rate_limit=3, history_rate_window=60.0)
async def test_rate_limit(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    for day in ("20261020", "20261019", "20261018"):
        assert (await stats(session, sim, token, day))[0] == 200
    async with session.get(
        sim.api_url + ENERGY,
        params={"stationId": str(STATION), "dateFlag": "1", "startDate": "20261017"},
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "60"
        assert (await r.json())["code"] == 429
    assert (await stats(session, sim, token, path=SERIES))[0] == 200  # its own budget
    await sim.advance(30)
    assert (await stats(session, sim, token))[0] == 429
    await sim.advance(30)
    assert (await stats(session, sim, token))[0] == 200
    for _ in range(2):
        await stats(session, sim, token)
    assert (await stats(session, sim, token))[0] == 429
    sim.clear()
    assert (await stats(session, sim, token))[0] == 200


@pytest.mark.sim_config(history_rate_limit=0)
async def test_no_rate_limit(sim: Simulator, session: aiohttp.ClientSession, token: str) -> None:
    for _ in range(40):
        assert (await stats(session, sim, token))[0] == 200


async def test_the_default_rate_limit(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    statuses = [(await stats(session, sim, token))[0] for _ in range(31)]
    assert statuses == [200] * 30 + [429]  # 30 per minute per endpoint and station


# --------------------------------------------------------------------------- northbound


@pytest.mark.sim_config(nb_rate_limits=False)
async def test_nb_day_month_year(
    sim: Simulator, session: aiohttp.ClientSession, token: str
) -> None:
    nb_token = await nb_login(session, sim)
    day = nodes_of(await nb_history(session, sim, nb_token, "2026-10-20", "Day"))
    app = await day_data(session, sim, token, "20261020")
    assert day["FROM_SOLAR"] == pytest.approx(app["powerGeneration"], abs=0.01)
    assert day["TO_LOAD"] == pytest.approx(app["powerUse"], abs=0.01)
    assert day["TO_EVDC"] == 0.0
    month = nodes_of(await nb_history(session, sim, nb_token, "2026-10-20", "month"))
    year = nodes_of(await nb_history(session, sim, nb_token, "2026-10-20", "YEAR"))
    assert day["FROM_SOLAR"] < month["FROM_SOLAR"] < year["FROM_SOLAR"]
    october = sim.history.period_totals(sim.stations[0], date(2026, 10, 1), date(2026, 10, 31))
    assert month["FROM_SOLAR"] == round(october[0], 2)
    bad = await nb_history(session, sim, nb_token, "20261020", "Day")
    assert bad["code"] == 1000  # YYYYMMDD is "param illegal"
    assert (await nb_history(session, sim, nb_token, "2026-10-20", "Week"))["code"] == 1000
    before = await nb_history(session, sim, nb_token, "2025-09-27", "Day")
    assert before["code"] == 1201  # before commissioning: access restriction
    lifetime = await nb_history(session, sim, nb_token, "2025-09-27", "Lifetime")
    assert lifetime["code"] == 0  # the date does not matter


async def test_nb_history_rate_limit(sim: Simulator, session: aiohttp.ClientSession) -> None:
    nb_token = await nb_login(session, sim)
    assert (await nb_history(session, sim, nb_token, "2026-10-20", "Lifetime"))["code"] == 0
    assert (await nb_history(session, sim, nb_token, "2026-10-20", "Day"))["code"] == 1201
    await sim.advance(300)
    assert (await nb_history(session, sim, nb_token, "2026-10-20", "Day"))["code"] == 0


@pytest.mark.sim_config(nb_rate_limits=False, nb_double_encode_all=True)
async def test_nb_history_double_encoded(sim: Simulator, session: aiohttp.ClientSession) -> None:
    nb_token = await nb_login(session, sim)
    body = await nb_history(session, sim, nb_token, "2026-10-20", "Lifetime")
    assert isinstance(body["data"], str)


@pytest.mark.sim_config(nb_rate_limits=False)
async def test_lifetime_dip(sim: Simulator, session: aiohttp.ClientSession) -> None:
    noon = await lifetime(session, sim, "2026-11-02")
    first_days = sim.history.period_totals(sim.stations[0], date(2025, 9, 28), date(2026, 11, 1))
    assert noon["FROM_SOLAR"] > round(first_days[0], 2)  # all days so far and today's morning
    await sim.advance(12 * 3600 - 300)  # 23:55
    evening = await lifetime(session, sim, "2026-11-02")
    assert evening["TO_LOAD"] > noon["TO_LOAD"]
    await sim.advance(600)  # 00:05: the day before is missing, and so is a node
    dip = await lifetime(session, sim, "2026-11-03")
    assert dip["TO_LOAD"] < evening["TO_LOAD"]
    assert "TO_BATTERY" not in dip
    await sim.advance(600)  # 00:15: still in the dip, every node there
    assert "TO_BATTERY" in await lifetime(session, sim, "2026-11-03")
    await sim.advance(20 * 60)  # 00:35: the dip is over
    after = await lifetime(session, sim, "2026-11-03")
    assert after["TO_LOAD"] >= evening["TO_LOAD"]
    for node in ("FROM_SOLAR", "TO_LOAD", "TO_GRID", "FROM_GRID", "TO_BATTERY", "FROM_BATTERY"):
        assert after[node] >= evening[node]


@pytest.mark.sim_config(nb_rate_limits=False, nb_lifetime_dip_minutes=0)
async def test_no_dip(sim: Simulator, session: aiohttp.ClientSession) -> None:
    await sim.advance(12 * 3600 - 300)
    evening = await lifetime(session, sim, "2026-11-02")
    await sim.advance(600)
    night = await lifetime(session, sim, "2026-11-03")
    assert night["TO_LOAD"] >= evening["TO_LOAD"]
    assert "TO_BATTERY" in night


# --------------------------------------------------------------------------- the generator


def test_generated_days() -> None:
    params = HistoryParams(1234, "Europe/Berlin", 10.3, 10.0, 0.4, 5.0, 5.0)
    spring = generate_day(params, date(2026, 3, 29))
    autumn = generate_day(params, date(2026, 10, 25))
    normal = generate_day(params, date(2026, 6, 21))
    assert (len(spring), len(autumn), len(normal)) == (276, 300, 288)
    for day in (spring, autumn, normal):
        starts = [interval.start for interval in day]
        assert all(b - a == 300 for a, b in itertools.pairwise(starts))
        first = datetime.fromtimestamp(starts[0], BERLIN)
        assert (first.hour, first.minute) == (0, 0)
        for position in range(6):
            values = [interval.counters[position] for interval in day]
            assert values == sorted(values)
        for interval in day:
            assert interval.pv - interval.battery - interval.grid == pytest.approx(
                interval.load, abs=0.002
            )
            assert 0 <= interval.soc <= 100
    assert generate_day.__wrapped__(params, date(2026, 6, 21)) == normal  # deterministic
    # the SOC goes on from the day before, but for a day that starts four weeks
    day = date(2026, 6, 10)
    assert day.toordinal() % SOC_ANCHOR_DAYS != 0
    before = generate_day(params, day - timedelta(days=1))
    assert abs(generate_day(params, day)[0].soc - before[-1].soc) < 1.0
    summer = normal[-1].counters[0]
    winter = generate_day(params, date(2026, 12, 21))[-1].counters[0]
    assert summer > winter  # the season


def test_the_archive_follows_the_clock() -> None:
    start = datetime(2026, 11, 2, 0, 30, tzinfo=BERLIN).timestamp()
    sim = Simulator(SimConfig(time_scale=0, start_time=start, timezone="Europe/Berlin"))
    station = sim.stations[0]
    assert sim.history.today() == date(2026, 11, 2)
    assert len(sim.history.day(station, date(2026, 11, 2)).rows) == 6
    assert sim.history.day(station, date(2024, 1, 1)).before
    assert sim.history.day_totals(station, date(2024, 1, 1)) == (0.0,) * 6
    assert sim.history.day_totals(station, date(2026, 12, 1)) == (0.0,) * 6
    assert sim.history.day(station, date(2026, 11, 1)).totals == (
        sim.history.true_day(station, date(2026, 11, 1))[-1].counters
    )
    assert sim.history.commissioning == date(2026, 11, 2) - timedelta(days=400)
