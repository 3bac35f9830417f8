"""The simulator's shards: one account on one of six shards behind one port.

A request's shard is its ``client-server`` header, else the ``api-<shard>`` host name
it asked for, else the account's own shard. Another shard answers a login like a wrong
password without counting it towards the lockout, and tokens work on their own shard
only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.__main__ import banner, parse_args, write_state
from sigen_sim.app_api import SHARDS
from tests.sim.helpers import BASIC, UA, encrypt

pytestmark = pytest.mark.usefixtures("socket_enabled")

HOME = "device/owner/station/home"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


def shard_headers(shard: str | None = None, host: str | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if shard is not None:
        headers["client-server"] = shard
    if host is not None:
        headers["Host"] = host
    return headers


async def login(
    session: aiohttp.ClientSession,
    sim: Simulator,
    *,
    shard: str | None = None,
    host: str | None = None,
    password: str | None = None,
) -> tuple[int, Any]:
    form = {
        "scope": "server",
        "grant_type": "password",
        "username": sim.username,
        "password": encrypt(sim.password if password is None else password),
    }
    headers = {"Authorization": BASIC, **shard_headers(shard, host)}
    async with session.post(sim.api_url + "auth/oauth/token", data=form, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def refresh(
    session: aiohttp.ClientSession, sim: Simulator, refresh_token: str, *, shard: str
) -> tuple[int, Any]:
    form = {"scope": "server", "grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = {"Authorization": BASIC, **shard_headers(shard)}
    async with session.post(sim.api_url + "auth/oauth/token", data=form, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def home(
    session: aiohttp.ClientSession, sim: Simulator, token: str, *, shard: str | None
) -> int:
    headers = {"Authorization": f"Bearer {token}", **shard_headers(shard)}
    async with session.get(sim.api_url + HOME, headers=headers) as r:
        return r.status


def test_default_shard_is_eu() -> None:
    assert SimConfig().shard == "eu"
    assert Simulator(SimConfig(shard=" AUS ")).shard == "aus"
    assert SHARDS == ("eu", "apac", "aus", "us", "jp", "cn")


@pytest.mark.parametrize("shard", SHARDS)
async def test_the_account_logs_in_on_its_shard_only(
    session: aiohttp.ClientSession, socket_enabled: None, shard: str
) -> None:
    """Each of the six shards can hold the account; every other one refuses it."""
    async with Simulator(SimConfig(shard=shard)) as sim:
        for other in SHARDS:
            status, body = await login(session, sim, shard=other)
            assert status == 200
            assert body["code"] == (0 if other == shard else 11003), other


@pytest.mark.parametrize("style", ["envelope", "oauth"])
async def test_wrong_shard_answers_like_a_wrong_password(
    session: aiohttp.ClientSession, socket_enabled: None, style: str
) -> None:
    """A shard that does not hold the account answers exactly as a wrong password."""
    async with Simulator(SimConfig(shard="aus", login_error_style=style)) as sim:  # type: ignore[arg-type]
        wrong_shard = await login(session, sim, shard="apac")
        wrong_password = await login(session, sim, shard="aus", password="wrong")
    assert wrong_shard == wrong_password
    assert wrong_shard[0] == (200 if style == "envelope" else 400)


@pytest.mark.sim_config(shard="aus", lockout_attempts=3)
async def test_wrong_shard_logins_do_not_count_towards_the_lockout(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """Only the shard holding the account can lock it."""
    for _ in range(2 * sim.config.lockout_attempts):
        _, body = await login(session, sim, shard="apac", password="wrong")
        assert body["code"] == 11003
        _, body = await login(session, sim, shard="eu")
        assert body["code"] == 11003
    assert not sim.tokens.locked(sim.username.lower())
    _, body = await login(session, sim, shard="aus")
    assert body["code"] == 0
    # the holding shard counts as before: three wrong passwords lock the account
    codes = [(await login(session, sim, shard="aus", password="x"))[1]["code"] for _ in range(3)]
    assert codes == [11003, 11003, 11002]
    # ... and another shard still answers "authentication failed", never "locked"
    _, body = await login(session, sim, shard="eu")
    assert body["code"] == 11003


@pytest.mark.sim_config(shard="jp")
async def test_shard_from_the_host_name(sim: Simulator, session: aiohttp.ClientSession) -> None:
    """Without a client-server header, the host name asked for names the shard."""
    _, body = await login(session, sim, host=f"api-jp.sigencloud.com:{sim.port}")
    assert body["code"] == 0
    _, body = await login(session, sim, host="API-JP.sigencloud.com")
    assert body["code"] == 0
    _, body = await login(session, sim, host="api-eu.sigencloud.com")
    assert body["code"] == 11003
    # the header wins over the host name
    _, body = await login(session, sim, shard="jp", host="api-eu.sigencloud.com")
    assert body["code"] == 0


@pytest.mark.sim_config(shard="us")
async def test_no_shard_given_means_the_accounts_own(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """A client that names no shard (the oldest library, a plain test client) works."""
    _, body = await login(session, sim)
    assert body["code"] == 0
    token = body["data"]["access_token"]
    assert await home(session, sim, token, shard=None) == 200
    assert await home(session, sim, token, shard="us") == 200


@pytest.mark.sim_config(shard="aus")
async def test_tokens_work_on_their_own_shard_only(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """A token sent with another shard's header is refused like an unknown one."""
    _, body = await login(session, sim, shard="aus")
    token, refresh_token = body["data"]["access_token"], body["data"]["refresh_token"]
    assert await home(session, sim, token, shard="aus") == 200
    assert await home(session, sim, token, shard="apac") == 401
    assert await home(session, sim, token, shard="eu") == 401
    _, body = await refresh(session, sim, refresh_token, shard="apac")
    assert body["code"] == 11003
    _, body = await refresh(session, sim, refresh_token, shard="aus")
    assert body["code"] == 0
    assert await home(session, sim, body["data"]["access_token"], shard="aus") == 200


async def test_a_moved_account_leaves_its_tokens_behind(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """After the account moves shard, the old shard's tokens and logins stop working."""
    _, body = await login(session, sim, shard="eu")
    token = body["data"]["access_token"]
    sim.move_account("AUS")
    assert sim.shard == "aus"
    assert await home(session, sim, token, shard="eu") == 401
    assert await home(session, sim, token, shard="aus") == 401  # issued by another shard
    _, body = await login(session, sim, shard="eu")
    assert body["code"] == 11003
    _, body = await login(session, sim, shard="aus")
    assert body["code"] == 0


@pytest.mark.sim_config(shard="cn")
async def test_state_credentials_and_banner_name_the_shard(
    sim: Simulator, session: aiohttp.ClientSession, tmp_path: Any
) -> None:
    for path in ("state", "credentials"):
        async with session.get(sim.control_url + path) as r:
            assert (await r.json())["data"]["shard"] == "cn"
    assert "region (shard): cn" in banner(sim)
    assert write_state(sim, tmp_path)["shard"] == "cn"


def test_cli_shard_option() -> None:
    assert parse_args([]).shard == "eu"
    assert parse_args(["--shard", "aus"]).shard == "aus"
    with pytest.raises(SystemExit):
        parse_args(["--shard", "mars"])
