"""Polling: intervals, slow data, rate limits, token expiry, failures, stations."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sigen_cloud.const import (
    DOMAIN,
    ENERGY_FLOW_INTERVAL,
    RATE_LIMIT_BACKOFF,
    SLOW_REFRESH_INTERVAL,
)
from custom_components.sigen_cloud.coordinator import SigenLiveCoordinator

from .platform_helpers import slow_refresh


def coordinator_of(entry: MockConfigEntry) -> SigenLiveCoordinator:
    """The home station's live coordinator (the energy flow, every minute)."""
    live = next(iter(entry.runtime_data.stations.values())).live
    assert live is not None
    return live


def only_view(entry: MockConfigEntry) -> Any:
    return next(iter(entry.runtime_data.stations.values())).view()


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move Home Assistant's clock and let the scheduled poll run."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_energy_flow_every_minute_slow_data_every_ten(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    """Energy flow each minute; modes and smart loads only every 10 minutes.

    (The clock is frozen before the set-up, so that every poll is scheduled on it.)
    """
    flows, modes = sim.count("energyflow"), sim.count("mode/current")
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert sim.count("energyflow") == flows + 1
    assert sim.count("mode/current") == modes

    for _ in range(int(SLOW_REFRESH_INTERVAL / ENERGY_FLOW_INTERVAL)):
        await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert sim.count("mode/current") == modes + 1


async def test_slow_refresh_on_request(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    """A change made through us refreshes modes and smart loads right away."""
    modes, loads = sim.count("mode/current"), sim.count("systemDevice/card")
    await slow_refresh(hass, loaded_entry)
    assert sim.count("mode/current") == modes + 1
    assert sim.count("systemDevice/card") == loads + 1


async def test_start_up_reads_modes_and_smart_loads_once(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """The start-up reads modes and smart loads once; later slow polls read again."""
    modes, loads = sim.count("mode/all"), sim.count("systemDevice/card")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert sim.count("mode/all") == modes + 1
    assert sim.count("systemDevice/card") == loads + 1
    station = next(iter(entry.runtime_data.stations.values()))
    assert station.settings.data.modes
    assert station.smart_loads is not None
    assert station.smart_loads.data.loads
    await slow_refresh(hass, entry)
    assert sim.count("mode/all") == modes + 2
    assert sim.count("systemDevice/card") == loads + 2
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_smart_loads_and_consumption(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Smart loads are keyed by path, with their consumption."""
    station = next(iter(loaded_entry.runtime_data.stations.values()))
    assert station.smart_loads is not None
    data = station.smart_loads.data
    assert data.loads
    assert set(data.consumption) == set(data.loads)


@pytest.mark.parametrize("code", [1201, 1110, 429])
async def test_rate_limit_slows_polling_down(  # noqa: PLR0917
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    code: int,
) -> None:
    """A rate limit keeps the data, polls less often, and recovers."""
    coordinator = coordinator_of(loaded_entry)
    before = only_view(loaded_entry).energy_flow
    rule = sim.faults.rate_limit("energyflow", code)

    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert coordinator.last_update_success
    assert coordinator.update_interval is not None
    assert coordinator.update_interval > ENERGY_FLOW_INTERVAL
    assert only_view(loaded_entry).energy_flow == before
    slowed = coordinator.update_interval

    # Still limited at the slower pace: no second warning, no poll in between.
    calls = sim.count("energyflow")
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert sim.count("energyflow") == calls
    await tick(hass, freezer, slowed)
    assert sim.count("energyflow") == calls + 1
    assert caplog.text.count("asks us to slow down") == 1

    sim.faults.remove(rule.id)
    await tick(hass, freezer, slowed)
    assert coordinator.update_interval == ENERGY_FLOW_INTERVAL
    assert caplog.text.count("answers again") == 1


async def test_rate_limit_default_backoff(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Without a retry-after the default back-off applies."""
    coordinator = coordinator_of(loaded_entry)
    sim.faults.rate_limit("energyflow", 1201)
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert coordinator.update_interval is not None
    assert coordinator.update_interval >= min(RATE_LIMIT_BACKOFF, ENERGY_FLOW_INTERVAL)


async def test_token_expiry_in_the_middle(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Expired tokens are renewed by the library; polling goes on."""
    coordinator = coordinator_of(loaded_entry)
    logins = sim.count("oauth/token")
    sim.faults.expire_tokens()
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert coordinator.last_update_success
    assert sim.count("oauth/token") > logins


async def test_auth_failure_while_running(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """The password stops working: reauth starts and polling stops."""
    coordinator = coordinator_of(loaded_entry)
    sim.change_password("changed-elsewhere")
    sim.faults.expire_tokens()
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
    assert not coordinator.last_update_success
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert (
        ir.async_get(hass).async_get_issue(
            HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{loaded_entry.entry_id}"
        )
        is not None
    )

    logins = sim.count("oauth/token")
    await tick(hass, freezer, ENERGY_FLOW_INTERVAL * 5)
    assert sim.count("oauth/token") == logins  # not hammering the login


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (lambda sim: sim.faults.server_error("energyflow", 500), "answered with an error"),
        (lambda sim: sim.faults.malformed_json("energyflow"), "Sigen"),
    ],
)
async def test_update_failed_logs_once_and_recovers(  # noqa: PLR0917
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    sim: Any,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: Any,
    message: str,
) -> None:
    """Failures make entities unavailable, logged once; recovery logged once."""
    coordinator = coordinator_of(loaded_entry)
    fault(sim)
    with caplog.at_level(logging.INFO):
        await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
        assert not coordinator.last_update_success
        await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
        assert caplog.text.count("Error fetching sigen_cloud data") == 1
        sim.faults.clear()
        await tick(hass, freezer, ENERGY_FLOW_INTERVAL)
        assert coordinator.last_update_success
        assert caplog.text.count("Fetching sigen_cloud data recovered") == 1


async def test_unreachable_while_running(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    """A request that never answers fails the update, then it recovers (real clock)."""
    coordinator = coordinator_of(loaded_entry)
    sim.faults.timeout("energyflow", count=1)
    coordinator.client.request_timeout = 0.2  # keep the test fast
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert "Could not reach the Sigen cloud" in str(coordinator.last_exception)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
