"""Fault injection, from Python and (some) through the control API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from sigen_sim.faults import drop_keys
from tests.sim.helpers import UA, app_login, app_login_raw, nb_login

pytestmark = pytest.mark.usefixtures("socket_enabled")

HOME = "device/owner/station/home"
FLOW = "device/sigen/station/energyflow"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


async def get(
    session: aiohttp.ClientSession, sim: Simulator, path: str, token: str, **params: str
) -> tuple[int, str]:
    async with session.get(
        sim.api_url + path, params=params, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        return r.status, await r.text()


async def test_firewall_blocks_aiohttp_user_agent(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as plain:  # aiohttp's default User-Agent
        async with plain.post(sim.api_url + "auth/oauth/token", data={}) as r:
            assert r.status == 403
            assert r.content_type == "text/html"
            assert "Request blocked" in await r.text()
        async with plain.get(sim.nb_url + "openapi/system") as r:
            assert r.status == 403
        # the control API is not behind the firewall
        async with plain.get(sim.control_url + "state") as r:
            assert r.status == 200
    assert sim.requests(HOME) == []
    assert sim.request_log[0].status == 403


@pytest.mark.sim_config(block_aiohttp_user_agent=False)
async def test_firewall_can_be_switched_off(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as plain:
        status, body = await app_login_raw(plain, sim)
    assert status == 200
    assert body["code"] == 0


async def test_firewall_toggle_at_runtime(sim: Simulator) -> None:
    sim.faults.block_aiohttp_user_agent = False
    async with aiohttp.ClientSession() as plain:
        async with plain.get(sim.api_url + HOME) as r:
            assert r.status == 401  # through the firewall, stopped by the missing token
        sim.faults.clear()  # back to the configured default (on)
        async with plain.get(sim.api_url + HOME) as r:
            assert r.status == 403


async def test_expire_tokens_now(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    nb_token = await nb_login(session, sim)
    assert (await get(session, sim, HOME, token))[0] == 200
    sim.faults.expire_tokens()
    assert (await get(session, sim, HOME, token))[0] == 401
    assert not sim.tokens.nb_token_valid(nb_token)
    # a new login works
    token = await app_login(session, sim)
    assert (await get(session, sim, HOME, token))[0] == 200


async def test_expire_one_kind_of_token(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    nb_token = await nb_login(session, sim)
    sim.faults.expire_tokens("nb")
    assert not sim.tokens.nb_token_valid(nb_token)
    assert (await get(session, sim, HOME, token))[0] == 200
    sim.faults.add_from_dict({"kind": "expire_tokens", "tokenKind": "app"})
    assert (await get(session, sim, HOME, token))[0] == 401
    with pytest.raises(ValueError, match="tokenKind"):
        sim.faults.add_from_dict({"kind": "expire_tokens", "tokenKind": "bogus"})


async def test_handler_crash_is_a_500_and_logged(
    sim: Simulator, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    token = await app_login(session, sim)

    def boom() -> dict[str, Any]:
        raise RuntimeError("model exploded")

    sim.stations[0].sample = boom  # type: ignore[method-assign]
    status, text = await get(session, sim, FLOW, token, id="20240523012345")
    assert status == 500
    assert json.loads(text) == {"code": 500, "msg": "internal error", "data": None}
    assert "model exploded" in caplog.text


@pytest.mark.parametrize("status", [401, 500, 502, 503])
async def test_http_errors_for_n_requests(
    sim: Simulator, session: aiohttp.ClientSession, status: int
) -> None:
    token = await app_login(session, sim)
    rule = sim.faults.http_error("energyflow", status, count=2)
    for _ in range(2):
        got, _ = await get(session, sim, FLOW, token, id="20240523012345")
        assert got == status
    assert rule.hits == 2
    assert rule not in sim.faults.rules
    assert (await get(session, sim, FLOW, token, id="20240523012345"))[0] == 200
    # other endpoints were never affected
    assert (await get(session, sim, HOME, token))[0] == 200


async def test_http_error_until_cleared_with_glob_and_method(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await app_login(session, sim)
    sim.faults.server_error("/device/*/station/home", 503, method="GET")
    for _ in range(3):
        assert (await get(session, sim, HOME, token))[0] == 503
    sim.faults.unauthorized("station/home", count=1)  # queued behind the first rule
    sim.faults.clear()
    assert (await get(session, sim, HOME, token))[0] == 200
    sim.faults.http_error("station/home", 500, method="POST")
    assert (await get(session, sim, HOME, token))[0] == 200


async def test_timeout_hangs_until_cleared(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    sim.faults.timeout("station/home", count=1)
    with pytest.raises(asyncio.TimeoutError):
        async with session.get(
            sim.api_url + HOME,
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=0.3),
        ):
            pass
    sim.faults.clear()  # releases the hanging handler
    assert (await get(session, sim, HOME, token))[0] == 200


async def test_released_hang_answers_504(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    sim.faults.timeout("station/home")
    task = asyncio.create_task(get(session, sim, HOME, token))
    await asyncio.wait_for(sim.faults.wait_hanging(), timeout=30)
    assert sim.faults.hanging == 1
    sim.faults.clear()
    status, _ = await task
    assert status == 504
    assert sim.faults.hanging == 0


@pytest.mark.parametrize(("code", "msg"), [(1201, "access restriction"), (1110, "current-limited")])
async def test_rate_limit_codes(
    sim: Simulator, session: aiohttp.ClientSession, code: int, msg: str
) -> None:
    token = await app_login(session, sim)
    sim.faults.rate_limit("station/home", code, count=1)
    status, text = await get(session, sim, HOME, token)
    assert status == 200
    body = json.loads(text)
    assert body["code"] == code
    assert msg in body["msg"]
    assert (await get(session, sim, HOME, token))[0] == 200


async def test_rate_limit_http_429(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    sim.faults.rate_limit("/openapi/system", "429")
    async with session.get(
        sim.nb_url + "openapi/system", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "60"
    with pytest.raises(ValueError, match="1201"):
        sim.faults.rate_limit("x", 1234)


async def test_malformed_json(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    sim.faults.malformed_json("energyflow", count=1)
    status, text = await get(session, sim, FLOW, token, id="20240523012345")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(text)
    status, text = await get(session, sim, FLOW, token, id="20240523012345")
    assert json.loads(text)["code"] == 0


async def test_partial_payload(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    sim.faults.partial_payload("energyflow", ["pvPower", "batterySoc"], count=1)
    _, text = await get(session, sim, FLOW, token, id="20240523012345")
    data = json.loads(text)["data"]
    assert "pvPower" not in data
    assert "batterySoc" not in data
    assert "loadPower" in data
    sim.faults.partial_payload("station/home")  # default: half of the keys
    _, text = await get(session, sim, HOME, token)
    data = json.loads(text)["data"]
    assert 0 < len(data) < 11


async def test_partial_payload_on_double_encoded_data(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    sim.faults.partial_payload("login/key", ["expiresIn"])
    async with session.post(
        sim.nb_url + "openapi/auth/login/key",
        json={"key": "c2ltLWFwcC1rZXk6c2ltLWFwcC1zZWNyZXQ="},
    ) as r:
        body = await r.json()
    data = json.loads(body["data"])
    assert "accessToken" in data
    assert "expiresIn" not in data


def test_drop_keys_shapes() -> None:
    assert drop_keys([{"a": 1, "b": 2}], ["a"]) == [{"b": 2}]
    assert drop_keys("not json", ["a"]) == "not json"
    assert drop_keys(5, None) == 5
    assert drop_keys({"a": 1, "b": 2, "c": 3}, None) == {"a": 1, "c": 3}


async def test_login_failure_after_password_change(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    old = sim.password
    sim.faults.login_failure("new-password")
    _, body = await app_login_raw(session, sim, password=old)
    assert body["code"] == 11003
    _, body = await app_login_raw(session, sim, password="new-password")
    assert body["code"] == 0
    assert sim.password == "new-password"


async def test_latency_is_applied(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.faults.set_latency(0.05)
    assert sim.faults.to_dict()["latency"] == 0.05
    token = await app_login(session, sim)
    assert (await get(session, sim, HOME, token))[0] == 200
    with pytest.raises(ValueError, match="latency"):
        sim.faults.set_latency(-1)
    sim.faults.clear()
    assert sim.faults.latency == 0.0


async def test_mqtt_faults_without_mqtt(sim: Simulator) -> None:
    with pytest.raises(RuntimeError, match="MQTT"):
        await sim.faults.restart_broker()
    with pytest.raises(RuntimeError, match="MQTT"):
        await sim.faults.drop_mqtt_clients()
    with pytest.raises(RuntimeError, match="MQTT"):
        await sim.publish_telemetry()
    with pytest.raises(RuntimeError, match="MQTT"):
        _ = sim.mqtt_port
    assert sim.mqtt_received == []


async def test_telemetry_flags(sim: Simulator) -> None:
    sim.faults.telemetry_malformed = True
    sim.faults.telemetry_partial = True
    sim.faults.clear()
    assert not sim.faults.telemetry_malformed
    assert not sim.faults.telemetry_partial


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        ({"kind": "status", "pattern": "home", "status": 502}, "rule"),
        ({"kind": "timeout", "pattern": "home", "count": 1}, "rule"),
        ({"kind": "rate_limit", "pattern": "home", "code": 1110}, "rule"),
        ({"kind": "malformed", "pattern": "home"}, "rule"),
        ({"kind": "partial", "pattern": "home", "keys": ["stationId"]}, "rule"),
        ({"kind": "latency", "seconds": 0.01}, "latency"),
        ({"kind": "telemetry_partial"}, "telemetryPartial"),
        ({"kind": "telemetry_malformed", "enabled": True}, "telemetryMalformed"),
        ({"kind": "block_aiohttp", "enabled": False}, "blockAiohttpUserAgent"),
    ],
)
def test_add_from_dict(spec: dict[str, Any], check: str) -> None:
    sim = Simulator()
    rule = sim.faults.add_from_dict(spec)
    state = sim.faults.to_dict()
    if check == "rule":
        assert rule is not None
        assert state["rules"][0]["kind"] == spec["kind"]
        assert sim.faults.remove(rule.id)
        assert not sim.faults.remove(rule.id)
    elif check == "blockAiohttpUserAgent":
        assert state[check] is False
    else:
        assert state[check]


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "nope", "pattern": "x"},
        {"kind": "status"},
        {"kind": "rate_limit", "pattern": "x", "code": 7},
    ],
)
def test_add_from_dict_rejects(spec: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Simulator().faults.add_from_dict(spec)


def test_expire_and_login_failure_from_dict() -> None:
    sim = Simulator()
    token = sim.tokens.issue("nb", "x")
    sim.faults.add_from_dict({"kind": "expire_tokens"})
    assert not sim.tokens.nb_token_valid(token.value)
    sim.faults.add_from_dict({"kind": "login_failure", "password": "p2"})
    assert sim.password == "p2"
