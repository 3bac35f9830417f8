"""``sigen.alarms`` and ``sigen.devices`` (issue 18): the alarm list in both record field
sets and both time units, paging, the device tree flattened, unreadable parts skipped."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from sigen import AlarmRecord, DeviceNode, Sigen, SigenValidationError
from sigen._envelope import parse_each
from sigen.app.devices import MAX_ALARM_PAGES
from sigen.models import devices_in_tree
from sigen_sim import Simulator

pytestmark = pytest.mark.sim_config(time_scale=0)
AIO, GW = "2025041600173", "SIMGW0000000001"
PACKS = ["SIMBAT00000101", "SIMBAT00000102"]


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        yield client


def raise_alarm(sim: Simulator, code: str, device: str | None = None) -> None:
    station = sim.stations[0]
    station.devices.raise_alarm(code, sim.clock.now(), device or station.sn_code)


async def test_tree_flattened_with_parents(api: Sigen) -> None:
    nodes = await api.devices.get_tree()
    assert [(n.kind, n.serial, n.parent_serial) for n in nodes] == [
        ("gateway", GW, None),
        ("aio", AIO, GW),
        ("battery", PACKS[0], AIO),
        ("battery", PACKS[1], AIO),
    ]
    pack = nodes[2]
    assert pack.model == "SigenStor BAT 8.0"
    assert pack.firmware == "V100R001C22B028"
    assert (pack.status, pack.online, pack.device_type) == (1, True, 4)


@pytest.mark.sim_config(device_model_keys=False, ev_chargers=("ac", "dc"))
async def test_tree_without_model_keys_and_with_chargers(api: Sigen) -> None:
    nodes = {n.serial: n for n in await api.devices.get_tree()}
    assert nodes[GW].model is None
    assert nodes[GW].firmware is None
    assert nodes["SIMDC0000000001"].kind == "dc_charger"
    assert nodes["SIMAC0000000001"].kind == "ac_charger"


def test_garbage_nodes_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    tree = {
        "stationStatus": 1,
        "nodeList": [
            {
                "deviceType": 8,
                "snCode": "GW",
                "nodeList": [
                    "junk",
                    {"deviceType": 4},  # no serial: skipped, its children still read
                    {"deviceType": "3", "showSnCode": "INV", "nodeList": [{"snCode": "X"}]},
                    {"deviceType": 99, "snCode": "ODD", "deviceTypeDesc": "EVAC charger"},
                    {"deviceType": 4, "snCode": "GW"},  # a serial seen twice: once
                ],
            },
            None,
        ],
    }
    with caplog.at_level(logging.WARNING):
        nodes = devices_in_tree("Reading a tree", tree)
    assert [(n.serial, n.kind, n.parent_serial) for n in nodes] == [
        ("GW", "gateway", None),
        ("INV", "inverter", "GW"),
        ("X", None, "INV"),
        ("ODD", "ac_charger", "GW"),
    ]
    assert "skipped 3 unreadable device node(s)" in caplog.text
    assert devices_in_tree("x", None) == []
    assert devices_in_tree("x", [{"snCode": "A", "deviceType": 2}])[0].kind == "aio"


async def test_alarm_list_solidfox_in_ms(api: Sigen, sim: Simulator) -> None:
    assert await api.alarms.get_active() == []
    raise_alarm(sim, "2001", PACKS[0])
    (alarm,) = await api.alarms.get_active()
    assert isinstance(alarm, AlarmRecord)
    assert (alarm.code, alarm.sub_code, alarm.name) == (
        "2001",
        "2001-1",
        "Battery over-temperature",
    )
    assert alarm.device_serial == PACKS[0]
    assert alarm.cause is not None
    assert alarm.fix_suggestion is not None
    assert alarm.level == 2
    assert alarm.time is not None
    assert abs(alarm.time.timestamp() - sim.clock.now()) < 0.01  # milliseconds kept
    assert alarm.active


@pytest.mark.sim_config(alarm_fields="paulczar", alarm_time_unit="s")
async def test_alarm_list_paulczar_in_s(api: Sigen, sim: Simulator) -> None:
    raise_alarm(sim, "1001")
    (alarm,) = await api.alarms.get_active()
    assert (alarm.code, alarm.name, alarm.id) == ("1001", "Grid overvoltage", "1")
    # alarmType is a kind of alarm, not its level
    assert (alarm.level, alarm.alarm_type) == (None, 2)
    assert alarm.device_serial is None
    assert alarm.time == datetime.fromtimestamp(int(sim.clock.now()), UTC)


@pytest.mark.sim_config(alarm_list_recovered=True)
async def test_recovered_alarms_are_not_active(api: Sigen, sim: Simulator) -> None:
    raise_alarm(sim, "1001")
    raise_alarm(sim, "1002")
    sim.stations[0].devices.clear_alarm("1001", sim.clock.now())
    page = await api.alarms.get_page()
    assert sorted((r.code, r.active) for r in page.records) == [("1001", False), ("1002", True)]
    assert [a.code for a in await api.alarms.get_active()] == ["1002"]


async def test_pages_are_walked_with_a_cap(api: Sigen, sim: Simulator) -> None:
    for code in range(120):
        raise_alarm(sim, str(5000 + code))
        await sim.advance(1)
    sim.clear()
    active = await api.alarms.get_active()
    assert len(active) == 120
    assert [r.query.get("current") for r in sim.requests("alarm/page")] == ["1", "2", "3"]
    for code in range(120, 600):
        raise_alarm(sim, str(5000 + code))
    sim.clear()
    assert len(await api.alarms.get_active()) == MAX_ALARM_PAGES * 50
    assert len(sim.requests("alarm/page")) == MAX_ALARM_PAGES


@pytest.mark.sim_config(alarm_page_cap=10)
async def test_a_capped_page_size_is_not_the_end(api: Sigen, sim: Simulator) -> None:
    """Pages shorter than asked for (the cloud caps the size): the total says go on."""
    for code in range(25):
        raise_alarm(sim, str(5000 + code))
        await sim.advance(1)
    sim.clear()
    assert len(await api.alarms.get_active()) == 25
    assert [r.query.get("current") for r in sim.requests("alarm/page")] == ["1", "2", "3"]


async def test_a_short_page_ends_the_list_without_a_total(
    api: Sigen, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No total: a page shorter than asked for is the last (and an empty page ends it)."""
    from sigen_sim.app_api import devices as sim_devices

    real = sim_devices.alarm_page

    def without_total(*args: object) -> dict[str, object]:
        page = real(*args)  # type: ignore[arg-type]
        del page["total"]
        return page

    monkeypatch.setattr(sim_devices, "alarm_page", without_total)
    for code in range(3):
        raise_alarm(sim, str(5000 + code))
    sim.clear()
    assert len(await api.alarms.get_active()) == 3
    assert len(sim.requests("alarm/page")) == 1


async def test_page_arguments_checked_before_sending(api: Sigen, sim: Simulator) -> None:
    sim.clear()
    for page, size in ((0, 10), (1, 0), (1, 101), (True, 10)):
        with pytest.raises(SigenValidationError):
            await api.alarms.get_page(page, size, station_id=1)  # type: ignore[arg-type]
    assert not sim.requests("alarm/page")


def test_unreadable_records_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    items = [{"alarmCode": "1"}, {"alarmName": "no code"}, "junk", {"alarmCode": None}]
    with caplog.at_level(logging.WARNING):
        records = parse_each("Reading alarms", items, AlarmRecord.from_dict, "alarm record")
    assert [r.code for r in records] == ["1"]
    assert caplog.text.count("skipping an unreadable alarm record") == 3
    record = AlarmRecord.from_dict(
        {"alarmCode": 7, "alarmTime": "1716173149647", "status": "recovery"}
    )
    assert (record.code, record.active) == ("7", False)
    assert record.time == datetime.fromtimestamp(1716173149.647, UTC)
    node = DeviceNode.from_dict({"serialNumber": "S", "deviceType": "5", "pn": "P"})
    assert (node.kind, node.model, node.online) == ("dc_charger", "P", None)


@pytest.mark.parametrize(
    ("record", "active"),
    [
        ({"alarmCode": "1", "recovered": True}, False),
        ({"alarmCode": "1", "status": "active"}, True),
        ({"alarmCode": "1", "alarmStatus": "cleared"}, False),
        ({"alarmCode": "1", "status": 3}, True),  # a number says nothing known
        ({"alarmCode": "1", "status": "  "}, True),
        ({"alarmCode": "1", "recoverTime": 1716173149}, False),
    ],
)
def test_recovered_spellings(record: dict[str, object], active: bool) -> None:
    assert AlarmRecord.from_dict(record).active is active


def test_kinds_by_description() -> None:
    nodes = devices_in_tree(
        "x",
        [
            {"snCode": "A", "deviceTypeDesc": "EVDC"},
            {"snCode": "B", "deviceTypeDesc": "DC Charger"},
            {"snCode": "C", "deviceTypeDesc": "Meter", "communicateStatus": 1},
        ],
    )
    assert [(n.kind, n.online) for n in nodes] == [
        ("dc_charger", None),
        ("dc_charger", None),
        (None, False),
    ]
    deep: dict[str, object] = {"snCode": "0"}
    node = deep
    for depth in range(1, 12):
        child: dict[str, object] = {"snCode": str(depth)}
        node["nodeList"] = [child]
        node = child
    assert len(devices_in_tree("x", [deep])) == 9  # followed 8 levels down, no further
