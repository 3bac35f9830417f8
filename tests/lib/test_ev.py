"""``sigen.ev`` (EvApi) on a fake transport and against the simulator (issue 20).

Answers are the shapes of §7.10, §7.11 and §7.17 of the API notes (``fixtures/ev.json``):
the topology as a tree or a list, the DC status as an int or an object, every plug key
seen, the realtime values with their unreliable sign. Each refused argument has its own
test, and none of them sends anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sigen import (
    AcChargerCurrent,
    Charger,
    DcChargerState,
    DcEnergyTotals,
    Sigen,
    SigenAPIError,
    SigenValidationError,
    StationInfo,
)
from sigen.app import EvApi
from sigen_sim import Simulator

from .settings_fakes import HOME, FakeHome, fixture, make, sent

EV = fixture("ev")
OK = {"code": 0, "msg": "success", "data": True}


def ev(*names: str, home: FakeHome | None = None) -> tuple[EvApi, Any]:
    """An EvApi answering the named fixtures in turn (``"ok"``: a write's answer)."""
    return make(EvApi, *(name if name == "ok" else EV[name] for name in names), home=home)


class HomeWithLists(FakeHome):
    """A client that has read its home station, with charger serials listed."""

    station = StationInfo.from_dict(
        {"stationId": HOME, "acSnList": ["AC0001", "AC9"], "dcSnList": ["DC0001"]}
    )


# --------------------------------------------------------------------------- chargers


async def test_chargers_from_the_topology_tree() -> None:
    area, transport = ev("topology")
    chargers = await area.list_chargers()
    assert [(c.serial, c.kind, c.online, c.status) for c in chargers] == [
        ("DC0001", "dc", True, 1),
        ("AC0001", "ac", False, 4),
    ]
    assert chargers[0].can_discharge
    assert not chargers[1].can_discharge
    assert chargers[0].raw["deviceTypeDesc"] == "DC Charger"
    assert sent(transport) == [("GET", "device/devicetreepanel/topology", None)]
    assert transport.calls[0][2]["params"] == {"stationId": HOME}


async def test_chargers_from_a_topology_list() -> None:
    area, _ = ev("topology_list")
    chargers = await area.list_chargers(station_id=7)
    assert [(c.serial, c.kind) for c in chargers] == [("DC0002", "dc"), ("AC0002", "ac")]


async def test_the_home_station_lists_chargers_the_topology_leaves_out() -> None:
    area, _ = ev("topology", home=HomeWithLists())
    chargers = await area.list_chargers()
    assert [(c.serial, c.kind) for c in chargers] == [
        ("DC0001", "dc"),
        ("AC0001", "ac"),
        ("AC9", "ac"),
    ]


async def test_a_station_without_chargers() -> None:
    area, _ = ev("topology_empty")
    assert await area.list_chargers() == []


# --------------------------------------------------------------------------- AC


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ac_current", (30.0, 30.0, True)), ("ac_current_strings", (16.0, 32.0, False))],
)
async def test_ac_current(name: str, expected: tuple[float, float, bool]) -> None:
    area, transport = ev(name)
    current = await area.get_ac_current()
    assert (current.current, current.max_current, current.dlm) == expected
    assert isinstance(current, AcChargerCurrent)
    assert sent(transport) == [("GET", "device/acevse/charge/read/current", None)]


async def test_set_ac_current_reads_the_largest_first() -> None:
    area, transport = ev("ac_current_strings", "ok")
    await area.set_ac_current(20)
    assert [(m, p) for m, p, _ in sent(transport)] == [
        ("GET", "device/acevse/charge/read/current"),
        ("PUT", "device/acevse/charge/current"),
    ]
    assert transport.calls[1][2]["params"] == {"stationId": HOME, "current": "20"}


async def test_set_ac_current_above_the_chargers_largest() -> None:
    area, transport = ev("ac_current")
    with pytest.raises(SigenValidationError, match=r"from 6 to 30 A, got 31"):
        await area.set_ac_current(31)
    assert len(transport.calls) == 1  # the read only


@pytest.mark.parametrize("current", [5, 81, 16.5, "16", True, None])
async def test_set_ac_current_refused_before_sending(current: Any) -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match="The charging current must be a whole"):
        await area.set_ac_current(current)
    assert transport.calls == []


async def test_ac_dlm() -> None:
    area, transport = ev("ok")
    await area.set_ac_dlm(False)
    method, path, body = sent(transport)[0]
    assert (method, path) == ("POST", "device/acevse/more-setting")
    assert body["dlmStatus"] == 0
    assert body["stationId"] == int(HOME)
    assert body["meterPhase"] is None
    assert len(body) == 8


async def test_ac_dlm_refused() -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match="enabled must be True or False"):
        await area.set_ac_dlm(1)  # type: ignore[arg-type]
    assert transport.calls == []


async def test_ac_charge_mode() -> None:
    area, transport = ev("ac_mode")
    mode = await area.get_ac_charge_mode("AC0001")
    assert (mode.mode, mode.min_keep_charge_time, mode.max_grid_charge_power) == (0, 5.0, 7.0)
    assert transport.calls[0][2]["params"] == {"stationId": HOME, "snCode": "AC0001"}


async def test_ac_state_subtracts_the_dc_chargers() -> None:
    area, _ = ev(
        "energy_flow",
        "topology",
        "dc_status_int",
        "dc_plug_bool",
        "dc_discharge_realtime",
        "dc_charge_realtime",
    )
    state = await area.get_ac_state()
    assert state.power == 7.0  # 18 kW of EV power, 11 of them through the DC charger
    assert state.charging is True
    assert state.session_energy is None


# --------------------------------------------------------------------------- DC reads


@pytest.mark.parametrize(
    "plug",
    [
        "dc_plug_bool",
        "dc_plug_plugged",
        "dc_plug_pluggedIn",
        "dc_plug_isPlugged",
        "dc_plug_plugStatus",
    ],
)
async def test_dc_state_charging(plug: str) -> None:
    area, transport = ev("dc_status_int", plug, "dc_discharge_realtime", "dc_charge_realtime")
    state = await area.get_dc_state("DC0001")
    assert isinstance(state, DcChargerState)
    assert (state.status, state.plugged, state.run_state_name) == (3, True, "charging")
    assert state.power == 11.0  # the cloud's -11.0 is charging: the run state says so
    assert (state.vehicle_soc, state.session_energy, state.total_charge_energy) == (
        55.0,
        4.2,
        812.5,
    )
    assert state.charging_started == datetime(2026, 5, 19, 12, 0, tzinfo=UTC)
    assert [p for _, p, _ in sent(transport)] == [
        "device/dcevse/status",
        "device/dcevse/plug/status",
        "device/dcevse/discharge/realtime",
        "device/dcevse/charge/realtime",
    ]
    assert transport.calls[0][2]["params"] == {"stationId": HOME, "snCode": "DC0001"}


async def test_dc_state_discharging_and_objects() -> None:
    area, _ = ev(
        "dc_status_object", "dc_plug_status", "dc_discharging_discharge", "dc_discharging_realtime"
    )
    state = await area.get_dc_state(Charger.build({"snCode": "DC0001"}, kind="dc"))
    assert (state.status, state.status_text, state.plugged) == (2, "Preparing", False)
    assert state.discharging
    assert state.power == -7.0
    assert state.discharging_current == 17.5


async def test_dc_settings_mode_totals_v2x() -> None:
    area, transport = ev("dc_settings", "dc_mode", "dc_totals", "v2x_settings", "v2x_info")
    settings = await area.get_dc_settings("DC0001")
    assert (settings.allowed_power, settings.cutoff_soc, settings.rated_power) == (11.0, 90, 25.0)
    mode = await area.get_dc_mode("DC0001")
    assert (mode.mode, mode.code, mode.boost_from_battery) == ("pv_surplus", 1, True)
    assert (mode.min_discharge_cutoff_soc, mode.max_discharge_cutoff_soc) == (10.0, 90.0)
    assert await area.get_dc_totals("DC0001") == DcEnergyTotals(812.5, 40.25)
    v2x = await area.get_v2x_settings("DC0001")
    assert (v2x.enabled, v2x.has_car, v2x.has_used) == (True, True, False)
    session = await area.get_v2x_session("DC0001")
    assert session.discharging
    assert session.power == -7.0
    assert session.running(datetime(2026, 5, 19, 12, 0, tzinfo=UTC))
    assert not session.running(datetime(2026, 5, 19, 13, 0, tzinfo=UTC))
    assert transport.calls[2][1] == f"data-process/dcevse/total/{HOME}/DC0001"
    assert transport.calls[4][2]["params"] == {"stationId": HOME, "dcSnCode": "DC0001"}


@pytest.mark.parametrize("serial", ["", "  ", None, 5])
async def test_a_serial_is_checked(serial: Any) -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match="A charger serial must be a non-empty"):
        await area.get_dc_state(serial)
    assert transport.calls == []


# --------------------------------------------------------------------------- DC writes


async def test_start_and_stop_charging() -> None:
    area, transport = ev("topology", "start_ok", "start_ok")
    await area.start_charging("DC0001")
    await area.stop_charging("DC0001")
    puts = transport.calls[1:]
    assert [call[2]["params"]["enable"] for call in puts] == ["0", "1"]  # inverted
    assert {call[1] for call in puts} == {"device/dcevse/charge/start"}


async def test_a_refused_start_raises() -> None:
    area, _ = ev("topology", "start_refused")
    with pytest.raises(SigenAPIError, match=r"the charger refused \(errorCode 3001"):
        await area.start_charging("DC0001")


async def test_v2x_start_and_stop() -> None:
    area, transport = ev("topology", "ok", "ok")
    await area.start_v2x_discharge("DC0001", 60, 5)
    await area.stop_v2x_discharge("DC0001")
    assert sent(transport)[1:] == [
        (
            "POST",
            "device/station-v2x/start/discharge",
            {"snCode": "DC0001", "stationId": int(HOME), "duration": 60, "powerCap": 5.0},
        ),
        ("POST", "device/station-v2x/stop/discharge", {"snCode": "DC0001", "stationId": int(HOME)}),
    ]


async def test_v2x_without_a_cap_sends_null() -> None:
    area, transport = ev("topology", "ok")
    await area.start_v2x_discharge("DC0001", 30)
    assert sent(transport)[1][2]["powerCap"] is None


async def test_v2x_refused_on_a_charger_that_cannot_discharge() -> None:
    area, transport = ev("topology")
    with pytest.raises(
        SigenValidationError, match=r"needs a DC charger \(one that can discharge\); AC0001"
    ):
        await area.start_v2x_discharge("AC0001", 60)
    assert len(transport.calls) == 1  # the charger list, nothing sent


async def test_v2x_refused_on_an_unknown_charger() -> None:
    area, transport = ev("topology")
    with pytest.raises(SigenValidationError, match=r"lists no charger 'X1' .its chargers: DC0001"):
        await area.stop_v2x_discharge("X1")
    assert len(transport.calls) == 1


@pytest.mark.parametrize(
    ("duration", "cap", "message"),
    [
        (4, None, r"duration must be a whole number from 5 to 720 minutes, got 4"),
        (721, None, r"from 5 to 720 minutes"),
        (30.5, None, r"from 5 to 720 minutes"),
        (60, 0, r"The V2X power cap must be a number above 0 to 50 kW, got 0"),
        (60, 51, r"above 0 to 50 kW, got 51"),
    ],
)
async def test_v2x_arguments_refused_before_sending(duration: Any, cap: Any, message: str) -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match=message):
        await area.start_v2x_discharge("DC0001", duration, cap)
    assert transport.calls == []


async def test_dc_settings_write_keeps_the_other_value() -> None:
    area, transport = ev("topology", "dc_settings", "ok")
    written = await area.set_dc_settings("DC0001", allowed_power=7.5)
    assert sent(transport)[2] == (
        "POST",
        "device/dcevse/charge/setting",
        {
            "snCode": "DC0001",
            "stationId": int(HOME),
            "allowedChargePower": 7.5,
            "vehicleChargingCutoffSoc": 90,
        },
    )
    assert (written.allowed_power, written.cutoff_soc, written.rated_power) == (7.5, 90, 25.0)


async def test_dc_settings_above_the_rating() -> None:
    area, transport = ev("topology", "dc_settings")
    with pytest.raises(SigenValidationError, match=r"from 1 to 25 kW, got 30"):
        await area.set_dc_settings("DC0001", allowed_power=30)
    assert len(transport.calls) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Give allowed_power"),
        ({"allowed_power": 0.5}, r"from 1 to 50 kW"),
        ({"cutoff_soc": 40}, r"cut-off SOC must be a whole number from 50 to 100 %"),
    ],
)
async def test_dc_settings_refused_before_sending(kwargs: dict[str, Any], message: str) -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match=message):
        await area.set_dc_settings("DC0001", **kwargs)
    assert transport.calls == []


async def test_dc_mode_resends_the_options() -> None:
    area, transport = ev("topology", "dc_mode", "ok")
    await area.set_dc_mode("DC0001", "v2x")
    body = sent(transport)[2][2]
    assert body["chargeMode"] == 2
    assert body["enableFromPack"] is True
    assert body["vehicleDischargeCutoffSoc"] == 20
    assert "minimumDischargeCutoffSoc" not in body


async def test_dc_mode_refused() -> None:
    area, transport = ev()
    with pytest.raises(SigenValidationError, match="allowed: fast, pv_surplus, v2x"):
        await area.set_dc_mode("DC0001", "turbo")
    assert transport.calls == []


async def test_start_charging_on_an_ac_charger() -> None:
    area, _ = ev("topology")
    with pytest.raises(SigenValidationError, match="Starting charging needs a DC charger"):
        await area.start_charging("AC0001")


async def test_the_chargers_are_read_once_per_station() -> None:
    area, transport = ev("topology", "ok", "ok")
    await area.set_v2x_enabled("DC0001", True)
    await area.set_v2x_enabled("DC0001", False)
    assert [p for _, p, _ in sent(transport)].count("device/devicetreepanel/topology") == 1
    assert sent(transport)[2][2]["dischargeEnable"] == 0


# --------------------------------------------------------------------------- simulator


@pytest.fixture
async def api(socket_enabled: None, sim: Simulator) -> AsyncIterator[Sigen]:
    async with Sigen(sim.username, sim.password, base_url=sim.api_url) as client:
        await client.get_station_info()
        yield client


def plug(sim: Simulator, serial: str, *, soc: float = 40.0, plugged: bool = True) -> None:
    station = sim.stations[0]
    station.sync()
    station.chargers.plug(serial, plugged, sim.clock.now(), soc)


@pytest.mark.sim_config(time_scale=0, ev_chargers=("ac", "dc"), start_time=1779256800.0)
async def test_sim_a_car_charges_and_stops(sim: Simulator, api: Sigen) -> None:
    chargers = await api.ev.list_chargers()
    dc = next(c for c in chargers if c.kind == "dc")
    ac = next(c for c in chargers if c.kind == "ac")
    state = await api.ev.get_dc_state(dc)
    assert (state.plugged, state.power, state.status) == (False, 0.0, 1)
    plug(sim, dc.serial)
    await sim.advance(900)
    state = await api.ev.get_dc_state(dc)
    assert state.plugged
    assert state.power == 11.0
    assert state.run_state_name == "charging"
    assert state.session_energy == pytest.approx(2.75, abs=0.01)
    flow = await api.get_energy_flow()
    assert flow.raw["evPower"] == 11.0
    await api.ev.stop_charging(dc)
    assert (await api.ev.get_dc_state(dc)).power == 0.0
    await api.ev.set_ac_current(10)
    plug(sim, ac.serial)
    assert (await api.ev.get_ac_current()).current == 10.0
    assert (await api.ev.get_ac_state()).power == pytest.approx(6.9)  # 10 A x 230 V x 3


@pytest.mark.sim_config(time_scale=0, ev_chargers=("ac", "dc"), start_time=1779256800.0)
async def test_sim_v2x_discharges_into_the_home(sim: Simulator, api: Sigen) -> None:
    station = sim.stations[0]
    station.soc = station.charge_cutoff_soc  # a full battery: the grid shows the car
    chargers = await api.ev.list_chargers()
    dc = next(c for c in chargers if c.kind == "dc")
    plug(sim, dc.serial, soc=80)
    await api.ev.stop_charging(dc)
    before = await api.get_energy_flow()
    await api.ev.start_v2x_discharge(dc, 30, 5)
    session = await api.ev.get_v2x_session(dc)
    assert session.discharging
    assert session.power == -5.0
    assert session.running(datetime.fromtimestamp(sim.clock.now(), UTC))
    flow = await api.get_energy_flow()
    assert flow.raw["evPower"] == -5.0
    assert flow.grid_power is not None
    assert before.grid_power is not None
    assert flow.grid_power < before.grid_power - 4.0  # 5 kW less from (or more to) the grid
    await sim.advance(31 * 60)
    assert not (await api.ev.get_v2x_session(dc)).discharging  # the session ended by itself
    assert (await api.ev.get_dc_totals(dc)).discharged == pytest.approx(2.5, abs=0.1)
    with pytest.raises(SigenValidationError, match="needs a DC charger"):
        await api.ev.start_v2x_discharge(next(c for c in chargers if c.kind == "ac"), 30)
    assert sim.count("start/discharge") == 1
