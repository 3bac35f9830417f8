"""Sensors of the Sigen Cloud integration, against the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.models import AccountStation, LiveData, PushData
from custom_components.sigen_cloud.sensor import SENSORS
from custom_components.sigen_cloud.sigen import EnergyFlow, TelemetryData
from custom_components.sigen_cloud.view import StationView, grid_status, run_status

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    setup_entry,
    snapshot_entities,
    station_of,
    unload,
    view_of,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


async def test_sensors_polling(
    hass: HomeAssistant,
    sim: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Without developer credentials: the polled sensors and the smart loads' sensors."""
    entry = await setup_entry(hass, sim, Platform.SENSOR, enable_all=True)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    # No MQTT-only sensor without developer credentials.
    assert hass.states.get(f"sensor.{PREFIX}_inverter_active_power") is None
    await unload(hass, entry)


async def test_sensors_with_mqtt(
    hass: HomeAssistant,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """With developer credentials: push sensors, fed by telemetry and system data."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True, enable_all=True)
    await wait_for_push(hass, sim_mqtt, entry)
    snapshot_entities(
        hass,
        entity_registry,
        snapshot,
        entry.entry_id,
        # A timestamp of now, and energy integrated over the (real) time between the
        # first poll and the first push.
        volatile=[
            f"sensor.{PREFIX}_{key}"
            for key in (
                "last_telemetry",
                "solar_energy",
                "grid_import_energy",
                "grid_export_energy",
                "battery_charge_energy",
                "battery_discharge_energy",
            )
        ],
    )
    await unload(hass, entry)


async def test_push_updates_without_poll_and_connection_loss(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """Fresher telemetry wins over the last poll; without the push, push sensors are unavailable."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    polls = sim_mqtt.count("energyflow")

    # Two hours later the sun is lower: the pushed value differs from the polled one.
    await sim_mqtt.advance(2 * 3600)
    before = view_of(entry).telemetry
    await sim_mqtt.publish_telemetry()
    for _ in range(200):
        await hass.async_block_till_done()
        if view_of(entry).telemetry is not before:
            break
        await asyncio.sleep(0.025)
    station = view_of(entry)
    assert sim_mqtt.count("energyflow") == polls
    assert station.telemetry_is_fresher
    assert station.telemetry is not None
    pv = hass.states.get(f"sensor.{PREFIX}_pv_power")
    assert pv is not None
    assert float(pv.state) == pytest.approx(station.telemetry.pv_power)
    soc = hass.states.get(f"sensor.{PREFIX}_battery")
    assert soc is not None
    assert float(soc.state) == pytest.approx(station.telemetry.battery_soc)

    # The push stream is lost: the push sensors become unavailable, polled ones stay.
    entry.runtime_data.push.async_handle_connection_change(False)
    await hass.async_block_till_done()
    state = hass.states.get(f"sensor.{PREFIX}_inverter_active_power")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    state = hass.states.get(f"sensor.{PREFIX}_pv_power")
    assert state is not None
    assert state.state != STATE_UNAVAILABLE
    await unload(hass, entry)


async def test_diagnostic_entities_disabled_by_default(
    hass: HomeAssistant, sim_mqtt: Any, entity_registry: er.EntityRegistry
) -> None:
    """The noisy diagnostic entities are created disabled."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    for key in ("last_telemetry", "grid_phase_a_power", "inverter_reactive_power"):
        entity_id = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{STATION_ID}_{key}")
        assert entity_id is not None, key
        entity = entity_registry.async_get(entity_id)
        assert entity is not None, key
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    entity = entity_registry.async_get(f"sensor.{PREFIX}_pv_power")
    assert entity is not None
    assert entity.disabled_by is None
    assert entity.unique_id == f"{STATION_ID}_pv_power"
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "on_grid"),
        ("0.0", "on_grid"),
        (1, "off_grid_auto"),
        (2.0, "off_grid_manual"),
        ("onGrid", "on_grid"),
        ("off_grid", "off_grid"),
        (7, None),
        ("garbage", None),
        (None, None),
        (True, None),
        (1.5, None),
        (float("nan"), None),
        ([], None),
    ],
)
def test_grid_status(value: object, expected: str | None) -> None:
    """On/off-grid codes and texts map to the enum's options."""
    assert grid_status(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "running"),
        ("1.0", "running"),
        ("Running", "running"),
        ("fault", "fault"),
        (0, "standby"),
        (3, "shutdown"),
        (9, None),
        (None, None),
    ],
)
def test_run_status(value: object, expected: str | None) -> None:
    """Station/system status codes and texts map to the enum's options."""
    assert run_status(value) == expected


def test_value_functions_without_data() -> None:
    """Every sensor copes with a station that has no data yet."""
    station = StationView(AccountStation(STATION_ID))
    for description in SENSORS:
        assert description.value_fn(station) in (None, 0), description.key
    assert not station.telemetry_is_fresher


def test_sources_without_poll() -> None:
    """Push-only stations read telemetry; the on-grid flag is the last resort."""
    telemetry = TelemetryData.from_mqtt_payload(
        [{"deviceType": "system", "systemId": "S", "value": {"pvPowerW": "1500.0"}}]
    )[0]
    station = StationView(AccountStation(STATION_ID), push=PushData(telemetry=telemetry))
    assert station.telemetry_is_fresher
    flow = EnergyFlow.from_dict({"onGrid": False, "onOffGridStatus": 9})
    station = StationView(AccountStation(STATION_ID), live=LiveData(flow, dt_util.utcnow()))
    assert station.grid_status == "off_grid"


async def test_entities_of_a_vanished_station(hass: HomeAssistant, sim: Any) -> None:
    """Entities of a station or load that is gone read as nothing (and are unavailable)."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    component = hass.data["entity_components"]["sensor"]
    load_sensor = component.get_entity("sensor.immersion_power")
    pv_sensor = component.get_entity(f"sensor.{PREFIX}_pv_power")
    assert load_sensor is not None
    assert pv_sensor is not None
    station = station_of(entry)
    station.removed = True  # what the account coordinator does when it leaves the account
    assert load_sensor.native_value is None
    assert pv_sensor.native_value is None
    assert not pv_sensor.available
    station.removed = False
    await unload(hass, entry)
