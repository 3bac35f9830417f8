"""EV chargers and V2X through Home Assistant against the simulator (issue 20).

Each charger is a device under its station with entities for what it has; a car
plugged in (the simulator's control API) makes the chargers poll faster; the AC
current, DLM, the DC mode, start/stop and V2X write through the station's write lock
and show what the cloud reports; the powers show in the station's sensors after the
simulated clock moves; bad input fails with translated messages.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud import async_remove_config_entry_device
from custom_components.sigen_cloud.const import (
    DEVICE_MODEL_AC_CHARGER,
    DEVICE_MODEL_DC_CHARGER,
    DOMAIN,
    EV_INTERVAL,
    EV_PLUGGED_INTERVAL,
    PLATFORMS,
)
from custom_components.sigen_cloud.coordinator import SigenEvCoordinator

from .controls_helpers import GRID_EXPORT, set_number, state, switch, value
from .platform_helpers import FROZEN_SIM, PREFIX, STATION_ID, SYSTEM_ID, setup_entry, station_of
from .test_diagnostics import dump, forbidden

pytestmark = pytest.mark.sim_config(**FROZEN_SIM, ev_chargers=("ac", "dc"))

AC, DC = "SIMAC0000000001", "SIMDC0000000001"
AC_PREFIX, DC_PREFIX = f"ac_charger_{AC.lower()}", f"dc_charger_{DC.lower()}"
AC_CURRENT = f"number.{AC_PREFIX}_charging_current"
AC_DLM = f"switch.{AC_PREFIX}_dynamic_load_management"
AC_POWER = f"sensor.{AC_PREFIX}_power"
AC_STATUS = f"sensor.{AC_PREFIX}_status"
DC_PLUG = f"binary_sensor.{DC_PREFIX}_plug"
DC_POWER = f"sensor.{DC_PREFIX}_power"
DC_STATUS = f"sensor.{DC_PREFIX}_status"
DC_SOC = f"sensor.{DC_PREFIX}_car_battery"
DC_MODE = f"select.{DC_PREFIX}_charge_mode"
DC_START = f"button.{DC_PREFIX}_start_charging"
DC_STOP = f"button.{DC_PREFIX}_stop_charging"
DC_DISCHARGED = f"sensor.{DC_PREFIX}_energy_discharged"
DC_V2X_END = f"sensor.{DC_PREFIX}_v2x_discharge_end"
STATION_EV_POWER = f"sensor.{PREFIX}_ev_charger_power"


@pytest.fixture
async def ev_entry(hass: HomeAssistant, sim: Any) -> Any:
    """The demo account with every platform (the chargers' entities on five)."""
    entry = await setup_entry(hass, sim, *PLATFORMS)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def ev_of(entry: MockConfigEntry) -> SigenEvCoordinator:
    """The home station's EV coordinator."""
    ev = station_of(entry).ev
    assert ev is not None
    return ev


async def plug(sim: Any, serial: str, **car: object) -> None:
    """Plug the car of ``serial`` in or out through the simulator's control API."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/ev/{serial}/car"
    async with aiohttp.ClientSession() as session, session.post(url, json=car) as answer:
        assert (await answer.json())["ok"]


async def poll(hass: HomeAssistant, entry: MockConfigEntry, *, live: bool = False) -> None:
    """Poll the chargers (and the energy flow) now."""
    await ev_of(entry).async_refresh()
    if live:
        live_coordinator = station_of(entry).live
        assert live_coordinator is not None
        await live_coordinator.async_refresh()
    await hass.async_block_till_done()


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button through Home Assistant's action."""
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


def device_of(hass: HomeAssistant, ident: str) -> dr.DeviceEntry | None:
    """The device with this identifier of ours (``None``: there is none)."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    return dr.async_get(hass).async_get_device_by_identifier((DOMAIN, ident), entry.entry_id)


def device_id(hass: HomeAssistant, ident: str) -> str:
    """The registry id of the device with this identifier of ours."""
    device = device_of(hass, ident)
    assert device is not None, ident
    return device.id


async def test_each_charger_is_a_device_with_its_entities(
    hass: HomeAssistant, ev_entry: MockConfigEntry
) -> None:
    """An AC and a DC charger under the station; entities only for what each has."""
    station = device_of(hass, STATION_ID)
    assert station is not None
    for serial, model in ((AC, DEVICE_MODEL_AC_CHARGER), (DC, DEVICE_MODEL_DC_CHARGER)):
        device = device_of(hass, f"{STATION_ID}_charger_{serial}")
        assert device is not None
        assert (device.model, device.serial_number, device.via_device_id) == (
            model,
            serial,
            station.id,
        )
    entities = {
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), ev_entry.entry_id)
        if "_charger_sim" in e.entity_id
    }
    assert entities == {
        AC_CURRENT,
        AC_DLM,
        AC_POWER,
        AC_STATUS,
        f"sensor.{AC_PREFIX}_charge_mode",
        DC_PLUG,
        DC_POWER,
        DC_STATUS,
        DC_SOC,
        DC_MODE,
        DC_START,
        DC_STOP,
        DC_DISCHARGED,
        DC_V2X_END,
        f"sensor.{DC_PREFIX}_energy_charged",
        f"sensor.{DC_PREFIX}_session_energy",
    }
    assert (state(hass, AC_STATUS), state(hass, DC_STATUS), state(hass, DC_PLUG)) == (
        "idle",
        "ready",
        STATE_OFF,
    )
    assert (value(hass, AC_CURRENT), state(hass, AC_DLM), state(hass, DC_MODE)) == (
        16,
        STATE_ON,
        "fast",
    )
    assert hass.states.get(AC_CURRENT).attributes["max"] == 32  # type: ignore[union-attr]
    energy = hass.states.get(DC_DISCHARGED)
    assert energy is not None
    assert energy.attributes["state_class"] == "total_increasing"
    session = hass.states.get(f"sensor.{DC_PREFIX}_session_energy")
    assert session is not None
    assert session.attributes["state_class"] == "total"


@pytest.mark.sim_config(**FROZEN_SIM)
async def test_no_charger_no_ev_device(hass: HomeAssistant, sim: Any) -> None:
    """The default station (hasEv false, an AC serial in acSnList): nothing, no request."""
    entry = await setup_entry(hass, sim, *PLATFORMS)
    assert station_of(entry).ev is None
    assert not [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if "charger_sim" in e.entity_id
    ]
    # the device tree is read once, for the tree's devices (issue 18), not for chargers
    assert len(sim.requests("devicetreepanel/topology")) == 1
    assert not sim.requests("acevse")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_charger_the_cloud_refuses_gets_no_device(hass: HomeAssistant, sim: Any) -> None:
    """An AC charger whose first read the cloud refuses is not added; the DC one is."""
    sim.faults.http_error("acevse/charge/read/current", 400)
    entry = await setup_entry(hass, sim, *PLATFORMS)
    assert set(ev_of(entry).data.chargers) == {DC}
    assert device_of(hass, f"{STATION_ID}_charger_{AC}") is None
    assert hass.states.get(AC_CURRENT) is None
    assert state(hass, DC_STATUS) == "ready"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_car_plugged_in_polls_faster(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry
) -> None:
    """A car plugged in: the plug shows it, the chargers poll every 30 s until it leaves."""
    ev = ev_of(ev_entry)
    assert ev.update_interval == EV_INTERVAL
    await plug(sim, DC, plugged=True, soc=30)
    await poll(hass, ev_entry)
    assert state(hass, DC_PLUG) == STATE_ON
    assert ev.update_interval == EV_PLUGGED_INTERVAL
    assert (state(hass, DC_STATUS), value(hass, DC_POWER), value(hass, DC_SOC)) == (
        "charging",
        11.0,
        30.0,
    )
    await plug(sim, DC, plugged=False)
    await poll(hass, ev_entry)
    assert state(hass, DC_PLUG) == STATE_OFF
    assert ev.update_interval == EV_INTERVAL


async def test_ac_current_charges_the_car(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry
) -> None:
    """The current set from Home Assistant: the car charges at it, the sensors show it."""
    await set_number(hass, AC_CURRENT, 10)
    ac = sim.stations[0].chargers.ac
    assert ac.current == 10
    assert value(hass, AC_CURRENT) == 10
    await plug(sim, AC, plugged=True, soc=50)
    await sim.advance(120)
    await poll(hass, ev_entry, live=True)
    assert value(hass, AC_POWER) == pytest.approx(6.9)  # 10 A x 230 V x 3 phases
    assert state(hass, AC_STATUS) == "charging"
    assert value(hass, STATION_EV_POWER) == pytest.approx(6.9)
    assert ev_of(ev_entry).update_interval == EV_PLUGGED_INTERVAL

    await switch(hass, AC_DLM, on=False)
    assert ac.dlm is False
    assert state(hass, AC_DLM) == STATE_OFF


async def test_bad_current_is_refused_with_the_range(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry
) -> None:
    """A current outside 6 A .. the charger's largest names the range; nothing is sent."""
    entity = hass.data["entity_components"]["number"].get_entity(AC_CURRENT)
    writes = len(sim.requests("acevse/charge/current", "PUT"))
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_set_native_value(40)
    assert err.value.translation_key == "value_out_of_range"
    assert err.value.translation_placeholders["max"] == "32"
    assert len(sim.requests("acevse/charge/current", "PUT")) == writes


async def test_start_and_stop_charging(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry
) -> None:
    """The buttons stop and start charging; the status and power follow at once."""
    dc = sim.stations[0].chargers.dc
    await plug(sim, DC, plugged=True, soc=30)
    await poll(hass, ev_entry)
    await press(hass, DC_STOP)
    assert dc.charging is False
    assert (state(hass, DC_STATUS), value(hass, DC_POWER)) == ("preparing", 0.0)
    await press(hass, DC_START)
    assert dc.charging is True
    assert (state(hass, DC_STATUS), value(hass, DC_POWER)) == ("charging", 11.0)

    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: DC_MODE, ATTR_OPTION: "pv_surplus"},
        blocking=True,
    )
    assert dc.charge_mode == 1
    assert state(hass, DC_MODE) == "pv_surplus"


async def test_v2x_discharges_into_the_home(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A V2X session from the action: the car discharges, the grid shows the export."""
    station = sim.stations[0]
    station.soc = 100.0  # the battery is full: the car's power goes to the grid
    await plug(sim, DC, plugged=True, soc=80)
    await press(hass, DC_STOP)
    await poll(hass, ev_entry, live=True)
    export_before = value(hass, GRID_EXPORT)
    charger = device_id(hass, f"{STATION_ID}_charger_{DC}")
    await hass.services.async_call(
        DOMAIN,
        "start_v2x_discharge",
        {"device_id": charger, "duration": 30, "power": 5},
        blocking=True,
    )
    assert station.chargers.dc.v2x_cap_kw == 5
    assert (state(hass, DC_STATUS), value(hass, DC_POWER)) == ("discharging", -5.0)
    assert state(hass, DC_V2X_END) not in ("unknown", "unavailable")
    await poll(hass, ev_entry, live=True)
    assert value(hass, GRID_EXPORT) == pytest.approx(export_before + 5.0, abs=0.3)
    assert value(hass, STATION_EV_POWER) == -5.0
    await sim.advance(600)
    freezer.tick(EV_INTERVAL)  # the energy totals are read every 2 minutes
    await poll(hass, ev_entry)
    assert value(hass, DC_DISCHARGED) == pytest.approx(5.0 / 6, abs=0.05)

    await hass.services.async_call(
        DOMAIN, "stop_v2x_discharge", {"device_id": charger}, blocking=True
    )
    assert not station.chargers.dc.v2x_active(station.synced_until)
    assert value(hass, DC_POWER) == 0.0
    assert state(hass, DC_V2X_END) == "unknown"


async def test_v2x_bad_input(hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry) -> None:
    """V2X on an AC charger or a station, a bad duration or power: translated, nothing sent."""
    dc = device_id(hass, f"{STATION_ID}_charger_{DC}")
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"device_id": device_id(hass, f"{STATION_ID}_charger_{AC}"), "duration": 30},
            "v2x_not_supported",
        ),
        ({"device_id": device_id(hass, STATION_ID), "duration": 30}, "not_a_charger"),
        ({"device_id": dc, "duration": 3}, "invalid_duration"),
        ({"device_id": dc, "duration": 30.5}, "invalid_duration"),
        ({"device_id": dc, "duration": 30, "power": 0}, "invalid_v2x_power"),
        ({"device_id": dc, "duration": 30, "power": 51}, "invalid_v2x_power"),
        ({"device_id": "nope", "duration": 30}, "device_not_found"),
    ]
    for data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, "start_v2x_discharge", data, blocking=True)
        assert err.value.translation_key == key, data
    assert not sim.requests("station-v2x/start")


async def test_chargers_come_and_go(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry
) -> None:
    """A charger the station stops listing loses its device; one that comes back is added."""
    chargers = sim.stations[0].chargers
    dc = chargers.dc
    present = device_of(hass, f"{STATION_ID}_charger_{DC}")
    assert present is not None
    assert not await async_remove_config_entry_device(hass, ev_entry, present)
    chargers.dc = None
    await ev_entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    ident = f"{STATION_ID}_charger_{DC}"
    assert device_of(hass, ident) is None
    assert await async_remove_config_entry_device(hass, ev_entry, present)
    assert hass.states.get(DC_STATUS) is None
    assert state(hass, AC_STATUS) == "idle"
    chargers.dc = dc
    await ev_entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    assert device_of(hass, ident) is not None
    assert state(hass, DC_STATUS) == "ready"


async def test_diagnostics_hide_the_serials(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry, hass_client: Any
) -> None:
    """The chargers' data is in the diagnostics, their serials are not."""
    result, text = await dump(hass, hass_client, ev_entry)
    chargers = result["coordinator"]["stations"][0]["ev_chargers"]
    assert [charger["charger"]["kind"] for charger in chargers] == ["dc", "ac"]
    for secret in (AC, DC, *forbidden(sim, ev_entry)):
        assert secret not in text


async def test_write_not_applied_and_rate_limit(
    hass: HomeAssistant, sim: Any, ev_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A current the cloud accepts but ignores shows the cloud's with one warning; a rate
    limit slows the chargers' polling, which comes back once the cloud answers."""
    sim.faults.not_applied("acevse/charge/current")
    await set_number(hass, AC_CURRENT, 12)
    assert value(hass, AC_CURRENT) == 16
    assert caplog.text.count("did not apply it") == 1
    sim.faults.clear()

    ev = ev_of(ev_entry)
    sim.faults.rate_limit("dcevse", 1201)
    await poll(hass, ev_entry)
    assert ev.update_interval is not None
    assert ev.update_interval >= 2 * EV_INTERVAL
    assert state(hass, DC_STATUS) == "ready"  # the last data stays
    sim.faults.clear()
    await poll(hass, ev_entry)
    assert ev.update_interval == EV_INTERVAL
