"""The simulator's ``change`` (system data) messages: after a subscription request, on
change, and on demand through the control API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sigen import SystemData
from sigen_sim import Simulator
from sigen_sim.mqtt_payloads import system_values

from .test_mqtt_side import App, login, wait_until

pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0)

DOCUMENTED = (
    "onOffGridStatus",
    "inverterMaxActivePowerW",
    "systemStatus",
    "batteryRatedChargePowerW",
    "batteryRatedDischargePowerW",
    "gridMaxBackfeedPowerW",
    "batteryRatedCapabilityWh",
    "inverterMaxAbsorptionActivePowerW",
    "chargeCutOffSOC%",
    "dischargeCutOffSOC%",
    "backupCutOffSOC%",
    "peakShavingCutOffSOC%",
    "peakShavingStatus",
    "stormWatchStatus",
)


@pytest.fixture
async def app(sim_mqtt: Simulator) -> AsyncIterator[App]:
    """An onboarded app subscribed (MQTT) to its topics; no request sent yet."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.0
    token = await login(sim_mqtt)
    async with App(sim_mqtt, token) as running:
        yield running


async def marker(sim: Simulator, app: App) -> None:
    """Publish an alarm and wait for it: everything published before it has arrived."""
    count = len(app.of("alarm"))
    await sim.publish_alarm(sim.stations[0].system_id, "9999", "recovery")
    await wait_until(lambda: len(app.of("alarm")) > count, "the marker alarm")


async def control(sim: Simulator, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(sim.control_url + path, json=body) as resp,
    ):
        return resp.status, await resp.json()


def test_system_values_has_the_documented_fields(sim_mqtt: Simulator) -> None:
    values = system_values(sim_mqtt.stations[0])
    assert set(DOCUMENTED) <= set(values)
    assert all(isinstance(v, str) for v in values.values())
    assert values["systemStatus"] in ("standby", "running", "fault", "shutdown", "disconnected")
    assert values["peakShavingStatus"] in ("on", "off")
    assert values["stormWatchStatus"] in ("on", "off")
    for key in DOCUMENTED:
        if key.endswith("%"):
            assert 0 <= float(values[key]) <= 100, key


async def test_change_after_subscription_request(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    await app.request("change")
    await wait_until(lambda: app.of("change"), "the first change message")
    ((item,),) = app.of("change")
    assert item["deviceType"] == "system"
    assert item["systemId"] == station.system_id
    assert item["value"] == system_values(station)
    (parsed,) = SystemData.from_mqtt_payload([item])
    assert parsed.system_id == station.system_id
    assert parsed.backup_cut_off_soc == station.backup_cutoff_soc
    assert parsed.charge_cut_off_soc == station.charge_cutoff_soc
    assert parsed.battery_rated_capacity == station.battery_capacity
    assert parsed.storm_watch_status is False
    assert parsed.peak_shaving_status is False
    assert parsed.system_status is not None

    # Nothing changed: time passing publishes no further change message ...
    await sim_mqtt.advance(3600)
    await marker(sim_mqtt, app)
    assert len(app.of("change")) == 1
    # ... but a new request (a restarted client) gets the values again.
    await app.request("change")
    await wait_until(lambda: len(app.of("change")) == 2, "the second change message")
    assert app.of("change")[1][0]["value"] == system_values(station)


async def test_change_published_when_values_change(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    await app.request("change")
    await wait_until(lambda: app.of("change"), "the first change message")
    station.set_system_values({"backupCutOffSOC%": 30, "stormWatchStatus": "on"})
    await sim_mqtt.advance(1)  # the tick would notice within a second too
    await wait_until(lambda: len(app.of("change")) == 2, "the change message")
    (parsed,) = SystemData.from_mqtt_payload(app.of("change")[1])
    assert parsed.backup_cut_off_soc == 30.0
    assert parsed.storm_watch_status is True
    # Published once per change, not at every check.
    await sim_mqtt.advance(1)
    await marker(sim_mqtt, app)
    assert len(app.of("change")) == 2


async def test_background_tick_publishes_a_change(sim_mqtt: Simulator, app: App) -> None:
    """With the clock frozen, the side's own ticker still notices a changed setting."""
    await app.request("change")
    await wait_until(lambda: app.of("change"), "the first change message")
    sim_mqtt.stations[0].set_system_values({"peakShavingStatus": "on"})
    await wait_until(lambda: len(app.of("change")) == 2, "the ticker's change message")
    assert app.of("change")[1][0]["value"]["peakShavingStatus"] == "on"


async def test_no_automatic_change_without_request_or_onboarding(sim_mqtt: Simulator) -> None:
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.0
    token = await login(sim_mqtt, onboard=False)
    async with App(sim_mqtt, token) as app:
        sim_mqtt.stations[0].set_system_values({"backupCutOffSOC%": 40})
        await sim_mqtt.advance(1)
        await app.request("change")  # subscribed, but the system is not onboarded
        await wait_until(lambda: sim_mqtt.mqtt_received, "the request")
        sim_mqtt.stations[0].set_system_values({"backupCutOffSOC%": 45})
        await sim_mqtt.advance(1)
        await marker(sim_mqtt, app)
        assert not app.of("change")


async def test_control_api_settings_and_publish(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    await app.request("change")
    await wait_until(lambda: app.of("change"), "the first change message")

    status, body = await control(
        sim_mqtt,
        f"stations/{station.system_id}/system",
        {"dischargeCutOffSOC%": "10", "peakShavingCutOffSOC%": 25.5, "systemStatus": "standby"},
    )
    assert status == 200, body
    assert body["data"]["dischargeCutOffSOC%"] == "10.0"
    await wait_until(lambda: len(app.of("change")) == 2, "the settings' change message")
    (parsed,) = SystemData.from_mqtt_payload(app.of("change")[1])
    assert parsed.discharge_cut_off_soc == 10.0
    assert parsed.peak_shaving_cut_off_soc == 25.5
    assert parsed.system_status == "standby"

    before = system_values(station)
    for bad in (
        {"backupCutOffSOC%": 101},
        {"stormWatchStatus": "maybe"},
        {"systemStatus": "exploded"},
        {"backupCutOffSOC%": 20, "pvPowerW": 5},  # all or nothing
        {"dischargeCutOffSOC%": "ten"},
        {"chargeCutOffSOC%": [1]},
    ):
        status, body = await control(sim_mqtt, f"stations/{station.system_id}/system", bad)
        assert status == 400, bad
        assert body["ok"] is False
        assert "system settings" in body["error"]
    assert system_values(station) == before
    status, _ = await control(sim_mqtt, "stations/NOPE/system", {"backupCutOffSOC%": 20})
    assert status == 404

    # On demand: the station's values (even unchanged), or the given ones.
    status, _ = await control(sim_mqtt, "change", {"systemId": station.system_id})
    assert status == 200
    status, _ = await control(
        sim_mqtt, "change", {"systemId": station.system_id, "values": {"stormWatchStatus": "on"}}
    )
    assert status == 200
    await wait_until(lambda: len(app.of("change")) == 4, "two change messages on demand")
    assert app.of("change")[2][0]["value"] == before
    assert app.of("change")[3][0]["value"] == {"stormWatchStatus": "on"}


async def test_one_first_change_message_per_request(sim_mqtt: Simulator, app: App) -> None:
    """The ticker does not race the scheduled first message into sending two."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = 0.5
    await app.request("change")
    await wait_until(lambda: sim_mqtt.mqtt_received, "the request")
    await sim_mqtt.mqtt.publish_changes()  # what the ticker does meanwhile
    await wait_until(lambda: app.of("change"), "the first change message")
    await sim_mqtt.mqtt.publish_changes()
    await marker(sim_mqtt, app)
    assert len(app.of("change")) == 1
