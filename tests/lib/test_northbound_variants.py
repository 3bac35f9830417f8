"""Issue 14 against the simulator: the northbound password login's two forms (plain,
then AES once, the working form kept, every refusal counted), the REST mode switch for
every NBMode (NBI accepted, VPP refused; MSC/FFG only as a sim option), and the web
app's headers from one place."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from sigen import _auth as auth_module
from sigen import northbound as nb_module
from sigen.client import Sigen
from sigen.const import WEB_APP_HEADERS, WEB_APP_VERSION, NBMode
from sigen.crypto import encrypt_password
from sigen.errors import SigenAPIError, SigenAuthError, SigenRateLimitError, SigenValidationError
from sigen.northbound import LOGIN_FAILURE_BUDGET, NorthboundClient
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0, nb_rate_limits=False)

SYSTEM_ID = "SIMSYS00000001"


def _logins(sim: Simulator) -> list[int | None]:
    return [r.status for r in sim.requests("/openapi/auth/login/password")]


class _Later:
    """``time`` as seen an hour and a second from now."""

    offset = nb_module.LOGIN_FAILURE_WINDOW + 1

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


# --------------------------------------------------------------------------- login forms


async def test_plain_password_accepted_first(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        assert nb.password_form is None
        await nb.login()
        assert nb.password_form == "plain"
        assert nb.failed_logins == 0
    assert len(_logins(sim)) == 1


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_password_form="aes")
async def test_encrypted_password_after_a_refusal_and_remembered(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as nb:
        await nb.login()
        assert nb.password_form == "aes"
        assert nb.failed_logins == 0  # a success forgets the refusal
        assert len(_logins(sim)) == 2
        # Later logins use the form that worked: one request.
        sim.tokens.expire("nb")
        assert len(await nb.get_systems()) == 1
        await nb.login()
    assert len(_logins(sim)) == 4
    assert not sim.tokens.locked(sim.username)


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_password_form="aes")
async def test_wrong_password_costs_two_attempts_and_both_count(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, "wrong") as nb:
        with pytest.raises(SigenAuthError, match="authentication failed"):
            await nb.login()
        assert nb.failed_logins == 2
        assert nb.password_form is None
        # Implicit logins (data calls) do not try again.
        with pytest.raises(SigenAuthError, match="not logging in again automatically"):
            await nb.get_systems()
        assert len(_logins(sim)) == 2
        with pytest.raises(SigenAuthError, match="authentication failed"):
            await nb.login()
        assert nb.failed_logins == LOGIN_FAILURE_BUDGET
        with pytest.raises(SigenAuthError, match="not trying again now"):
            await nb.login()
        assert len(_logins(sim)) == LOGIN_FAILURE_BUDGET
        assert not sim.tokens.locked(sim.username)


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_password_form="aes")
async def test_budget_frees_up_after_an_hour(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, "wrong") as nb:
        for _ in range(2):
            with pytest.raises(SigenAuthError):
                await nb.login()
        with pytest.raises(SigenAuthError, match="not trying again now"):
            await nb.login()
        monkeypatch.setattr(auth_module, "time", _Later())
        sim.tokens.clear_locks()  # the cloud forgot too
        assert nb.failed_logins == 0
        nb._password = sim.password  # the user corrected the password
        await nb.login()
        assert nb.password_form == "aes"


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_password_form="aes")
async def test_budget_stops_the_encrypted_retry(sim: Simulator) -> None:
    async with NorthboundClient(sim.nb_url, sim.username, "wrong") as nb:
        nb._transport.budget.failures = [time.monotonic()] * (LOGIN_FAILURE_BUDGET - 1)
        with pytest.raises(SigenAuthError, match="authentication failed"):
            await nb.login()  # the plain attempt spent the budget: no encrypted one
        assert len(_logins(sim)) == 1


@pytest.mark.parametrize("form", ["plain", "aes"])
async def test_given_password_form(sim: Simulator, form: str) -> None:
    sim.config.nb_password_form = form  # type: ignore[assignment]
    async with NorthboundClient(
        sim.nb_url,
        sim.username,
        sim.password,
        password_form=form,  # type: ignore[arg-type]
    ) as nb:
        await nb.login()
        assert nb.password_form == form
    assert len(_logins(sim)) == 1
    with pytest.raises(SigenValidationError, match="password_form must be 'plain' or 'aes'"):
        NorthboundClient(sim.nb_url, sim.username, sim.password, password_form="md5")  # type: ignore[arg-type]


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_password_form="aes")
async def test_sigen_northbound_with_the_encrypted_form(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        nb = await api.init_northbound()
        assert nb.password_form == "aes"
        assert await api.nb_query_mode() == 0
        await api.nb_switch_mode(mode=8)
        assert sim.stations[0].mode == 8


async def test_sim_accepts_only_the_chosen_form(sim: Simulator) -> None:
    # The plain-form run refuses the encrypted password (and counts it).
    async with NorthboundClient(
        sim.nb_url, sim.username, encrypt_password(sim.password), password_form="plain"
    ) as nb:
        with pytest.raises(SigenAuthError):
            await nb.login()


async def test_from_app_key_has_no_account(sim: Simulator) -> None:
    nb = await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    )
    async with nb:
        assert nb.username is None
        assert nb.password is None
        assert nb.password_form is None
    async with NorthboundClient(sim.nb_url, sim.username, sim.password) as account:
        assert account.username == sim.username
        assert account.password == sim.password


# --------------------------------------------------------------------------- mode switch


@pytest.fixture
async def nb(sim: Simulator) -> AsyncIterator[NorthboundClient]:
    client = await NorthboundClient.from_app_key(
        base_url=sim.nb_url, app_key=sim.app_key, app_secret=sim.app_secret
    )
    try:
        yield client
    finally:
        await client.close()


async def test_switch_to_nbi_as_the_original_library_documents(
    nb: NorthboundClient, sim: Simulator
) -> None:
    async with nb:
        await nb.switch_mode("SIMSYS00000001", mode=8)
        assert sim.stations[0].mode == 8
        assert await nb.query_mode(SYSTEM_ID) == NBMode.NBI
        (put,) = sim.requests("/openapi/instruction/settings", "PUT")
        assert put.json() == {"systemId": SYSTEM_ID, "energyStorageOperationMode": 8}


async def test_vpp_refused_by_the_cloud_with_its_code_and_a_hint(
    nb: NorthboundClient, sim: Simulator
) -> None:
    async with nb:
        with pytest.raises(SigenAPIError) as info:
            await nb.switch_mode(SYSTEM_ID, NBMode.VPP)
    err = info.value
    assert not isinstance(err, SigenValidationError)
    assert err.code == 1000
    message = str(err)
    assert "VPP (6)" in message
    assert "param illegal" in message
    assert "SigenMQTT.switch_mode" in message
    assert sim.count("/openapi/instruction/settings") == 1  # it was sent
    assert sim.stations[0].mode == 0


@pytest.mark.sim_config(time_scale=0, nb_rate_limits=False, nb_rest_msc_ffg_only=True)
async def test_msc_ffg_only_cloud(nb: NorthboundClient, sim: Simulator) -> None:
    async with nb:
        for mode in (NBMode.VPP, NBMode.NBI):
            with pytest.raises(SigenAPIError, match=r"SigenMQTT\.switch_mode") as info:
                await nb.switch_mode(SYSTEM_ID, mode)
            assert info.value.code == 1000
        assert sim.stations[0].mode == 0
        await nb.switch_mode(SYSTEM_ID, NBMode.FFG)
        assert sim.stations[0].mode == 5
        await nb.switch_mode(SYSTEM_ID, NBMode.MSC)
        assert sim.stations[0].mode == 0
    assert sim.count("/openapi/instruction/settings") == 4


async def test_sigen_nb_switch_mode_as_documented(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, region="eu", base_url=sim.api_url) as api:
        await api.async_initialize()
        await api.init_northbound()
        mode = await api.nb_query_mode()
        assert mode == 0
        await api.nb_switch_mode(mode=8)
        assert sim.stations[0].mode == 8
        assert await api.nb_query_mode() == 8


async def test_switch_http_failures_and_limits_pass_through(
    nb: NorthboundClient, sim: Simulator
) -> None:
    async with nb:
        sim.faults.server_error("/openapi/instruction/settings", 503, count=1)
        with pytest.raises(SigenAPIError) as info:
            await nb.switch_mode(SYSTEM_ID, NBMode.FFG)
        assert info.value.status_code == 503
        assert "SigenMQTT" not in str(info.value)
        sim.faults.rate_limit("/openapi/instruction/settings", count=1)
        with pytest.raises(SigenRateLimitError):
            await nb.switch_mode(SYSTEM_ID, NBMode.FFG)
        assert sim.stations[0].mode == 0


async def test_switch_answered_success_with_data_false(socket_enabled: None) -> None:
    async def login(_: web.Request) -> web.Response:
        return web.json_response({"code": 0, "data": {"accessToken": "t", "expiresIn": 43199}})

    async def settings(_: web.Request) -> web.Response:
        return web.json_response({"code": 0, "msg": "success", "data": False})

    app = web.Application()
    app.router.add_post("/openapi/auth/login/key", login)
    app.router.add_put("/openapi/instruction/settings", settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with await NorthboundClient.from_app_key(
            base_url=f"http://127.0.0.1:{port}", app_key="k", app_secret="s"
        ) as nb:
            with pytest.raises(SigenAPIError, match="did not apply it") as info:
                await nb.switch_mode("A", NBMode.NBI)
            assert info.value.code == 0
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- headers


async def test_web_app_headers_from_one_place(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
    for request in sim.requests("/device/owner/station/home") + sim.requests("/auth/oauth"):
        for name, value in WEB_APP_HEADERS.items():
            assert request.headers[name] == value
        assert request.headers["sg-v"] == WEB_APP_VERSION
        assert request.headers["client-server"] == "eu"
        assert "aiohttp" not in request.headers["User-Agent"]
