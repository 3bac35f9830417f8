"""The app API over plain aiohttp with a logged-in token, for the issue-20 sim tests."""

from __future__ import annotations

from typing import Any

import aiohttp

from sigen_sim import Simulator


class Cloud:
    """Calls the simulator's app API with the account's token."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator, token: str) -> None:
        self.session, self.sim, self.token = session, sim, token
        self.sid = sim.stations[0].station_id

    async def call(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        params = {key: str(value) for key, value in query.items()}
        url = self.sim.api_url + path
        async with self.session.request(
            method, url, json=body, headers=headers, params=params
        ) as answer:
            return answer.status, await answer.json(content_type=None)

    async def data(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        """The ``data`` of a successful answer."""
        status, answer = await self.call(method, path, body, **query)
        assert status == 200, answer
        assert answer["code"] == 0, answer
        return answer["data"]

    async def code(self, method: str, path: str, body: Any = None, **query: Any) -> int:
        """The envelope's code."""
        _status, answer = await self.call(method, path, body, **query)
        return int(answer["code"])

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.sim.control_url + path, json=body) as r:
            answer = await r.json()
        assert answer["ok"], answer
        return answer["data"]
