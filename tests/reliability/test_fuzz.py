"""Bad input, property-based (Hypothesis): MQTT payloads (the parse functions and the
listener end to end through the broker), REST answers (a tiny aiohttp server of our own
answering garbage) and action data. No exception escapes the library; a bad message is
skipped with one log line; the next good one is applied."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import probatio as vol
import pytest
from aiohttp import web
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.sigen_cloud.const import DOMAIN
from custom_components.sigen_cloud.sigen import (
    AlarmEvent,
    NorthboundClient,
    Sigen,
    SigenError,
    SystemData,
    TelemetryData,
)
from sigen_sim import Simulator
from tests.integration.platform_helpers import STATION_ID, setup_entry, unload

from .helpers import Listener, make_mqtt, wait_until

FIELDS = [
    "deviceType",
    "systemId",
    "snCode",
    "statisticsTime",
    "value",
    "pvPowerW",
    "PV power",
    "gridActivePowerW",
    "storageChargeDischargePowerW",
    "storageSOC%",
    "alarmCode",
    "status",
    "changeTime",
    "systemStatus",
    "onOffGridStatus",
    "chargeCutOffSoc",
    "code",
    "msg",
    "data",
    "stationId",
    "stationSnCode",
    "pvPower",
    "batterySoc",
    "buySellPower",
    "batteryPower",
    "currentMode",
    "profileId",
    "label",
    "value",
    "systemList",
    "accessToken",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["system", "generation", "recovery", "1e309", "-0", "NaN", "12 kW", ""])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)


def _text(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


payloads = st.one_of(
    json_values,
    json_values.map(_text),
    json_values.map(lambda v: _text(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=200),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(min_value=500, max_value=20000)),
    st.builds(
        lambda n: '{"value":' * n + "1" + "}" * n, st.integers(min_value=500, max_value=5000)
    ),
    st.just(b'[{"deviceType": "system", "systemId": "X", "val'),
    st.builds(
        lambda value: [{"deviceType": "system", "systemId": "SIMSYS00000001", "value": value}],
        json_values,
    ),
    st.builds(
        lambda value: _text([{"deviceType": "system", "systemId": "S1", "value": _text(value)}]),
        json_values,
    ),
)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at_least(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]


@contextmanager
def library_records() -> Iterator[_Records]:
    handler = _Records()
    names = ("sigen", "custom_components.sigen_cloud")
    for name in names:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(handler)


# ------------------------------------------------------------------ parse functions


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_parsers_never_raise_and_log_once(payload: Any) -> None:
    for parser in (TelemetryData, SystemData, AlarmEvent):
        with library_records() as records:
            result = parser.from_mqtt_payload(payload)
        assert isinstance(result, list)
        assert all(isinstance(item, parser) for item in result)
        assert len(records.at_least(logging.WARNING)) <= 1, [
            r.getMessage()[:200] for r in records.records
        ]
        assert not records.at_least(logging.ERROR)


# ---------------------------------------------------------------- listener, end to end


@pytest.fixture
async def listening(sim_mqtt: Simulator) -> AsyncIterator[tuple[Simulator, Listener]]:
    listener = Listener(make_mqtt(sim_mqtt))
    listener.start()
    await listener.connected()
    yield sim_mqtt, listener
    await listener.stop()


@pytest.mark.sim_config(time_scale=0, telemetry_interval=0)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    garbage=st.lists(payloads, min_size=1, max_size=8),
    kind=st.sampled_from(["period", "change", "alarm"]),
)
async def test_listener_skips_garbage_and_applies_the_next_good_message(
    listening: tuple[Simulator, Listener], garbage: list[Any], kind: str
) -> None:
    sim, listener = listening
    assert sim.mqtt is not None
    system_id = sim.stations[0].system_id
    topic = f"openapi/{kind}/{sim.app_key}/{system_id}"
    with library_records() as records:
        for payload in garbage:
            if isinstance(payload, str):
                body = payload.encode()
            elif isinstance(payload, bytes):
                body = payload
            else:
                body = _text(payload).encode()
            await sim.mqtt._publish(topic, body)
        await sim.advance(1)
        marker = int(sim.clock.now())
        await sim.publish_telemetry(system_id)
        await wait_until(
            lambda: any(
                t.statistics_time is not None and int(t.statistics_time.timestamp()) == marker
                for t in listener.telemetry
            ),
            "the good message after the garbage",
        )
    assert listener.mqtt.connected
    assert listener.task is not None
    assert not listener.task.done()
    warnings = records.at_least(logging.WARNING)
    assert len(warnings) <= len(garbage), [r.getMessage()[:200] for r in warnings]
    assert not records.at_least(logging.ERROR), [r.getMessage()[:300] for r in records.records]


# --------------------------------------------------------------------- REST answers


@dataclass
class Answer:
    status: int = 200
    content_type: str = "application/json"
    body: bytes = b"{}"


class GarbageCloud:
    """Logs in like the cloud, answers every other request with :attr:`answer`."""

    def __init__(self) -> None:
        self.answer = Answer()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/auth/oauth/token", self._login)
        app.router.add_post("/openapi/auth/login/key", self._nb_login)
        app.router.add_route("*", "/{tail:.*}", self._garbage)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _login(self, request: web.Request) -> web.Response:
        data = {
            "access_token": "fuzz-access-token",
            "refresh_token": "fuzz-refresh-token",
            "token_type": "bearer",
            "expires_in": 43199,
        }
        return web.json_response({"code": 0, "msg": "success", "data": data})

    async def _nb_login(self, request: web.Request) -> web.Response:
        data = json.dumps({"tokenType": "Bearer", "accessToken": "fuzz-nb", "expiresIn": 43199})
        return web.json_response({"code": 0, "msg": "success", "data": data})

    async def _garbage(self, request: web.Request) -> web.Response:
        answer = self.answer
        return web.Response(
            status=answer.status, body=answer.body, content_type=answer.content_type
        )


@pytest.fixture
async def garbage_cloud(socket_enabled: None) -> AsyncIterator[GarbageCloud]:
    cloud = GarbageCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


def _envelope(data: Any) -> Any:
    return {"code": 0, "msg": "success", "data": data}


# Up to 10**400: beyond a float's range (test_huge_integer_in_a_rest_answer).
HUGE_EXPONENT = 400

bodies = st.one_of(
    json_values.map(_envelope).map(lambda v: _text(v).encode()),
    json_values.map(lambda v: _envelope(_text(v))).map(lambda v: _text(v).encode()),
    json_values.map(lambda v: _text(v).encode()),
    st.binary(max_size=300),
    st.just(b"<html><body>403 ERROR</body></html>"),
    st.builds(lambda n: ("[" * n + "]" * n).encode(), st.integers(min_value=1000, max_value=50000)),
    st.builds(lambda n: b'{"code":0,"data":"' + b"x" * n + b'"}', st.integers(0, 3_000_000)),
    st.builds(
        lambda n: _text(_envelope({"pvPower": 10**n, "batterySoc": -(10**n)})).encode(),
        st.integers(0, HUGE_EXPONENT),
    ),
)
answers = st.builds(
    Answer,
    status=st.sampled_from([200, 200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 503]),
    content_type=st.sampled_from(["application/json", "text/html", "text/plain"]),
    body=bodies,
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=answers)
async def test_rest_garbage_raises_only_sigen_errors(
    garbage_cloud: GarbageCloud, answer: Answer
) -> None:
    """Every method either returns a typed model or raises a SigenError, nothing else."""
    garbage_cloud.answer = answer
    async with Sigen("fuzz@example.invalid", "fuzz-password", base_url=garbage_cloud.url) as api:
        calls = (
            api.get_station_info(),
            api.get_energy_flow(station_id="1"),
            api.get_operational_modes(station_id="1"),
            api.get_current_mode(station_id="1"),
            api.get_smart_loads(station_id="1"),
        )
        for call in calls:
            with suppress(SigenError):
                await call
    nb = NorthboundClient(garbage_cloud.url, app_key="fuzz-key", app_secret="fuzz-secret")
    try:
        for name, args in (
            ("get_systems", ()),
            ("get_energy_flow", ("S1",)),
            ("get_summary", ("S1",)),
            ("query_mode", ("S1",)),
            ("onboard", (["S1"],)),
        ):
            with suppress(SigenError):
                await getattr(nb, name)(*args)
    finally:
        await nb.close()


async def test_huge_integer_in_a_rest_answer(garbage_cloud: GarbageCloud) -> None:
    """An integer too large for a float is a missing value, not a crash."""
    body = _text(_envelope({"pvPower": 10**309, "batterySoc": -(10**400)})).encode()
    garbage_cloud.answer = Answer(body=body)
    async with Sigen("fuzz@example.invalid", "fuzz-password", base_url=garbage_cloud.url) as api:
        flow = await api.get_energy_flow(station_id="1")
    assert flow.pv_power is None
    assert flow.battery_soc is None


# ------------------------------------------------------------------------ action data

action_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    st.sampled_from(["charge", "self_consumption", "pv", "grid", "battery", "2030-01-01 00:00"]),
)
action_keys = st.sampled_from(
    [
        "mode",
        "start_time",
        "duration",
        "charging_power",
        "pv_power",
        "max_sell_power",
        "max_purchase_power",
        "charge_priority",
        "discharge_priority",
        "commands",
        "unknown",
    ]
)
powers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20)
command_like = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["charge", "discharge", "idle", "self_consumption", "turbo"]),
        "duration": st.integers(1, 1440) | st.integers(-5, 3000) | st.text(max_size=4),
    },
    optional={
        "start_time": st.integers(-7200, 2 * 86400).map(
            lambda s: datetime.fromtimestamp(time.time() + s, UTC).isoformat()
        )
        | st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
        | st.text(max_size=12),
        "charging_power": powers,
        "pv_power": powers,
        "max_sell_power": powers,
        "max_purchase_power": powers,
        "charge_priority": st.sampled_from(["pv", "grid", "battery", ""]),
        "discharge_priority": st.sampled_from(["pv", "battery", "grid", ""]),
    },
)
action_data = (
    st.dictionaries(action_keys, action_values, max_size=6)
    | command_like
    | command_like
    | st.fixed_dictionaries({"commands": st.lists(command_like, max_size=30)})
    | st.fixed_dictionaries(
        {"commands": st.lists(st.dictionaries(action_keys, action_values, max_size=5), max_size=4)}
    )
)


@pytest.fixture
async def loaded(
    hass: HomeAssistant, sim_mqtt: Simulator
) -> AsyncIterator[tuple[HomeAssistant, str]]:
    entry = await setup_entry(hass, sim_mqtt, Platform.SENSOR, developer=True)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, STATION_ID), entry.entry_id)
    assert device is not None
    yield hass, device.id
    await unload(hass, entry)


@pytest.mark.sim_config(time_scale=0, telemetry_interval=0)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    service=st.sampled_from(["battery_command", "battery_schedule", "set_northbound_mode"]),
    data=action_data,
)
async def test_action_data_is_refused_cleanly(
    loaded: tuple[HomeAssistant, str], service: str, data: dict[str, Any]
) -> None:
    """Random action data: success, or a validation/Home Assistant error; nothing else."""
    hass, device_id = loaded
    try:
        await hass.services.async_call(
            DOMAIN, service, {"device_id": device_id, **data}, blocking=True
        )
    except (vol.Invalid, HomeAssistantError) as err:
        OUTCOMES[type(err).__name__] += 1
    else:
        OUTCOMES["accepted"] += 1


OUTCOMES: Counter[str] = Counter()


@pytest.mark.sim_config(time_scale=0, telemetry_interval=0)
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=command_like)
async def test_command_like_action_data_is_refused_cleanly(
    loaded: tuple[HomeAssistant, str], data: dict[str, Any]
) -> None:
    """Nearly valid commands (they reach the library's validation and the broker)."""
    hass, device_id = loaded
    try:
        await hass.services.async_call(
            DOMAIN, "battery_command", {"device_id": device_id, **data}, blocking=True
        )
    except (vol.Invalid, HomeAssistantError) as err:
        OUTCOMES[type(err).__name__] += 1
    else:
        OUTCOMES["accepted"] += 1
