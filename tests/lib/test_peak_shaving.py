"""``sigen.grid.get_peak_shaving`` / ``set_peak_shaving`` against the simulator (issue 18)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen import (
    NBMode,
    NorthboundClient,
    PeakShaving,
    PeakShavingPeriod,
    Sigen,
    SigenAPIError,
    SigenValidationError,
)
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0, strict_setting_types=True)

PATH = "peak/shaving"
WEEKDAYS = {"days": [1, 2, 3, 4, 5], "start": "17:00", "end": "21:00", "peak_power": 3.5}


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        yield client


async def test_read_write_read_back(sim: Simulator, api: Sigen) -> None:
    assert await api.grid.get_peak_shaving() == PeakShaving(enabled=False, soc=20, periods=())
    written = await api.grid.set_peak_shaving(enabled=True, soc=30, periods=[WEEKDAYS])
    period = PeakShavingPeriod((1, 2, 3, 4, 5), "17:00", "21:00", 3.5)
    assert written == PeakShaving(enabled=True, soc=30, periods=(period,))
    assert await api.grid.get_peak_shaving() == written
    (post,) = sim.requests(PATH, "POST")
    assert post.json() == {
        "stationId": sim.stations[0].station_id,
        "controlMode": 1,
        "shavingSOC": 30,
        "settingList": [
            {"whichDay": "1,2,3,4,5", "startTime": "17:00", "endTime": "21:00", "peakPower": 3.5}
        ],
    }
    assert sim.stations[0].peak_shaving.enabled is True


async def test_what_is_not_given_is_kept(sim: Simulator, api: Sigen) -> None:
    await api.grid.set_peak_shaving(enabled=True, soc=30, periods=[WEEKDAYS])
    after = await api.grid.set_peak_shaving(enabled=False)
    assert (after.enabled, after.soc, len(after.periods)) == (False, 30, 1)
    assert (await api.grid.get_peak_shaving()).periods == after.periods
    emptied = await api.grid.set_peak_shaving(periods=[])
    assert (emptied.enabled, emptied.periods) == (False, ())
    # everything given: nothing is read first
    reads = sim.count(PATH, "GET")
    await api.grid.set_peak_shaving(enabled=True, soc=10, periods=[])
    assert sim.count(PATH, "GET") == reads


async def test_periods_as_models_and_day_spellings(api: Sigen) -> None:
    period = PeakShavingPeriod((6, 7), "00:00", "24:00", 0.0)
    written = await api.grid.set_peak_shaving(
        enabled=True,
        soc=0,
        periods=[period, {"days": "1-5", "start": "9:00", "end": "12:30", "peak_power_kw": 99.9}],
    )
    assert written.periods[0] == period
    assert written.periods[1].days == (1, 2, 3, 4, 5)
    assert written.periods[1].start == "09:00"
    assert (await api.grid.get_peak_shaving()).periods == written.periods


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"soc": 101}, "0 to 100 %"),
        ({"soc": 10.5}, "0 to 100 %"),
        ({"enabled": "yes"}, "True or False"),
        ({"periods": "17:00-21:00"}, "list of periods"),
        ({"periods": [{**WEEKDAYS, "peak_power": 100.5}]}, "0 to 100 kW in steps of 0.1"),
        ({"periods": [{**WEEKDAYS, "peak_power": 3.55}]}, "steps of 0.1 kW"),
        ({"periods": [{**WEEKDAYS, "peak_power": -1}]}, "0 to 100 kW"),
        ({"periods": [{**WEEKDAYS, "days": [0, 1]}]}, "1 \\(Monday\\) to 7"),
        ({"periods": [{**WEEKDAYS, "start": "24:00"}]}, "00:00 to 23:59"),
        ({"periods": [{**WEEKDAYS, "end": "25:00"}]}, "00:00 to 24:00"),
        ({"periods": [{**WEEKDAYS, "start": "22:00"}]}, "must be after the start"),
        ({"periods": [{"days": [1], "start": "01:00"}]}, "end is missing"),
        ({"periods": [3]}, "must be a mapping"),
        ({"periods": [WEEKDAYS, {**WEEKDAYS, "days": [5, 6], "start": "20:00"}]}, "overlaps"),
    ],
)
async def test_bad_input_sends_nothing(
    sim: Simulator, api: Sigen, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(SigenValidationError, match=message):
        await api.grid.set_peak_shaving(**kwargs)
    assert sim.count(PATH) == 0


@pytest.mark.sim_config(time_scale=0, peak_shaving_days="list")
async def test_days_as_a_list(api: Sigen) -> None:
    await api.grid.set_peak_shaving(enabled=True, soc=20, periods=[WEEKDAYS])
    assert (await api.grid.get_peak_shaving()).periods[0].days == (1, 2, 3, 4, 5)


def test_the_model_reads_every_spelling(caplog: pytest.LogCaptureFixture) -> None:
    shaving = PeakShaving.from_dict(
        {
            "controlMode": "1",
            "shavingSOC": "12.0",
            "settingList": [
                {"whichDay": [1, 2], "startTime": "08:00:00", "endTime": "00:00", "peakPower": "4"},
                {"whichDay": "7", "startTime": "bad", "endTime": "09:00", "peakPower": 1},
                {"days": "3-4", "start": "01:00", "end": "02:00", "peakPowerKw": 2.5},
                "not a period",
            ],
        }
    )
    assert shaving.enabled is True
    assert shaving.soc == 12
    assert shaving.periods == (
        PeakShavingPeriod((1, 2), "08:00", "24:00", 4.0),
        PeakShavingPeriod((3, 4), "01:00", "02:00", 2.5),
    )
    assert shaving.period_at(2, 23 * 60) == shaving.periods[0]
    assert shaving.period_at(5, 60) is None
    assert "unreadable peak-shaving period" in caplog.text
    empty = PeakShaving.from_dict({"controlMode": 0})
    assert (empty.enabled, empty.soc, empty.periods) == (False, None, ())
    assert PeakShaving.from_dict({"settingList": None}).periods == ()


@pytest.mark.sim_config(time_scale=0, peak_shaving_refuses_nb=True, nb_rate_limits=False)
async def test_northbound_switch_refused_while_shaving(sim: Simulator, api: Sigen) -> None:
    """NB code 1504 "peak shaving enabled" (the variant) comes back as a SigenAPIError."""
    system_id = sim.stations[0].system_id
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    ) as nb:
        await nb.switch_mode(system_id, NBMode.FFG)
        await api.grid.set_peak_shaving(enabled=True, soc=20, periods=[])
        with pytest.raises(SigenAPIError) as err:
            await nb.switch_mode(system_id, NBMode.MSC)
        assert err.value.code == 1504
        assert "peak shaving" in str(err.value)
        await api.grid.set_peak_shaving(enabled=False)
        await nb.switch_mode(system_id, NBMode.MSC)
    assert sim.stations[0].mode == 0


async def _seed_periods(sim: Simulator, periods: list[dict[str, Any]]) -> None:
    """Periods set from outside (the simulator's control API), as the owner's app would."""
    url = f"{sim.control_url}stations/{sim.stations[0].system_id}/peak-shaving"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"periods": periods}) as r,
    ):
        answer = await r.json()
    assert answer["ok"] is True, answer


async def test_periods_the_library_cannot_read_survive_a_toggle(sim: Simulator, api: Sigen) -> None:
    """Switching or setting the SOC sends the periods back exactly as the cloud gave them."""
    night = {"days": [6], "start": "22:00", "end": "02:00", "peakPowerKw": 2.0}
    evening = {"days": [1, 2], "start": "17:00", "end": "21:00", "peakPowerKw": 3.5}
    await _seed_periods(sim, [night, evening])
    read = await api.grid.get_peak_shaving()
    assert [period.start for period in read.periods] == ["17:00"]  # the night one is skipped
    assert read.read_at is not None
    written = await api.grid.set_peak_shaving(enabled=True)
    await api.grid.set_peak_shaving(soc=35)
    posts = sim.requests(PATH, "POST")
    sent = [post.json()["settingList"] for post in posts]
    assert sent[0] == sent[1] == read.raw["settingList"]
    assert written.read_at is None  # what was written, not read
    state = sim.stations[0].peak_shaving
    assert state.enabled is True
    assert [(sorted(p.days), p.start, p.end, p.peak_kw) for p in state.periods] == [
        ([6], 22 * 60, 2 * 60, 2.0),
        ([1, 2], 17 * 60, 21 * 60, 3.5),
    ]
    # Periods given replace them all (the unreadable one too).
    await api.grid.set_peak_shaving(periods=[WEEKDAYS])
    assert len(sim.stations[0].peak_shaving.periods) == 1
