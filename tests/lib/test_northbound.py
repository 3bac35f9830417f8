"""``NorthboundClient`` (and ``Sigen``'s northbound helpers) against the simulator."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sigen import _auth as auth_module
from sigen import northbound as nb_module
from sigen.client import Sigen
from sigen.const import NBMode
from sigen.errors import (
    SigenAccountLockedError,
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenRateLimitError,
    SigenValidationError,
)
from sigen.models import NBEnergyFlow, NBSummary, NBSystem, OnboardResult
from sigen.northbound import NorthboundClient
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0, nb_rate_limits=False)

SYSTEM_ID = "SIMSYS00000001"


@pytest.fixture
async def nb(sim: Simulator) -> AsyncIterator[NorthboundClient]:
    client = await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    )
    sim.request_log.clear()
    try:
        yield client
    finally:
        await client.close()


def _logins(sim: Simulator) -> int:
    return sim.count("/openapi/auth/login/")


class _ShiftedTime:
    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


# --------------------------------------------------------------------------- login


async def test_key_login(sim: Simulator) -> None:
    before = time.time()
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    ) as nb:
        assert nb.uses_app_key
        assert nb.access_token is not None
        assert sim.tokens.nb_token_valid(nb.access_token)
        assert nb.token_expires_at is not None
        assert before + 43199 <= nb.token_expires_at <= time.time() + 43199
        assert await nb.ensure_token() == nb.access_token
        assert "sim-app-secret" not in repr(nb)
    (login,) = sim.requests("/openapi/auth/login/key")
    assert login.method == "POST"
    assert "aiohttp" not in login.headers["User-Agent"]


async def test_password_login(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        assert nb.access_token is None
        await nb.login()
        assert nb.access_token is not None
        assert not nb.uses_app_key
        systems = await nb.get_systems()
        assert systems[0].system_id == SYSTEM_ID
    (login,) = sim.requests("/openapi/auth/login/password")
    assert login.json() == {"username": sim.username, "password": "**REDACTED**"}


async def test_lazy_login_on_first_call(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        assert (await nb.query_mode(SYSTEM_ID)) == 0
    assert _logins(sim) == 1


async def test_wrong_key(sim: Simulator) -> None:
    with pytest.raises(SigenAuthError) as info:
        await NorthboundClient.from_app_key(
            base_url=sim.nb_url, app_key=sim.app_key, app_secret="wrong-secret"
        )
    message = str(info.value)
    assert "authentication failed (code 11003)" in message
    assert message.endswith("check the app key and app secret")
    assert "wrong-secret" not in message


async def test_wrong_password_and_lock(sim: Simulator) -> None:
    # Issue 14: each login tries the plain and then the encrypted password, both count;
    # the client stops at 4 refusals an hour, before the cloud's lock at 5.
    async with NorthboundClient(sim.nb_url, sim.username, "wrong") as nb:
        for _ in range(2):
            with pytest.raises(SigenAuthError, match="check the account's e-mail address"):
                await nb.login()
        assert nb.failed_logins == 4
        assert _logins(sim) == 4
        with pytest.raises(SigenAuthError, match="not trying again now, 4 logins were refused"):
            await nb.login()
        assert _logins(sim) == 4
        assert not sim.tokens.locked(sim.username)
        assert nb.password_form is None
    # Another client (as after a new user action) meets the cloud's lock.
    sim.tokens.record_failure(sim.username)
    async with NorthboundClient(sim.nb_url, sim.username, "wrong", password_form="plain") as nb:
        with pytest.raises(SigenAccountLockedError, match="try again in 3 minutes"):
            await nb.login()
        assert nb.failed_logins == 1


async def test_failed_from_app_key_closes_its_session(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def spy(*args: object, **kwargs: object) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)  # type: ignore[arg-type]
        created.append(session)
        return session

    monkeypatch.setattr(nb_module.aiohttp, "ClientSession", spy)
    with pytest.raises(SigenAuthError):
        await NorthboundClient.from_app_key(base_url=sim.nb_url, app_key="x", app_secret="y")
    assert len(created) == 1
    assert created[0].closed


def test_constructor_validation() -> None:
    with pytest.raises(SigenValidationError, match="username and password"):
        NorthboundClient("https://x/", "user", None)
    with pytest.raises(SigenValidationError, match="both key and secret"):
        NorthboundClient("https://x/", app_key="k")
    with pytest.raises(SigenValidationError, match="not both"):
        NorthboundClient("https://x/", "u", "p", app_key="k", app_secret="s")
    with pytest.raises(SigenValidationError, match="request_timeout"):
        NorthboundClient("https://x/", "u", "p", request_timeout=-1)


# --------------------------------------------------------------------------- data


async def test_systems(nb: NorthboundClient) -> None:
    (system,) = await nb.get_systems()
    assert isinstance(system, NBSystem)
    assert system.system_id == SYSTEM_ID
    assert system.name == "Sim Station 1"
    assert system.status == "normal"
    assert system.is_activate is True
    assert system.on_off_grid_status == "onGrid"
    assert system.time_zone == "Europe/Dublin"
    assert system.pv_capacity == 10.3
    assert system.grid_connect_time == 1711814399


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, stations=3)
async def test_several_systems(nb: NorthboundClient) -> None:
    systems = await nb.get_systems()
    assert [s.system_id for s in systems] == ["SIMSYS00000001", "SIMSYS00000002", "SIMSYS00000003"]


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_system_items_as_strings=True)
async def test_systems_as_json_strings(nb: NorthboundClient) -> None:
    (system,) = await nb.get_systems()
    assert system.system_id == SYSTEM_ID


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_double_encode_all=True)
async def test_everything_double_encoded(nb: NorthboundClient, sim: Simulator) -> None:
    assert (await nb.get_systems())[0].system_id == SYSTEM_ID
    assert (await nb.get_energy_flow(SYSTEM_ID)).battery_soc is not None
    assert (await nb.get_summary(SYSTEM_ID)).lifetime_generation is not None
    assert await nb.query_mode(SYSTEM_ID) == 0
    results = await nb.onboard([SYSTEM_ID])
    assert results[0].pending


async def test_energy_flow_signs(nb: NorthboundClient, sim: Simulator) -> None:
    await sim.advance(12 * 3600)
    flow = await nb.get_energy_flow(SYSTEM_ID)
    assert isinstance(flow, NBEnergyFlow)
    raw = flow.raw
    assert flow.grid_power_raw == raw["gridPower"]
    assert flow.grid_power == -raw["gridPower"]  # the cloud: + = export
    assert flow.battery_power == -raw["batteryPower"]  # the cloud: + = charging
    assert flow.pv_power is not None
    assert flow.grid_power is not None
    assert flow.battery_power is not None
    assert flow.load_power is not None
    assert flow.pv_power + flow.grid_power + flow.battery_power == pytest.approx(
        flow.load_power, abs=0.02
    )


async def test_summary(nb: NorthboundClient, sim: Simulator) -> None:
    summary = await nb.get_summary(SYSTEM_ID)
    assert isinstance(summary, NBSummary)
    assert summary.lifetime_generation is not None
    assert summary.lifetime_generation >= 1394.38
    assert summary.daily_generation is not None


async def test_unknown_system(nb: NorthboundClient) -> None:
    with pytest.raises(SigenAPIError, match="code 1106: station not found") as info:
        await nb.get_energy_flow("NOPE")
    assert info.value.code == 1106
    with pytest.raises(SigenAPIError, match="error code 1000: parameter illegal") as info:
        await nb.query_mode("NOPE")
    with pytest.raises(SigenValidationError, match="non-empty string"):
        await nb.get_summary("")


# --------------------------------------------------------------------------- modes


async def test_query_and_switch_mode(nb: NorthboundClient, sim: Simulator) -> None:
    assert await nb.query_mode(SYSTEM_ID) == NBMode.MSC
    await nb.switch_mode(SYSTEM_ID, NBMode.FFG)
    assert sim.stations[0].mode == 5
    assert await nb.query_mode(SYSTEM_ID) == NBMode.FFG
    await nb.switch_mode(SYSTEM_ID, 0)
    assert sim.stations[0].mode == 0
    (put,) = sim.requests("/openapi/instruction/settings", "PUT")[:1]
    assert put.json() == {"systemId": SYSTEM_ID, "energyStorageOperationMode": 5}


async def test_switch_mode_validation(nb: NorthboundClient, sim: Simulator) -> None:
    with pytest.raises(SigenValidationError, match=r"Unknown northbound mode 3; known modes: MSC"):
        await nb.switch_mode(SYSTEM_ID, 3)
    with pytest.raises(SigenValidationError, match="must be an NBMode"):
        await nb.switch_mode(SYSTEM_ID, True)
    assert sim.count("/openapi/instruction/settings") == 0


async def test_switch_rejected_by_the_cloud(nb: NorthboundClient, sim: Simulator) -> None:
    with pytest.raises(SigenAPIError, match="code 1000") as info:
        await nb.switch_mode("NOPE", NBMode.MSC)
    assert info.value.code == 1000


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=True)
async def test_rate_limit_1201(nb: NorthboundClient, sim: Simulator) -> None:
    assert await nb.query_mode(SYSTEM_ID) == 0
    with pytest.raises(SigenRateLimitError) as info:
        await nb.query_mode(SYSTEM_ID)
    err = info.value
    assert err.code == 1201
    assert err.retry_after == 300
    assert "access restriction" in str(err)
    assert "retry in 300 s" in str(err)
    await sim.advance(300)
    assert await nb.query_mode(SYSTEM_ID) == 0


@pytest.mark.parametrize("code", [1110, 429])
async def test_other_rate_limits(nb: NorthboundClient, sim: Simulator, code: int) -> None:
    sim.faults.rate_limit("/openapi/system", code, count=1)
    with pytest.raises(SigenRateLimitError) as info:
        await nb.get_systems()
    assert info.value.retry_after == (300 if code == 1110 else 60)


# --------------------------------------------------------------------------- onboarding


async def test_onboarding_with_owner_approval(nb: NorthboundClient, sim: Simulator) -> None:
    (pending,) = await nb.onboard([SYSTEM_ID])
    assert pending == OnboardResult(SYSTEM_ID, result=False, codes=[1116], pending=True)
    assert not sim.onboarded(SYSTEM_ID)
    sim.approve_onboarding(SYSTEM_ID)
    assert sim.onboarded(SYSTEM_ID)
    (done,) = await nb.onboard(SYSTEM_ID)  # a single id is fine
    assert (done.result, done.pending, done.codes) == (True, False, [])
    (off,) = await nb.offboard([SYSTEM_ID])
    assert off.result is True
    assert not sim.onboarded(SYSTEM_ID)
    (request,) = sim.requests("/openapi/board/onboard")[:1]
    assert request.json() == [SYSTEM_ID]


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, auto_approve=True, stations=2)
async def test_onboard_several_and_unknown(nb: NorthboundClient) -> None:
    results = await nb.onboard(["SIMSYS00000001", "SIMSYS00000002", "NOPE"])
    assert [(r.system_id, r.result, r.codes) for r in results] == [
        ("SIMSYS00000001", True, []),
        ("SIMSYS00000002", True, []),
        ("NOPE", False, [1106]),
    ]
    assert "1106 (station not found)" in results[2].description
    with pytest.raises(SigenValidationError, match="at least one system id"):
        await nb.onboard([])


# --------------------------------------------------------------------------- tokens


async def test_expired_token_logs_in_again(nb: NorthboundClient, sim: Simulator) -> None:
    old = nb.access_token
    sim.tokens.expire("nb")
    await nb.get_systems()
    assert nb.access_token != old
    assert _logins(sim) == 1
    assert [r.status for r in sim.requests("/openapi/system")] == [401, 200]


async def test_login_again_ten_minutes_before_expiry(
    nb: NorthboundClient, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifetime = sim.tokens.nb_lifetime
    monkeypatch.setattr(auth_module, "time", _ShiftedTime(lifetime - 601))
    await nb.get_systems()
    assert _logins(sim) == 0
    monkeypatch.setattr(auth_module, "time", _ShiftedTime(lifetime - 599))
    await nb.get_systems()
    assert _logins(sim) == 1
    assert [r.status for r in sim.requests("/openapi/system")] == [200, 200]


async def test_persistent_401(nb: NorthboundClient, sim: Simulator) -> None:
    sim.faults.unauthorized("/openapi/system")
    with pytest.raises(SigenAPIError, match="refused the token again") as info:
        await nb.get_systems()
    assert not isinstance(info.value, SigenAuthError)
    assert _logins(sim) == 1


async def test_concurrent_relogin_is_shared(nb: NorthboundClient, sim: Simulator) -> None:
    sim.tokens.expire("nb")
    await asyncio.gather(*(nb.get_summary(SYSTEM_ID) for _ in range(6)))
    assert _logins(sim) == 1


async def test_relogin_fails_after_credentials_revoked(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        await nb.login()
        sim.tokens.expire("nb")
        sim.faults.login_failure("new-password")
        with pytest.raises(SigenAuthError, match="authentication failed"):
            await nb.get_systems()
        sim.request_log.clear()
        with pytest.raises(SigenAuthError, match="not logging in again automatically"):
            await nb.get_systems()
        assert len(sim.request_log) == 0
        with pytest.raises(SigenAuthError, match="authentication failed"):
            await nb.login()  # explicit: tries
        sim.change_password(sim.config.password)
        await nb.login()
        assert len(await nb.get_systems()) == 1


# --------------------------------------------------------------------------- failures


async def test_firewall(sim: Simulator) -> None:
    with pytest.raises(SigenAPIError, match="firewall blocked the request") as info:
        await NorthboundClient.from_app_key(
            base_url=sim.nb_url,
            app_key=sim.app_key,
            app_secret=sim.app_secret,
            user_agent="Python/3.14 aiohttp/3.x",
        )
    assert info.value.status_code == 403
    assert "aiohttp" in str(info.value)


async def test_server_error_timeout_malformed(sim: Simulator) -> None:
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url,
        app_key=sim.app_key,
        app_secret=sim.app_secret,
        request_timeout=0.3,
    ) as nb:
        sim.faults.server_error("summary", 503, count=1)
        with pytest.raises(SigenAPIError, match=r"server error \(HTTP 503\)"):
            await nb.get_summary(SYSTEM_ID)
        sim.faults.timeout("summary", count=1)
        with pytest.raises(SigenConnectionError, match=r"did not answer within 0\.3 s"):
            await nb.get_summary(SYSTEM_ID)
        sim.faults.release_hangs()
        sim.faults.malformed_json("summary", count=1)
        with pytest.raises(SigenAPIError, match="not JSON"):
            await nb.get_summary(SYSTEM_ID)
        sim.faults.partial_payload("summary", ["lifetimePowerGeneration"], count=1)
        assert (await nb.get_summary(SYSTEM_ID)).lifetime_generation is None
        sim.faults.malformed_json("/openapi/auth/login/key", count=1)
        with pytest.raises(SigenAPIError, match="not JSON"):
            await nb.login()


async def test_given_session_stays_open(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        nb = await NorthboundClient.from_app_key(
            base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret, session=session
        )
        await nb.close()
        assert not session.closed


# --------------------------------------------------------------------------- through Sigen


async def test_sigen_northbound_helpers(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        nb = await api.init_northbound()
        assert api.northbound is nb
        assert nb.base_url == sim.api_url
        assert await api.nb_query_mode() == 0
        await api.nb_switch_mode(NBMode.FFG)
        assert sim.stations[0].mode == 5
        assert await api.nb_query_mode(SYSTEM_ID) == 5
        await api.nb_switch_mode(mode=0, system_id=SYSTEM_ID)
        assert sim.stations[0].mode == 0
        # Issue 14: the request is sent; the cloud (the simulator's default) refuses VPP.
        with pytest.raises(SigenAPIError, match="VPP") as info:
            await api.nb_switch_mode(NBMode.VPP)
        assert info.value.code == 1000
    assert sim.count("/openapi/auth/login/password") == 1
    assert nb._session is not None  # shared with Sigen, closed by it
    assert nb._session.closed


async def test_sigen_northbound_logs_in_lazily(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        assert api.northbound is None
        assert await api.nb_query_mode() == 0
        assert api.northbound is not None


async def test_sigen_northbound_needs_a_system_id(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenError, match="call async_initialize"):
            await api.nb_query_mode()


# --------------------------------------------------------------------------- data variants


def test_key_encoding() -> None:
    key = base64.b64encode(b"myAppKey:myAppSecret").decode()
    assert key == "bXlBcHBLZXk6bXlBcHBTZWNyZXQ="


async def test_token_as_object_data(socket_enabled: None) -> None:
    from aiohttp import web

    async def login(_: web.Request) -> web.Response:
        data = {"tokenType": "Bearer", "accessToken": "tok", "expiresIn": "43199"}
        return web.json_response({"code": 0, "msg": "success", "data": data})

    async def systems(_: web.Request) -> web.Response:
        items = json.dumps([json.dumps({"systemId": "A"}), json.dumps({"systemId": "B"}), "x"])
        return web.json_response({"code": 0, "data": items})

    async def onboard(_: web.Request) -> web.Response:
        return web.json_response({"code": 0, "data": {"systemId": "A", "result": True}})

    async def offboard(_: web.Request) -> web.Response:
        return web.json_response({"code": 0, "msg": "success", "data": None})

    app = web.Application()
    app.router.add_post("/openapi/auth/login/key", login)
    app.router.add_get("/openapi/system", systems)
    app.router.add_post("/openapi/board/onboard", onboard)
    app.router.add_post("/openapi/board/offboard", offboard)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with await NorthboundClient.from_app_key(
            base_url=f"http://127.0.0.1:{port}", app_key="k", app_secret="s"
        ) as nb:
            assert nb.access_token == "tok"
            assert [s.system_id for s in await nb.get_systems()] == ["A", "B"]
            assert [r.result for r in await nb.onboard(["A"])] == [True]
            assert [(r.system_id, r.result) for r in await nb.offboard(["A", "B"])] == [
                ("A", True),
                ("B", True),
            ]
    finally:
        await runner.cleanup()


async def test_no_secret_in_logs(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    messages: list[str] = []
    async with await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    ) as nb:
        sim.tokens.expire("nb")
        await nb.get_systems()
        await nb.onboard([SYSTEM_ID])
        token = nb.access_token
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        await nb.login()
        password_token = nb.access_token
    try:
        await NorthboundClient.from_app_key(
            base_url=sim.nb_url, app_key=sim.app_key, app_secret="wrong-app-secret"
        )
    except SigenAuthError as err:
        messages.append(repr(err))
    text = "\n".join([*(r.getMessage() for r in caplog.records), *messages])
    assert token
    assert password_token
    for secret in (sim.app_secret, "wrong-app-secret", sim.password, sim.username, token,
                   password_token):  # fmt: skip
        assert secret not in text
