"""``sigen.forecast`` (ForecastApi) on a fake transport and against the simulator (issue 20).

Answers are the shapes of §7.12 (``fixtures/forecast.json``): the one mock whose
``timestamp`` disagrees with its ``time``, values as numbers or text, unsorted or broken
points, timestamps only (seconds or ms).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sigen import Forecast, ForecastPoint, Sigen, SigenValidationError, StationInfo
from sigen.app import ForecastApi
from sigen_sim import Simulator

from .settings_fakes import HOME, FakeHome, fixture, make, sent

FORECAST = fixture("forecast")
BERLIN = ZoneInfo("Europe/Berlin")


class BerlinHome(FakeHome):
    station = StationInfo.from_dict({"stationId": HOME, "timeZoneName": "Europe/Berlin"})


async def test_the_mock_reads_local_times_in_the_stations_zone() -> None:
    area, transport = make(ForecastApi, FORECAST["mock"], home=BerlinHome())
    forecast = await area.get_forecast()
    assert isinstance(forecast, Forecast)
    assert forecast.made_at == datetime(2026, 5, 19, 21, 46, tzinfo=BERLIN)
    assert forecast.pv == (ForecastPoint(datetime(2026, 5, 20, 12, 0, tzinfo=BERLIN), 10.5),)
    assert forecast.load == ()
    assert forecast.soc == ()
    assert sent(transport) == [("GET", f"prediction/predictData/get/predictData/{HOME}", None)]


async def test_without_a_zone_the_timestamps_count() -> None:
    area, _ = make(ForecastApi, FORECAST["mock"])
    forecast = await area.get_forecast()
    assert forecast.pv[0].time == datetime(2026, 5, 19, 12, 0, tzinfo=UTC)
    assert forecast.made_at is None  # a local time without a zone


async def test_series_sorted_and_unreadable_points_left_out() -> None:
    area, _ = make(ForecastApi, FORECAST["series"])
    forecast = await area.get_forecast(time_zone="Europe/Berlin")
    assert [p.time.strftime("%H:%M") for p in forecast.pv] == ["10:00", "10:15", "10:30"]
    assert [p.value for p in forecast.pv] == [4.0, 4.0, 2.0]
    assert forecast.soc[0].value == 61.0
    assert forecast.load[0].value == 0.5
    start = datetime(2026, 5, 20, 10, 0, tzinfo=BERLIN)
    assert forecast.pv_energy(start, start + timedelta(hours=1)) == 2.5
    assert forecast.pv_energy(start + timedelta(minutes=5), start + timedelta(minutes=20)) == 1.0
    assert forecast.pv_energy_remaining_today(start + timedelta(minutes=30)) == 0.5
    assert forecast.at("pv", start + timedelta(minutes=35)) == 2.0
    assert forecast.at("pv", start + timedelta(hours=2)) is None


async def test_timestamps_in_seconds_or_ms() -> None:
    area, _ = make(ForecastApi, FORECAST["timestamps_only"])
    forecast = await area.get_forecast(time_zone=BERLIN)
    assert forecast.made_at == datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
    assert [p.time - forecast.pv[0].time for p in forecast.pv] == [
        timedelta(0),
        timedelta(minutes=15),
    ]


async def test_an_empty_forecast() -> None:
    area, _ = make(ForecastApi, FORECAST["empty"])
    forecast = await area.get_forecast()
    assert (forecast.made_at, forecast.pv, forecast.raw) == (None, (), {})


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", 5])
async def test_an_unknown_zone_is_refused(zone: object) -> None:
    area, transport = make(ForecastApi)
    with pytest.raises(SigenValidationError, match="Unknown time zone"):
        await area.get_forecast(time_zone=zone)  # type: ignore[arg-type]
    assert transport.calls == []


# --------------------------------------------------------------------------- simulator


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        await client.get_station_info()
        yield client


@pytest.mark.sim_config(time_scale=0, start_time=1779262200.0)  # 2026-05-20 08:30 Dublin
async def test_sim_the_station_follows_its_forecast(sim: Simulator, api: Sigen) -> None:
    forecast = await api.forecast.get_forecast()
    zone = ZoneInfo("Europe/Dublin")
    assert forecast.made_at == datetime(2026, 5, 20, 8, 0, tzinfo=zone)
    assert len(forecast.pv) == 96
    assert forecast.pv[0].time == forecast.made_at
    assert all(point.time.tzinfo is not None for point in forecast.soc)
    for _ in range(8):
        await sim.advance(900)
        now = datetime.fromtimestamp(sim.clock.now(), UTC)
        flow = await api.get_energy_flow()
        expected_pv = forecast.at("pv", now)
        assert expected_pv is not None
        assert flow.pv_power is not None
        assert flow.pv_power == pytest.approx(expected_pv, rel=0.12, abs=0.02)
        assert flow.load_power == pytest.approx(forecast.at("load", now), rel=0.12, abs=0.02)
    again = await api.forecast.get_forecast()
    assert again.made_at == datetime(2026, 5, 20, 10, 0, tzinfo=zone)  # remade hourly
