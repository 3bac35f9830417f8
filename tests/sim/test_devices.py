"""The simulator's device tree and alarm list (issue 18): shapes, variants, the control
API, and one alarm seen both ways (pushed and listed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen_sim import Simulator
from tests.sim.ev_cloud import Cloud
from tests.sim.helpers import UA, app_login

pytestmark = [pytest.mark.usefixtures("socket_enabled"), pytest.mark.sim_config(time_scale=0)]
SYS = "SIMSYS00000001"
AIO, GW = "2025041600173", "SIMGW0000000001"
PACKS = ["SIMBAT00000101", "SIMBAT00000102"]


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim))


async def tree(cloud: Cloud) -> dict[str, Any]:
    data: dict[str, Any] = await cloud.data(
        "GET", "device/devicetreepanel/topology", stationId=cloud.sid
    )
    return data


def flat(nodes: list[dict[str, Any]], parent: str | None = None) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for node in nodes:
        found.append((node["deviceType"], node["snCode"], parent))
        found += flat(node.get("nodeList", []), node["snCode"])
    return found


async def alarms(cloud: Cloud, **query: Any) -> dict[str, Any]:
    data: dict[str, Any] = await cloud.data(
        "GET", "device/alarm/page", stationId=cloud.sid, **query
    )
    return data


async def test_tree_nests_gateway_aio_and_battery_packs(cloud: Cloud) -> None:
    data = await tree(cloud)
    assert data["stationStatus"] == 1
    assert flat(data["nodeList"]) == [
        (8, GW, None),
        (2, AIO, GW),
        (4, PACKS[0], AIO),
        (4, PACKS[1], AIO),
    ]
    gateway = data["nodeList"][0]
    assert gateway["pn"] == "Sigen Gateway HomeMax TP"
    assert gateway["firmwareVersion"].startswith("V100")
    assert (gateway["deviceStatus"], gateway["communicateStatus"]) == (1, 2)


@pytest.mark.sim_config(device_model_keys=False, ev_chargers=("dc",))
async def test_without_model_keys_and_with_a_charger(cloud: Cloud) -> None:
    data = await tree(cloud)
    assert "pn" not in data["nodeList"][0]
    assert "firmwareVersion" not in data["nodeList"][0]["nodeList"][0]
    assert (5, "SIMDC0000000001", GW) in flat(data["nodeList"])


async def test_devices_added_and_removed_through_the_control_api(cloud: Cloud) -> None:
    body = {"serial": "SIMBAT-NEW", "deviceType": 4, "firmware": "V2"}
    await cloud.control("POST", f"stations/{SYS}/devices", body)
    assert (4, "SIMBAT-NEW", AIO) in flat((await tree(cloud))["nodeList"])
    await cloud.control("DELETE", f"stations/{SYS}/devices/{PACKS[0]}")
    await cloud.control("DELETE", f"stations/{SYS}/devices/SIMBAT-NEW")
    assert [n[1] for n in flat((await tree(cloud))["nodeList"])] == [GW, AIO, PACKS[1]]
    await cloud.control("DELETE", f"stations/{SYS}/devices/{AIO}")  # its packs go with it
    assert [n[1] for n in flat((await tree(cloud))["nodeList"])] == [GW]
    async with cloud.session.delete(cloud.sim.control_url + f"stations/{SYS}/devices/nope") as r:
        assert r.status == 404
    async with cloud.session.post(
        cloud.sim.control_url + f"stations/{SYS}/devices", json={"serial": "", "deviceType": 4}
    ) as r:
        assert r.status == 400


async def test_alarm_list_solidfox_fields_in_ms(cloud: Cloud, sim: Simulator) -> None:
    assert await alarms(cloud) == {"records": [], "total": 0, "current": 1, "size": 10}
    now = sim.clock.now()
    await cloud.control("POST", f"stations/{SYS}/alarms", {"code": "2001", "device": PACKS[1]})
    (record,) = (await alarms(cloud))["records"]
    assert record["alarmCode"] == "2001"
    assert record["alarmName"] == "Battery over-temperature"
    assert record["deviceSnCode"] == PACKS[1]
    assert record["chlidAlarmCode"] == "2001-1"
    assert {"cause", "fixSuggest", "alarmLevel", "alarmTimeStr"} <= set(record)
    assert abs(record["alarmTime"] - now * 1000) < 2000
    await cloud.control("POST", f"stations/{SYS}/alarms", {"code": "2001", "status": "recovery"})
    assert (await alarms(cloud))["records"] == []


@pytest.mark.sim_config(alarm_fields="paulczar", alarm_time_unit="s", alarm_list_recovered=True)
async def test_alarm_list_paulczar_fields_in_s_with_recovered(cloud: Cloud, sim: Simulator) -> None:
    await cloud.control("POST", f"stations/{SYS}/alarms", {"code": "1001"})
    await sim.advance(60)
    await cloud.control("POST", f"stations/{SYS}/alarms", {"code": "1001", "status": "recovery"})
    (record,) = (await alarms(cloud))["records"]
    assert set(record) == {"id", "alarmCode", "alarmDesc", "alarmTime", "alarmType", "recoverTime"}
    assert isinstance(record["alarmTime"], str)
    assert abs(int(record["alarmTime"]) - (sim.clock.now() - 60)) < 2
    assert record["recoverTime"] == int(sim.clock.now())


async def test_alarm_pages(cloud: Cloud, sim: Simulator) -> None:
    for code in range(5):
        await cloud.control("POST", f"stations/{SYS}/alarms", {"code": str(3000 + code)})
        await sim.advance(1)
    page = await alarms(cloud, current=2, size=2)
    assert (page["total"], page["current"], page["size"]) == (5, 2, 2)
    assert [r["alarmCode"] for r in page["records"]] == ["3002", "3001"]  # newest first
    assert await cloud.code("GET", "device/alarm/page", stationId=cloud.sid, size=0) == 1000
    assert await cloud.code("GET", "device/alarm/page", stationId="1") == 1106
    status, _ = await cloud.call("GET", "device/alarm/page", stationId=cloud.sid)
    assert status == 200


@pytest.mark.sim_config(alarm_page_cap=2)
async def test_alarm_pages_capped(cloud: Cloud, sim: Simulator) -> None:
    """A server capping the page size: pages as big as its cap, the total counts all."""
    for code in range(5):
        await cloud.control("POST", f"stations/{SYS}/alarms", {"code": str(3000 + code)})
        await sim.advance(1)
    page = await alarms(cloud, current=2, size=50)
    assert (page["total"], page["current"], page["size"]) == (5, 2, 2)
    assert [r["alarmCode"] for r in page["records"]] == ["3002", "3001"]
    last = await alarms(cloud, current=3, size=50)
    assert [r["alarmCode"] for r in last["records"]] == ["3000"]


async def test_an_unknown_token_is_refused(cloud: Cloud) -> None:
    cloud.token = "nope"
    status, _ = await cloud.call("GET", "device/alarm/page", stationId=cloud.sid)
    assert status == 401


@pytest.mark.sim_config(mqtt=True)
async def test_a_pushed_alarm_is_listed_too(sim_mqtt: Simulator) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        cloud = Cloud(session, sim_mqtt, await app_login(session, sim_mqtt))
        await sim_mqtt.publish_alarm(SYS, "1002", "generation", "Grid low")
        (record,) = (await alarms(cloud))["records"]
        assert (record["alarmCode"], record["alarmName"], record["deviceSnCode"]) == (
            "1002",
            "Grid low",
            AIO,
        )
        # raised through the control API with MQTT: one record, pushed as well
        await cloud.control("POST", f"stations/{SYS}/alarms", {"code": "1002"})
        assert len((await alarms(cloud))["records"]) == 1
        await sim_mqtt.publish_alarm(SYS, "1002", "recovery")
        assert (await alarms(cloud))["records"] == []


async def test_control_api_refusals(cloud: Cloud) -> None:
    url = cloud.sim.control_url + f"stations/{SYS}/"
    bad = [
        ("POST", "devices", {"serial": "X", "deviceType": 77}),
        ("POST", "devices", {"serial": "X", "parent": 5}),
        ("POST", "devices", [1]),
        ("POST", "alarms", {"code": "1", "status": "acknowledged"}),
        ("POST", "alarms", {"code": "1", "device": 5}),
        ("POST", "alarms", [1]),
    ]
    for method, path, body in bad:
        async with cloud.session.request(method, url + path, json=body) as r:
            assert r.status == 400, (path, body)
    async with cloud.session.get(cloud.sim.control_url + "stations/NOPE/devices") as r:
        assert r.status == 404
    for method, path in (("GET", "devices"), ("POST", "alarms")):
        async with cloud.session.request(
            method, cloud.sim.control_url + f"stations/NOPE/{path}", json={}
        ) as r:
            assert r.status == 404
    async with cloud.session.delete(cloud.sim.control_url + "stations/NOPE/devices/X") as r:
        assert r.status == 404
    state = await cloud.control("GET", f"stations/{SYS}/devices")
    assert [d["serial"] for d in state["devices"]] == [GW, AIO, *PACKS]
    assert state["alarms"] == []
    await cloud.control(
        "POST", f"stations/{SYS}/devices", {"serial": "TOP", "deviceType": 8, "parent": None}
    )
    assert (8, "TOP", None) in flat((await tree(cloud))["nodeList"])
