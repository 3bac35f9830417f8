"""The token keeper both REST clients share (``sigen._auth``), without a server."""

from __future__ import annotations

import asyncio
import time

import pytest

from sigen import _auth as auth_module
from sigen._auth import (
    LOGIN_FAILURE_BUDGET,
    LoginBudget,
    Token,
    TokenKeeper,
    key_login,
    newest_key_token,
    remember_key_token,
    wait_for_key_logins,
)
from sigen.errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenRateLimitError,
    SigenTokenExpiredError,
)


class Cloud:
    """Counts logins and refreshes; each answers a new token or raises what is queued."""

    def __init__(self) -> None:
        self.logins = 0
        self.refreshes = 0
        self.login_errors: list[Exception] = []
        self.refresh_errors: list[Exception] = []

    async def login(self) -> Token:
        self.logins += 1
        await asyncio.sleep(0)
        if self.login_errors:
            raise self.login_errors.pop(0)
        return Token.issue(f"login-{self.logins}", 3600, margin=60, refresh=f"r{self.logins}")

    async def refresh(self, token: Token) -> Token:
        assert token.refresh is not None
        self.refreshes += 1
        if self.refresh_errors:
            raise self.refresh_errors.pop(0)
        return Token.issue(f"refresh-{self.refreshes}", 3600, margin=60, refresh=token.refresh)


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


def app_keeper(cloud: Cloud) -> TokenKeeper:
    return TokenKeeper(cloud.login, refresh=cloud.refresh, retry_call="async_initialize()")


def due(token: Token) -> Token:
    return Token(token.access, token.expires_at, 0.0, token.refresh)


def test_token_renewal_time() -> None:
    token = Token.issue("a", 3600, margin=60)
    assert token.renew_at == pytest.approx(token.expires_at - 60, abs=1)
    assert token.is_fresh()
    short = Token.issue("b", 30, margin=60)  # shorter than the margin: half-way
    assert short.renew_at == pytest.approx(short.expires_at - 15, abs=1)


async def test_concurrent_calls_share_one_login(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    tokens = await asyncio.gather(*(keeper.ensure() for _ in range(10)))
    assert {t.access for t in tokens} == {"login-1"}
    assert cloud.logins == 1
    assert keeper.is_fresh()


async def test_a_due_token_is_refreshed_else_a_login(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    await keeper.ensure()
    assert keeper.token is not None
    keeper.token = due(keeper.token)
    assert (await keeper.ensure()).access == "refresh-1"
    # without a refresh function (northbound) a renewal is a login
    northbound = TokenKeeper(cloud.login, retry_call="login()")
    await northbound.ensure()
    assert northbound.token is not None
    northbound.token = due(northbound.token)
    assert (await northbound.ensure()).access == "login-3"
    assert (cloud.logins, cloud.refreshes) == (3, 1)


async def test_one_renewal_after_rejections(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    old = (await keeper.ensure()).access
    await asyncio.gather(*(keeper.rejected(old) for _ in range(5)))
    assert cloud.refreshes == 1  # the others saw the new token
    assert keeper.access == "refresh-1"


async def test_northbound_rejection_forgets_the_token(cloud: Cloud) -> None:
    keeper = TokenKeeper(cloud.login, retry_call="login()")
    old = (await keeper.ensure()).access
    cloud.login_errors.append(SigenAuthError("refused"))
    with pytest.raises(SigenAuthError):
        await keeper.rejected(old)
    assert keeper.token is None


async def test_failed_refresh_logs_in_again(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    await keeper.ensure()
    assert keeper.token is not None
    keeper.token = due(keeper.token)
    cloud.refresh_errors.append(SigenAPIError("refresh token unknown"))
    assert (await keeper.ensure()).access == "login-2"


async def test_refresh_and_login_fail_ends_the_session(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    await keeper.ensure()
    assert keeper.token is not None
    keeper.token = due(keeper.token)
    cloud.refresh_errors.append(SigenAuthError("refresh refused"))
    cloud.login_errors.append(SigenAuthError("password refused"))
    with pytest.raises(SigenTokenExpiredError, match=r"refresh failed.*logging in again failed"):
        await keeper.ensure()
    assert keeper.token is None


async def test_rate_limited_refresh_is_not_a_login(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    await keeper.ensure()
    assert keeper.token is not None
    keeper.token = due(keeper.token)
    cloud.refresh_errors.append(SigenRateLimitError("slow down", retry_after=5))
    with pytest.raises(SigenRateLimitError):
        await keeper.ensure()
    assert cloud.logins == 1


async def test_refused_credentials_stop_implicit_logins(cloud: Cloud) -> None:
    keeper = app_keeper(cloud)
    cloud.login_errors.append(SigenAuthError("wrong password"))
    with pytest.raises(SigenAuthError):
        await keeper.ensure()
    with pytest.raises(SigenAuthError, match=r"call async_initialize\(\) to try again"):
        await keeper.ensure()
    assert cloud.logins == 1  # the implicit attempt never reached the cloud
    await keeper.ensure(explicit=True)
    assert cloud.logins == 2


async def test_a_lock_is_not_remembered(cloud: Cloud) -> None:
    keeper = TokenKeeper(cloud.login, retry_call="login()")
    cloud.login_errors.append(SigenAccountLockedError("locked"))
    with pytest.raises(SigenAccountLockedError):
        await keeper.renew()
    await keeper.ensure()  # implicit, and allowed: a lock is not refused credentials
    assert cloud.logins == 2


async def test_login_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = LoginBudget()
    attempts = 0

    async def refused() -> None:
        nonlocal attempts
        attempts += 1
        raise SigenAuthError("wrong")

    for _ in range(LOGIN_FAILURE_BUDGET):
        with pytest.raises(SigenAuthError, match="wrong"):
            await budget.attempt("Logging in", "check it", refused)
    with pytest.raises(SigenAuthError, match="not trying again now, 4 logins were refused"):
        await budget.attempt("Logging in", "check it", refused)
    assert attempts == LOGIN_FAILURE_BUDGET

    class Later:
        @staticmethod
        def monotonic() -> float:
            return time.monotonic() + auth_module.LOGIN_FAILURE_WINDOW + 1

        @staticmethod
        def time() -> float:
            return time.time()

    monkeypatch.setattr(auth_module, "time", Later)
    assert budget.may_try()

    async def accepted() -> str:
        return "ok"

    assert await budget.attempt("Logging in", "check it", accepted) == "ok"
    assert budget.recent() == 0


async def test_key_login_registry() -> None:
    base, key = "https://nb.example/", "auth-test-key"
    assert not await wait_for_key_logins(base, key, 1)
    with key_login(base, key):
        waiter = asyncio.ensure_future(wait_for_key_logins(base, key, 5))
        await asyncio.sleep(0)
        assert not waiter.done()
        remember_key_token(base, key, Token.issue("newest", 60, margin=10))
    assert await waiter is True
    assert newest_key_token(base, key) == "newest"
    remember_key_token(base, key, Token("old", time.time() - 1, 0.0))
    assert newest_key_token(base, key) is None
