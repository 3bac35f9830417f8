"""Who controls the battery, and ``sigen_cloud.release_control`` (issue 18).

Against the simulator through Home Assistant: the "Battery controller" sensor follows
manual control, the app's modes and an outside NBI/VPP controller (taken through the
simulator's control API); the action frees a battery held by manual control and by an
NBI controller, reports each step, and says which step did not release when the cloud
refuses or does not apply it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.sigen_cloud import services_release
from custom_components.sigen_cloud.const import DOMAIN

from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    STATION_ID,
    SYSTEM_ID,
    coordinator_of,
    setup_entry,
    station_device_id,
    station_of,
    unload,
    wait_for,
    wait_for_push,
)

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)
# No telemetry is published in these tests: waiting for it would only take time.
NO_TELEMETRY_WAIT = pytest.mark.usefixtures("no_telemetry_wait")
# The cloud's northbound limits (the query once per 5 minutes per system) as live.
RATE_LIMITED = pytest.mark.sim_config(nb_rate_limits=True)

CONTROLLER = f"sensor.{PREFIX}_battery_controller"
BATTERY_POWER = f"sensor.{PREFIX}_battery_power"
MANUAL = "instant/manunal"
QUERY = f"instruction/{SYSTEM_ID}/settings"
CURRENT_MODE = "mode/current"
NB_SWITCH = "openapi/instruction/settings"


@pytest.fixture
def no_telemetry_wait() -> Any:
    with patch.object(services_release, "TELEMETRY_WAIT", timedelta(0)):
        yield


async def _release(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "release_control",
        {"device_id": station_device_id(hass, entry_id)},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    assert response is not None
    return dict(response)


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def _take(sim: Any, holder: str = "nbi", **body: Any) -> None:
    """An outside party takes the battery (the simulator's control API)."""
    url = f"{sim.control_url}stations/{SYSTEM_ID}/controller"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"holder": holder, "party": "Axle", **body}) as resp,
    ):
        answer = await resp.json()
    assert answer["ok"] is True, answer


async def _refresh(hass: HomeAssistant, entry: Any) -> None:
    """The polls the 10-minute and 1-minute timers would make."""
    station = station_of(entry)
    await station.settings.async_refresh()
    if station.controls is not None:
        await station.controls.async_refresh()
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()


async def _advance(hass: HomeAssistant, sim: Any, entry: Any, seconds: float) -> None:
    await sim.advance(seconds)
    await coordinator_of(entry).async_refresh()
    await hass.async_block_till_done()


def _power(hass: HomeAssistant) -> float:
    return float(_state(hass, BATTERY_POWER).state)


# ---------------------------------------------------------------------- app API only


async def test_release_manual_control_without_developer_credentials(
    hass: HomeAssistant, sim: Any
) -> None:
    """Manual control is ended and read back; the battery goes back to its mode."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    station = sim.stations[0]
    state = _state(hass, CONTROLLER)
    assert state.state == "operational_mode"
    assert state.attributes["operational_mode"] == "Maximum Self-Powered"
    assert state.attributes["until"] is None
    assert set(state.attributes["options"]) >= {"vpp", "nbi", "manual_control", "tou_schedule"}

    station.start_manual_control("discharge", 60, 3.0)
    await _refresh(hass, entry)
    state = _state(hass, CONTROLLER)
    assert state.state == "manual_control"
    assert state.attributes["until"] is not None
    await _advance(hass, sim, entry, 300)
    assert _power(hass) == pytest.approx(3.0)  # + = discharging

    response = await _release(hass, entry.entry_id)
    assert response["steps"][0]["step"] == "manual_control"
    assert response["steps"][0]["result"] == "released"
    assert response["steps"][1] == {
        "step": "northbound_mode",
        "from": "MSC",
        "result": "not_active",
    }
    assert not station.manual_control_active()
    assert _state(hass, CONTROLLER).state == "operational_mode"
    await _advance(hass, sim, entry, 300)
    assert _power(hass) == pytest.approx(-5.0)  # noon: the surplus charges the battery

    # Nothing to release: every step says so.
    response = await _release(hass, entry.entry_id)
    assert [step["result"] for step in response["steps"]] == ["not_active", "not_active"]
    await unload(hass, entry)


async def test_sensor_states_of_the_app_modes(hass: HomeAssistant, sim: Any) -> None:
    """TOU, another mode and an outside controller, as the app's current mode shows them."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    station = sim.stations[0]
    station.set_mode(2)
    await _refresh(hass, entry)
    assert _state(hass, CONTROLLER).state == "tou_schedule"
    station.set_mode(5)
    await _refresh(hass, entry)
    state = _state(hass, CONTROLLER)
    assert state.state == "operational_mode"
    assert state.attributes["operational_mode"] == "Fully Fed to Grid"
    await _take(sim, "vpp")
    await _refresh(hass, entry)
    assert _state(hass, CONTROLLER).state == "vpp"
    await unload(hass, entry)


async def test_held_battery_needs_developer_credentials(hass: HomeAssistant, sim: Any) -> None:
    """Without developer credentials an NBI hold is named, and nothing is changed."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    station = sim.stations[0]
    station.start_manual_control("charge", 60)
    await _take(sim)
    await _refresh(hass, entry)
    assert _state(hass, CONTROLLER).state == "nbi"  # ahead of manual control
    with pytest.raises(HomeAssistantError) as err:
        await _release(hass, entry.entry_id)
    assert isinstance(err.value, ServiceValidationError)  # a configuration problem
    assert err.value.translation_key == "release_needs_developer_credentials"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["mode"] == "NBI"
    assert "developer credentials" in str(err.value)
    assert station.controller is not None
    assert station.manual_control_active()  # nothing was changed
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (lambda sim: sim.faults.http_error(MANUAL, 500, method="PUT"), "release_step_failed"),
        (lambda sim: sim.faults.not_applied(MANUAL, method="PUT"), "release_not_applied"),
    ],
)
async def test_manual_control_that_does_not_release(
    hass: HomeAssistant, sim: Any, fault: Any, key: str
) -> None:
    """A refused stop, or one accepted but not applied, names the step."""
    entry = await setup_entry(hass, sim, Platform.SENSOR)
    sim.stations[0].start_manual_control("discharge", 60)
    fault(sim)
    with pytest.raises(HomeAssistantError) as err:
        await _release(hass, entry.entry_id)
    assert err.value.translation_key == key
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["step"] == "manual_control"
    assert err.value.translation_placeholders["released"] == "-"
    assert "manual_control" in str(err.value)
    assert sim.stations[0].manual_control_active()
    await unload(hass, entry)


# ---------------------------------------------------------------------- developer credentials


def _queries(sim: Any) -> int:
    """How often the northbound mode was queried (the set-up's query is the first)."""
    return sim.count(QUERY, "GET")


async def test_release_an_nbi_controller_confirmed_by_telemetry(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """Manual control and an NBI hold are both released; the telemetry confirms the mode."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim, entry)
    station = sim.stations[0]
    station.start_manual_control("charge", 60, 2.0)
    await _take(sim, action="hold")
    await _refresh(hass, entry)
    await sim.publish_telemetry()
    await wait_for(hass, lambda: _state(hass, CONTROLLER).state == "nbi")
    await _advance(hass, sim, entry, 300)
    assert _power(hass) == pytest.approx(0.0)  # held at 0 kW

    task = hass.async_create_task(_release(hass, entry.entry_id))
    for _ in range(400):  # the switch went out: the next telemetry confirms it
        if station.mode == 0 or task.done():
            break
        await asyncio.sleep(0.025)
    await sim.publish_telemetry()
    response = await task
    manual, northbound = response["steps"]
    assert manual["step"] == "manual_control"
    assert manual["result"] == "released"
    assert northbound == {
        "step": "northbound_mode",
        "from": "NBI",
        "result": "released",
        "via": "rest",
        # the query was asked at set-up: within its 5-minute limit it is not asked again
        "confirmed_by": ["app_mode", "telemetry"],
    }
    assert _queries(sim) == 1
    assert station.controller is None
    assert not station.manual_control_active()
    assert _state(hass, CONTROLLER).state == "operational_mode"
    await _advance(hass, sim, entry, 300)
    assert _power(hass) == pytest.approx(-5.0)
    await unload(hass, entry)


@NO_TELEMETRY_WAIT
async def test_release_an_nbi_controller_without_telemetry(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """No telemetry comes: the query (its 5-minute gate open) and the app's mode confirm."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    station_of(entry).settings.nb_mode_checked_at = None  # as 5 minutes after the last query
    await _take(sim, action="discharge", powerKw=1.0)
    response = await _release(hass, entry.entry_id)
    assert response["steps"][1]["result"] == "released"
    assert response["steps"][1]["confirmed_by"] == ["app_mode", "query_mode"]
    assert sim.stations[0].controller is None
    await unload(hass, entry)


@RATE_LIMITED
@pytest.mark.parametrize("holder", ["nbi", "vpp"])
async def test_release_rate_limited_without_mqtt(
    hass: HomeAssistant, sim_mqtt: Any, holder: str
) -> None:
    """Without MQTT, within the query's 5-minute limit: the app's mode confirms, no 1201."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await entry.runtime_data.push.async_stop()  # the push stream is down: no telemetry
    await wait_for(hass, lambda: not station_of(entry).push.data.connected)
    station = sim.stations[0]
    await _take(sim, holder)
    await _refresh(hass, entry)
    assert _state(hass, CONTROLLER).state == holder
    response = await _release(hass, entry.entry_id)
    assert response["steps"][1] == {
        "step": "northbound_mode",
        "from": holder.upper(),
        "result": "released",
        "via": "rest",
        "confirmed_by": ["app_mode"],
    }
    assert _queries(sim) == 1  # the set-up's query only: none rate limited
    assert station.controller is None
    assert station.mode == 0
    assert _state(hass, CONTROLLER).state == "operational_mode"
    await unload(hass, entry)


def _read_back(sim: Any) -> bool:
    """Whether the app's mode was read after the switch (the release waits for telemetry)."""
    log = sim.requests()
    switch = next((n for n, r in enumerate(log) if r.method == "PUT" and NB_SWITCH in r.path), None)
    return switch is not None and any(
        r.method == "GET" and CURRENT_MODE in r.path for r in log[switch + 1 :]
    )


@RATE_LIMITED
async def test_telemetry_taken_before_the_switch_is_not_a_failure(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """The first sample after the switch still shows NBI; the next one shows MSC: released."""
    sim = sim_mqtt
    sim.mqtt.initial_push_delay = None  # the test publishes every sample itself
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim, entry)
    station = sim.stations[0]
    await _take(sim)
    await _refresh(hass, entry)
    sim.clear_requests()
    task = hass.async_create_task(_release(hass, entry.entry_id))
    for _ in range(400):  # not wait_for: blocking till done would wait for the release
        if _read_back(sim) or task.done():
            break
        await asyncio.sleep(0.025)
    assert not task.done()
    assert station.mode == 0
    station.mode = 8  # a sample the device took before the cloud applied the switch
    await sim.publish_telemetry()
    station.mode = 0  # the cloud's next message shows the switch applied
    await sim.publish_telemetry()
    response = await task
    assert response["steps"][1]["result"] == "released"
    assert response["steps"][1]["confirmed_by"] == ["app_mode", "telemetry"]
    assert _state(hass, CONTROLLER).state == "operational_mode"
    await unload(hass, entry)


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (lambda sim: sim.faults.http_error(NB_SWITCH, 500, method="PUT"), "release_step_failed"),
        (lambda sim: sim.faults.not_applied(NB_SWITCH, method="PUT"), "release_not_applied"),
    ],
)
@NO_TELEMETRY_WAIT
async def test_northbound_mode_that_does_not_release(
    hass: HomeAssistant, sim_mqtt: Any, fault: Any, key: str
) -> None:
    """The manual control released first is named; the northbound step fails."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    station = sim.stations[0]
    station.start_manual_control("charge", 60)
    await _take(sim)
    fault(sim)
    with pytest.raises(HomeAssistantError) as err:
        await _release(hass, entry.entry_id)
    assert err.value.translation_key == key
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["step"] == "northbound_mode"
    assert err.value.translation_placeholders["released"] == "manual_control"
    assert "northbound_mode" in str(err.value)
    assert station.controller is not None
    assert not station.manual_control_active()
    # What was read back shows, not the switch that was asked for.
    await hass.async_block_till_done()
    assert _state(hass, CONTROLLER).state == "nbi"
    await unload(hass, entry)


@NO_TELEMETRY_WAIT
@pytest.mark.sim_config(peak_shaving_refuses_nb=True)
async def test_release_over_mqtt_when_rest_refuses(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """The REST switch is refused (code 1504 with peak shaving on): MQTT switches instead."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim, entry)
    station = sim.stations[0]
    station.peak_shaving.enabled = True
    await _take(sim)
    response = await _release(hass, entry.entry_id)
    northbound = response["steps"][1]
    assert northbound["result"] == "released"
    assert northbound["via"] == "mqtt"
    assert station.controller is None
    assert _state(hass, CONTROLLER).state == "operational_mode"
    assert any(topic == "openapi/instruction/mode" for topic, _ in sim.mqtt_received)
    await unload(hass, entry)


@NO_TELEMETRY_WAIT
async def test_release_nothing_can_confirm(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """The switch is made but neither the query nor the app's mode can be read back."""
    sim = sim_mqtt
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim, entry)  # no telemetry arrives during the release
    await _take(sim)
    await _refresh(hass, entry)
    assert _state(hass, CONTROLLER).state == "nbi"
    sim.faults.http_error(f"instruction/{SYSTEM_ID}/settings", 500, method="GET")
    sim.faults.http_error("mode/current", 500, method="GET")
    with pytest.raises(HomeAssistantError) as err:
        await _release(hass, entry.entry_id)
    assert err.value.translation_key == "release_unconfirmed"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["step"] == "northbound_mode"
    assert err.value.translation_placeholders["via"] == "rest"
    assert "once per 5 minutes" in str(err.value)
    assert sim.stations[0].controller is None  # switched, but not confirmed
    await unload(hass, entry)


def test_battery_controller_of_a_view() -> None:
    """The priority order and the mode's name, on views built by hand."""
    from datetime import UTC, datetime

    from custom_components.sigen_cloud.models import (
        AccountStation,
        ControlsData,
        PushData,
        StationSettings,
    )
    from custom_components.sigen_cloud.sensor_controller import battery_controller, mode_name
    from custom_components.sigen_cloud.sigen import CurrentMode, ManualControl, NBMode
    from custom_components.sigen_cloud.sigen.telemetry import TelemetryData
    from custom_components.sigen_cloud.view import StationView

    station = AccountStation(STATION_ID, SYSTEM_ID)
    early, late = datetime(2026, 6, 1, 10, tzinfo=UTC), datetime(2026, 6, 1, 11, tzinfo=UTC)
    assert battery_controller(StationView(station)) is None

    def telemetry(mode: int) -> TelemetryData:
        items = TelemetryData.from_mqtt_payload(
            [{"deviceType": "system", "systemId": SYSTEM_ID, "value": {"operationalMode": mode}}]
        )
        return items[0]

    # A push-only station: the telemetry's Remote EMS mode.
    pushed = PushData(telemetry=telemetry(7), operational_mode_at=late)
    controller = battery_controller(StationView(station, push=pushed))
    assert controller is not None
    assert controller.state == "remote_ems"
    # A northbound mode learned after the telemetry wins over it.
    settings = StationSettings(nb_mode=NBMode.MSC, nb_mode_at=late)
    older = PushData(telemetry=telemetry(8), operational_mode_at=early)
    view = StationView(station, push=older, settings=settings)
    controller = battery_controller(view)
    assert controller is not None
    assert controller.state == "operational_mode"
    assert mode_name(view, controller.mode) == "Maximum Self-Powered"
    assert mode_name(view, 42) == "42"
    # Manual control, with its end; an app mode of 8 still comes first.
    manual = ManualControl.from_dict({"enable": True, "mode": "0", "endTime": "1780311600"})
    controls = ControlsData(manual=manual)
    app = StationSettings(current_mode=CurrentMode(1, -1, "Sigen AI Mode"))
    controller = battery_controller(StationView(station, settings=app, controls=controls))
    assert controller is not None
    assert controller.state == "manual_control"
    assert controller.until == datetime.fromtimestamp(1780311600, UTC)
    held = StationSettings(current_mode=CurrentMode(8, -1, None))
    controller = battery_controller(StationView(station, settings=held, controls=controls))
    assert controller is not None
    assert controller.state == "nbi"


@RATE_LIMITED
async def test_telemetry_disagrees_when_no_read_says_msc(
    hass: HomeAssistant, sim_mqtt: Any
) -> None:
    """The app's mode cannot be read and the query is spent: a last sample of NBI fails it."""
    sim = sim_mqtt
    sim.mqtt.initial_push_delay = None
    entry = await setup_entry(hass, sim, Platform.SENSOR, developer=True)
    await wait_for_push(hass, sim, entry)
    station = sim.stations[0]
    await _take(sim)
    await _refresh(hass, entry)
    sim.faults.http_error(CURRENT_MODE, 500, method="GET")
    sim.clear_requests()
    with patch.object(services_release, "TELEMETRY_WAIT", timedelta(seconds=2)):
        task = hass.async_create_task(_release(hass, entry.entry_id))
        for _ in range(400):
            if sim.count(NB_SWITCH, "PUT") or task.done():
                break
            await asyncio.sleep(0.025)
        station.mode = 8  # the only sample after the switch still shows NBI
        await sim.publish_telemetry()
        station.mode = 0
        with pytest.raises(HomeAssistantError) as err:
            await task
    assert err.value.translation_key == "release_not_applied"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["value"] == "NBI (telemetry)"
    await unload(hass, entry)
