"""Alarm events of the Sigen Cloud integration, pushed by the simulator over MQTT (the
app's alarm list without developer credentials: test_alarm_list.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from homeassistant.components.event import ATTR_EVENT_TYPE
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.sigen import AlarmEvent

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    SYSTEM_ID,
    setup_entry,
    snapshot_entities,
    station_of,
    unload,
    wait_for,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


EVENT = f"event.{PREFIX}_alarm"
COUNT = f"sensor.{PREFIX}_active_alarms"


def _alarm(code: str, status: str, ms: int) -> AlarmEvent:
    return AlarmEvent.from_mqtt_payload(
        [{"systemId": SYSTEM_ID, "alarmCode": code, "status": status, "changeTime": ms}]
    )[0]


async def test_alarm_event_from_the_simulator(
    hass: HomeAssistant,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """An alarm raised and cleared on the broker fires generation and recovery events."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["event_types"] == ["generation", "recovery"]
    count = hass.states.get(COUNT)
    assert count is not None
    assert count.state == "0"

    await sim_mqtt.mqtt.publish_alarm(SYSTEM_ID, "1001", "generation")
    await wait_for(
        hass,
        lambda: (
            (s := hass.states.get(EVENT)) is not None
            and s.attributes.get(ATTR_EVENT_TYPE) == "generation"
        ),
    )
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.attributes["alarm_code"] == "1001"
    assert datetime.fromisoformat(state.attributes["change_time"])
    count = hass.states.get(COUNT)
    assert count is not None
    assert count.state == "1"

    await sim_mqtt.mqtt.publish_alarm(SYSTEM_ID, "1001", "recovery")
    await wait_for(
        hass,
        lambda: (
            (s := hass.states.get(EVENT)) is not None
            and s.attributes.get(ATTR_EVENT_TYPE) == "recovery"
        ),
    )
    count = hass.states.get(COUNT)
    assert count is not None
    assert count.state == "0"
    assert "description" not in hass.states.get(EVENT).attributes  # type: ignore[union-attr]

    # An alarm that carries its text (as the app's alarm list does) shows it.
    await sim_mqtt.mqtt.publish_alarm(SYSTEM_ID, "1002", "generation", "Grid overvoltage")
    await wait_for(
        hass,
        lambda: (
            (s := hass.states.get(EVENT)) is not None and s.attributes.get("alarm_code") == "1002"
        ),
    )
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.attributes["description"] == "Grid overvoltage"
    await unload(hass, entry)


async def test_event_snapshot(
    hass: HomeAssistant,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The event entity, before any alarm."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, developer=True)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    await unload(hass, entry)


async def test_alarms_between_updates_are_not_lost(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Several alarms in one message each fire; repeated updates fire nothing new."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, developer=True)
    push = entry.runtime_data.push
    fired: list[tuple[str, str]] = []

    @callback
    def record(event: Any) -> None:
        new = event.data["new_state"]
        if new is not None and new.state != STATE_UNKNOWN:
            fired.append((new.attributes["event_type"], new.attributes["alarm_code"]))

    unsub = async_track_state_change_event(hass, [EVENT], record)
    t = int(datetime(2026, 6, 1, 11, 0, tzinfo=UTC).timestamp() * 1000)
    # Two raised in one message (the library hands over one alarm at a time).
    for alarm in (_alarm("2001", "generation", t), _alarm("2002", "generation", t + 1)):
        push.async_handle_alarm(alarm)
    await hass.async_block_till_done()
    # One raised, another cleared, in one message.
    for alarm in (_alarm("2003", "generation", t + 2), _alarm("2001", "recovery", t + 4)):
        push.async_handle_alarm(alarm)
    await hass.async_block_till_done()
    # A recovery of an alarm never seen raised, then an update with nothing new.
    push.async_handle_alarm(_alarm("2009", "recovery", t + 5))
    await hass.async_block_till_done()
    station_of(entry).push.async_update_listeners()
    await hass.async_block_till_done()
    unsub()

    assert fired == [
        ("generation", "2001"),
        ("generation", "2002"),
        ("generation", "2003"),
        ("recovery", "2001"),
        ("recovery", "2009"),
    ]
    await unload(hass, entry)


async def test_event_without_developer_credentials(hass: HomeAssistant, sim: Any) -> None:
    """Without MQTT the app's alarm list feeds the entity (issue 18, test_alarm_list.py)."""
    entry = await setup_entry(hass, sim, Platform.EVENT)
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    await unload(hass, entry)


async def test_event_edge_cases(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Alarms known before the entity are not replayed; odd data fires nothing odd."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, developer=True)
    push = entry.runtime_data.push
    station = station_of(entry)
    t = int(datetime(2026, 6, 1, 11, 0, tzinfo=UTC).timestamp() * 1000)
    push.async_handle_alarm(_alarm("3001", "generation", t))
    await hass.async_block_till_done()

    # A new subscriber (e.g. the entity after a restart) starts from what is known:
    # nothing is replayed to it.
    heard: list[AlarmEvent] = []
    unsubscribe = station.push.async_add_alarm_listener(heard.append)
    station.push.async_update_listeners()
    await hass.async_block_till_done()
    assert heard == []
    # The alarms are handed over as they come, not kept in the data.
    assert list(station.push.data.active_alarms) == ["3001"]

    # A status that is not an event type is not fired (but the others of the message are).
    for alarm in (
        AlarmEvent(SYSTEM_ID, "3002", "acknowledged", datetime.now(UTC)),
        _alarm("3001", "recovery", t + 1),
    ):
        push.async_handle_alarm(alarm)
    await hass.async_block_till_done()
    state = hass.states.get(EVENT)
    assert state is not None
    assert state.attributes.get("alarm_code") == "3001"
    assert state.attributes.get("event_type") == "recovery"
    assert dict(station.push.data.active_alarms) == {}
    assert [alarm.alarm_code for alarm in heard] == ["3002", "3001"]
    unsubscribe()
    await unload(hass, entry)


async def test_every_alarm_of_one_mqtt_message_fires_in_order(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """One pushed message with several alarms: one event each, in the message's order."""
    entry = await setup_entry(hass, sim_mqtt, Platform.EVENT, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    fired: list[tuple[str, str, str]] = []

    @callback
    def record(event: Any) -> None:
        new = event.data["new_state"]
        if new is not None and new.state != STATE_UNKNOWN:
            attributes = new.attributes
            fired.append(
                (attributes["event_type"], attributes["alarm_code"], attributes["change_time"])
            )

    unsub = async_track_state_change_event(hass, [EVENT], record)
    # Raised and cleared within one message, then two codes raised, one of them cleared
    # first: the order of the message, not "raised before cleared".
    await sim_mqtt.mqtt.publish_alarms(
        SYSTEM_ID,
        [
            ("4001", "generation"),
            ("4001", "recovery"),
            ("4003", "recovery"),
            ("4002", "generation"),
            ("4003", "generation"),
        ],
    )
    await wait_for(hass, lambda: len(fired) >= 5)
    unsub()
    assert [(kind, code) for kind, code, _ in fired] == [
        ("generation", "4001"),
        ("recovery", "4001"),
        ("recovery", "4003"),
        ("generation", "4002"),
        ("generation", "4003"),
    ]
    times = [datetime.fromisoformat(when) for _, _, when in fired]
    assert times == sorted(times)
    assert sorted(station_of(entry).push.data.active_alarms) == ["4002", "4003"]
    count = hass.states.get(COUNT)
    assert count is not None
    assert count.state == "2"
    await unload(hass, entry)
