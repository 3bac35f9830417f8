"""Garbage in: every endpoint answers with a clear error, never a crash (HTTP 500)."""

from __future__ import annotations

import itertools

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.helpers import BASIC, UA, app_login, nb_login

pytestmark = pytest.mark.usefixtures("socket_enabled")

ENDPOINTS = [
    ("POST", "auth/oauth/token"),
    ("GET", "device/owner/station/home"),
    ("GET", "device/sigen/station/energyflow?id=%FF"),
    ("GET", "device/energy-profile/mode/all/%20"),
    ("GET", "device/energy-profile/mode/current/-1"),
    ("PUT", "device/energy-profile/mode"),
    ("GET", "device/system/device/systemDevice/card?stationId="),
    ("GET", "device/tp-device/smart-loads?stationId=20240523012345&loadPath=1e9"),
    (
        "GET",
        "data-process/sigen/station/statistics/real-time-consumption"
        "?stationId=20240523012345&loadPath=1&smartLoadId=x",
    ),
    (
        "PATCH",
        "device/tp-device/smart-loads/control-mode/manual/switch"
        "?stationId=20240523012345&loadPath=1&manualSwitch=yes",
    ),
    ("POST", "openapi/auth/login/key"),
    ("POST", "openapi/auth/login/password"),
    ("GET", "openapi/system"),
    ("GET", "openapi/systems/%00/energyFlow"),
    ("GET", "openapi/systems/SIMSYS00000001/summary"),
    ("GET", "openapi/instruction/SIMSYS00000001/settings"),
    ("PUT", "openapi/instruction/settings"),
    ("POST", "openapi/instruction/SIMSYS00000001/settings"),
    ("POST", "openapi/board/onboard"),
    ("POST", "openapi/board/offboard"),
    ("POST", "_sim/advance"),
    ("POST", "_sim/faults"),
    ("POST", "_sim/password"),
    ("POST", "_sim/stations/SIMSYS00000001/mode"),
    ("POST", "_sim/stations/SIMSYS00000001/smart-loads/1"),
    ("POST", "_sim/stations/SIMSYS00000001/smart-loads"),
]
BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"null", "application/json"),
    (b'"text"', "application/json"),
    (b"[1, {}, null]", "application/json"),
    (
        b'{"stationId": {"a": 1}, "operationMode": [], "profileId": 1e400, "key": 5}',
        "application/json",
    ),
    (
        b'{"seconds": "many", "kind": 7, "pattern": [], "mode": "x", "password": 1}',
        "application/json",
    ),
    (b"\xff\xfe\x00garbage", "application/octet-stream"),
    (b"grant_type=password&username=%FF&password=%%%", "application/x-www-form-urlencoded"),
    (b"grant_type=refresh_token&refresh_token=", "application/x-www-form-urlencoded"),
    (b"[" * 500 + b"]" * 500, "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"key": "' + b"A" * 200_000 + b'"}', "application/json"),
]


@pytest.mark.sim_config(nb_rate_limits=False)
async def test_garbage_never_crashes(sim: Simulator) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        app_token = await app_login(session, sim)
        nb_token = await nb_login(session, sim)
        for (method, path), (body, content_type), auth in itertools.product(
            ENDPOINTS, BODIES, [BASIC, f"Bearer {app_token}", f"Bearer {nb_token}"]
        ):
            async with session.request(
                method,
                sim.api_url + path,
                data=body,
                headers={"Content-Type": content_type, "Authorization": auth},
            ) as r:
                text = await r.text()
                assert r.status != 500, (method, path, body, text)
        # and the simulator still works
        async with session.get(
            sim.api_url + "device/owner/station/home",
            headers={"Authorization": f"Bearer {app_token}"},
        ) as r:
            assert (await r.json())["code"] == 0
