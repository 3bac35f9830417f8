"""The simulator's northbound API under /openapi/."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import UA, nb_login

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


async def call(  # noqa: PLR0917
    session: aiohttp.ClientSession,
    sim: Simulator,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with session.request(method, sim.nb_url + path, json=body, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def key_of(app_key: str, secret: str) -> str:
    return base64.b64encode(f"{app_key}:{secret}".encode()).decode()


# ---------------------------------------------------------------------- auth


async def test_key_login_is_double_encoded(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await call(
        session,
        sim,
        "POST",
        "openapi/auth/login/key",
        body={"key": key_of(sim.app_key, sim.app_secret)},
    )
    assert status == 200
    assert body["code"] == 0
    assert isinstance(body["timestamp"], int)
    assert isinstance(body["data"], str)
    data = json.loads(body["data"])
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == 43199
    assert sim.tokens.nb_token_valid(data["accessToken"])
    assert not sim.tokens.nb_token_valid("nope")


@pytest.mark.parametrize(
    "body",
    [
        {"key": key_of("sim-app-key", "wrong")},
        {"key": key_of("other", "sim-app-secret")},
        {"key": "!!!not base64"},
    ],
)
async def test_key_login_bad(sim: Simulator, session: aiohttp.ClientSession, body: Any) -> None:
    _, res = await call(session, sim, "POST", "openapi/auth/login/key", body=body)
    assert res == {
        "code": 11003,
        "msg": "authentication failed",
        "timestamp": res["timestamp"],
        "data": None,
    }


async def test_key_login_missing_key(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, res = await call(session, sim, "POST", "openapi/auth/login/key", body={})
    assert res["code"] == 1000


async def test_key_login_lockout(sim: Simulator, session: aiohttp.ClientSession) -> None:
    bad = {"key": key_of(sim.app_key, "wrong")}
    codes = [
        (await call(session, sim, "POST", "openapi/auth/login/key", body=bad))[1]["code"]
        for _ in range(5)
    ]
    assert codes == [11003] * 4 + [11002]
    good = {"key": key_of(sim.app_key, sim.app_secret)}
    _, res = await call(session, sim, "POST", "openapi/auth/login/key", body=good)
    assert res["code"] == 11002
    await sim.advance(181)
    _, res = await call(session, sim, "POST", "openapi/auth/login/key", body=good)
    assert res["code"] == 0


async def test_password_login_json_and_form(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, res = await call(
        session,
        sim,
        "POST",
        "openapi/auth/login/password",
        body={"username": sim.username, "password": sim.password},
    )
    assert res["code"] == 0
    assert "accessToken" in json.loads(res["data"])
    async with session.post(
        sim.nb_url + "openapi/auth/login/password",
        data={"username": sim.username, "password": sim.password},
    ) as r:
        res = await r.json()
    assert res["code"] == 0


async def test_password_login_bad_and_lock(sim: Simulator, session: aiohttp.ClientSession) -> None:
    bad = {"username": sim.username, "password": "nope"}
    codes = [
        (await call(session, sim, "POST", "openapi/auth/login/password", body=bad))[1]["code"]
        for _ in range(5)
    ]
    assert codes == [11003] * 4 + [11002]
    _, res = await call(session, sim, "POST", "openapi/auth/login/password", body=[1])
    assert res["code"] == 1000


@pytest.mark.sim_config(time_scale=0)
async def test_nb_token_expires_after_12_hours(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await nb_login(session, sim)
    assert (await call(session, sim, "GET", "openapi/system", token))[0] == 200
    await sim.advance(43200)
    assert not sim.tokens.nb_token_valid(token)
    status, res = await call(session, sim, "GET", "openapi/system", token)
    assert status == 401
    assert res["code"] == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "openapi/system"),
        ("GET", "openapi/systems/SIMSYS00000001/energyFlow"),
        ("GET", "openapi/systems/SIMSYS00000001/summary"),
        ("GET", "openapi/instruction/SIMSYS00000001/settings"),
        ("PUT", "openapi/instruction/settings"),
        ("POST", "openapi/instruction/SIMSYS00000001/settings"),
        ("POST", "openapi/board/onboard"),
        ("POST", "openapi/board/offboard"),
    ],
)
async def test_nb_endpoints_need_token(
    sim: Simulator, session: aiohttp.ClientSession, method: str, path: str
) -> None:
    status, _ = await call(session, sim, method, path, "bogus", body=[])
    assert status == 401


async def test_app_token_is_not_a_northbound_token(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    from tests.sim.helpers import app_login

    token = await app_login(session, sim)
    status, _ = await call(session, sim, "GET", "openapi/system", token)
    assert status == 401


# ---------------------------------------------------------------------- queries


@pytest.mark.sim_config(stations=2)
async def test_system_list(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "GET", "openapi/system", token)
    assert res["code"] == 0
    items = res["data"]
    assert [i["systemId"] for i in items] == ["SIMSYS00000001", "SIMSYS00000002"]
    assert set(items[0]) == {
        "systemId",
        "systemName",
        "addr",
        "status",
        "isActivate",
        "onOffGridStatus",
        "timeZone",
        "gridConnectTime",
        "pvCapacity",
        "batteryCapacity",
    }
    assert items[0]["onOffGridStatus"] == "onGrid"


@pytest.mark.sim_config(nb_system_items_as_strings=True)
async def test_system_list_items_as_strings(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "GET", "openapi/system", token)
    assert isinstance(res["data"][0], str)
    assert json.loads(res["data"][0])["systemId"] == "SIMSYS00000001"


@pytest.mark.sim_config(nb_double_encode_all=True, nb_system_items_as_strings=True)
async def test_everything_double_encoded(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "GET", "openapi/system", token)
    items = json.loads(res["data"])
    assert json.loads(items[0])["systemId"] == "SIMSYS00000001"
    _, res = await call(session, sim, "GET", "openapi/systems/SIMSYS00000001/energyFlow", token)
    assert "pvPower" in json.loads(res["data"])
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert json.loads(res["data"])[0]["codeList"] == [1116]


async def test_energy_flow_and_summary(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "GET", "openapi/systems/SIMSYS00000001/energyFlow", token)
    data = res["data"]
    assert set(data) == {
        "pvPower",
        "gridPower",
        "evPower",
        "loadPower",
        "heatPumpPower",
        "batteryPower",
        "batterySoc",
    }
    # data-derived convention: gridPower + = export, batteryPower + = charging
    assert data["pvPower"] - data["batteryPower"] - data["gridPower"] == pytest.approx(
        data["loadPower"], abs=1e-6
    )
    _, res = await call(session, sim, "GET", "openapi/systems/SIMSYS00000001/summary", token)
    assert set(res["data"]) == {
        "dailyPowerGeneration",
        "monthlyPowerGeneration",
        "annualPowerGeneration",
        "lifetimePowerGeneration",
        "lifetimeCo2",
        "lifetimeCoal",
        "lifetimeTreeEquivalent",
    }
    assert res["data"]["lifetimePowerGeneration"] >= 1394.38
    _, res = await call(session, sim, "GET", "openapi/systems/NOPE/summary", token)
    assert res["code"] == 1106


async def test_settings_query_and_switch(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "GET", "openapi/instruction/SIMSYS00000001/settings", token)
    assert res["data"] == {"energyStorageOperationMode": 0}
    _, res = await call(
        session,
        sim,
        "PUT",
        "openapi/instruction/settings",
        token,
        {"systemId": "SIMSYS00000001", "energyStorageOperationMode": 5},
    )
    assert res["code"] == 0
    assert sim.stations[0].mode == 5
    # the POST variant
    _, res = await call(
        session,
        sim,
        "POST",
        "openapi/instruction/SIMSYS00000001/settings",
        token,
        {"energyStorageOperationMode": 0},
    )
    assert res["code"] == 0
    assert sim.stations[0].mode == 0
    await sim.advance(300)
    _, res = await call(session, sim, "GET", "openapi/instruction/SIMSYS00000001/settings", token)
    assert res["data"] == {"energyStorageOperationMode": 0}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            "openapi/instruction/settings",
            {"systemId": "SIMSYS00000001", "energyStorageOperationMode": 6},
        ),
        (
            "PUT",
            "openapi/instruction/settings",
            {"systemId": "SIMSYS00000001", "energyStorageOperationMode": "0"},
        ),
        (
            "PUT",
            "openapi/instruction/settings",
            {"systemId": "NOPE", "energyStorageOperationMode": 0},
        ),
        ("PUT", "openapi/instruction/settings", [0]),
        ("POST", "openapi/instruction/SIMSYS00000001/settings", {"energyStorageOperationMode": 1}),
        (
            "POST",
            "openapi/instruction/SIMSYS00000001/settings",
            {"systemId": "OTHER", "energyStorageOperationMode": 0},
        ),
    ],
)
async def test_switch_rejects_other_modes(
    sim: Simulator, session: aiohttp.ClientSession, method: str, path: str, body: Any
) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, method, path, token, body)
    assert res["code"] == 1000
    assert res["msg"] == "param illegal"
    assert res["data"] is False
    assert sim.stations[0].mode == 0


# ---------------------------------------------------------------------- onboarding


async def test_onboarding_needs_approval(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert res["data"] == [{"systemId": "SIMSYS00000001", "result": False, "codeList": [1116]}]
    assert not sim.onboarded("SIMSYS00000001")
    sim.approve_onboarding("SIMSYS00000001")
    assert sim.onboarded("SIMSYS00000001")
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert res["data"] == [{"systemId": "SIMSYS00000001", "result": True, "codeList": []}]
    _, res = await call(session, sim, "POST", "openapi/board/offboard", token, ["SIMSYS00000001"])
    assert res["data"] == [{"systemId": "SIMSYS00000001", "result": True, "codeList": []}]
    assert not sim.onboarded("SIMSYS00000001")
    # approval is remembered: a second onboard is immediate
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert res["data"][0]["result"] is True


async def test_onboarding_unknown_and_bad_body(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await nb_login(session, sim)
    _, res = await call(
        session, sim, "POST", "openapi/board/onboard", token, ["NOPE", "SIMSYS00000001"]
    )
    assert res["data"][0] == {"systemId": "NOPE", "result": False, "codeList": [1106]}
    assert res["data"][1]["codeList"] == [1116]
    _, res = await call(session, sim, "POST", "openapi/board/offboard", token, ["NOPE"])
    assert res["data"][0]["codeList"] == [1106]
    for bad in ({"systemId": "SIMSYS00000001"}, [], [1]):
        _, res = await call(session, sim, "POST", "openapi/board/onboard", token, bad)
        assert res["code"] == 1000
    with pytest.raises(KeyError):
        sim.approve_onboarding("NOPE")


async def test_reset_onboarding(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    for system_id in ("SIMSYS00000001",):
        sim.onboard(system_id)
        sim.approve_onboarding(system_id)
    sim.reset_onboarding("SIMSYS00000001")
    assert not sim.onboarded("SIMSYS00000001")
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert res["data"][0]["codeList"] == [1116]
    sim.approve_onboarding("SIMSYS00000001")
    sim.reset_onboarding()
    assert sim.onboarding == {}
    assert not sim.onboarded("SIMSYS00000001")


@pytest.mark.sim_config(auto_approve=True)
async def test_auto_approve(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    _, res = await call(session, sim, "POST", "openapi/board/onboard", token, ["SIMSYS00000001"])
    assert res["data"][0]["result"] is True
    assert sim.onboarded("SIMSYS00000001")


# ---------------------------------------------------------------------- rate limits


@pytest.mark.sim_config(stations=2, time_scale=0)
@pytest.mark.parametrize(
    "path",
    [
        "openapi/systems/{sid}/energyFlow",
        "openapi/systems/{sid}/summary",
        "openapi/instruction/{sid}/settings",
    ],
)
async def test_rate_limit_per_station(
    sim: Simulator, session: aiohttp.ClientSession, path: str
) -> None:
    token = await nb_login(session, sim)
    first = path.format(sid="SIMSYS00000001")
    second = path.format(sid="SIMSYS00000002")
    assert (await call(session, sim, "GET", first, token))[1]["code"] == 0
    _, res = await call(session, sim, "GET", first, token)
    assert res["code"] == 1201
    assert res["msg"] == "access restriction"
    assert res["data"] is None
    # another station has its own budget
    assert (await call(session, sim, "GET", second, token))[1]["code"] == 0
    await sim.advance(299)
    assert (await call(session, sim, "GET", first, token))[1]["code"] == 1201
    await sim.advance(1)
    assert (await call(session, sim, "GET", first, token))[1]["code"] == 0


@pytest.mark.sim_config(time_scale=0)
async def test_rate_limit_system_list_per_account(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await nb_login(session, sim)
    assert (await call(session, sim, "GET", "openapi/system", token))[1]["code"] == 0
    other = await nb_login(session, sim)  # same account, new token: same budget
    assert (await call(session, sim, "GET", "openapi/system", other))[1]["code"] == 1201
    await sim.advance(300)
    assert (await call(session, sim, "GET", "openapi/system", other))[1]["code"] == 0


@pytest.mark.sim_config(nb_rate_limits=False)
async def test_rate_limits_switchable(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await nb_login(session, sim)
    for _ in range(3):
        _, res = await call(session, sim, "GET", "openapi/systems/SIMSYS00000001/energyFlow", token)
        assert res["code"] == 0
