"""Helpers for the simulator's own tests (plain aiohttp, not the library)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

from sigen_sim import Simulator

UA = "sigen-sim-tests/1.0"
BASIC = "Basic " + base64.b64encode(b"sigen:sigen").decode()


def encrypt(password: str) -> str:
    key = b"sigensigensigenp"
    cipher = AES.new(key, AES.MODE_CBC, iv=key)
    return base64.b64encode(cipher.encrypt(pad(password.encode(), 16))).decode()


async def token_request(
    session: aiohttp.ClientSession,
    sim: Simulator,
    form: dict[str, str],
    *,
    auth: str | None = BASIC,
) -> tuple[int, Any]:
    headers = {} if auth is None else {"Authorization": auth}
    async with session.post(sim.api_url + "auth/oauth/token", data=form, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def app_login_raw(
    session: aiohttp.ClientSession,
    sim: Simulator,
    username: str | None = None,
    password: str | None = None,
) -> tuple[int, Any]:
    form = {
        "scope": "server",
        "grant_type": "password",
        "userDeviceId": "1717000000000",
        "username": sim.username if username is None else username,
        "password": encrypt(sim.password if password is None else password),
    }
    return await token_request(session, sim, form)


async def app_login(session: aiohttp.ClientSession, sim: Simulator) -> str:
    status, body = await app_login_raw(session, sim)
    assert status == 200, body
    assert body["code"] == 0, body
    token: str = body["data"]["access_token"]
    return token


async def nb_login(session: aiohttp.ClientSession, sim: Simulator) -> str:
    import json

    key = base64.b64encode(f"{sim.app_key}:{sim.app_secret}".encode()).decode()
    async with session.post(sim.nb_url + "openapi/auth/login/key", json={"key": key}) as r:
        body = await r.json()
    assert body["code"] == 0, body
    token: str = json.loads(body["data"])["accessToken"]
    return token
