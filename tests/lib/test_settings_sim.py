"""``sigen.battery``, ``sigen.grid`` and ``sigen.control`` against the simulator (issue 17).

Each area writes through a real :class:`~sigen.Sigen` over HTTP, the simulator's state
changes, and the library reads the change back. The simulator variants of §7 run too:
levels as ``"99.0"``, an unset owner value as ``null``, writes that take only the
documented types (numbers as strings, an integer ``stationId``), the app's 30-120 min
durations. No station id is given anywhere: the areas find the home station.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from sigen import (
    BatteryPowerLimits,
    GridCurrentLimit,
    GridLimit,
    PvLimit,
    Sigen,
    SigenAPIError,
    SigenRateLimitError,
    SigenValidationError,
    SocLevels,
)
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0, strict_setting_types=True)


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        yield client


async def test_the_home_station_is_found_once(sim: Simulator, api: Sigen) -> None:
    await api.battery.get_soc_levels()
    await api.grid.get_pv_limit()
    assert sim.count("station/home") == 1
    assert api.station_id == str(sim.stations[0].station_id)


# --------------------------------------------------------------------------- battery


async def test_soc_levels(sim: Simulator, api: Sigen) -> None:
    station = sim.stations[0]
    levels = await api.battery.get_soc_levels()
    assert levels == SocLevels(charge_cut_off=100, discharge_cut_off=5, peak_shaving=20, backup=15)
    written = await api.battery.set_soc_levels(backup=30, discharge_cut_off=10)
    assert written == SocLevels(
        charge_cut_off=100, discharge_cut_off=10, peak_shaving=20, backup=30
    )
    assert await api.battery.get_soc_levels() == written
    assert (station.backup_cutoff_soc, station.discharge_cutoff_soc) == (30, 10)
    (put,) = sim.requests("battery/level", "PUT")
    assert put.json()["chargeSOC"] == "100"  # all four, the unchanged ones as read


@pytest.mark.sim_config(soc_level_decimals=True)
async def test_soc_levels_with_decimals(sim: Simulator, api: Sigen) -> None:
    levels = await api.battery.get_soc_levels()
    assert (levels.charge_cut_off, levels.discharge_cut_off) == (100, 5)
    assert levels.raw["chargeSOC"] == "100.0"


async def test_soc_levels_refused_before_sending(sim: Simulator, api: Sigen) -> None:
    with pytest.raises(SigenValidationError, match="must not be below the discharge cut-off"):
        await api.battery.set_soc_levels(charge_cut_off=4)
    assert sim.count("battery/level", "PUT") == 0


async def test_power_limits(sim: Simulator, api: Sigen) -> None:
    assert await api.battery.get_power_limits() == BatteryPowerLimits(None, None)
    await api.battery.set_power_limits(max_charge=3.5)
    assert await api.battery.get_power_limits() == BatteryPowerLimits(3.5, None)
    assert sim.stations[0].settings.max_charge_kw == 3.5
    await api.battery.set_power_limits(max_charge=None, max_discharge=2)
    assert await api.battery.get_power_limits() == BatteryPowerLimits(None, 2.0)


async def test_export_allowed(sim: Simulator, api: Sigen) -> None:
    assert await api.battery.get_export_allowed() is True
    await api.battery.set_export_allowed(False)
    assert await api.battery.get_export_allowed() is False
    assert sim.stations[0].settings.battery_export is False


# --------------------------------------------------------------------------- grid


@pytest.mark.parametrize(
    "unset",
    [
        pytest.param("empty", marks=pytest.mark.sim_config(unset_value="empty")),
        pytest.param("null", marks=pytest.mark.sim_config(unset_value="null")),
    ],
)
async def test_grid_limits(sim: Simulator, api: Sigen, unset: str) -> None:
    assert sim.config.unset_value == unset
    export = await api.grid.get_limit("export")
    assert export == GridLimit(enabled=False, limit=10.0, installer_limit=10.0)
    written = await api.grid.set_limit("export", enabled=True, limit=4)
    assert written == GridLimit(enabled=True, limit=4.0, installer_limit=10.0)
    assert await api.grid.get_limit("export") == written
    assert sim.stations[0].settings.export_limit.owner_kw == 4.0
    await api.grid.set_limit("import", enabled=True)  # keeps the installer's 15 kW
    assert (await api.grid.get_limit("import")).enabled is True


async def test_grid_limit_above_the_installers(sim: Simulator, api: Sigen) -> None:
    with pytest.raises(SigenValidationError, match=r"from 0 to 10 kW \(the installer's limit\)"):
        await api.grid.set_limit("export", enabled=True, limit=12)
    assert sim.count("grid/limitation", "PUT") == 0


async def test_current_limit(sim: Simulator, api: Sigen) -> None:
    assert await api.grid.get_current_limit() == GridCurrentLimit(True, 32.0, 32.0)
    await api.grid.set_current_limit(enabled=True, limit=25)
    assert await api.grid.get_current_limit() == GridCurrentLimit(True, 25.0, 32.0)
    # the installer's value as the owner's: the cloud clears the owner's, 32 A stays
    await api.grid.set_current_limit(enabled=True, limit=32)
    current = await api.grid.get_current_limit()
    assert (current.limit, current.raw["ownerSetLimitation"]) == (32.0, "")


async def test_pv_limit(sim: Simulator, api: Sigen) -> None:
    assert await api.grid.get_pv_limit() == PvLimit(None)
    await api.grid.set_pv_limit(4)
    assert await api.grid.get_pv_limit() == PvLimit(4.0)
    await api.grid.set_pv_limit(None)
    assert await api.grid.get_pv_limit() == PvLimit(None)
    assert sim.stations[0].settings.pv_limit_kw is None


# --------------------------------------------------------------------------- control


async def test_manual_control(sim: Simulator, api: Sigen) -> None:
    never = await api.control.get_manual_control()
    assert (never.active, never.mode, never.ends_at) == (False, None, None)
    await api.control.start_manual_control("charge", 60, power=3)
    running = await api.control.get_manual_control()
    assert (running.active, running.mode) == (True, "charge")
    expected_end = datetime.fromtimestamp(int(sim.clock.now() + 3600), UTC)
    assert running.ends_at is not None
    assert abs((running.ends_at - expected_end).total_seconds()) <= 1
    assert sim.stations[0].manual_control_active()
    await api.control.stop_manual_control()
    stopped = await api.control.get_manual_control()
    assert (stopped.active, stopped.mode) == (False, "charge")  # the last session is kept
    assert not sim.stations[0].manual_control_active()


async def test_hold_and_self_consumption(sim: Simulator, api: Sigen) -> None:
    await api.control.start_manual_control("hold", 30)
    assert (await api.control.get_manual_control()).mode == "hold"
    await api.control.start_manual_control("self_consumption", 1440)
    assert (await api.control.get_manual_control()).mode == "self_consumption"


@pytest.mark.sim_config(manual_control_durations="app")
async def test_a_duration_the_cloud_refuses(sim: Simulator, api: Sigen) -> None:
    """The app's cloud takes 30-120 min in steps of 30: 45 passes the library's check
    (1-1440) and the cloud's refusal comes back as an API error."""
    with pytest.raises(SigenAPIError):
        await api.control.start_manual_control("discharge", 45)
    assert not sim.stations[0].manual_control_active()


# --------------------------------------------------------------------------- faults


async def test_a_write_acknowledged_but_not_applied(sim: Simulator, api: Sigen) -> None:
    """The setter returns what it wrote; only the read-back shows what the cloud kept."""
    sim.faults.not_applied("grid/limitation", count=1, method="PUT")
    written = await api.grid.set_limit("export", enabled=True, limit=4)
    assert written.limit == 4.0
    kept = await api.grid.get_limit("export")
    assert (kept.enabled, kept.limit) == (False, 10.0)


async def test_a_rate_limited_read(sim: Simulator, api: Sigen) -> None:
    sim.faults.rate_limit("battery/level", count=1)
    with pytest.raises(SigenRateLimitError) as caught:
        await api.battery.set_soc_levels(backup=25)  # the read before the write is refused
    assert caught.value.retry_after is not None
    assert sim.count("battery/level", "PUT") == 0
    assert (await api.battery.set_soc_levels(backup=25)).backup == 25


async def test_a_server_error_on_a_write(sim: Simulator, api: Sigen) -> None:
    sim.faults.server_error("instant/manunal", 503, count=1, method="PUT")
    with pytest.raises(SigenAPIError, match="Starting manual control 'hold'"):
        await api.control.start_manual_control("hold", 30)
    assert not sim.stations[0].manual_control_active()
