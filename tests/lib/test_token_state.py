"""Token export and import (issue 21): a client started from a kept token logs in 0 times."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest

from sigen import NorthboundClient, Sigen, TokenState
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0)


def _grants(sim: Simulator) -> list[str]:
    """The grant types of the app API's token requests, in order."""
    return [parse_qs(r.body)["grant_type"][0] for r in sim.requests("/auth/oauth/token")]


async def _kept_app_state(sim: Simulator) -> TokenState:
    """The token state of a client that logged in (as the last run kept it)."""
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as first:
        await first.async_login()
        state = first.token_state()
    assert state is not None
    sim.request_log.clear()
    return state


async def test_no_state_before_login(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert api.token_state() is None
    async with NorthboundClient(sim.nb_url, app_key="k", app_secret="s") as nb:
        assert nb.token_state() is None


async def test_restored_token_needs_no_login(sim: Simulator) -> None:
    state = await _kept_app_state(sim)
    assert json.loads(json.dumps(state)) == state  # JSON-ready, for any storage
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert api.restore_tokens(state)
        await api.get_station_info()
        flow = await api.get_energy_flow()
        assert flow is not None
        assert api.token_state() == state
    assert _grants(sim) == []


async def test_expired_token_is_refreshed_not_logged_in(sim: Simulator) -> None:
    state = await _kept_app_state(sim)
    expired: dict[str, Any] = {**state, "renew_at": 0.0, "expires_at": 1.0}
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert api.restore_tokens(expired)
        await api.get_station_info()
        renewed = api.token_state()
    assert _grants(sim) == ["refresh_token"]
    assert renewed is not None
    assert renewed["access"] != state["access"]


async def test_refused_refresh_logs_in_once(sim: Simulator) -> None:
    state = await _kept_app_state(sim)
    sim.faults.expire_tokens()  # the access and the refresh token are no longer valid
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert api.restore_tokens(state)
        await api.get_station_info()
    assert _grants(sim) == ["refresh_token", "password"]


async def test_revoked_token_is_renewed(sim: Simulator) -> None:
    """A token the cloud no longer knows (still valid by its time) is renewed once."""
    state = await _kept_app_state(sim)
    sim.tokens.revoke(state["access"])
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert api.restore_tokens(state)
        await api.get_station_info()
    assert _grants(sim) == ["refresh_token"]


@pytest.mark.parametrize(
    "state",
    [
        None,
        {},
        {"access": "", "expires_at": 1.0, "renew_at": 1.0, "refresh": None, "scheme": "Bearer"},
        {"access": "x", "expires_at": "soon", "renew_at": 1.0, "refresh": None, "scheme": "B"},
        {"access": "x", "expires_at": True, "renew_at": 1.0, "refresh": None, "scheme": "B"},
        {"access": "x", "expires_at": 1.0, "renew_at": 1.0, "refresh": 5, "scheme": "Bearer"},
        {"token": "x"},
    ],
)
async def test_unusable_state_is_refused(sim: Simulator, state: Any) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        assert not api.restore_tokens(state)
        assert api.token_state() is None


async def test_northbound_restored_token_needs_no_login(sim: Simulator) -> None:
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    ) as first:
        state = first.token_state()
    assert state is not None
    assert state["refresh"] is None
    sim.request_log.clear()
    async with NorthboundClient(sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret) as nb:
        assert nb.restore_tokens(state)
        assert nb.access_token == state["access"]
        await nb.get_systems()
    assert sim.count("openapi/auth/login") == 0


async def test_northbound_expired_token_logs_in(sim: Simulator) -> None:
    """The northbound API has no refresh token: an expired one means a login."""
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    ) as first:
        state = first.token_state()
    assert state is not None
    sim.request_log.clear()
    async with NorthboundClient(sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret) as nb:
        assert nb.restore_tokens({**state, "renew_at": 0.0, "expires_at": 1.0})
        await nb.get_systems()
    assert sim.count("openapi/auth/login") == 1


async def test_token_listener_hears_every_new_token(sim: Simulator) -> None:
    heard: list[str | None] = []
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        api.set_token_listener(
            lambda: heard.append(None if (s := api.token_state()) is None else s["access"])
        )
        await api.async_login()
        api.restore_tokens({**api.token_state(), "renew_at": 0.0})  # type: ignore[dict-item]
        await api.get_station_info()
        api.set_token_listener(None)
        await api.async_login()
    assert len(heard) == 2
    assert heard[0] != heard[1]
