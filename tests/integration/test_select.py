"""Selects of the Sigen Cloud integration: operational mode and northbound mode."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from homeassistant.components.select import ATTR_OPTION, ATTR_OPTIONS, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.models import AccountStation, StationSettings
from custom_components.sigen_cloud.sigen import CurrentMode, NBMode, OperationalMode
from custom_components.sigen_cloud.view import StationView

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    SYSTEM_ID,
    setup_entry,
    snapshot_entities,
    station_of,
    unload,
    view_of,
    wait_for,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


MODE_ENTITY = f"select.{PREFIX}_operational_mode"
NB_ENTITY = f"select.{PREFIX}_northbound_mode"


async def _select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )
    await hass.async_block_till_done()


async def test_operational_mode_select(
    hass: HomeAssistant,
    sim: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The account's modes and profiles are the options; selecting one switches the station."""
    entry = await setup_entry(hass, sim, Platform.SELECT)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    station = sim.stations[0]

    await _select(hass, MODE_ENTITY, "Fully Fed to Grid")
    assert station.mode == 5
    state = hass.states.get(MODE_ENTITY)
    assert state is not None
    assert state.state == "Fully Fed to Grid"

    # A custom profile: mode 9 with its profile id.
    await _select(hass, MODE_ENTITY, "Storm Ready")
    assert (station.mode, station.profile_id) == (9, 3939)
    state = hass.states.get(MODE_ENTITY)
    assert state is not None
    assert state.state == "Storm Ready"
    assert "Storm Ready" in state.attributes[ATTR_OPTIONS]
    await unload(hass, entry)


async def test_operational_mode_errors(hass: HomeAssistant, sim: Any) -> None:
    """The cloud's refusal and unreachability come back translated."""
    entry = await setup_entry(hass, sim, Platform.SELECT)
    sim.faults.http_error("energy-profile/mode", 500, method="PUT")
    with pytest.raises(HomeAssistantError) as err:
        await _select(hass, MODE_ENTITY, "TOU")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key in {"cloud_refused", "cannot_connect"}
    assert sim.stations[0].mode == 0
    sim.faults.clear()

    sim.faults.rate_limit("energy-profile/mode", 1201, method="PUT")
    with pytest.raises(HomeAssistantError) as err:
        await _select(hass, MODE_ENTITY, "TOU")
    assert err.value.translation_key == "rate_limited"
    sim.faults.clear()

    # HA itself rejects options that are not offered.
    with pytest.raises(ServiceValidationError):
        await _select(hass, MODE_ENTITY, "No such mode")

    # No modes known (yet): unavailable.
    settings = station_of(entry).settings
    settings.async_set_updated_data(replace(settings.data, modes=()))
    await hass.async_block_till_done()
    state = hass.states.get(MODE_ENTITY)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    await unload(hass, entry)


async def test_operational_mode_option_vanished(hass: HomeAssistant, sim: Any) -> None:
    """A mode that vanished between the poll and the call is a translated validation error."""
    entry = await setup_entry(hass, sim, Platform.SELECT)
    entity = hass.data["entity_components"][SELECT_DOMAIN].get_entity(MODE_ENTITY)
    assert entity is not None
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_select_option("Gone")
    assert err.value.translation_key == "unknown_mode"
    assert view_of(entry).settings.modes
    await unload(hass, entry)


async def test_northbound_mode_select(
    hass: HomeAssistant,
    sim_mqtt: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """MSC/FFG go through the northbound REST API, VPP/NBI over MQTT."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SELECT, developer=True)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    station = sim_mqtt.stations[0]

    await _select(hass, NB_ENTITY, "ffg")
    assert station.mode == 5
    state = hass.states.get(NB_ENTITY)
    assert state is not None
    assert state.state == "ffg"
    # The operational mode follows (refreshed right after the switch).
    state = hass.states.get(MODE_ENTITY)
    assert state is not None
    assert state.state == "Fully Fed to Grid"

    await _select(hass, NB_ENTITY, "vpp")
    await wait_for(
        hass,
        lambda: any(topic == "openapi/instruction/mode" for topic, _ in sim_mqtt.mqtt_received),
    )
    payload = next(p for t, p in sim_mqtt.mqtt_received if t == "openapi/instruction/mode")
    assert payload["systemId"] == SYSTEM_ID
    assert str(payload["mode"]).upper() in {"VPP", "6"}
    state = hass.states.get(NB_ENTITY)
    assert state is not None
    assert state.state == "vpp"
    await unload(hass, entry)


async def test_no_northbound_select_without_developer_credentials(
    hass: HomeAssistant, sim: Any
) -> None:
    """The northbound mode needs developer credentials."""
    entry = await setup_entry(hass, sim, Platform.SELECT)
    assert hass.states.get(NB_ENTITY) is None
    await unload(hass, entry)


def test_current_mode_helpers() -> None:
    """The current option from the current mode, and the northbound mode from telemetry."""
    station = AccountStation(STATION_ID)
    assert StationView(station).current_mode_label is None
    modes = (
        OperationalMode("Maximum Self-Powered", 0, -1, False, "msp"),
        OperationalMode("Summer", 9, 3126, True, "summer"),
    )

    def view(current: CurrentMode | None, nb_mode: NBMode | None = None) -> StationView:
        settings = StationSettings(modes=modes, current_mode=current, nb_mode=nb_mode)
        return StationView(station, settings=settings)

    assert view(CurrentMode(9, 3126, None)).current_mode_label == "Summer"
    assert (
        view(CurrentMode(0, -1, "Maximum Self-Powered")).current_mode_label
        == "Maximum Self-Powered"
    )
    assert view(CurrentMode(2, -1, None)).current_mode_label is None

    assert view(None).nb_mode is None
    assert view(None, NBMode.FFG).nb_mode is NBMode.FFG


async def test_northbound_from_telemetry(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """Without a queried mode the telemetry's operational mode is shown (when northbound)."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SELECT, developer=True)
    await wait_for_push(hass, sim_mqtt, entry)
    settings = station_of(entry).settings
    settings.async_set_updated_data(replace(settings.data, nb_mode=None))
    await hass.async_block_till_done()
    state = hass.states.get(NB_ENTITY)
    assert state is not None
    assert state.state == "msc"  # the simulator starts in mode 0

    sim_mqtt.stations[0].set_mode(1)  # Sigen AI mode: not a northbound mode
    await sim_mqtt.publish_telemetry()
    await wait_for(
        hass,
        lambda: (
            (telemetry := view_of(entry).telemetry) is not None and telemetry.operational_mode == 1
        ),
    )
    state = hass.states.get(NB_ENTITY)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    await unload(hass, entry)


async def test_operational_and_northbound_mode_are_one_setting(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """The app's operational mode and the northbound mode are the system's one EMS work
    mode: switching either shows the other at once (issue 15.10)."""
    entry = await setup_entry(hass, sim_mqtt, Platform.SELECT, developer=True)
    station = sim_mqtt.stations[0]

    await _select(hass, MODE_ENTITY, "TOU")
    assert station.mode == 2
    assert _state(hass, MODE_ENTITY) == "TOU"
    assert _state(hass, NB_ENTITY) == STATE_UNKNOWN  # TOU is no northbound mode

    # The northbound switch to MSC ends TOU in the cloud; going back does not restore it.
    queries = sim_mqtt.count("/settings")
    await hass.services.async_call(
        DOMAIN,
        "set_northbound_mode",
        {"device_id": _device_id(hass, entry.entry_id), "mode": "msc"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert station.mode == 0
    assert _state(hass, NB_ENTITY) == "msc"
    assert _state(hass, MODE_ENTITY) == "Maximum Self-Powered"

    # The operational mode's FFG is the northbound FFG: shown without asking the
    # northbound API (it answers once per 5 minutes).
    await _select(hass, MODE_ENTITY, "Fully Fed to Grid")
    assert station.mode == 5
    assert _state(hass, NB_ENTITY) == "ffg"
    await _select(hass, MODE_ENTITY, "Summer 50kWh")
    assert _state(hass, NB_ENTITY) == STATE_UNKNOWN
    assert sim_mqtt.count("/settings") == queries + 1  # only the switch itself

    # A pushed operational mode newer than what we set wins.
    await sim_mqtt.advance(60)
    station.set_mode(5)
    before = view_of(entry).push.operational_mode_at
    await sim_mqtt.publish_telemetry()
    await wait_for(hass, lambda: view_of(entry).push.operational_mode_at != before)
    assert _state(hass, NB_ENTITY) == "ffg"
    await unload(hass, entry)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _device_id(hass: HomeAssistant, entry_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry_id)
    assert device is not None
    return device.id
