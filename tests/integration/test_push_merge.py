"""A pushed message is merged once (issue 21): the MQTT client merges each delta into
what it handed before, so a station takes its messages whole, and merges them again
only once its telemetry predates the client (after a resubscription)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.coordinator import SigenPushCoordinator
from custom_components.sigen_cloud.sigen import TelemetryData


def _telemetry(**values: Any) -> TelemetryData:
    return TelemetryData(system_id="SYS1", **values)


async def test_whole_message_is_taken_as_it_is(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain="sigen_cloud")
    entry.add_to_hass(hass)
    push = SigenPushCoordinator(hass, entry, "SYS1")
    first = _telemetry(pv_power=1.0, grid_power=2.0)
    push.async_push_telemetry(first, whole=True)
    assert push.data.telemetry is first
    handed = first.merge(_telemetry(pv_power=3.0))  # what the client hands next
    push.async_push_telemetry(handed, whole=True)
    assert push.data.telemetry is handed


async def test_delta_after_a_new_client_is_merged(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain="sigen_cloud")
    entry.add_to_hass(hass)
    push = SigenPushCoordinator(hass, entry, "SYS1")
    push.async_push_telemetry(_telemetry(pv_power=1.0, grid_power=2.0), whole=True)
    # A new client's first message knows only what it carried.
    push.async_push_telemetry(_telemetry(pv_power=3.0))
    telemetry = push.data.telemetry
    assert telemetry is not None
    assert (telemetry.pv_power, telemetry.grid_power) == (3.0, 2.0)


async def test_listener_stops_taking_whole_messages_after_a_resubscription(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    push = mqtt_entry.runtime_data.push
    assert push._one_client
    await push.async_restart()
    assert not push._one_client
