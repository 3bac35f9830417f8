"""The integration shows the same values whether the broker sends deltas (the captured
shape: "PV power", then only what changed) or full messages (the documented shape):
the values of a full message of the same moment, and a field a delta leaves out keeps
its value (never unknown, never 0)."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.models import AccountStation, PushData
from custom_components.sigen_cloud.sensor import SENSORS, plain_zero
from custom_components.sigen_cloud.sigen import TelemetryData
from custom_components.sigen_cloud.view import StationView
from sigen_sim.model import MODE_FFG
from sigen_sim.mqtt_payloads import telemetry_values

from .platform_helpers import (
    FROZEN_SIM,
    STATION_ID,
    SYSTEM_ID,
    setup_entry,
    unload,
    view_of,
    wait_for,
    wait_for_push,
)

# Fields of the captured shape that a delta leaves out while only the time moves.
CONSTANT_FIELDS = ("inverterMaxChargePowerW", "storageChargeCapacityWh", "systemStatus")


def full_message(sim: Any) -> TelemetryData:
    """The station's telemetry now, as one full message would carry it."""
    item = {"systemId": SYSTEM_ID, "value": telemetry_values(sim.stations[0])}
    (data,) = TelemetryData.from_mqtt_payload([item])
    return data


def sent_values(sim: Any) -> list[dict[str, str]]:
    """The ``value`` of every period message the simulator published."""
    return [payload[0]["value"] for topic, payload in sim.mqtt.published if "/period/" in topic]


def assert_states_show(hass: HomeAssistant, sim: Any, system: Any) -> int:
    """Every sensor that reads the telemetry shows what a full message would show;
    returns how many were compared."""
    reference = StationView(
        AccountStation(STATION_ID), push=PushData(telemetry=full_message(sim), system=system)
    )
    registry = er.async_get(hass)
    compared = 0
    for description in SENSORS:
        expected = plain_zero(description.value_fn(reference))
        if expected is None:
            continue  # from the poll only, or not in the telemetry
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{STATION_ID}_{description.key}"
        )
        assert entity_id is not None, description.key
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN), entity_id
        if isinstance(expected, float):
            assert float(state.state) == pytest.approx(expected), entity_id
        else:
            assert state.state == str(expected), entity_id
        compared += 1
    return compared


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(
            "captured", marks=pytest.mark.sim_config(**FROZEN_SIM, telemetry_shape="captured")
        ),
        pytest.param(
            "official", marks=pytest.mark.sim_config(**FROZEN_SIM, telemetry_shape="official")
        ),
    ],
)
async def test_deltas_and_full_messages_show_the_same(
    hass: HomeAssistant, sim_mqtt: Any, shape: str
) -> None:
    """Through Home Assistant: after each message (unchanged, a mode switch, two hours
    later) every telemetry sensor shows the values of a full message of that moment."""
    assert sim_mqtt.config.telemetry_shape == shape
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True, enable_all=True)
    await wait_for_push(hass, sim_mqtt, entry)
    model = sim_mqtt.stations[0]

    async def push(change: Any) -> None:
        await change()
        before = view_of(entry).telemetry
        await sim_mqtt.publish_telemetry()
        await wait_for(hass, lambda: view_of(entry).telemetry is not before)

    async def nothing() -> None:
        return None

    async def ffg() -> None:
        model.set_mode(MODE_FFG)

    async def later() -> None:
        await sim_mqtt.advance(2 * 3600)

    for change in (nothing, ffg, later):
        await push(change)
        assert assert_states_show(hass, sim_mqtt, view_of(entry).system) >= 20

    last = sent_values(sim_mqtt)[-1]
    if shape == "captured":
        assert "PV power" in sent_values(sim_mqtt)[0]
        for field in CONSTANT_FIELDS:
            assert field not in last  # ...and yet its sensor shows it (above)
    else:
        assert last.keys() == telemetry_values(model).keys()
        assert "pvPowerW" in last
    telemetry = view_of(entry).telemetry
    assert telemetry is not None
    assert telemetry.operational_mode == MODE_FFG
    await unload(hass, entry)
