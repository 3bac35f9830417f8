"""The device tree as devices without developer credentials (issue 18): inverter, battery
packs and gateway under their station, with serial, model and firmware; they follow the
simulator's tree; a charger of the tree is the EV charger's own device."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.sigen_cloud import async_remove_config_entry_device
from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.diagnostics import async_get_config_entry_diagnostics

from .platform_helpers import FROZEN_SIM, STATION_ID, SYSTEM_ID, setup_entry, station_of, unload

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)
AIO, GW = "2025041600173", "SIMGW0000000001"
PACKS = ["SIMBAT00000101", "SIMBAT00000102"]
DC = "SIMDC0000000001"


def tree_device(hass: HomeAssistant, entry: Any, serial: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_device_{serial}"), entry.entry_id
    )


async def control(sim: Any, method: str, path: str, body: Any = None) -> None:
    url = f"{sim.control_url}stations/{SYSTEM_ID}/{path}"
    async with aiohttp.ClientSession() as session, session.request(method, url, json=body) as r:
        assert (await r.json())["ok"]


async def next_tree(hass: HomeAssistant, entry: Any) -> None:
    """The tree's next read (every 30 minutes)."""
    devices = station_of(entry).devices
    assert devices is not None
    assert devices.data is not None
    devices.data = type(devices.data)(devices.data.alarms, devices.data.tree, None)
    await devices.async_refresh()
    await hass.async_block_till_done()


async def test_tree_devices_under_the_station(hass: HomeAssistant, sim: Any) -> None:
    entry = await setup_entry(hass, sim, Platform.EVENT)
    registry = dr.async_get(hass)
    station = registry.async_get_device_by_identifier((DOMAIN, STATION_ID), entry.entry_id)
    assert station is not None
    found = {}
    for serial in (GW, AIO, *PACKS):
        device = tree_device(hass, entry, serial)
        assert device is not None, serial
        assert device.via_device_id == station.id
        assert device.serial_number == serial
        assert device.sw_version == "V100R001C22B028"
        found[serial] = (device.name, device.model)
    assert found == {
        GW: ("Gateway", "Sigen Gateway HomeMax TP"),
        AIO: ("SigenStor 1", "SigenStor EC 10.0 TP"),
        PACKS[0]: ("Battery pack 1", "SigenStor BAT 8.0"),
        PACKS[1]: ("Battery pack 2", "SigenStor BAT 8.0"),
    }
    # a device still in the tree cannot be deleted by hand
    pack = tree_device(hass, entry, PACKS[0])
    assert pack is not None
    assert not await async_remove_config_entry_device(hass, entry, pack)
    await unload(hass, entry)


async def test_tree_devices_come_and_go(hass: HomeAssistant, sim: Any) -> None:
    entry = await setup_entry(hass, sim, Platform.EVENT)
    await control(sim, "POST", "devices", {"serial": "SIMBAT-X", "deviceType": 4, "firmware": "V9"})
    await control(sim, "DELETE", f"devices/{PACKS[0]}")
    await next_tree(hass, entry)
    assert tree_device(hass, entry, PACKS[0]) is None
    added = tree_device(hass, entry, "SIMBAT-X")
    assert added is not None
    assert added.sw_version == "V9"
    await control(sim, "DELETE", f"devices/{AIO}")  # the packs under it go too
    await next_tree(hass, entry)
    assert [tree_device(hass, entry, s) is None for s in (AIO, PACKS[1], "SIMBAT-X", GW)] == [
        True,
        True,
        True,
        False,
    ]
    await unload(hass, entry)
    # gone while Home Assistant was not running: removed at the next start
    await control(sim, "DELETE", f"devices/{GW}")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert tree_device(hass, entry, GW) is None
    await unload(hass, entry)


@pytest.mark.sim_config(device_model_keys=False)
async def test_without_model_keys(hass: HomeAssistant, sim: Any) -> None:
    entry = await setup_entry(hass, sim, Platform.EVENT)
    device = tree_device(hass, entry, PACKS[0])
    assert device is not None
    assert (device.model, device.sw_version) == ("Battery", None)
    await unload(hass, entry)


@pytest.mark.sim_config(ev_chargers=("dc",))
async def test_the_charger_is_not_duplicated(hass: HomeAssistant, sim: Any) -> None:
    entry = await setup_entry(hass, sim, Platform.EVENT, Platform.SENSOR)
    registry = dr.async_get(hass)
    charger = registry.async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_charger_{DC}"), entry.entry_id
    )
    assert charger is not None
    assert tree_device(hass, entry, DC) is None
    await next_tree(hass, entry)
    charger = registry.async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}_charger_{DC}"), entry.entry_id
    )
    assert charger is not None
    assert charger.sw_version == "V100R001C22B028"
    serials = [d.serial_number for d in dr.async_entries_for_config_entry(registry, entry.entry_id)]
    assert serials.count(DC) == 1
    await unload(hass, entry)


async def test_diagnostics_have_the_tree_without_serials(hass: HomeAssistant, sim: Any) -> None:
    entry = await setup_entry(hass, sim, Platform.EVENT)
    result = await async_get_config_entry_diagnostics(hass, entry)
    devices = result["coordinator"]["stations"][0]["devices"]
    assert [node["kind"] for node in devices["tree"]] == ["gateway", "aio", "battery", "battery"]
    text = str(result)
    for serial in (GW, AIO, *PACKS):
        assert serial not in text
    await unload(hass, entry)


def child_device(hass: HomeAssistant, entry: Any, mark: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{STATION_ID}{mark}"), entry.entry_id
    )


async def test_a_failed_tree_read_keeps_the_devices(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An HTTP 500 on the tree removes nothing; the tree is read again at the next poll."""
    entry = await setup_entry(hass, sim, Platform.EVENT)
    devices = station_of(entry).devices
    assert devices is not None
    sim.faults.http_error("devicetreepanel", 500, count=1)
    await next_tree(hass, entry)
    for serial in (GW, AIO, *PACKS):
        assert tree_device(hass, entry, serial) is not None, serial
    assert "is gone" not in caplog.text
    assert devices.data is not None
    assert devices.data.tree is not None
    assert devices.last_update_success
    # not stamped as read: the next poll (5 minutes on) asks again, and it answers
    sim.clear()
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert len(sim.requests("devicetreepanel")) == 1
    assert devices.data.tree_read_at is not None
    sim.clear()
    await devices.async_refresh()  # read: not asked again before 30 minutes
    assert not sim.requests("devicetreepanel")
    await unload(hass, entry)


@pytest.mark.sim_config(ev_chargers=("dc",))
async def test_a_failed_first_read_removes_no_device(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads failing at a restart: the tree, charger and smart-load devices all stay."""
    platforms = (Platform.EVENT, Platform.SENSOR, Platform.SWITCH)
    entry = await setup_entry(hass, sim, *platforms)
    marks = [f"_device_{s}" for s in (GW, AIO, *PACKS)]
    marks += [f"_charger_{DC}", "_smart_load_1", "_smart_load_2"]
    assert all(child_device(hass, entry, mark) is not None for mark in marks)
    await unload(hass, entry)

    # the smart loads' list failing fails the set-up (it is retried): nothing removed
    card = sim.faults.http_error("systemDevice/card", 500)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [m for m in marks if child_device(hass, entry, m) is None] == []
    await unload(hass, entry)
    sim.faults.remove(card.id)
    # the tree, the chargers' list and their reads failing: set up, nothing removed
    sim.faults.http_error("devicetreepanel", 500)
    sim.faults.http_error("smart-loads", 500)
    sim.faults.http_error("dcevse", 500)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert station_of(entry).ev is None
    devices = station_of(entry).devices
    assert devices is not None
    assert devices.data is not None
    assert devices.data.tree is None
    assert [m for m in marks if child_device(hass, entry, m) is None] == []
    assert "is gone" not in caplog.text
    # the reads answer again: the devices are there, and the sweep removes nothing
    sim.faults.clear()
    await next_tree(hass, entry)
    assert [m for m in marks if child_device(hass, entry, m) is None] == []
    await unload(hass, entry)


async def test_two_gateways_are_numbered(hass: HomeAssistant, sim: Any) -> None:
    """One gateway is "Gateway"; a second makes them "Gateway 1" and "Gateway 2"."""
    entry = await setup_entry(hass, sim, Platform.EVENT)
    await control(sim, "POST", "devices", {"serial": "SIMGW-2", "deviceType": 8})
    await next_tree(hass, entry)
    names = {s: (d.name if (d := tree_device(hass, entry, s)) else None) for s in (GW, "SIMGW-2")}
    assert names == {GW: "Gateway 1", "SIMGW-2": "Gateway 2"}
    await control(sim, "DELETE", "devices/SIMGW-2")
    await next_tree(hass, entry)
    device = tree_device(hass, entry, GW)
    assert device is not None
    assert device.name == "Gateway"
    await unload(hass, entry)
