"""The simulator's small parts on their own: tokens, rate limits, onboarding, settings."""

from __future__ import annotations

import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.app_api import AREAS, AppApi
from sigen_sim.model.modes import MODE_CUSTOM, MODE_NBI, mode_label
from sigen_sim.model.settings import parse_system_values

START = 1_750_000_000.0


def frozen(**kwargs: object) -> Simulator:
    return Simulator(SimConfig(time_scale=0, start_time=START, **kwargs))  # type: ignore[arg-type]


async def test_issued_tokens_include_expired_ones() -> None:
    sim = frozen()
    token = sim.tokens.issue("app", "someone", 10)
    await sim.advance(11)
    assert sim.tokens.lookup(token.value, "app") is None
    assert token.value in sim.tokens.issued()


async def test_rate_limits_follow_the_configuration_at_call_time() -> None:
    sim = frozen(nb_rate_limit_interval=60.0)
    assert sim.nb_rate_ok("summary", "S")
    assert not sim.nb_rate_ok("summary", "S")
    assert sim.nb_rate_ok("summary", "T")  # per key
    await sim.advance(60)
    assert sim.nb_rate_ok("summary", "S")
    sim.config.nb_rate_limits = False
    assert sim.nb_rate_ok("summary", "S")


def test_onboarding_reads_auto_approve_at_each_onboard() -> None:
    sim = frozen(stations=2)
    first, second = (s.system_id for s in sim.stations)
    assert sim.onboard(first) == (False, [1116])
    assert sim.onboard("NOPE") == (False, [1106])
    sim.config.auto_approve = True
    assert sim.onboard(second) == (True, [])
    assert sim.onboarding == {first: "pending", second: "approved"}
    sim.reset_onboarding()
    assert sim.onboarding == {}
    assert not sim.onboarded(second)
    with pytest.raises(KeyError):
        sim.approve_onboarding("NOPE")


def test_a_bad_setting_changes_nothing() -> None:
    with pytest.raises(ValueError, match="stormWatchStatus"):
        parse_system_values(
            {"backupCutOffSOC%": 30, "stormWatchStatus": "maybe"},
            charge_cutoff=100.0,
            discharge_cutoff=5.0,
        )
    assert parse_system_values(
        {"backupCutOffSOC%": "30", "stormWatchStatus": "ON", "onOffGridStatus": "1"},
        charge_cutoff=100.0,
        discharge_cutoff=5.0,
    ) == {"backup_cutoff_soc": 30.0, "storm_watch_status": True, "on_off_grid_status": 1}


def test_mode_labels() -> None:
    profiles = [("Summer", 1)]
    assert mode_label(MODE_CUSTOM, 1, profiles) == "Summer"
    assert mode_label(MODE_CUSTOM, 2, profiles) == "Custom"
    assert mode_label(MODE_NBI, -1, profiles) == "North Bound"
    assert mode_label(42, -1, profiles) == "42"


def test_every_area_registers_its_routes() -> None:
    from aiohttp import web

    app = web.Application()
    AppApi(frozen()).register(app)
    paths = {route.resource.canonical for route in app.router.routes() if route.resource}
    # auth, stations, modes, smart loads, history (issue 19), devices and alarms (issue 18)
    assert len(AREAS) == 6
    assert "/auth/oauth/token" in paths
    assert "/device/energy-profile/mode/all/{station_id}" in paths
    assert "/device/tp-device/smart-loads/control-mode/manual/switch" in paths
    assert "/data-process/sigen/station/statistics/energy" in paths
    assert {"/device/alarm/page", "/device/devicetreepanel/topology"} <= paths
