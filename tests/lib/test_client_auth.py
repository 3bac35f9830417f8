"""``Sigen`` sessions: login failures, lockout, expiry, refresh, 401 retry, concurrency."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import pytest

from sigen import _auth as auth_module
from sigen.client import Sigen
from sigen.errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenError,
    SigenRateLimitError,
    SigenTokenExpiredError,
)
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0)


def _grants(sim: Simulator) -> list[str]:
    """The grant types of the token requests, in order."""
    return [parse_qs(r.body)["grant_type"][0] for r in sim.requests("/auth/oauth/token")]


def _statuses(sim: Simulator, path: str) -> list[int | None]:
    return [r.status for r in sim.requests(path)]


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Sigen]:
    client = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await client.async_initialize()
    sim.request_log.clear()
    try:
        yield client
    finally:
        await client.close()


class _ShiftedTime:
    """``time`` for the client module with the wall clock moved forward."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset

    def time_ns(self) -> int:
        return time.time_ns() + int(self.offset * 1e9)


# --------------------------------------------------------------------------- login failures


@pytest.mark.parametrize("style", ["envelope", "oauth"])
async def test_wrong_password(sim: Simulator, style: str) -> None:
    sim.config.login_error_style = style  # type: ignore[assignment]
    async with Sigen(sim.username, "wrong", base_url=sim.api_url) as api:
        with pytest.raises(SigenAuthError) as info:
            await api.async_initialize()
    assert type(info.value) is SigenAuthError
    message = str(info.value)
    assert message.startswith("Logging in to the Sigen cloud: the cloud refused it")
    assert "Incorrect username or password" in message
    assert "check the e-mail address and password" in message


async def test_unknown_user(sim: Simulator) -> None:
    async with Sigen("nobody@sigen.invalid", sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenAuthError, match="check the e-mail address and password"):
            await api.async_initialize()


@pytest.mark.parametrize("style", ["envelope", "oauth"])
async def test_account_lock(sim: Simulator, style: str) -> None:
    sim.config.login_error_style = style  # type: ignore[assignment]
    async with Sigen(sim.username, "wrong", base_url=sim.api_url) as api:
        for _ in range(4):
            with pytest.raises(SigenAuthError) as info:
                await api.async_initialize()
            assert not isinstance(info.value, SigenAccountLockedError)
        with pytest.raises(SigenAccountLockedError) as locked:
            await api.async_initialize()
    assert "account is locked" in str(locked.value)
    assert "wait a few minutes" in str(locked.value)
    assert "try again in 3 minutes" in str(locked.value)
    # the right password does not help while locked
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenAccountLockedError):
            await api.async_initialize()
        await sim.advance(181)
        await api.async_initialize()


async def test_login_rate_limited(sim: Simulator) -> None:
    sim.faults.rate_limit("/auth/oauth/token", 1110, count=1)
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenRateLimitError) as info:
            await api.async_initialize()
        assert info.value.retry_after == 300
        assert info.value.code == 1110
        await api.async_initialize()  # fine once the limit is gone


# --------------------------------------------------------------------------- renewal


async def test_expired_access_token_is_refreshed_on_401(api: Sigen, sim: Simulator) -> None:
    sim.tokens.expire("app")
    flow = await api.get_energy_flow()
    assert flow.station_sn == "2025041600173"
    assert _grants(sim) == ["refresh_token"]
    assert _statuses(sim, "energyflow") == [401, 200]
    (refresh,) = sim.requests("/auth/oauth/token")
    form = parse_qs(refresh.body)
    assert form["scope"] == ["server"]
    assert "refresh_token" in form
    assert "password" not in form


async def test_simulated_time_expires_the_token(sim: Simulator) -> None:
    sim.tokens.access_lifetime = 3600
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        await sim.advance(3700)
        sim.request_log.clear()
        await api.get_operational_mode()
        assert _grants(sim) == ["refresh_token"]
        assert _statuses(sim, "mode/current") == [401, 200]


async def test_all_tokens_expired_logs_in_again(api: Sigen, sim: Simulator) -> None:
    sim.faults.expire_tokens()  # access and refresh tokens
    await api.get_energy_flow()
    assert _grants(sim) == ["refresh_token", "password"]
    assert _statuses(sim, "energyflow") == [401, 200]


async def test_refresh_then_login_fail(api: Sigen, sim: Simulator) -> None:
    sim.faults.expire_tokens()
    sim.faults.login_failure("changed-elsewhere")
    with pytest.raises(SigenTokenExpiredError) as info:
        await api.get_energy_flow()
    assert isinstance(info.value, SigenAuthError)
    message = str(info.value)
    assert message.startswith("The Sigen session expired and could not be renewed")
    assert "token refresh failed" in message
    assert "Incorrect username or password" in message
    assert _grants(sim) == ["refresh_token", "password"]
    # data calls do not log in again with refused credentials (the account would lock)
    sim.request_log.clear()
    for _ in range(6):
        with pytest.raises(SigenAuthError) as again:
            await api.get_energy_flow()
        assert "not logging in again automatically" in str(again.value)
        assert "Incorrect username or password" in str(again.value)
    assert len(sim.request_log) == 0
    # an explicit async_initialize() tries again, and works once the password is right
    with pytest.raises(SigenAuthError):
        await api.async_initialize()
    assert _grants(sim) == ["password"]
    sim.change_password(sim.config.password)
    await api.async_initialize()
    await api.get_energy_flow()
    assert _grants(sim) == ["password", "password"]


async def test_single_401_is_retried_once(api: Sigen, sim: Simulator) -> None:
    sim.faults.unauthorized("energyflow", count=1)
    await api.get_energy_flow()
    assert _statuses(sim, "energyflow") == [401, 200]
    assert _grants(sim) == ["refresh_token"]


async def test_persistent_401_raises_after_one_retry(api: Sigen, sim: Simulator) -> None:
    sim.faults.unauthorized("energyflow")
    # The renewal worked: a refusal of the request (SigenAPIError), not of the credentials.
    with pytest.raises(SigenAPIError) as info:
        await api.get_energy_flow()
    assert not isinstance(info.value, SigenAuthError)
    assert info.value.status_code == 401
    assert "refused the session again right after renewing it (HTTP 401" in str(info.value)
    assert "Reading the energy flow of station 20240523012345" in str(info.value)
    assert _statuses(sim, "energyflow") == [401, 401]
    assert _grants(sim) == ["refresh_token"]


async def test_refresh_ahead_of_expiry(
    api: Sigen, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifetime = sim.tokens.access_lifetime
    # 61 s before expiry the token is still used as it is
    monkeypatch.setattr(auth_module, "time", _ShiftedTime(lifetime - 62))
    await api.get_energy_flow()
    assert _grants(sim) == []
    # 59 s before expiry it is refreshed first: no 401 on the wire
    monkeypatch.setattr(auth_module, "time", _ShiftedTime(lifetime - 58))
    await api.get_energy_flow()
    assert _grants(sim) == ["refresh_token"]
    assert _statuses(sim, "energyflow") == [200, 200]


async def test_short_lived_token_is_not_refreshed_on_every_call(sim: Simulator) -> None:
    sim.tokens.access_lifetime = 30  # shorter than the 60 s margin
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        await api.get_energy_flow()
        await api.get_energy_flow()
        assert _grants(sim) == ["password"]


async def test_concurrent_calls_share_one_login(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await asyncio.gather(*(api.get_station_info() for _ in range(10)))
        assert _grants(sim) == ["password"]


async def test_concurrent_401s_share_one_renewal(api: Sigen, sim: Simulator) -> None:
    sim.faults.expire_tokens()
    flows = await asyncio.gather(*(api.get_energy_flow() for _ in range(8)))
    assert len(flows) == 8
    assert _grants(sim) == ["refresh_token", "password"]
    assert sim.count("energyflow") == 16  # each request: one 401, one retry


async def test_concurrent_proactive_refresh_is_shared(
    api: Sigen, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_module, "time", _ShiftedTime(sim.tokens.access_lifetime - 10))
    await asyncio.gather(*(api.get_energy_flow() for _ in range(8)))
    assert _grants(sim) == ["refresh_token"]


# --------------------------------------------------------------------------- secrets


async def test_no_secret_in_logs_or_errors(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        sim.faults.expire_tokens()
        await api.get_energy_flow()
        sim.faults.server_error("energyflow", 500, count=1)
        try:
            await api.get_energy_flow()
        except SigenError as err:
            errors.append(f"{err!r} {getattr(err, 'response_body', '')}")
        tokens = [t.value for t in sim.tokens._tokens.values()]
    async with Sigen(sim.username, "wrong-secret-pw", base_url=sim.api_url) as api:
        try:
            await api.async_initialize()
        except SigenAuthError as err:
            errors.append(repr(err))
    text = "\n".join([*(r.getMessage() for r in caplog.records), *errors])
    assert sim.username not in text
    assert sim.password not in text
    assert "wrong-secret-pw" not in text
    for token in tokens:
        assert token not in text
    assert "d***@sigen.invalid" in text  # what the debug log shows instead


@pytest.mark.parametrize("rotate", [True, False])
async def test_repeated_refreshes(sim: Simulator, rotate: bool) -> None:
    sim.config.rotate_refresh_tokens = rotate
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        for _ in range(3):
            sim.tokens.expire("app")
            await api.get_energy_flow()
    assert _grants(sim) == ["password", "refresh_token", "refresh_token", "refresh_token"]
