"""The simulator's app API: login, tokens, station, energy flow, modes, smart loads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import BASIC, UA, app_login, app_login_raw, encrypt, nb_login, token_request

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as client:
        yield client


async def get(
    session: aiohttp.ClientSession, sim: Simulator, path: str, token: str | None, **params: Any
) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with session.get(sim.api_url + path, params=params, headers=headers) as r:
        return r.status, await r.json(content_type=None)


# ---------------------------------------------------------------------- login


async def test_login_answer_shape(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await app_login_raw(session, sim)
    assert status == 200
    assert body["code"] == 0
    assert body["msg"] == "success"
    data = body["data"]
    assert set(data) >= {"access_token", "refresh_token", "expires_in", "token_type"}
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == 43199
    assert "userId" not in data


@pytest.mark.sim_config(login_includes_user_id=True, user_id=4242)
async def test_login_with_user_id(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, body = await app_login_raw(session, sim)
    assert body["data"]["userId"] == 4242


async def test_login_minimal_form_and_case_insensitive_username(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    form = {
        "grant_type": "password",
        "username": sim.username.upper(),
        "password": encrypt(sim.password),
    }
    status, body = await token_request(session, sim, form)
    assert status == 200
    assert body["code"] == 0


@pytest.mark.parametrize("auth", [None, "Basic " + "c2lnZW46d3Jvbmc=", "Bearer x", "Basic !!"])
async def test_login_needs_basic_client_auth(
    sim: Simulator, session: aiohttp.ClientSession, auth: str | None
) -> None:
    form = {"grant_type": "password", "username": sim.username, "password": encrypt(sim.password)}
    status, body = await token_request(session, sim, form, auth=auth)
    assert status == 401
    assert body["error"] == "unauthorized"


async def test_wrong_password_envelope(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await app_login_raw(session, sim, password="wrong")
    assert status == 200
    assert body["code"] == 11003
    assert body["data"] is None
    assert "password" in body["msg"].lower()


async def test_plain_password_is_rejected(sim: Simulator, session: aiohttp.ClientSession) -> None:
    form = {"grant_type": "password", "username": sim.username, "password": sim.password}
    _, body = await token_request(session, sim, form)
    assert body["code"] == 11003


async def test_unknown_user(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, body = await app_login_raw(session, sim, username="nobody@sigen.invalid")
    assert body["code"] == 11003


@pytest.mark.sim_config(login_error_style="oauth")
async def test_wrong_password_oauth_style(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await app_login_raw(session, sim, password="wrong")
    assert status == 400
    assert body["error"] == "invalid_grant"


async def test_unsupported_grant(sim: Simulator, session: aiohttp.ClientSession) -> None:
    status, body = await token_request(session, sim, {"grant_type": "client_credentials"})
    assert status == 400
    assert body["error"] == "unsupported_grant_type"


async def test_lockout_after_five_failures(sim: Simulator, session: aiohttp.ClientSession) -> None:
    for _ in range(4):
        _, body = await app_login_raw(session, sim, password="wrong")
        assert body["code"] == 11003
    _, body = await app_login_raw(session, sim, password="wrong")
    assert body["code"] == 11002
    # even the right password is refused while locked
    _, body = await app_login_raw(session, sim)
    assert body["code"] == 11002
    assert "locked" in body["msg"]
    await sim.advance(181)
    _, body = await app_login_raw(session, sim)
    assert body["code"] == 0


async def test_failures_outside_the_window_do_not_lock(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    for _ in range(4):
        await app_login_raw(session, sim, password="wrong")
    await sim.advance(3601)
    _, body = await app_login_raw(session, sim, password="wrong")
    assert body["code"] == 11003


@pytest.mark.sim_config(login_error_style="oauth")
async def test_lockout_oauth_style(sim: Simulator, session: aiohttp.ClientSession) -> None:
    for _ in range(5):
        status, body = await app_login_raw(session, sim, password="wrong")
    assert status == 400
    assert body["code"] == 11002


async def test_refresh_rotates_tokens(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, body = await app_login_raw(session, sim)
    refresh = body["data"]["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "scope": "server"}
    status, new = await token_request(session, sim, form)
    assert status == 200
    assert new["code"] == 0
    assert new["data"]["access_token"] != body["data"]["access_token"]
    assert new["data"]["refresh_token"] != refresh
    status, _ = await get(session, sim, "device/owner/station/home", new["data"]["access_token"])
    assert status == 200
    # the old refresh token is spent
    _, again = await token_request(session, sim, form)
    assert again["code"] == 11003


@pytest.mark.sim_config(rotate_refresh_tokens=False)
async def test_refresh_without_rotation(sim: Simulator, session: aiohttp.ClientSession) -> None:
    _, body = await app_login_raw(session, sim)
    refresh = body["data"]["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    for _ in range(2):
        _, new = await token_request(session, sim, form)
        assert new["code"] == 0
        assert new["data"]["refresh_token"] == refresh


@pytest.mark.sim_config(station_id_as_string=True)
async def test_station_id_as_string_variant(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/owner/station/home", token)
    assert body["data"]["stationId"] == "20240523012345"


async def test_refresh_with_unknown_token(sim: Simulator, session: aiohttp.ClientSession) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "nope"}
    _, body = await token_request(session, sim, form)
    assert body["code"] != 0


@pytest.mark.sim_config(access_token_lifetime=600, time_scale=0)
async def test_access_token_expires_on_simulated_clock(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    _, body = await app_login_raw(session, sim)
    assert body["data"]["expires_in"] == 600
    token = body["data"]["access_token"]
    assert (await get(session, sim, "device/owner/station/home", token))[0] == 200
    await sim.advance(599)
    assert (await get(session, sim, "device/owner/station/home", token))[0] == 200
    await sim.advance(2)
    status, err = await get(session, sim, "device/owner/station/home", token)
    assert status == 401
    assert err["code"] == 401
    # the refresh token still works
    form = {"grant_type": "refresh_token", "refresh_token": body["data"]["refresh_token"]}
    _, new = await token_request(session, sim, form)
    assert new["code"] == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("device/owner/station/home", {}),
        ("device/sigen/station/energyflow", {"id": "20240523012345"}),
        ("device/energy-profile/mode/all/20240523012345", {}),
        ("device/energy-profile/mode/current/20240523012345", {}),
        ("device/system/device/systemDevice/card", {"stationId": "20240523012345"}),
        ("device/tp-device/smart-loads", {"stationId": "20240523012345", "loadPath": "1"}),
    ],
)
@pytest.mark.parametrize("token", [None, "unknown-token"])
async def test_endpoints_need_a_valid_token(
    sim: Simulator,
    session: aiohttp.ClientSession,
    path: str,
    params: dict[str, str],
    token: str | None,
) -> None:
    status, body = await get(session, sim, path, token, **params)
    assert status == 401
    assert body["code"] == 401


async def test_put_and_patch_need_a_token(sim: Simulator, session: aiohttp.ClientSession) -> None:
    async with session.put(sim.api_url + "device/energy-profile/mode", json={}) as r:
        assert r.status == 401
    async with session.patch(
        sim.api_url + "device/tp-device/smart-loads/control-mode/manual/switch",
        params={"stationId": "20240523012345", "loadPath": "1", "manualSwitch": "1"},
    ) as r:
        assert r.status == 401


async def test_northbound_token_works_on_app_endpoints(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await nb_login(session, sim)
    status, body = await get(session, sim, "device/owner/station/home", token)
    assert status == 200
    assert body["code"] == 0


# ---------------------------------------------------------------------- station


async def test_station_home(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/owner/station/home", token)
    assert set(body) == {"code", "msg", "data"}
    data = body["data"]
    station = sim.stations[0]
    assert data["stationId"] == station.station_id == 20240523012345
    assert isinstance(data["stationId"], int)
    # stationCode is the northbound/MQTT systemId; stationSnCode a numeric serial
    assert data["stationCode"] == station.system_id == "SIMSYS00000001"
    assert data["stationSnCode"] == station.sn_code == "2025041600173"
    assert data["stationSnCode"].isdigit()
    for key in ("hasPv", "hasEv", "hasAcCharger", "onGrid"):
        assert isinstance(data[key], bool)
    assert data["acSnList"] == [station.ac_sn]
    assert data["dcSnList"] == []
    assert data["pvCapacity"] == 10.3
    assert data["batteryCapacity"] == 10.0


@pytest.mark.sim_config(stations=3)
async def test_station_home_is_the_first_station(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/owner/station/home", token)
    assert body["data"]["stationId"] == sim.stations[0].station_id
    # energy flow works for every station of the account
    for station in sim.stations:
        _, flow = await get(
            session, sim, "device/sigen/station/energyflow", token, id=str(station.station_id)
        )
        assert flow["data"]["stationSnCode"] == station.sn_code


async def test_energy_flow(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/sigen/station/energyflow", token, id="20240523012345")
    assert body["code"] == 0
    data = body["data"]
    expected = {
        "acPower",
        "acRunStatus",
        "batteryPower",
        "batterySoc",
        "buySellPower",
        "dateCurrTimeStamp",
        "evPower",
        "generatorPower",
        "heatPumpPower",
        "loadPower",
        "onGrid",
        "onOffGridStatus",
        "pvDayNrg",
        "pvPower",
        "showHibernateStatus",
        "stationSnCode",
        "stationStatus",
        "thirdPvPower",
        "greenSourceInfos",
    }
    assert set(data) == expected
    assert data["stationSnCode"] == "2025041600173"
    assert data["acRunStatus"] is None
    assert data["dateCurrTimeStamp"] == ""
    assert data["pvPower"] - data["batteryPower"] - data["buySellPower"] == pytest.approx(
        data["loadPower"], abs=1e-6
    )
    assert 0 <= data["batterySoc"] <= 100
    assert data["greenSourceInfos"][0]["sourceId"] == "FROM_SOLAR"


async def test_energy_flow_bad_ids(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/sigen/station/energyflow", token)
    assert body["code"] == 1000
    _, body = await get(session, sim, "device/sigen/station/energyflow", token, id="123")
    assert body["code"] == 1106
    assert body["data"] is None
    _, body = await get(session, sim, "device/sigen/station/energyflow", token, id="abc")
    assert body["code"] == 1106


# ---------------------------------------------------------------------- modes


async def test_mode_list(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    _, body = await get(session, sim, "device/energy-profile/mode/all/20240523012345", token)
    data = body["data"]
    modes = {m["label"]: m["value"] for m in data["defaultWorkingModes"]}
    assert modes == {
        "Sigen AI Mode": "1",
        "Maximum Self-Powered": "0",
        "TOU": "2",
        "Fully Fed to Grid": "5",
        "Remote EMS Mode": "7",
    }
    assert any("sortOrder" in m and "remarks" in m for m in data["defaultWorkingModes"])
    assert any("sortOrder" not in m for m in data["defaultWorkingModes"])
    assert data["energyProfileItems"] == [
        {"name": "Summer 50kWh", "profileId": 3126, "value": 9},
        {"name": "Storm Ready", "profileId": 3939, "value": 9},
    ]
    _, body = await get(session, sim, "device/energy-profile/mode/all/999", token)
    assert body["code"] == 1106


async def put_mode(
    session: aiohttp.ClientSession, sim: Simulator, token: str, body: Any
) -> dict[str, Any]:
    async with session.put(
        sim.api_url + "device/energy-profile/mode",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 200
        result: dict[str, Any] = await r.json()
        return result


async def test_current_and_set_mode(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    path = "device/energy-profile/mode/current/20240523012345"
    _, body = await get(session, sim, path, token)
    assert body["data"] == {"currentMode": 0, "currentProfileId": -1}

    res = await put_mode(
        session, sim, token, {"stationId": 20240523012345, "operationMode": 5, "profileId": -1}
    )
    assert res == {"code": 0, "msg": "success", "data": None}
    _, body = await get(session, sim, path, token)
    assert body["data"] == {"currentMode": 5, "currentProfileId": -1}
    assert sim.stations[0].mode == 5

    # custom profile; stationId as a string is accepted too
    res = await put_mode(
        session, sim, token, {"stationId": "20240523012345", "operationMode": 9, "profileId": 3939}
    )
    assert res["code"] == 0
    _, body = await get(session, sim, path, token)
    assert body["data"] == {"currentMode": 9, "currentProfileId": 3939}
    assert sim.stations[0].mode_label() == "Storm Ready"


@pytest.mark.parametrize(
    "body",
    [
        {"stationId": 20240523012345, "operationMode": 3, "profileId": -1},
        {"stationId": 20240523012345, "operationMode": 9, "profileId": 1},
        {"stationId": 20240523012345, "operationMode": 0, "profileId": 3126},
        {"stationId": 20240523012345, "operationMode": "x", "profileId": -1},
        [1, 2],
    ],
)
async def test_set_mode_rejects_unknown(
    sim: Simulator, session: aiohttp.ClientSession, body: Any
) -> None:
    token = await app_login(session, sim)
    res = await put_mode(session, sim, token, body)
    assert res["code"] == 1000
    assert "param illegal" in res["msg"]
    assert sim.stations[0].mode == 0


async def test_set_mode_unknown_station(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    res = await put_mode(session, sim, token, {"stationId": 1, "operationMode": 0, "profileId": -1})
    assert res["code"] == 1106


async def test_set_mode_not_json(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    async with session.put(
        sim.api_url + "device/energy-profile/mode",
        data="{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as r:
        body = await r.json()
    assert body["code"] == 1000


# ---------------------------------------------------------------------- smart loads


async def test_smart_loads(sim: Simulator, session: aiohttp.ClientSession) -> None:
    token = await app_login(session, sim)
    sid = "20240523012345"
    _, body = await get(
        session,
        sim,
        "device/system/device/systemDevice/card",
        token,
        stationId=sid,
        showNewGenerator="true",
    )
    assert body["data"] == [
        {"name": "Immersion", "path": 1, "valueWithUnit": "0.00 kW", "manualSwitch": 0},
        {"name": "Pool pump", "path": 2, "valueWithUnit": "0.00 kW", "manualSwitch": 0},
    ]
    _, body = await get(
        session, sim, "device/tp-device/smart-loads", token, stationId=sid, loadPath="1"
    )
    smart_load_id = body["data"]["smartLoadId"]
    assert isinstance(smart_load_id, int)

    async def consumption() -> dict[str, str]:
        _, res = await get(
            session,
            sim,
            "data-process/sigen/station/statistics/real-time-consumption",
            token,
            stationId=sid,
            loadPath="1",
            smartLoadId=str(smart_load_id),
        )
        assert res["code"] == 0
        data: dict[str, str] = res["data"]
        return data

    before = await consumption()
    assert before == {
        "todayConsumption": "0.00 kWh",
        "monthConsumption": "0.00 kWh",
        "lifetimeConsumption": "0.00 kWh",
    }
    load_before = sim.stations[0].sample().load

    async with session.patch(
        sim.api_url + "device/tp-device/smart-loads/control-mode/manual/switch",
        params={"stationId": sid, "loadPath": "1", "manualSwitch": "1"},
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        res = await r.json()
    assert res == {"code": 0, "msg": "success", "data": None}
    assert sim.stations[0].smart_load(1).on
    assert sim.stations[0].sample().load >= load_before + 2.0  # 3 kW immersion

    _, body = await get(
        session, sim, "device/system/device/systemDevice/card", token, stationId=sid
    )
    assert body["data"][0]["manualSwitch"] == 1
    assert body["data"][0]["valueWithUnit"] == "3.00 kW"

    await sim.advance(3600)  # one hour at 3 kW
    after = await consumption()
    assert after["todayConsumption"].endswith(" kWh")
    assert float(after["lifetimeConsumption"].split()[0]) >= 2.9


@pytest.mark.parametrize(
    "params",
    [
        {"stationId": "20240523012345", "loadPath": "9", "manualSwitch": "1"},
        {"stationId": "20240523012345", "loadPath": "1", "manualSwitch": "2"},
        {"stationId": "20240523012345", "loadPath": "1"},
    ],
)
async def test_smart_load_switch_rejects(
    sim: Simulator, session: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    token = await app_login(session, sim)
    async with session.patch(
        sim.api_url + "device/tp-device/smart-loads/control-mode/manual/switch",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        res = await r.json()
    assert res["code"] == 1000
    assert not any(sl.on for sl in sim.stations[0].smart_loads)


async def test_consumption_needs_matching_smart_load_id(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await app_login(session, sim)
    _, res = await get(
        session,
        sim,
        "data-process/sigen/station/statistics/real-time-consumption",
        token,
        stationId="20240523012345",
        loadPath="1",
        smartLoadId="1",
    )
    assert res["code"] == 1000
    _, res = await get(
        session, sim, "device/tp-device/smart-loads", token, stationId="1", loadPath="1"
    )
    assert res["code"] == 1106


async def test_basic_header_constant() -> None:
    assert BASIC == "Basic c2lnZW46c2lnZW4="


@pytest.mark.parametrize(
    ("plain", "encrypted"),
    [
        ("password", "jK6OsIMmFy05SBGXEUD9pA=="),
        ("Secret123!", "1dCSUK+Vx2IsrbSLDMSZRw=="),
        ("0123456789abcdef", "paQt1PwhakURXgKUcqkosG0swN6DK3H6WwocCV0XhYs="),
    ],
)
def test_password_decryption_matches_published_vectors(plain: str, encrypted: str) -> None:
    from sigen_sim.app_api import decrypt_password

    assert decrypt_password(encrypted) == plain
    assert encrypt(plain) == encrypted


@pytest.mark.parametrize("garbage", ["", "!!!", "YWJj", "\u00e9"])
def test_password_decryption_rejects_garbage(garbage: str) -> None:
    from sigen_sim.app_api import decrypt_password

    assert decrypt_password(garbage) is None


async def test_smart_loads_appear_in_the_card_list(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    token = await app_login(session, sim)
    station = sim.stations[0]
    sauna = station.add_smart_load("Sauna", 6.0, on=True)
    station.remove_smart_load(1)
    _, body = await get(
        session, sim, "device/system/device/systemDevice/card", token, stationId="20240523012345"
    )
    assert [(c["name"], c["path"], c["manualSwitch"]) for c in body["data"]] == [
        ("Pool pump", 2, 0),
        ("Sauna", sauna.path, 1),
    ]
    with pytest.raises(ValueError, match="name"):
        station.add_smart_load("", 1.0)
