"""Cloud faults through the integration: what the user sees (entity availability,
reauth, repairs), what the log says (once, not every poll) and that it recovers by
itself when the fault clears.

Polls are driven by Home Assistant's clock (``freezer`` + ``async_fire_time_changed``);
the simulator answers on real loopback HTTP.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_UNAVAILABLE, Platform
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.sigen import NorthboundClient, Sigen
from sigen_sim import Simulator
from tests.integration.platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    coordinator_of,
    setup_entry,
    slow_refresh,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

PV = f"sensor.{PREFIX}_pv_power"
LOGIN = "/auth/oauth/token"


@pytest.fixture(autouse=True)
def short_request_timeout() -> Iterator[None]:
    """The integration's client gives up on a hanging request after 1 s (default 30 s)."""
    with patch(
        "custom_components.sigen_cloud.client.Sigen",
        functools.partial(Sigen, request_timeout=1.0),
    ):
        yield


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory, *, expect: bool = True) -> bool:
    """Let the next scheduled poll run to its end (also one that waits for a timeout).

    Home Assistant's clock is frozen, the loop's timers included: while the poll runs,
    real time passes in an executor and the frozen clock is moved along, so a request
    timeout of the client fires as it would. Returns whether a poll ran.
    """
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    coordinator = coordinator_of(entry)
    finished: list[None] = []
    original = coordinator._async_update_data

    async def tracked() -> Any:
        try:
            return await original()
        finally:
            finished.append(None)

    interval = coordinator.update_interval or timedelta(minutes=1)
    with patch.object(coordinator, "_async_update_data", tracked):
        freezer.tick(interval + timedelta(seconds=1))
        async_fire_time_changed(hass)
        for _ in range(500 if expect else 20):
            if finished:
                break
            await hass.async_add_executor_job(time.sleep, 0.01)
            freezer.tick(timedelta(milliseconds=100))
            async_fire_time_changed(hass)
        assert finished or not expect, "the poll did not finish"
    await hass.async_block_till_done()
    return bool(finished)


def problems(caplog: pytest.LogCaptureFixture, since: int) -> list[str]:
    """Warnings and errors logged since record number ``since``."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records[since:]
        if r.levelno >= logging.WARNING and r.name != "asyncio"  # slow-callback notes
    ]


def available(hass: HomeAssistant) -> bool:
    state = hass.states.get(PV)
    assert state is not None
    return state.state != STATE_UNAVAILABLE


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


def _firewall(sim: Simulator) -> None:
    sim.faults.block_aiohttp_user_agent = True


FAULTS: dict[str, Callable[[Simulator], object]] = {
    "http 500": lambda sim: sim.faults.server_error("energyflow", 500),
    "http 502": lambda sim: sim.faults.server_error("energyflow", 502),
    "http 503": lambda sim: sim.faults.server_error("energyflow", 503),
    "timeout": lambda sim: sim.faults.timeout("energyflow"),
    "non-JSON": lambda sim: sim.faults.malformed_json("energyflow"),
    "firewall 403": _firewall,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_outage_unavailable_logged_once_recovers(
    hass: HomeAssistant,
    sim: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """5xx, timeouts, garbage, the firewall: unavailable, one log line, no reauth, back."""
    user_agent = "Mozilla/5.0 aiohttp/3.13" if fault == "firewall 403" else None
    with patch(
        "custom_components.sigen_cloud.client.Sigen",
        functools.partial(
            Sigen, request_timeout=1.0, **({"user_agent": user_agent} if user_agent else {})
        ),
    ):
        if user_agent:
            sim.faults.block_aiohttp_user_agent = False
        entry = await setup_entry(hass, sim, Platform.SENSOR)
        assert available(hass)
        logins = sim.count(LOGIN)
        FAULTS[fault](sim)
        start = len(caplog.records)
        await poll(hass, freezer)
        assert not available(hass), "a failed poll makes the polled entities unavailable"
        first = problems(caplog, start)
        assert 1 <= len(first) <= 2, first
        more = len(caplog.records)
        for _ in range(3):
            await poll(hass, freezer)
            assert not available(hass)
        assert problems(caplog, more) == [], "logged again on every poll"
        assert reauth_flows(hass, entry) == []
        assert [i for (domain, i) in ir.async_get(hass).issues if domain == DOMAIN] == []
        assert entry.state is ConfigEntryState.LOADED
        assert sim.count(LOGIN) - logins <= 1, "the login endpoint is not for retries"

        sim.faults.clear()
        sim.faults.block_aiohttp_user_agent = False
        recovered = len(caplog.records)
        await poll(hass, freezer)
        assert available(hass), "recovers by itself when the fault clears"
        back = [r.getMessage() for r in caplog.records[recovered:] if r.levelno == logging.INFO]
        assert any("recovered" in m or "again" in m for m in back), back
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.mark.parametrize("code", [1201, 1110, 429])
async def test_rate_limit_keeps_data_and_slows_down(
    hass: HomeAssistant,
    sim: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    code: int,
) -> None:
    """Rate limited: the last data stays (available), one warning, slower polls, back."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    coordinator = coordinator_of(entry)
    normal = coordinator.update_interval
    sim.faults.rate_limit("energyflow", code)
    start = len(caplog.records)
    for _ in range(3):
        await poll(hass, freezer)
        assert available(hass)
    assert len(problems(caplog, start)) == 1, problems(caplog, start)
    assert coordinator.update_interval is not None
    assert normal is not None
    assert coordinator.update_interval > normal
    polls = sim.count("energyflow")
    sim.faults.clear()
    await poll(hass, freezer)
    assert sim.count("energyflow") == polls + 1
    assert coordinator.update_interval == normal
    assert available(hass)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_token_expiry_mid_poll_is_invisible(
    hass: HomeAssistant,
    sim: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every token expires, and one answer says 401 half-way through a poll: the client
    renews its token and the user notices nothing."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    logins = sim.count(LOGIN)
    start = len(caplog.records)
    sim.faults.expire_tokens()
    await poll(hass, freezer)
    assert available(hass)
    sim.faults.unauthorized("energyflow", count=1)
    await poll(hass, freezer)
    assert available(hass)
    assert problems(caplog, start) == []
    assert reauth_flows(hass, entry) == []
    # Renewals, not a storm: the expired refresh token is tried, then one login; the
    # 401 costs one refresh.
    assert sim.count(LOGIN) - logins <= 3
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_login_starts_failing_reauth_and_no_hammering(
    hass: HomeAssistant,
    sim: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The password changed elsewhere: reauth starts (with Home Assistant's own
    repair), polling stops asking the login endpoint, and the new password brings
    everything back."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    sim.faults.login_failure("a-new-password-1")
    sim.faults.expire_tokens()
    start = len(caplog.records)
    await poll(hass, freezer)
    assert not available(hass)
    assert len(reauth_flows(hass, entry)) == 1
    assert (
        ir.async_get(hass).async_get_issue(
            HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
        )
        is not None
    )
    logins = sim.count(LOGIN)
    ran = [await poll(hass, freezer, expect=False) for _ in range(5)]
    assert ran == [False] * 5, "polling goes on while the password is wrong"
    assert sim.count(LOGIN) == logins, "polling keeps hammering the login endpoint"
    assert not sim.tokens.locked(sim.username), "our retries locked the account"
    assert len(problems(caplog, start)) <= 2, problems(caplog, start)

    (flow,) = reauth_flows(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "a-new-password-1"}
    )
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert available(hass)
    assert (
        ir.async_get(hass).async_get_issue(
            HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
        )
        is None
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_persistent_401_is_a_cloud_fault_not_a_bad_password(
    hass: HomeAssistant,
    sim: Simulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Data requests answer 401 while the login works: at most one renewal per poll,
    unavailable, logged once, no reauth (the password is fine), back by itself."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    sim.faults.unauthorized("energyflow")
    logins = sim.count(LOGIN)
    start = len(caplog.records)
    ran = [await poll(hass, freezer, expect=False) for _ in range(3)]
    assert sim.count(LOGIN) - logins <= 3, "more than one renewal per poll"
    assert len(problems(caplog, start)) <= 2, problems(caplog, start)
    assert not available(hass)
    assert reauth_flows(hass, entry) == [], "reauth asked for although the password works"
    assert ran == [True] * 3, "polling stopped"
    sim.faults.clear()
    await poll(hass, freezer)
    assert available(hass)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("fault", ["http 500", "timeout", "non-JSON"])
async def test_northbound_faults_do_not_fail_the_poll(
    hass: HomeAssistant, sim_mqtt: Simulator, fast_ha_reconnect: None, fault: str
) -> None:
    """The developer (northbound) API fails during the slow refresh: the app API's data
    still arrives and the polled entities stay available."""
    quick = functools.partial(NorthboundClient.from_app_key, request_timeout=1.0)
    with patch.object(NorthboundClient, "from_app_key", quick):
        entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    coordinator = coordinator_of(entry)
    nb_calls = sim_mqtt.count("/openapi/system")
    pattern = "/openapi/system*"
    if fault == "http 500":
        sim_mqtt.faults.server_error(pattern)
    elif fault == "timeout":
        sim_mqtt.faults.timeout(pattern)
    else:
        sim_mqtt.faults.malformed_json(pattern)
    await slow_refresh(hass, entry)
    assert sim_mqtt.count("/openapi/system") > nb_calls, "the northbound API was asked"
    assert coordinator.last_update_success
    assert all(c.last_update_success for c in entry.runtime_data.coordinators())
    assert available(hass)
    sim_mqtt.faults.clear()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
