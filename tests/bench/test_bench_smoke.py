"""The benchmark harness still works: every benchmark at a tiny size.

Measurement only: nothing here asserts a timing; it asserts the harness produces its
figures (requests counted, states reached, connections counted, JSON-able results).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from bench import cost, peer, push, startup, steady
from bench.__main__ import machine, table
from bench.report import markdown


async def test_startup_ours_and_library(socket_enabled: None) -> None:
    ours = await startup.ours_once(latency=0.0)
    assert ours["complete"]
    assert ours["entities"] > 0
    assert ours["requests"] == sum(ours["by_endpoint"].values())
    assert ours["connections"] >= 1
    assert ours["logins"]["app_login"] == 1
    library = await startup.ours_library_once(latency=0.0)
    assert library["requests"] >= 2
    assert library["connections"] >= 1


async def test_restart_from_the_stored_session(socket_enabled: None) -> None:
    result = await startup.ours_once(latency=0.0, restart=True)
    assert result["complete"]
    assert result["logins"] == {"app_login": 0, "app_refresh": 0, "nb_login": 0}
    assert result["connections"] >= 1  # the entry's session was closed at unload


async def test_startup_with_push(socket_enabled: None) -> None:
    result = await startup.ours_once(2, developer=True, latency=0.0)
    assert result["complete"]
    assert result["logins"]["nb_login"] >= 1


async def test_startup_memory(socket_enabled: None) -> None:
    result = await startup.ours_once(latency=0.0, memory=True)
    assert result["complete"]
    assert result["memory_bytes"] > 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the peer uses BasicAuth
async def test_startup_peer(socket_enabled: None) -> None:
    try:
        peer.source_path()
    except (subprocess.CalledProcessError, OSError) as err:  # offline and no cache
        pytest.skip(f"the peer sigen 3.0.3 could not be downloaded: {err}")
    result = await startup.peer_once(latency=0.0, same_data=True)
    assert result["requests"] >= 4
    assert result["connections"] >= 1
    assert "GET /device/owner/station/home" in result["by_endpoint"]


async def test_steady_state(socket_enabled: None) -> None:
    result = await steady.steady_hour(2)
    assert result["by_endpoint"].get("GET /device/sigen/station/energyflow", 0) >= 1
    assert result["new_connections"] >= 0
    assert result["mqtt_disconnects"] == 0
    short = await steady.steady_hour(2, keepalive=15.0)
    assert short["new_connections"] >= result["new_connections"]


async def test_push_and_throughput(socket_enabled: None) -> None:
    latency = await push.push_latency(5)
    assert latency["lost"] == 0
    assert latency["p99_ms"] >= latency["p50_ms"] > 0
    parse = push.parse_throughput(2, 50)
    assert parse["per_second"] > 0
    into_ha = await push.ha_throughput(1, budget=0.05, max_messages=20)
    assert into_ha["in_process"]["messages"] > 0
    assert into_ha["via_broker"]["complete"]
    results: dict[str, Any] = {
        "push": latency,
        "throughput": {"parse": {"1": parse}, "home_assistant": {"1": into_ha}},
    }
    assert "push latency" in table(results)
    assert "| p99 |" in markdown({"machine": machine(), **results})
    json.dumps(results)


def test_import_time() -> None:
    result = cost.import_time(1)
    assert result["integration_on_top_of_ha_s"] > 0
    assert result["library_alone_s"] > 0
    assert any("integration" in group for group in result["self_time_by_group_s"])
