"""``Sigen`` when things go wrong: firewall, rate limits, 5xx, timeouts, bad payloads,
unreachable servers, and who closes the HTTP session."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sigen.client import Sigen
from sigen.errors import (
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenRateLimitError,
)
from sigen_sim import Simulator
from sigen_sim.broker import free_port

pytestmark = pytest.mark.sim_config(time_scale=0)


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Sigen]:
    client = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await client.async_initialize()
    try:
        yield client
    finally:
        await client.close()


# --------------------------------------------------------------------------- firewall


async def test_firewall_blocks_aiohttp_user_agent(sim: Simulator) -> None:
    ua = "Python/3.14 aiohttp/3.x"
    async with Sigen(sim.username, sim.password, base_url=sim.api_url, user_agent=ua) as api:
        with pytest.raises(SigenAPIError) as info:
            await api.async_initialize()
    err = info.value
    assert type(err) is SigenAPIError
    assert err.status_code == 403
    message = str(err)
    assert message.startswith("Logging in to the Sigen cloud: the Sigen cloud's firewall blocked")
    assert "HTTP 403" in message
    assert "User-Agent containing 'aiohttp'" in message
    assert repr(ua) in message
    assert err.response_body is not None
    assert "Request blocked" in err.response_body


async def test_firewall_on_a_data_request(api: Sigen, sim: Simulator) -> None:
    api.user_agent = "aiohttp/3.13"
    with pytest.raises(SigenAPIError, match=r"Reading the energy flow.*firewall blocked"):
        await api.get_energy_flow()


# --------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize(
    ("code", "text"), [(1201, "access restriction"), (1110, "current-limited")]
)
async def test_rate_limit_codes(api: Sigen, sim: Simulator, code: int, text: str) -> None:
    sim.faults.rate_limit("energyflow", code, count=1)
    with pytest.raises(SigenRateLimitError) as info:
        await api.get_energy_flow()
    assert info.value.code == code
    assert info.value.retry_after == 300
    assert text in str(info.value)
    assert "retry in 300 s" in str(info.value)
    await api.get_energy_flow()  # recovers when the limit is gone


async def test_http_429_uses_retry_after(api: Sigen, sim: Simulator) -> None:
    sim.faults.rate_limit("mode/all", 429, count=1)
    with pytest.raises(SigenRateLimitError) as info:
        await api.get_operational_modes()
    assert info.value.status_code == 429
    assert info.value.retry_after == 60
    assert "HTTP 429" in str(info.value)


async def test_rate_limited_smart_loads_fail_initialize(sim: Simulator) -> None:
    sim.faults.rate_limit("systemDevice/card", 1201, count=1)
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenRateLimitError):
            await api.async_initialize()


async def test_smart_load_error_does_not_fail_initialize(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.faults.server_error("systemDevice/card", 500, count=1)
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        assert api.home_smart_loads == []
        assert hasattr(api, "set_operational_mode_tou")
    assert "smart loads could not be read" in caplog.text


# --------------------------------------------------------------------------- server errors


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(api: Sigen, sim: Simulator, status: int) -> None:
    sim.faults.server_error("energyflow", status, count=1)
    with pytest.raises(SigenAPIError) as info:
        await api.get_energy_flow()
    assert info.value.status_code == status
    assert f"server error (HTTP {status})" in str(info.value)
    assert "Injected fault" in str(info.value)
    await api.get_energy_flow()


async def test_timeout(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url, request_timeout=0.3) as api:
        await api.async_initialize()
        sim.faults.timeout("energyflow", count=1)
        with pytest.raises(SigenConnectionError) as info:
            await api.get_energy_flow()
        assert str(info.value) == (
            "Reading the energy flow of station 20240523012345: the Sigen cloud did not "
            "answer within 0.3 s"
        )
        sim.faults.release_hangs()
        await api.get_energy_flow()


async def test_login_timeout(sim: Simulator) -> None:
    sim.faults.timeout("/auth/oauth/token", count=1)
    async with Sigen(sim.username, sim.password, base_url=sim.api_url, request_timeout=0.3) as api:
        with pytest.raises(SigenConnectionError, match=r"Logging in.*did not answer within 0\.3 s"):
            await api.async_initialize()
    sim.faults.release_hangs()


async def test_unreachable_server(socket_enabled: None) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        with pytest.raises(SigenConnectionError) as info:
            await api.async_initialize()
    assert str(info.value).startswith("Logging in to the Sigen cloud: cannot reach the Sigen cloud")


# --------------------------------------------------------------------------- bad payloads


async def test_malformed_json(api: Sigen, sim: Simulator) -> None:
    sim.faults.malformed_json("energyflow", count=1)
    with pytest.raises(SigenAPIError) as info:
        await api.get_energy_flow()
    assert "answer is not JSON (HTTP 200, application/json" in str(info.value)
    assert info.value.status_code == 200


async def test_malformed_login_answer(sim: Simulator) -> None:
    sim.faults.malformed_json("/auth/oauth/token", count=1)
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        with pytest.raises(SigenAPIError, match=r"Logging in.*not JSON") as info:
            await api.async_initialize()
    assert "sim-at-" not in str(info.value)
    assert info.value.response_body is not None
    assert "sim-at-" not in info.value.response_body


async def test_partial_payloads_give_none(api: Sigen, sim: Simulator) -> None:
    sim.faults.partial_payload("energyflow", ["pvPower", "buySellPower"], count=1)
    flow = await api.get_energy_flow()
    assert flow.pv_power is None
    assert flow.grid_power is None
    assert flow.grid_import_power is None
    assert flow.load_power is not None
    sim.faults.partial_payload("station/home", ["stationId"], count=1)
    with pytest.raises(SigenAPIError, match="the cloud's answer has no stationId"):
        await api.get_station_info()
    sim.faults.partial_payload("mode/current", ["currentMode"], count=1)
    with pytest.raises(SigenAPIError, match="Cannot read the current mode"):
        await api.get_current_mode()


async def test_partial_smart_load_lookup(api: Sigen, sim: Simulator) -> None:
    sim.faults.partial_payload("tp-device/smart-loads", ["smartLoadId"], count=1)
    with pytest.raises(SigenAPIError, match="no smartLoadId"):
        await api.get_smart_load_consumption(1)
    usage = await api.get_smart_load_consumption(1)  # not cached when missing
    assert usage.today is not None


# A tiny real server for the payload variants the simulator does not produce.

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN = {"access_token": "odd-at", "refresh_token": "odd-rt", "expires_in": 3600}
STATION = {"stationId": 20240523012345, "stationSnCode": "ODD1"}


def _env(data: Any, code: Any = 0) -> web.Response:
    return web.json_response({"code": code, "msg": "success", "data": data})


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncIterator[tuple[str, dict[str, Handler]]]:
    routes: dict[str, Handler] = {}

    async def dispatch(request: web.Request) -> web.StreamResponse:
        handler = routes.get(request.path)
        if handler is None:
            return web.json_response({"code": 404, "msg": "no route"}, status=404)
        return await handler(request)

    async def token(_: web.Request) -> web.Response:
        return _env(TOKEN)

    async def home(_: web.Request) -> web.Response:
        return _env(STATION)

    routes["/auth/oauth/token"] = token
    routes["/device/owner/station/home"] = home
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/", routes
    finally:
        await runner.cleanup()


def _static(response: Callable[[], web.StreamResponse]) -> Handler:
    async def handler(_: web.Request) -> web.StreamResponse:
        return response()

    return handler


async def test_double_encoded_app_payloads(odd_server: tuple[str, dict[str, Handler]]) -> None:
    url, routes = odd_server
    routes["/auth/oauth/token"] = _static(lambda: _env(json.dumps(TOKEN)))
    routes["/device/owner/station/home"] = _static(lambda: _env(json.dumps(STATION)))
    routes["/device/sigen/station/energyflow"] = _static(
        lambda: _env(json.dumps(json.dumps({"pvPower": "1.5", "buySellPower": -2})))
    )
    routes["/device/energy-profile/mode/all/20240523012345"] = _static(
        lambda: _env(
            json.dumps(
                {
                    "defaultWorkingModes": [json.dumps({"label": "TOU", "value": "2"})],
                    "energyProfileItems": json.dumps([{"name": "P", "profileId": 7, "value": 9}]),
                }
            )
        )
    )
    routes["/device/system/device/systemDevice/card"] = _static(
        lambda: _env([json.dumps({"name": "Heat Pump", "path": 3, "manualSwitch": "1"})])
    )
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        await api.async_initialize()
        assert api.station_id == "20240523012345"
        flow = await api.get_energy_flow()
        assert flow.pv_power == 1.5
        assert flow.grid_power == 2.0
        assert [m.label for m in api.operational_modes] == ["TOU", "P"]
        assert api.home_smart_loads[0].on is True
        assert hasattr(api, "enable_smart_load_heat_pump")


async def test_login_answer_without_envelope(odd_server: tuple[str, dict[str, Handler]]) -> None:
    url, routes = odd_server
    routes["/auth/oauth/token"] = _static(lambda: web.json_response(TOKEN))
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        await api.get_station_info()


@pytest.mark.parametrize(
    ("response", "exc", "message"),
    [
        (
            lambda: _env({"refresh_token": "x"}),
            SigenAPIError,
            "answer has no access_token (fields: refresh_token)",
        ),
        (
            lambda: _env(["not", "an", "object"]),
            SigenAPIError,
            "expected a JSON object in the answer's data",
        ),
        (
            lambda: _env(None),
            SigenAPIError,
            "expected a JSON object in the answer's data, got nothing",
        ),
        (
            lambda: web.Response(text="<html>hi</html>", content_type="text/html"),
            SigenAPIError,
            "not JSON",
        ),
        (lambda: web.Response(status=204), SigenAPIError, "empty answer"),
        (lambda: _env(TOKEN, code="bad"), SigenAuthError, "the cloud refused it (code -1"),
        (lambda: _env(None, code=4711), SigenAuthError, "check the e-mail address and password"),
        (lambda: _env(None, code=1502), SigenAPIError, "error code 1502: internal error"),
        (lambda: _env(None, code=503), SigenAPIError, "error code 503"),
    ],
)
async def test_odd_login_answers(
    odd_server: tuple[str, dict[str, Handler]],
    response: Callable[[], web.StreamResponse],
    exc: type[SigenError],
    message: str,
) -> None:
    url, routes = odd_server
    routes["/auth/oauth/token"] = _static(response)
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        with pytest.raises(exc) as info:
            await api.async_initialize()
    assert message in str(info.value)
    assert "odd-at" not in str(info.value)


async def test_bad_oauth_client_is_explained(odd_server: tuple[str, dict[str, Handler]]) -> None:
    url, routes = odd_server
    routes["/auth/oauth/token"] = _static(
        lambda: web.json_response(
            {"error": "unauthorized", "error_description": "Bad client credentials"}, status=401
        )
    )
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        with pytest.raises(SigenAuthError, match="refused the app's OAuth client"):
            await api.async_initialize()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"code": 0, "data": "just text"}, "expected a JSON object in the answer's data, got str"),
        ({"code": 0, "data": [1, 2]}, "expected a JSON object in the answer's data, got list"),
        ([1, 2, 3], "expected a JSON object in the answer's data, got list"),
        ("a string", "expected a JSON object in the answer's data, got str"),
        ({"code": 1502, "msg": "boom", "data": None}, "error code 1502: internal error"),
    ],
)
async def test_odd_data_answers(
    odd_server: tuple[str, dict[str, Handler]], payload: Any, message: str
) -> None:
    url, routes = odd_server
    routes["/device/sigen/station/energyflow"] = _static(lambda: web.json_response(payload))
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        await api.get_station_info()
        with pytest.raises(SigenAPIError) as info:
            await api.get_energy_flow()
    assert message in str(info.value)


async def test_odd_list_answers_skip_bad_items(
    odd_server: tuple[str, dict[str, Handler]], caplog: pytest.LogCaptureFixture
) -> None:
    url, routes = odd_server
    routes["/device/system/device/systemDevice/card"] = _static(
        lambda: _env([{"name": "Good", "path": 1}, {"path": "x"}, "garbage", 5, None])
    )
    routes["/device/energy-profile/mode/all/20240523012345"] = _static(
        lambda: _env({"defaultWorkingModes": [{"label": "A"}, {"label": "B", "value": 3}]})
    )
    async with Sigen("a@b.c", "pw", base_url=url) as api:
        await api.async_initialize()
        assert [load.name for load in api.home_smart_loads] == ["Good"]
        assert [mode.label for mode in api.operational_modes] == ["B"]
    assert "skipping an unreadable smart load" in caplog.text
    assert "skipping an unreadable mode" in caplog.text


# --------------------------------------------------------------------------- sessions


async def test_own_session_is_closed(sim: Simulator) -> None:
    api = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await api.async_initialize()
    session = api._session
    assert session is not None
    await api.close()
    assert session.closed
    await api.close()  # twice is fine


async def test_async_with_closes_own_session(sim: Simulator) -> None:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as api:
        await api.async_initialize()
        session = api._session
    assert session is not None
    assert session.closed


async def test_given_session_is_never_closed(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with Sigen(sim.username, sim.password, base_url=sim.api_url, session=session) as api:
            await api.async_initialize()
            await api.init_northbound()
        assert not session.closed
        # and it still works for the next client
        api2 = Sigen(sim.username, sim.password, base_url=sim.api_url, session=session)
        await api2.get_station_info()
        await api2.close()
        assert not session.closed


async def test_client_reopens_its_own_session_after_close(sim: Simulator) -> None:
    api = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await api.async_initialize()
    await api.close()
    await api.get_energy_flow()  # a new session of its own
    await api.close()


async def test_closed_given_session_is_explained(sim: Simulator) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    api = Sigen(sim.username, sim.password, base_url=sim.api_url, session=session)
    with pytest.raises(SigenConnectionError, match="HTTP session given to the client is closed"):
        await api.async_initialize()


async def test_northbound_works_after_close_and_reopen(sim: Simulator) -> None:
    api = Sigen(sim.username, sim.password, base_url=sim.api_url)
    await api.async_initialize()
    assert await api.nb_query_mode() == 0
    await api.close()
    assert api.northbound is None
    sim.reset_rate_limits()
    assert await api.nb_query_mode() == 0  # a new session and northbound login
    await api.close()
