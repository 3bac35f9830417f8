"""What the recorder keeps: a zero grid power is one state, whatever path it comes by.

The grid power read ``-0.0`` after a push and ``0.0`` after a poll (or the other way
round), and every message wrote a new state: the history of a quiet night was one
state change per message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.sigen_cloud.sensor import plain_zero
from custom_components.sigen_cloud.sigen import TelemetryData
from sigen_sim.mqtt_payloads import telemetry_values

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
    unload,
    view_of,
    wait_for,
    wait_for_push,
)

# Midnight in Dublin: the battery covers the load, nothing is bought or sold.
MIDNIGHT = FROZEN_SIM["start_time"] - 12 * 3600
GRID = f"sensor.{PREFIX}_grid_power"
GRID_EXPORT = f"sensor.{PREFIX}_grid_export_power"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first (it must start before Home Assistant), then the integration."""


def test_plain_zero() -> None:
    """Only the sign of a float zero changes."""
    assert str(plain_zero(-0.0)) == "0.0"
    assert plain_zero(-1.5) == -1.5
    assert plain_zero(3) == 3
    assert plain_zero(None) is None
    assert plain_zero("on_grid") == "on_grid"


def _changes(hass: HomeAssistant, entity_id: str, start: datetime) -> list[str]:
    states = state_changes_during_period(hass, start, entity_id=entity_id)
    return [state.state for state in states.get(entity_id, [])]


@pytest.mark.sim_config(**{**FROZEN_SIM, "start_time": MIDNIGHT})
async def test_identical_pushes_and_polls_write_no_state_change(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """Telemetry and polls that say the same thing leave the grid power's history alone."""
    start = dt_util.utcnow()
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    coordinator = coordinator_of(entry)
    flow = view_of(entry).energy_flow
    assert flow is not None
    assert flow.buy_sell_power == 0
    await async_wait_recording_done(hass)
    before = _changes(hass, GRID, start)
    assert before[-1] == "0.0"

    # A zero both ways round: the telemetry's own "-0.0" W and the negated poll.
    payload = [
        {
            "deviceType": "system",
            "systemId": SYSTEM_ID,
            "value": {**telemetry_values(sim_mqtt.stations[0]), "gridActivePowerW": "-0.0"},
        }
    ]
    for _ in range(3):
        last = view_of(entry).last_telemetry
        await sim_mqtt.publish_telemetry()  # through the broker and the running listener
        await wait_for(hass, lambda last=last: view_of(entry).last_telemetry != last)
        (telemetry,) = TelemetryData.from_mqtt_payload(payload)
        entry.runtime_data.push.async_handle_telemetry(telemetry)
        await coordinator.async_refresh()  # a poll of the energy flow
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    assert _changes(hass, GRID, start) == before
    state = hass.states.get(GRID)
    assert state is not None
    assert state.state == "0.0"
    export = hass.states.get(GRID_EXPORT)
    assert export is not None
    assert export.state == "0.0"
    await unload(hass, entry)
