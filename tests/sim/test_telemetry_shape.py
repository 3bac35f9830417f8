"""The shape of the simulator's ``period`` telemetry (issue 14): by default as the real
broker sends it (the ``"PV power"`` key, a full first message, then only the fields that
changed), or the documented one (``pvPowerW``, every field every time). Seen by a plain
MQTT client over TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.__main__ import parse_args
from sigen_sim.model import MODE_FFG
from sigen_sim.mqtt_payloads import telemetry_values

from .test_mqtt_side import App, login, wait_until

# 2026-06-01 12:00 in Dublin (the simulator's time zone): the sun is up.
NOON = 1780311600.0
pytestmark = pytest.mark.sim_config(auto_approve=True, time_scale=0, start_time=NOON)

# Fields that stay the same while only the time moves (limits, reactive powers, status).
CONSTANT = ("gridReactivePowerVar", "inverterMaxChargePowerW", "systemStatus")


@pytest.fixture
async def app(sim_mqtt: Simulator) -> AsyncIterator[App]:
    """An onboarded app subscribed to its topics and to the period telemetry."""
    assert sim_mqtt.mqtt is not None
    sim_mqtt.mqtt.initial_push_delay = None  # only the messages a test asks for
    token = await login(sim_mqtt)
    async with App(sim_mqtt, token) as running:
        await subscribe(sim_mqtt, running)
        yield running


async def subscribe(sim: Simulator, app: App) -> None:
    """Send a period subscription request and wait until the simulator took it."""
    assert sim.mqtt is not None
    count = sum(1 for topic, *_ in sim.mqtt.instructions if topic.endswith("/period"))
    await app.request("period")
    await wait_until(
        lambda: sum(1 for topic, *_ in sim.mqtt.instructions if topic.endswith("/period")) > count,
        "the subscription request",
    )


async def next_values(sim: Simulator, app: App, system_id: str | None = None) -> dict[str, Any]:
    """Publish one period message and return the ``value`` the app received."""
    count = len(app.of("period"))
    await sim.publish_telemetry(system_id)
    await wait_until(lambda: len(app.of("period")) > count, "a period message")
    (item,) = app.of("period")[-1]
    assert isinstance(item["value"], dict)
    return item["value"]


async def test_captured_shape_sends_what_changed(sim_mqtt: Simulator, app: App) -> None:
    """A full first message with "PV power", then deltas; merged, they are the station's
    current values, field for field."""
    station = sim_mqtt.stations[0]
    assert sim_mqtt.config.telemetry_shape == "captured"
    first = await next_values(sim_mqtt, app)
    assert first == telemetry_values(station)
    assert "PV power" in first
    assert "pvPowerW" not in first
    merged = dict(first)

    # Nothing changed (the clock stands still): nothing to tell, the message still comes.
    assert await next_values(sim_mqtt, app) == {}
    (item,) = app.of("period")[-1]
    assert item["systemId"] == item["snCode"] == station.system_id
    assert item["statisticsTime"] == int(sim_mqtt.clock.now())

    # A mode switch: the operational mode (and what the battery does) changed, no more.
    station.set_mode(MODE_FFG)
    delta = await next_values(sim_mqtt, app)
    assert delta["operationalMode"] == "5.0"
    assert "PV power" not in delta
    merged.update(delta)
    assert merged == telemetry_values(station)

    # Two hours later (the periodic push) the powers moved; the limits and the status
    # did not.
    count = len(app.of("period"))
    await sim_mqtt.advance(2 * 3600)
    await wait_until(lambda: len(app.of("period")) > count, "the periodic push")
    (item,) = app.of("period")[-1]
    delta = item["value"]
    assert "PV power" in delta
    assert "storageSOC%" not in delta  # FFG: the battery idles
    for key in CONSTANT:
        assert key not in delta
    merged.update(delta)
    assert merged == telemetry_values(station)
    assert all(isinstance(value, str) for value in merged.values())


async def test_a_subscription_request_gets_a_full_message(sim_mqtt: Simulator, app: App) -> None:
    """A client that asks again (a reconnect, a restart) gets everything first; so does a
    publish with ``full``."""
    station = sim_mqtt.stations[0]
    await next_values(sim_mqtt, app)
    assert await next_values(sim_mqtt, app) == {}
    await subscribe(sim_mqtt, app)
    assert await next_values(sim_mqtt, app) == telemetry_values(station)
    assert await next_values(sim_mqtt, app) == {}

    count = len(app.of("period"))
    await sim_mqtt.publish_telemetry(full=True)
    await wait_until(lambda: len(app.of("period")) > count, "a full message")
    (item,) = app.of("period")[-1]
    assert item["value"] == telemetry_values(station)


@pytest.mark.sim_config(telemetry_shape="official")
async def test_official_shape_sends_everything_every_time(sim_mqtt: Simulator, app: App) -> None:
    station = sim_mqtt.stations[0]
    for _ in range(2):
        values = await next_values(sim_mqtt, app)
        assert values == telemetry_values(station)
        assert "pvPowerW" in values
        assert "PV power" not in values


async def test_partial_messages_leave_the_rest_to_send(sim_mqtt: Simulator, app: App) -> None:
    """Fields a (faulty) partial message left out are sent with the next message."""
    station = sim_mqtt.stations[0]
    sim_mqtt.faults.telemetry_partial = True
    partial = await next_values(sim_mqtt, app)
    assert set(partial) == {"storageSOC%", "gridActivePowerW"}
    sim_mqtt.faults.telemetry_partial = False
    rest = await next_values(sim_mqtt, app)
    assert set(rest) == set(telemetry_values(station)) - set(partial)
    assert {**partial, **rest} == telemetry_values(station)

    sim_mqtt.faults.telemetry_malformed = True  # what no client could read changes nothing
    count = len(app.of("period"))
    await sim_mqtt.publish_telemetry()
    await wait_until(lambda: len(app.of("period")) > count, "a malformed message")
    sim_mqtt.faults.telemetry_malformed = False
    assert await next_values(sim_mqtt, app) == {}


@pytest.mark.sim_config(stations=2, offline_stations=(1,))
async def test_offline_station_sends_no_telemetry(sim_mqtt: Simulator, app: App) -> None:
    """An offline station's device reaches nobody: no telemetry, until it is back."""
    online, offline = sim_mqtt.stations
    count = len(app.of("period"))
    await sim_mqtt.publish_telemetry()  # both are subscribed
    await wait_until(lambda: len(app.of("period")) > count, "telemetry")
    await sim_mqtt.publish_telemetry(offline.system_id)
    await next_values(sim_mqtt, app, online.system_id)  # every earlier message is in
    periods = [(topic, data) for topic, data in app.messages if "/period/" in topic]
    assert {topic.rsplit("/", 1)[1] for topic, _ in periods} == {online.system_id}

    offline.offline = False
    values = await next_values(sim_mqtt, app, offline.system_id)
    assert values == telemetry_values(offline)  # its first message: everything


def test_pv_key_follows_the_shape_unless_given() -> None:
    """The PV key is the shape's ("PV power" captured, pvPowerW official), or as given."""
    cases = [
        ({}, "PV power"),
        ({"telemetry_shape": "official"}, "pvPowerW"),
        ({"telemetry_pv_key": "pvPowerW"}, "pvPowerW"),
        ({"telemetry_shape": "official", "telemetry_pv_key": "PV power"}, "PV power"),
    ]
    for kwargs, key in cases:
        values = telemetry_values(Simulator(SimConfig(**kwargs)).stations[0])  # type: ignore[arg-type]
        assert key in values, kwargs
        assert ({"PV power", "pvPowerW"} - {key}).isdisjoint(values), kwargs


def test_unknown_shape_refused() -> None:
    with pytest.raises(ValueError, match="telemetry_shape must be one of captured, official"):
        Simulator(SimConfig(telemetry_shape="snapshot"))  # type: ignore[arg-type]


def test_cli_option() -> None:
    assert parse_args([]).telemetry_shape == "captured"
    assert parse_args(["--telemetry-shape", "official"]).telemetry_shape == "official"
    with pytest.raises(SystemExit):
        parse_args(["--telemetry-shape", "deltas"])
