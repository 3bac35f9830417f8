"""Whatever the cloud answers, the REST clients raise only ``SigenError`` (never a
KeyError/TypeError) and return only typed results.

The HTTP layer (``_http.fetch``, where each transport imports it) is replaced by
generated answers here so that Hypothesis can try thousands of them quickly; the
loopback tests cover the wire.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigen import _http as http_module
from sigen._auth import Token
from sigen._http import HttpAnswer, answer_from_text
from sigen.client import Sigen
from sigen.errors import SigenError
from sigen.northbound import NorthboundClient

KEYS = [
    "access_token", "refresh_token", "expires_in", "accessToken", "expiresIn", "tokenType",
    "stationId", "stationSnCode", "pvPower", "buySellPower", "batteryPower", "batterySoc",
    "defaultWorkingModes", "energyProfileItems", "label", "value", "name", "profileId",
    "currentMode", "currentProfileId", "path", "valueWithUnit", "manualSwitch", "smartLoadId",
    "todayConsumption", "systemId", "codeList", "result", "energyStorageOperationMode",
    "gridPower", "lifetimePowerGeneration", "list", "error", "msg",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["4.79 kWh", "0.00 kW", "1", "-1", "9", "[]", "{}", '{"a": 1}'])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
        | inner.map(lambda v: json.dumps(v) if not isinstance(v, float) else v)
    ),
    max_leaves=25,
)
envelopes = st.fixed_dictionaries(
    {"code": st.sampled_from([0, "0", 0, 401, 1000, 1110, 1201, 11002, 11003, "x", None])},
    optional={"msg": st.text(max_size=10), "data": json_values},
)
bodies = st.one_of(
    envelopes.map(json.dumps),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=40),
    st.just("<html>Request blocked</html>"),
)
answers = st.builds(
    answer_from_text,
    st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 503]),
    st.fixed_dictionaries(
        {"content-type": st.sampled_from(["application/json", "text/html", "text/plain"])},
        optional={"retry-after": st.sampled_from(["5", "x", "-1"])},
    ),
    bodies,
)


def _install(monkeypatch: pytest.MonkeyPatch, pool: list[HttpAnswer]) -> None:
    index = 0

    async def fake_fetch(*_: Any, **__: Any) -> HttpAnswer:
        nonlocal index
        answer = pool[index % len(pool)]
        index += 1
        return answer

    # Both REST transports send through _http.Endpoint.send, which calls this fetch.
    monkeypatch.setattr(http_module, "fetch", fake_fetch)


async def _check(call: Callable[[], Awaitable[Any]]) -> None:
    try:
        await call()
    except SigenError as err:
        assert str(err)  # noqa: PT017 - every error carries a message


SESSION: Any = object()  # never used: fetch is replaced


def _sigen() -> Sigen:
    api = Sigen("user@example.invalid", "pw", base_url="http://127.0.0.1:9/", session=SESSION)
    api._transport.tokens.token = Token("token", time.time() + 3600, time.time() + 3600, "refresh")
    api.station_id = "20240523012345"
    return api


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(answers, min_size=1, max_size=4))
def test_sigen_never_raises_anything_else(
    monkeypatch: pytest.MonkeyPatch, pool: list[HttpAnswer]
) -> None:
    _install(monkeypatch, pool)

    async def run() -> None:
        api = _sigen()
        for call in (
            api.get_station_info,
            api.get_energy_flow,
            api.get_operational_modes,
            api.get_current_mode,
            api.get_operational_mode,
            lambda: api.set_operational_mode(1),
            api.get_smart_loads,
            lambda: api.get_smart_load_consumption(1),
            lambda: api.set_smart_load_state(1, True),
            api.async_initialize,
        ):
            await _check(call)
        fresh = Sigen("user@example.invalid", "pw", base_url="http://127.0.0.1:9/", session=SESSION)
        await _check(fresh.async_initialize)

    asyncio.run(run())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(answers, min_size=1, max_size=4))
def test_northbound_never_raises_anything_else(
    monkeypatch: pytest.MonkeyPatch, pool: list[HttpAnswer]
) -> None:
    _install(monkeypatch, pool)

    async def run() -> None:
        nb = NorthboundClient("http://127.0.0.1:9/", app_key="k", app_secret="s", session=SESSION)
        for call in (
            nb.login,
            nb.get_systems,
            lambda: nb.get_energy_flow("A"),
            lambda: nb.get_summary("A"),
            lambda: nb.query_mode("A"),
            lambda: nb.switch_mode("A", 0),
            lambda: nb.onboard(["A"]),
            lambda: nb.offboard("A"),
        ):
            await _check(call)

    asyncio.run(run())
