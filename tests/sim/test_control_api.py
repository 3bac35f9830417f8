"""The /_sim/ control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import UA, app_login

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


async def ctl(
    session: aiohttp.ClientSession, sim: Simulator, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, sim.control_url + path, json=body) as r:
        return r.status, await r.json()


async def test_state_and_credentials(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, res = await ctl(session, sim, "GET", "state")
    assert status == 200
    assert res["ok"] is True
    state = res["data"]
    assert state["stations"][0]["systemId"] == "SIMSYS00000001"
    assert state["mqtt"] is None
    assert state["onboarded"] == []
    assert state["activeTokens"] == {"app": 0, "refresh": 0, "nb": 0}
    _, res = await ctl(session, sim, "GET", "credentials")
    creds = res["data"]
    assert creds["username"] == sim.username
    assert creds["appKey"] == sim.app_key
    assert creds["apiUrl"] == sim.api_url
    assert creds["stationIds"] == [20240523012345]


@pytest.mark.sim_config(time_scale=0)
async def test_advance(sim: Simulator, session: aiohttp.ClientSession) -> None:
    before = sim.clock.now()
    _, res = await ctl(session, sim, "POST", "advance", {"seconds": 3600})
    assert res["data"]["time"] == pytest.approx(before + 3600)
    status, res = await ctl(session, sim, "POST", "advance", {"seconds": -5})
    assert status == 400
    assert "back" in res["error"]
    status, res = await ctl(session, sim, "POST", "advance", [1])
    assert status == 400


async def test_approve_onboarding(sim: Simulator, session: aiohttp.ClientSession) -> None:
    sim.onboard("SIMSYS00000001")
    assert not sim.onboarded("SIMSYS00000001")
    status, _ = await ctl(session, sim, "POST", "onboarding/SIMSYS00000001/approve")
    assert status == 200
    assert sim.onboarded("SIMSYS00000001")
    status, _ = await ctl(session, sim, "POST", "onboarding/NOPE/approve")
    assert status == 404


async def test_faults_through_control_api(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    status, res = await ctl(
        session, sim, "POST", "faults", {"kind": "status", "pattern": "station/home", "status": 503}
    )
    assert status == 200
    rule_id = res["data"]["id"]
    async with session.get(
        sim.api_url + "device/owner/station/home", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 503
    _, res = await ctl(session, sim, "GET", "faults")
    assert res["data"]["rules"][0]["hits"] == 1
    assert (await ctl(session, sim, "DELETE", f"faults/{rule_id}"))[0] == 200
    assert (await ctl(session, sim, "DELETE", f"faults/{rule_id}"))[0] == 404
    assert (await ctl(session, sim, "DELETE", "faults/x"))[0] == 400
    async with session.get(
        sim.api_url + "device/owner/station/home", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 200
    await ctl(session, sim, "POST", "faults", {"kind": "latency", "seconds": 0.01})
    await ctl(session, sim, "POST", "faults", {"kind": "telemetry_malformed"})
    assert sim.faults.telemetry_malformed
    assert (await ctl(session, sim, "DELETE", "faults"))[0] == 200
    cleared = sim.faults.to_dict()
    assert cleared["latency"] == 0
    assert not cleared["telemetryMalformed"]
    status, res = await ctl(session, sim, "POST", "faults", {"kind": "bogus", "pattern": "x"})
    assert status == 400
    assert "bogus" in res["error"]
    await ctl(session, sim, "POST", "faults", {"kind": "expire_tokens"})
    async with session.get(
        sim.api_url + "device/owner/station/home", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 401


async def test_requests_and_clear(sim: Simulator, session: aiohttp.ClientSession) -> None:
    await app_login(session, sim)
    _, res = await ctl(session, sim, "GET", "requests")
    assert len(res["data"]) == 1
    assert res["data"][0]["path"] == "/auth/oauth/token"
    assert sim.password not in str(res)
    async with session.get(sim.control_url + "requests", params={"path_contains": "nothing"}) as r:
        assert (await r.json())["data"] == []
    assert (await ctl(session, sim, "DELETE", "requests"))[0] == 200
    assert len(sim.request_log) == 0
    sim.faults.http_error("x")
    sim.tokens.record_failure("someone")
    sim.nb_rate_ok("summary", "S")
    assert (await ctl(session, sim, "POST", "clear"))[0] == 200
    assert sim.faults.rules == []
    assert sim.nb_rate_ok("summary", "S")


async def test_password_mode_and_smart_load(sim: Simulator, session: aiohttp.ClientSession) -> None:
    assert (await ctl(session, sim, "POST", "password", {"password": "pw2"}))[0] == 200
    assert sim.password == "pw2"
    assert (await ctl(session, sim, "POST", "password", {"password": ""}))[0] == 400
    status, res = await ctl(
        session, sim, "POST", "stations/SIMSYS00000001/mode", {"mode": 9, "profileId": 3126}
    )
    assert status == 200
    assert res["data"]["modeLabel"] == "Summer 50kWh"
    status, _ = await ctl(session, sim, "POST", "stations/SIMSYS00000001/mode", {"mode": 4})
    assert status == 400
    status, _ = await ctl(session, sim, "POST", "stations/NOPE/mode", {"mode": 0})
    assert status == 404
    status, res = await ctl(
        session, sim, "POST", "stations/SIMSYS00000001/smart-loads/1", {"on": True}
    )
    assert status == 200
    assert res["data"]["smartLoads"][0]["on"] is True
    status, _ = await ctl(session, sim, "POST", "stations/SIMSYS00000001/smart-loads/7", {})
    assert status == 400
    status, _ = await ctl(session, sim, "POST", "stations/NOPE/smart-loads/1", {})
    assert status == 404


@pytest.mark.parametrize("path", ["telemetry", "alarm", "broker/restart", "mqtt/drop"])
async def test_mqtt_endpoints_without_mqtt(
    sim: Simulator, session: aiohttp.ClientSession, path: str
) -> None:
    status, res = await ctl(session, sim, "POST", path, {})
    assert status == 409
    assert "MQTT" in res["error"]


async def test_stations_and_smart_loads_appear_and_disappear(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    status, res = await ctl(session, sim, "POST", "stations")
    assert status == 200
    assert res["data"]["systemId"] == "SIMSYS00000002"
    assert len(sim.stations) == 2
    status, res = await ctl(
        session, sim, "POST", "stations/SIMSYS00000002/smart-loads", {"name": "Sauna", "powerKw": 6}
    )
    assert status == 200
    assert res["data"] == {"name": "Sauna", "path": 3}
    assert sim.stations[1].smart_load(3).power_kw == 6.0
    status, _ = await ctl(session, sim, "POST", "stations/SIMSYS00000002/smart-loads", {})
    assert status == 400
    status, _ = await ctl(session, sim, "POST", "stations/NOPE/smart-loads", {"name": "x"})
    assert status == 404
    assert (await ctl(session, sim, "DELETE", "stations/SIMSYS00000002/smart-loads/1"))[0] == 200
    assert [sl.path for sl in sim.stations[1].smart_loads] == [2, 3]
    assert (await ctl(session, sim, "DELETE", "stations/SIMSYS00000002/smart-loads/1"))[0] == 404
    assert (await ctl(session, sim, "DELETE", "stations/NOPE/smart-loads/1"))[0] == 404
    assert (await ctl(session, sim, "DELETE", "stations/SIMSYS00000002"))[0] == 200
    assert len(sim.stations) == 1
    assert (await ctl(session, sim, "DELETE", "stations/SIMSYS00000002"))[0] == 404
    status, res = await ctl(session, sim, "DELETE", "stations/SIMSYS00000001")
    assert status == 400
    assert "home station" in res["error"]


async def test_change_without_mqtt(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, _ = await ctl(session, sim, "POST", "change", {})
    assert status == 409
    with pytest.raises(RuntimeError, match="MQTT"):
        await sim.publish_change("SIMSYS00000001")
    with pytest.raises(RuntimeError, match="MQTT"):
        await sim.publish_alarm("SIMSYS00000001", "1001")
