"""The request log: what was asked, with every secret redacted."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sigen_sim import Simulator
from sigen_sim.request_log import REDACTED, redact_body, redact_headers
from tests.sim.helpers import UA, app_login_raw, encrypt, nb_login, token_request

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


def dump(sim: Simulator) -> str:
    return "\n".join(repr(e) + repr(e.to_dict()) for e in sim.request_log)


async def test_app_login_and_calls_are_redacted(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    _, body = await app_login_raw(session, sim)
    access = body["data"]["access_token"]
    refresh = body["data"]["refresh_token"]
    await token_request(session, sim, {"grant_type": "refresh_token", "refresh_token": refresh})
    async with session.get(
        sim.api_url + "device/owner/station/home",
        headers={"Authorization": f"Bearer {access}"},
        params={"access_token": access},
    ) as r:
        assert r.status == 200

    logged = sim.requests("auth/oauth/token", method="POST")
    assert len(logged) == 2
    login = logged[0]
    assert login.method == "POST"
    assert login.path == "/auth/oauth/token"
    assert login.headers["Authorization"] == f"Basic {REDACTED}"
    assert login.headers["User-Agent"] == UA
    assert f"username={sim.username.replace('@', '%40')}" in login.body
    assert "password=" + REDACTED.replace("*", "%2A") in login.body
    assert login.status == 200
    assert login.time == pytest.approx(sim.clock.now(), abs=60)

    home = sim.requests("station/home")[0]
    assert home.headers["Authorization"] == f"Bearer {REDACTED}"
    assert home.query["access_token"] == REDACTED

    text = dump(sim)
    for secret in (access, refresh, encrypt(sim.password), sim.password, "c2lnZW46c2lnZW4="):
        assert secret not in text


async def test_northbound_logins_are_redacted(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await nb_login(session, sim)
    async with session.post(
        sim.nb_url + "openapi/auth/login/password",
        json={"username": sim.username, "password": sim.password},
    ) as r:
        assert (await r.json())["code"] == 0
    async with session.post(
        sim.nb_url + "openapi/board/onboard",
        json=["SIMSYS00000001"],
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 200
    key = base64.b64encode(f"{sim.app_key}:{sim.app_secret}".encode()).decode()
    text = dump(sim)
    for secret in (token, key, sim.password, sim.app_secret):
        assert secret not in text
    key_login = sim.requests("login/key")[0]
    assert key_login.json() == {"key": REDACTED}
    pw_login = sim.requests("login/password")[0]
    assert pw_login.json() == {"username": sim.username, "password": REDACTED}
    onboard = sim.requests("board/onboard")[0]
    assert onboard.json() == ["SIMSYS00000001"]


async def test_helpers_count_and_clear(sim: Simulator, session: aiohttp.ClientSession) -> None:
    for _ in range(3):
        async with session.get(sim.api_url + "device/owner/station/home") as r:
            assert r.status == 401
    async with session.get(sim.api_url + "no/such/path") as r:
        assert r.status == 404
    assert sim.count("station/home") == 3
    assert sim.count("station/home", method="POST") == 0
    assert sim.count() == 4
    assert len(sim.request_log) == 4
    assert [e.status for e in sim.request_log] == [401, 401, 401, 404]
    assert sim.request_log[0].json() is None
    sim.clear_requests()
    assert sim.count() == 0
    # the control API is not logged
    async with session.get(sim.control_url + "state") as r:
        assert r.status == 200
    assert sim.count() == 0


def test_redaction_helpers() -> None:
    assert redact_headers({"Cookie": "a=b", "X": "y"}) == {"Cookie": REDACTED, "X": "y"}
    nested = redact_body('{"a": [{"accessToken": "t", "n": 1}], "secret": "s"}', "application/json")
    assert '"t"' not in nested
    assert '"s"' not in nested
    assert '"n":1' in nested
    assert redact_body("plain text", "text/plain") == "plain text"
    assert redact_body("x" * 5000, "text/plain").endswith("…")
    assert redact_body("", "application/json") == ""


def test_log_is_bounded() -> None:
    from sigen_sim.request_log import LoggedRequest, RequestLog

    log = RequestLog(max_entries=3)
    for i in range(5):
        log.append(LoggedRequest("GET", f"/p{i}", {}, {}, "", 0.0))
    assert [e.path for e in log] == ["/p2", "/p3", "/p4"]
