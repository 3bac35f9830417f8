"""The northbound system id of the home station (issue 14): ``stationCode``, confirmed
against the northbound system list, else matched in that list by name and capacities;
never the numeric ``stationSnCode``. Against the simulator over real sockets."""

from __future__ import annotations

import logging

import pytest

from sigen import Sigen
from sigen.const import NBMode
from sigen.errors import SigenError, SigenRateLimitError
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0, nb_rate_limits=False)

SYSTEM_ID = "SIMSYS00000001"


def _nb_paths(sim: Simulator) -> list[str]:
    return [r.path for r in sim.requests("/openapi/") if "/auth/" not in r.path]


async def test_station_code_is_the_system_id(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, region="eu", base_url=sim.api_url) as api:
        await api.async_initialize()
        station = api.station
        assert station is not None
        assert station.system_id == station.station_code == SYSTEM_ID
        assert station.sn_code == sim.stations[0].sn_code
        assert station.sn_code is not None
        assert station.sn_code.isdigit()
        assert station.sn_code not in (SYSTEM_ID, station.station_id)
        # As the original library documents: no arguments.
        await api.init_northbound()
        assert await api.nb_query_mode() == 0
        await api.nb_switch_mode(mode=5)
        assert sim.stations[0].mode == 5
        await api.nb_switch_mode(NBMode.MSC)
        assert sim.stations[0].mode == 0
        assert await api.nb_system_id() == SYSTEM_ID
    # Confirmed once against the list, then every call used the system id.
    assert _nb_paths(sim).count("/openapi/system") == 1
    assert f"/openapi/instruction/{SYSTEM_ID}/settings" in _nb_paths(sim)
    for put in sim.requests("/openapi/instruction/settings", "PUT"):
        assert put.json()["systemId"] == SYSTEM_ID
    assert not any(sim.stations[0].sn_code in path for path in _nb_paths(sim))


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, station_code_in_home=False)
async def test_home_without_station_code_is_found_in_the_system_list(sim: Simulator) -> None:
    sim.add_station()  # another system on the list: the match must pick the right one
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        assert api.station is not None
        assert "stationCode" not in api.station.raw
        assert api.station.system_id is None
        await api.init_northbound()
        assert await api.nb_query_mode() == 0
        await api.nb_switch_mode(mode=NBMode.FFG)
        assert sim.stations[0].mode == 5
        assert sim.stations[1].mode == 0
        assert api.station.system_id == SYSTEM_ID
        # Re-reading the station keeps what the list told.
        await api.get_station_info()
        assert api.station.system_id == SYSTEM_ID
    assert _nb_paths(sim).count("/openapi/system") == 1


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, station_code_in_home=False)
async def test_no_guess_when_the_list_is_ambiguous(sim: Simulator) -> None:
    twin = sim.add_station()
    twin.name = sim.stations[0].name  # same name, same capacities: cannot tell
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        with pytest.raises(SigenError, match=r"none of the 2 northbound systems.*pass system_id"):
            await api.nb_query_mode()
        assert sim.count("/openapi/instruction") == 0
        # An explicit id still works.
        assert await api.nb_query_mode(twin.system_id) == 0


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=True)
async def test_rate_limited_list_uses_the_station_code(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        nb = await api.init_northbound()
        await nb.get_systems()  # uses the list's 5-minute allowance
        assert await api.nb_query_mode() == 0
        assert api.station is not None
        assert api.station.system_id == SYSTEM_ID


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=True, station_code_in_home=False)
async def test_rate_limited_list_without_station_code_raises(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        nb = await api.init_northbound()
        await nb.get_systems()
        with pytest.raises(SigenRateLimitError):
            await api.nb_query_mode()
        assert sim.count("/openapi/instruction") == 0


async def test_station_code_missing_from_the_list_is_used_with_a_warning(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        sim.faults.partial_payload("/openapi/system", ["systemId"], count=1)
        with caplog.at_level(logging.WARNING, logger="sigen.client"):
            assert await api.nb_query_mode() == 0
        assert "does not show the home station's stationCode SIMSYS00000001" in caplog.text
        assert api.station is not None
        assert api.station.system_id == SYSTEM_ID


@pytest.mark.sim_config(time_scale=0, offline_stations=(0,))
async def test_offline_station_parses_nulls_as_none(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        flow = await api.get_energy_flow()
        assert flow.is_offline
        assert flow.station_status == 4
        for value in (
            flow.pv_power,
            flow.grid_power,
            flow.buy_sell_power,
            flow.battery_power,
            flow.battery_power_raw,
            flow.load_power,
            flow.ev_power,
            flow.heat_pump_power,
            flow.third_party_pv_power,
            flow.battery_soc,
            flow.grid_import_power,
            flow.grid_export_power,
            flow.battery_charge_power,
            flow.battery_discharge_power,
        ):
            assert value is None
        assert flow.raw["greenSourceInfos"] == []
        sim.stations[0].offline = False
        flow = await api.get_energy_flow()
        assert not flow.is_offline
        assert flow.pv_power is not None
        assert flow.battery_soc is not None
