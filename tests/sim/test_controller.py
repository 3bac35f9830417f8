"""An outside VPP/NBI controller holds the battery until it lets go or the owner switches
the northbound mode away (sigen_sim/model/controller.py, the control API's
``/_sim/stations/{systemId}/controller``, ``SimConfig.app_while_controlled``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sigen_sim import SimConfig, Simulator
from sigen_sim.model import MODE_MSC, MODE_NBI, MODE_TOU, MODE_VPP
from sigen_sim.model.controller import make_controller, release_control, take_control
from sigen_sim.mqtt_payloads import telemetry_values
from tests.sim.helpers import UA, app_login, nb_login

NOON = datetime(2026, 6, 21, 12, tzinfo=ZoneInfo("Europe/Dublin")).timestamp()
MANUAL = "device/energy-profile/instant/manunal"
MODE = "device/energy-profile/mode"
START = {"enable": True, "mode": "1", "duration": "60", "powerLimitation": "2.000"}

pytestmark = pytest.mark.sim_config(time_scale=0, start_time=NOON)


def station_at_noon(**kwargs: Any) -> Any:
    return Simulator(SimConfig(time_scale=0, start_time=NOON, **kwargs)).stations[0]


def nbi(party: str = "Axle", action: str = "hold", power: float | None = None) -> Any:
    return make_controller("nbi", party, action, power, NOON)


# ---------------------------------------------------------------------- the model


def test_an_nbi_hold_keeps_the_battery_at_zero_and_shows_mode_8() -> None:
    station = station_at_noon()
    assert station.sample().battery == 5.0  # MSC stores the noon surplus
    take_control(station, nbi())
    assert station.mode == MODE_NBI
    assert station.sample().battery == 0.0
    assert telemetry_values(station)["operationalMode"] == "8.0"
    assert release_control(station) is not None
    assert station.mode == MODE_MSC
    assert station.sample().battery == 5.0


def test_a_controller_charges_or_discharges_at_its_power() -> None:
    station = station_at_noon()
    take_control(station, make_controller("vpp", "Predbat", "discharge", 1.5, NOON))
    assert station.mode == MODE_VPP
    assert station.sample().battery == -1.5
    take_control(station, make_controller("vpp", "Predbat", "charge", None, NOON))
    assert station.sample().battery == 5.0  # the battery's own power
    assert station.controller is not None
    assert station.controller.since == NOON  # the same holder keeps its start


def test_vpp_and_nbi_exclude_each_other() -> None:
    station = station_at_noon()
    take_control(station, nbi())
    with pytest.raises(ValueError, match="exclude"):
        take_control(station, make_controller("vpp", "Predbat", "hold", None, NOON))
    assert station.controller is not None
    assert station.controller.holder == "nbi"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("ems", "Axle", "hold", None), ValueError),
        (("nbi", "Axle", "idle", None), ValueError),
        (("nbi", "", "hold", None), TypeError),
        (("nbi", "Axle", "charge", -1.0), ValueError),
        (("nbi", "Axle", "charge", float("nan")), ValueError),
    ],
)
def test_bad_controllers_are_refused(args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_controller(*args, NOON)


def test_the_hold_comes_before_manual_control_and_after_a_battery_command() -> None:
    station = station_at_noon()
    station.start_manual_control("discharge", 60, 3.0)
    take_control(station, nbi())
    assert station.sample().battery == 0.0  # manual control does not act
    station.apply_battery_commands(
        [{"activeMode": "discharge", "duration": 30, "chargingPower": 2}]
    )
    assert station.sample().battery == -2.0  # an accepted command does
    release_control(station)
    station.commands.clear()
    assert station.sample().battery == -3.0  # the session takes over again


def test_an_owner_switch_away_releases_and_the_party_hands_back_its_mode() -> None:
    station = station_at_noon()
    station.set_mode(MODE_TOU)
    take_control(station, nbi())
    station.set_mode(MODE_NBI)  # the holder's own mode: nothing changes
    assert station.controller is not None
    station.set_mode(MODE_MSC)
    assert station.controller is None
    assert station.mode == MODE_MSC
    station.set_mode(MODE_TOU)
    take_control(station, nbi())
    release_control(station)  # the party lets go: the mode it found
    assert station.mode == MODE_TOU
    assert release_control(station) is None


# ---------------------------------------------------------------------- over HTTP


class Cloud:
    """The app, northbound and control APIs of one simulator."""

    def __init__(self, session: aiohttp.ClientSession, sim: Simulator, app: str, nb: str) -> None:
        self.session, self.sim, self.app, self.nb = session, sim, app, nb
        self.station = sim.stations[0]
        self.control = f"{sim.control_url}stations/{self.station.system_id}/controller"

    async def _json(self, method: str, url: str, token: str | None, body: Any = None) -> Any:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with self.session.request(method, url, json=body, headers=headers) as r:
            return await r.json(content_type=None)

    async def app_get(self, path: str) -> Any:
        return await self._json(
            "GET", f"{self.sim.api_url}{path}/{self.station.station_id}", self.app
        )

    async def app_put(self, path: str, **fields: Any) -> Any:
        body = {"stationId": self.station.station_id, **fields}
        return await self._json("PUT", self.sim.api_url + path, self.app, body)

    async def nb_mode(self) -> Any:
        url = f"{self.sim.nb_url}openapi/instruction/{self.station.system_id}/settings"
        body = await self._json("GET", url, self.nb)
        return body["data"]["energyStorageOperationMode"]

    async def nb_switch(self, mode: int) -> Any:
        body = {"systemId": self.station.system_id, "energyStorageOperationMode": mode}
        return await self._json(
            "PUT", self.sim.nb_url + "openapi/instruction/settings", self.nb, body
        )

    async def take(self, **body: Any) -> Any:
        return await self._json("POST", self.control, None, body)

    async def release(self) -> Any:
        return await self._json("DELETE", self.control, None)


@pytest.fixture
async def cloud(sim: Simulator) -> AsyncIterator[Cloud]:
    sim.config.nb_rate_limits = False
    async with aiohttp.ClientSession(headers={"User-Agent": UA}) as session:
        yield Cloud(session, sim, await app_login(session, sim), await nb_login(session, sim))


@pytest.mark.usefixtures("socket_enabled")
async def test_take_and_release_through_the_control_api(cloud: Cloud) -> None:
    assert (await cloud._json("GET", cloud.control, None))["data"]["controller"] is None
    answer = await cloud.take(holder="nbi", party="Axle", action="hold")
    assert answer["ok"] is True
    held = answer["data"]["controller"]
    assert held["holder"] == "nbi"
    assert held["party"] == "Axle"
    assert held["since"] == NOON
    assert held["modeBefore"] == MODE_MSC
    # every view of the one mode shows it: app current mode, northbound query
    assert (await cloud.app_get(f"{MODE}/current"))["data"]["currentMode"] == MODE_NBI
    assert await cloud.nb_mode() == MODE_NBI
    assert cloud.station.sample().battery == 0.0
    refused = await cloud.take(holder="vpp", party="Predbat")
    assert refused["ok"] is False
    assert "exclude" in refused["error"]
    assert (await cloud.take(holder="nbi", action="fly"))["ok"] is False
    released = await cloud.release()
    assert released["data"] == {"mode": MODE_MSC, "controller": None}
    assert await cloud.nb_mode() == MODE_MSC
    unknown = f"{cloud.sim.control_url}stations/NOPE/controller"
    for method in ("GET", "POST", "DELETE"):
        async with cloud.session.request(method, unknown) as r:
            assert r.status == 404


@pytest.mark.usefixtures("socket_enabled")
async def test_the_owners_northbound_switch_to_msc_releases(cloud: Cloud) -> None:
    await cloud.take(holder="nbi", action="discharge", powerKw=1.0)
    assert cloud.station.sample().battery == -1.0
    assert (await cloud.nb_switch(MODE_MSC))["code"] == 0
    assert cloud.station.controller is None
    assert await cloud.nb_mode() == MODE_MSC
    assert cloud.station.sample().battery == 5.0


@pytest.mark.usefixtures("socket_enabled")
async def test_the_app_is_refused_while_a_controller_holds(cloud: Cloud) -> None:
    await cloud.take(holder="nbi")
    refused = await cloud.app_put(MODE, operationMode=MODE_TOU, profileId=-1)
    assert refused["code"] == 1103
    assert "nbi (Axle)" in refused["msg"]
    assert (await cloud.app_put(MANUAL, **START))["code"] == 1103
    assert cloud.station.manual.mode is None
    assert cloud.station.mode == MODE_NBI
    # a stop is never refused (releasing must always be possible)
    assert (await cloud.app_put(MANUAL, enable=False))["code"] == 0


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.sim_config(app_while_controlled="ignore")
async def test_the_app_is_accepted_without_effect_in_the_other_variant(cloud: Cloud) -> None:
    await cloud.take(holder="vpp", party="Predbat")
    assert (await cloud.app_put(MODE, operationMode=MODE_TOU, profileId=-1))["code"] == 0
    assert (await cloud.app_get(f"{MODE}/current"))["data"]["currentMode"] == MODE_VPP
    assert (await cloud.app_put(MANUAL, **START))["code"] == 0
    assert (await cloud.app_get(MANUAL))["data"]["enable"] is True  # stored ...
    assert cloud.station.sample().battery == 0.0  # ... but the hold drives the battery
    await cloud.release()
    assert cloud.station.mode == MODE_TOU  # the switch the app made meanwhile
    assert cloud.station.sample().battery == -2.0  # and the session acts now


def test_the_variant_is_checked() -> None:
    from sigen_sim.config import check_config

    with pytest.raises(ValueError, match="app_while_controlled"):
        check_config(SimConfig(app_while_controlled="maybe"))  # type: ignore[arg-type]
