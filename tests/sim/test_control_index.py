"""``GET /_sim/``, the control API's address the banners print, lists its endpoints."""

from __future__ import annotations

import aiohttp
import pytest

from sigen_sim import Simulator

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_the_control_api_index_lists_every_endpoint(sim: Simulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(sim.control_url) as resp:
            assert resp.status == 200
            answer = await resp.json()
        assert sim.control_url.endswith("/_sim/")
        assert answer["ok"] is True
        endpoints = answer["data"]["endpoints"]
        listed = {(e["method"], e["path"]) for e in endpoints}
        for expected in (
            ("GET", "/_sim/"),
            ("GET", "/_sim/state"),
            ("POST", "/_sim/advance"),
            ("POST", "/_sim/telemetry"),
            ("DELETE", "/_sim/faults/{rule_id}"),
            ("POST", "/_sim/stations/{system_id}/smart-loads/{path}"),
        ):
            assert expected in listed
        assert all(path.startswith("/_sim/") for _, path in listed)
        assert ("HEAD", "/_sim/state") not in listed
        # Each listed GET without a parameter answers (nothing listed is a dead end).
        for method, path in sorted(listed):
            if method == "GET" and "{" not in path:
                async with session.get(sim.api_url.rstrip("/") + path) as resp:
                    assert resp.status == 200, path


async def test_the_root_leads_to_the_control_index(sim: Simulator) -> None:
    """Where the real cloud has its web app (a device's "Visit" link), the simulator
    shows its control index."""
    browser = {"User-Agent": "Mozilla/5.0"}  # the cloud's firewall refuses aiohttp's
    async with aiohttp.ClientSession(headers=browser) as session, session.get(sim.api_url) as resp:
        assert resp.status == 200
        assert str(resp.url).endswith("/_sim/")
