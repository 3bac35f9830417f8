"""Alarms without developer credentials (issue 18): the app API's alarm list feeds the
alarm event entity and the active-alarm count; with MQTT too, one alarm fires once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
import pytest
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from custom_components.sigen_cloud.coordinator.devices import ALARM_LIST_INTERVAL

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    SYSTEM_ID,
    setup_entry,
    station_of,
    unload,
    wait_for,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

EVENT = f"event.{PREFIX}_alarm"
COUNT = f"sensor.{PREFIX}_active_alarms"
AIO = "2025041600173"


async def alarm(sim: Any, code: str, status: str = "generation", **more: str) -> None:
    """Raise or clear an alarm through the simulator's control API."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/alarms"
    body = {"code": code, "status": status, **more}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as answer:
        assert (await answer.json())["ok"]


def recorder(hass: HomeAssistant) -> tuple[list[tuple[str, str]], Any]:
    """The events the alarm entity fires, as (type, code)."""
    fired: list[tuple[str, str]] = []

    @callback
    def record(event: Any) -> None:
        new = event.data["new_state"]
        if new is not None and "event_type" in new.attributes:
            fired.append((new.attributes["event_type"], new.attributes["alarm_code"]))
        elif new is not None and new.state != STATE_UNKNOWN:
            fired.append((new.state, ""))

    return fired, async_track_state_change_event(hass, [EVENT], record)


async def next_poll(hass: HomeAssistant, entry: Any, sim: Any) -> None:
    """Let 5 minutes pass in the simulator, and poll the list as its timer would."""
    await sim.advance(ALARM_LIST_INTERVAL.total_seconds())
    devices = station_of(entry).devices
    assert devices is not None
    assert devices.update_interval == ALARM_LIST_INTERVAL
    await devices.async_refresh()
    await hass.async_block_till_done()


async def test_listed_alarm_reaches_the_event_and_the_count(hass: HomeAssistant, sim: Any) -> None:
    """An alarm raised in the simulator fires generation at the next poll, recovery after."""
    entry = await setup_entry(hass, sim, Platform.EVENT, Platform.SENSOR)
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert hass.states.get(COUNT).state == "0"  # type: ignore[union-attr]
    fired, unsub = recorder(hass)

    await alarm(sim, "2001", device="SIMBAT00000101")
    await next_poll(hass, entry, sim)
    assert fired == [("generation", "2001")]
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.attributes["description"] == "Battery over-temperature"
    assert state.attributes["device_serial"] == "SIMBAT00000101"
    # the device's serial and the cloud's time stay out of the recorder's history
    entity = hass.data["entity_components"]["event"].get_entity(EVENT)
    assert {"device_serial", "change_time"} <= entity._unrecorded_attributes
    # the count follows the list as it is read (not only at the next live poll)
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]

    await next_poll(hass, entry, sim)  # nothing new: nothing fired
    assert fired == [("generation", "2001")]
    await alarm(sim, "2001", "recovery")
    await next_poll(hass, entry, sim)
    assert fired == [("generation", "2001"), ("recovery", "2001")]
    assert hass.states.get(COUNT).state == "0"  # type: ignore[union-attr]
    unsub()
    await unload(hass, entry)


@pytest.mark.sim_config(alarm_fields="paulczar", alarm_time_unit="s", alarm_list_recovered=True)
async def test_alarms_listed_at_start_are_not_news(hass: HomeAssistant, sim: Any) -> None:
    """What is listed at start-up fires nothing; a recovered listing is a recovery."""
    await alarm(sim, "1001")
    entry = await setup_entry(hass, sim, Platform.EVENT, Platform.SENSOR)
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]
    fired, unsub = recorder(hass)
    devices = station_of(entry).devices
    assert devices is not None
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == []
    await alarm(sim, "1001", "recovery")  # still listed, as recovered
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == [("recovery", "1001")]
    unsub()
    await unload(hass, entry)


async def test_a_cloud_without_the_list(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """No alarm list and no device tree: logged once, nothing fails, no count sensor."""
    sim.faults.http_error("alarm/page", 404)
    sim.faults.http_error("devicetreepanel", 404)
    entry = await setup_entry(hass, sim, Platform.EVENT, Platform.SENSOR)
    devices = station_of(entry).devices
    assert devices is not None
    assert devices.last_update_success
    assert devices.data.alarms is None
    assert devices.data.tree is None
    assert hass.states.get(COUNT) is None
    assert hass.states.get(EVENT) is not None
    await devices.async_refresh()
    assert devices.last_update_success
    assert caplog.text.count("does not offer its alarm list") == 1
    # the list comes (back): what it holds then is not news, what appears after is
    await alarm(sim, "1001")
    sim.faults.clear()
    fired, unsub = recorder(hass)
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert devices.data.alarms is not None
    assert fired == []
    await alarm(sim, "1002")
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == [("generation", "1002")]
    unsub()
    await unload(hass, entry)


async def test_one_event_when_push_and_list_both_report(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """With MQTT, an alarm pushed and then listed (or listed first) fires one event."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    devices = station_of(entry).devices
    assert devices is not None
    fired, unsub = recorder(hass)

    # pushed first (the simulator lists it too), then the list is read: one event
    await alarm(sim_mqtt, "1001")
    await wait_for(hass, lambda: len(fired) == 1)
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == [("generation", "1001")]
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]
    # cleared by the push, then gone from the list: one recovery
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1001", "recovery")
    await wait_for(hass, lambda: len(fired) == 2)
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == [("generation", "1001"), ("recovery", "1001")]

    # listed first (raised while the push was away), then pushed: one event
    sim_mqtt.stations[0].devices.raise_alarm("1002", sim_mqtt.clock.now(), AIO)
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired[-1] == ("generation", "1002")
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1002", "generation")
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1003", "generation")  # a marker
    await wait_for(hass, lambda: fired[-1] == ("generation", "1003"))
    assert [code for _, code in fired].count("1002") == 1
    unsub()
    await unload(hass, entry)


async def test_a_failed_list_read_keeps_the_list(
    hass: HomeAssistant, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An HTTP 500 on the list: the last list stays, no recovery fires, the count stays."""
    entry = await setup_entry(hass, sim, Platform.EVENT, Platform.SENSOR)
    fired, unsub = recorder(hass)
    await alarm(sim, "2001", device="SIMBAT00000101")
    await next_poll(hass, entry, sim)
    assert fired == [("generation", "2001")]
    sim.faults.http_error("alarm/page", 500, count=1)
    await next_poll(hass, entry, sim)
    devices = station_of(entry).devices
    assert devices is not None
    assert devices.last_update_success
    assert [a.code for a in devices.data.alarms or ()] == ["2001"]
    assert fired == [("generation", "2001")]
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]
    assert "does not offer" not in caplog.text
    await next_poll(hass, entry, sim)  # it answers again: nothing new
    assert fired == [("generation", "2001")]
    unsub()
    await unload(hass, entry)


@pytest.mark.sim_config(alarm_list_recovered=True)
async def test_a_listed_recovery_carries_the_records_time(hass: HomeAssistant, sim: Any) -> None:
    """A recovery read from the list is at the record's recovery time, not the read's."""
    entry = await setup_entry(hass, sim, Platform.EVENT)
    await alarm(sim, "2001", device="SIMBAT00000101")
    await next_poll(hass, entry, sim)
    await sim.advance(60)
    await alarm(sim, "2001", "recovery")
    recovered = sim.clock.now()
    await next_poll(hass, entry, sim)
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.attributes["event_type"] == "recovery"
    assert datetime.fromisoformat(state.attributes["change_time"]).timestamp() == pytest.approx(
        recovered, abs=0.01
    )
    await unload(hass, entry)


async def test_the_count_with_mqtt_despite_a_failed_list(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """With MQTT, a list failing at set-up still gets the count (from the push)."""
    sim_mqtt.faults.http_error("alarm/page", 500)
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    assert hass.states.get(COUNT).state == "0"  # type: ignore[union-attr]
    fired, unsub = recorder(hass)
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1001", "generation")
    await wait_for(hass, lambda: hass.states.get(COUNT).state == "1")  # type: ignore[union-attr]
    assert fired == [("generation", "1001")]
    unsub()
    await unload(hass, entry)


async def test_an_alarm_active_across_a_restart(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Raised before the start, then listed and pushed: counted once, no event at all."""
    sim_mqtt.stations[0].devices.raise_alarm("1002", sim_mqtt.clock.now(), AIO)
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    # the push does not repeat it; the list has it
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]
    fired, unsub = recorder(hass)
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1002", "generation")
    await sim_mqtt.publish_alarm(SYSTEM_ID, "1003", "generation")  # a marker
    await wait_for(hass, lambda: fired == [("generation", "1003")])
    devices = station_of(entry).devices
    assert devices is not None
    await devices.async_refresh()
    await hass.async_block_till_done()
    assert fired == [("generation", "1003")]
    # 1002 listed and pushed, 1003 pushed (and listed: the simulator's log has it)
    assert hass.states.get(COUNT).state == "2"  # type: ignore[union-attr]
    unsub()
    await unload(hass, entry)
