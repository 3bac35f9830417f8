"""The app API's area classes (``sigen.app``) on a fake transport with captured answers.

The fixtures in ``fixtures/app_*.json`` are the simulator's answers, captured once; each
test checks the request an endpoint sends and the model it returns, without a server.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sigen._envelope import Reply, check_envelope
from sigen._http import answer_from_text
from sigen.app import ModesApi, SmartLoadsApi, StationsApi
from sigen.app.modes import describe, find_by_name, label_of, with_label
from sigen.errors import SigenAPIError, SigenRateLimitError, SigenValidationError
from sigen.models import CurrentMode, OperationalMode

FIXTURES = Path(__file__).parent / "fixtures"
STATION = "20240523012345"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class FakeTransport:
    """Stands in for ``AppTransport``: answers each request with the next queued body."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> Reply:
        self.calls.append((method, path, kwargs))
        body = self.bodies.pop(0)
        if isinstance(body, Exception):
            raise body
        answer = answer_from_text(200, {"content-type": "application/json"}, json.dumps(body))
        return Reply(what, check_envelope(what, answer), answer)


# --------------------------------------------------------------------------- stations


async def test_home_station() -> None:
    transport = FakeTransport(fixture("app_station_home"))
    station = await StationsApi(transport).get_home()  # type: ignore[arg-type]
    assert station.station_id == STATION
    assert station.name == "Sim Station 1"
    assert station.system_id == "SIMSYS00000001"
    assert station.pv_capacity == 10.3
    assert transport.calls == [("GET", "device/owner/station/home", {})]


async def test_home_station_not_an_object() -> None:
    transport = FakeTransport({"code": 0, "data": [1, 2]})
    with pytest.raises(SigenAPIError, match="Reading the Sigen home station: expected a JSON"):
        await StationsApi(transport).get_home()  # type: ignore[arg-type]


async def test_energy_flow() -> None:
    transport = FakeTransport(fixture("app_energy_flow"))
    flow = await StationsApi(transport).get_energy_flow(STATION)  # type: ignore[arg-type]
    assert flow.pv_power == 3.51
    assert flow.load_power == 0.87
    assert flow.battery_power == -2.64  # the cloud's + = charging, ours + = discharging
    assert flow.grid_power == 0.0
    assert transport.calls == [
        ("GET", "device/sigen/station/energyflow", {"params": {"id": STATION}})
    ]


# --------------------------------------------------------------------------- modes


async def test_all_modes() -> None:
    transport = FakeTransport(fixture("app_modes"))
    modes = await ModesApi(transport).get_all(STATION)  # type: ignore[arg-type]
    assert [m.label for m in modes] == [
        "Sigen AI Mode",
        "Maximum Self-Powered",
        "TOU",
        "Fully Fed to Grid",
        "Remote EMS Mode",
        "Summer 50kWh",
        "Storm Ready",
    ]
    assert (modes[5].value, modes[5].profile_id, modes[5].is_profile) == (9, 3126, True)
    assert transport.calls == [("GET", f"device/energy-profile/mode/all/{STATION}", {})]


async def test_an_unreadable_mode_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    body = copy.deepcopy(fixture("app_modes"))
    body["data"]["defaultWorkingModes"].insert(0, {"label": "Broken"})
    modes = await ModesApi(FakeTransport(body)).get_all(STATION)  # type: ignore[arg-type]
    assert len(modes) == 7
    assert "skipping an unreadable mode" in caplog.text


async def test_current_mode_is_one_request() -> None:
    modes = await ModesApi(FakeTransport(fixture("app_modes"))).get_all(STATION)  # type: ignore[arg-type]
    transport = FakeTransport(fixture("app_mode_current"), fixture("app_mode_current"))
    api = ModesApi(transport)  # type: ignore[arg-type]
    current = await api.get_current(STATION, modes)
    assert (current.mode, current.profile_id, current.label) == (0, -1, "Maximum Self-Powered")
    unnamed = await api.get_current(STATION)
    assert unnamed.label is None  # no modes given: no extra request for them
    assert [call[1] for call in transport.calls] == [
        f"device/energy-profile/mode/current/{STATION}"
    ] * 2


async def test_switch_mode() -> None:
    transport = FakeTransport({"code": 0, "data": None})
    await ModesApi(transport).switch(STATION, 9, 3126, label="Summer 50kWh")  # type: ignore[arg-type]
    assert transport.calls == [
        (
            "PUT",
            "device/energy-profile/mode",
            {"json": {"stationId": int(STATION), "operationMode": 9, "profileId": 3126}},
        )
    ]
    with pytest.raises(SigenValidationError, match="must be an integer"):
        await ModesApi(transport).switch(STATION, True)  # type: ignore[arg-type]


async def test_refused_switch_names_the_mode() -> None:
    transport = FakeTransport({"code": 1000, "msg": "unknown operationMode 42"})
    with pytest.raises(SigenAPIError, match=r"Switching station \d+ to the operational mode 'X'"):
        await ModesApi(transport).switch(STATION, 42, label="X")  # type: ignore[arg-type]


def test_labels_are_pure() -> None:
    modes = [
        OperationalMode("TOU", 2, -1, False, "set_operational_mode_tou"),
        OperationalMode("Storm Ready", 9, 3939, True, "set_operational_mode_storm_ready"),
    ]
    assert label_of(modes, 2, -1) == "TOU"
    assert label_of(modes, 9, 3939) == "Storm Ready"
    assert label_of(modes, 8, -1) is None
    assert with_label(CurrentMode(9, 3939), modes).label == "Storm Ready"
    assert describe(CurrentMode(8, -1)) == "Unknown mode 8"
    assert describe(CurrentMode(9, 1)) == "Unknown mode 9 (profile 1)"
    assert find_by_name(modes, "storm_ready", lambda m: m.label) is modes[1]
    assert find_by_name(modes, " tou ", lambda m: m.label) is modes[0]
    assert find_by_name(modes, "eco", lambda m: m.label) is None


# --------------------------------------------------------------------------- smart loads


async def test_smart_loads() -> None:
    transport = FakeTransport(fixture("app_smart_load_cards"))
    loads = await SmartLoadsApi(transport).get_all(STATION)  # type: ignore[arg-type]
    assert [(load.name, load.path, load.on) for load in loads] == [
        ("Immersion", 1, False),
        ("Pool pump", 2, False),
    ]
    assert transport.calls[0][2] == {"params": {"stationId": STATION, "showNewGenerator": "true"}}


async def test_smart_loads_in_a_paged_answer() -> None:
    body = fixture("app_smart_load_cards")
    body["data"] = {"list": body["data"], "total": 2}
    loads = await SmartLoadsApi(FakeTransport(body)).get_all(STATION)  # type: ignore[arg-type]
    assert len(loads) == 2


async def test_consumption_looks_the_id_up_once() -> None:
    transport = FakeTransport(
        fixture("app_smart_load_detail"),
        fixture("app_smart_load_consumption"),
        fixture("app_smart_load_consumption"),
    )
    api = SmartLoadsApi(transport)  # type: ignore[arg-type]
    used = await api.get_consumption(STATION, 1)
    assert (used.today, used.month, used.lifetime) == (1.25, 31.4, 812.0)
    await api.get_consumption(STATION, 1)
    assert [call[1] for call in transport.calls] == [
        "device/tp-device/smart-loads",
        "data-process/sigen/station/statistics/real-time-consumption",
        "data-process/sigen/station/statistics/real-time-consumption",
    ]
    assert transport.calls[1][2]["params"]["smartLoadId"] == "7001"


async def test_a_refused_cached_id_is_looked_up_again() -> None:
    refused = SigenAPIError("no such load", code=1000)
    transport = FakeTransport(
        fixture("app_smart_load_detail"),
        fixture("app_smart_load_consumption"),
        refused,
        fixture("app_smart_load_detail"),
        fixture("app_smart_load_consumption"),
    )
    api = SmartLoadsApi(transport)  # type: ignore[arg-type]
    await api.get_consumption(STATION, 1)
    await api.get_consumption(STATION, 1)
    assert len(transport.calls) == 5
    # a rate limit is not a reason to look the id up again
    transport.bodies = [SigenRateLimitError("slow down", retry_after=5)]
    with pytest.raises(SigenRateLimitError):
        await api.get_consumption(STATION, 1)


async def test_a_load_without_id() -> None:
    body = fixture("app_smart_load_detail")
    del body["data"]["smartLoadId"]
    with pytest.raises(SigenAPIError, match="no smartLoadId"):
        await SmartLoadsApi(FakeTransport(body)).get_consumption(STATION, 1)  # type: ignore[arg-type]


async def test_switch_a_load() -> None:
    transport = FakeTransport({"code": 0, "data": None})
    await SmartLoadsApi(transport).switch(STATION, 2, on=True)  # type: ignore[arg-type]
    assert transport.calls == [
        (
            "PATCH",
            "device/tp-device/smart-loads/control-mode/manual/switch",
            {"params": {"stationId": STATION, "loadPath": "2", "manualSwitch": "1"}},
        )
    ]
