"""``find_region``: the shard holding an account, found with one login per shard.

Against the simulator, which hosts the account on one shard (``SimConfig.shard``) and
tells the shards apart by the ``client-server`` header on one port.
"""

from __future__ import annotations

import aiohttp
import pytest

import sigen
from sigen import REGIONS, RegionAttempt, RegionSearch, Sigen, find_region
from sigen.errors import (
    SigenAccountLockedError,
    SigenAuthError,
    SigenConnectionError,
    SigenRateLimitError,
    SigenValidationError,
)
from sigen_sim import Simulator
from sigen_sim.broker import free_port

pytestmark = pytest.mark.sim_config(time_scale=0)

TOKEN = "/auth/oauth/token"
HOME = "/device/owner/station/home"


def logins_by_shard(sim: Simulator) -> dict[str, int]:
    """Password logins per ``client-server`` header."""
    counts: dict[str, int] = {}
    for request in sim.requests(TOKEN, "POST"):
        if "grant_type=password" in request.body:
            shard = request.headers.get("client-server", "")
            counts[shard] = counts.get(shard, 0) + 1
    return counts


def test_exported() -> None:
    assert sigen.find_region is find_region
    assert find_region.__module__ == "sigen.discovery"
    assert {"find_region", "RegionSearch", "RegionAttempt"} <= set(sigen.__all__)


@pytest.mark.parametrize(
    "shard", [pytest.param(key, marks=pytest.mark.sim_config(shard=key)) for key in REGIONS]
)
async def test_finds_the_account_on_each_shard(sim: Simulator, shard: str) -> None:
    """One login on each of the six shards, no station read; the one that accepted
    hands back its client, which needs no second login."""
    async with await find_region(sim.username, sim.password, base_url=sim.api_url) as search:
        assert search.region == shard
        assert search.accepted == (shard,)
        assert set(search.refused) == set(REGIONS) - {shard}
        assert search.unreachable == search.failed == ()
        assert not search.locked
        assert [a.region for a in search.attempts] == list(REGIONS)
        assert search.attempt(shard) == RegionAttempt(shard, "accepted")
        assert isinstance(search.attempt("EU").error, SigenAuthError) is (shard != "eu")
        assert logins_by_shard(sim) == dict.fromkeys(REGIONS, 1)
        assert sim.count(HOME) == 0
        assert isinstance(search.client, Sigen)
        await search.client.async_initialize()
        assert search.client.station is not None
        assert sim.count(TOKEN) == len(REGIONS)  # no second login
        assert f"accepted by {shard}" in str(search)
    assert not sim.tokens.locked(sim.username.lower())


@pytest.mark.sim_config(shard="aus", lockout_attempts=2)
async def test_a_wrong_password_costs_one_failed_login_on_the_holding_shard(
    sim: Simulator,
) -> None:
    """Every shard refuses; only the holding one counts it (two searches with a lockout
    after two failures: the second search locks the account, and says so)."""
    search = await find_region(sim.username, "wrong-password", base_url=sim.api_url)
    assert search.client is None
    assert search.region is None
    assert search.refused == tuple(REGIONS)
    assert not search.locked
    assert logins_by_shard(sim) == dict.fromkeys(REGIONS, 1)
    assert not sim.tokens.locked(sim.username.lower())
    await search.close()  # nothing to close

    search = await find_region(sim.username, "wrong-password", base_url=sim.api_url)
    assert search.locked
    assert search.attempt("aus").outcome == "locked"
    assert isinstance(search.attempt("aus").error, SigenAccountLockedError)
    assert "locked by aus" in str(search)


@pytest.mark.sim_config(shard="jp")
async def test_only_the_given_regions(sim: Simulator) -> None:
    """``regions`` limits (and orders) the search; repeated keys are tried once."""
    search = await find_region(
        sim.username, sim.password, regions=["us", "EU", "eu"], base_url=sim.api_url
    )
    assert [a.region for a in search.attempts] == ["us", "eu"]
    assert search.client is None
    assert search.refused == ("us", "eu")
    assert logins_by_shard(sim) == {"us": 1, "eu": 1}


async def test_unusable_arguments_send_nothing(sim: Simulator) -> None:
    for kwargs in (
        {"regions": []},
        {"regions": ["mars"]},
        {"regions": ["eu"], "request_timeout": 0},
    ):
        with pytest.raises(SigenValidationError):
            await find_region(sim.username, sim.password, base_url=sim.api_url, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SigenValidationError):
        await find_region(sim.username, "", base_url=sim.api_url)
    assert sim.count() == 0


async def test_unreachable(socket_enabled: None) -> None:
    search = await find_region(
        "owner@example.invalid",
        "pw",
        regions=["eu", "aus"],
        base_url=f"http://127.0.0.1:{free_port()}/",
        request_timeout=5,
    )
    assert search.unreachable == ("eu", "aus")
    assert isinstance(search.attempt("aus").error, SigenConnectionError)
    assert "unreachable by eu, aus" in str(search)


async def test_a_shard_that_fails_otherwise(sim: Simulator) -> None:
    """A rate limit (or a server error) on one shard is reported as ``failed``."""
    sim.faults.rate_limit(TOKEN, 1201, count=1)
    search = await find_region(sim.username, sim.password, base_url=sim.api_url)
    try:
        assert len(search.failed) == 1
        assert isinstance(search.attempt(search.failed[0]).error, SigenRateLimitError)
        if search.failed != ("eu",):
            assert search.region == "eu"
    finally:
        await search.close()


async def test_a_shared_session_stays_open(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with await find_region(
            sim.username, sim.password, session=session, base_url=sim.api_url
        ) as search:
            assert search.client is not None
            await search.client.async_initialize()
            assert (await search.client.get_energy_flow()) is not None
        assert not session.closed


async def test_an_unexpected_error_closes_every_client(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is not the cloud's (a bug) propagates; nothing is left open."""
    closed: list[str] = []
    original_close = Sigen.close

    async def close(self: Sigen) -> None:
        closed.append(self.region)
        await original_close(self)

    async def broken_login(self: Sigen) -> None:
        if self.region == "us":
            raise RuntimeError("a bug")
        await self._transport.tokens.ensure(explicit=True)

    monkeypatch.setattr(Sigen, "close", close)
    monkeypatch.setattr(Sigen, "async_login", broken_login)
    with pytest.raises(RuntimeError, match="a bug"):
        await find_region(sim.username, sim.password, base_url=sim.api_url)
    assert sorted(closed) == sorted(REGIONS)


def test_an_empty_search() -> None:
    search = RegionSearch(())
    assert str(search) == "no region tried"
    with pytest.raises(KeyError):
        search.attempt("eu")
