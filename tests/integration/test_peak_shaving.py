"""Peak shaving through Home Assistant against the simulator (issue 18).

The switch and the one peak-shaving SOC number read, write, read back and go back on a
failure; ``sigen_cloud.set_peak_shaving`` changes what the simulated station imports at
peak times; ``get_peak_shaving`` returns what was set; bad input fails translated.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sigen_cloud import services_peak_shaving
from custom_components.sigen_cloud.const import DOMAIN
from sigen_sim.model.modes import MODE_FFG

from .controls_helpers import (
    BATTERY_DISCHARGE,
    GRID_IMPORT,
    PEAK_SHAVING_SOC,
    controls_of,
    let_time_pass,
    refresh_controls,
    set_number,
    state,
    switch,
    value,
)
from .platform_helpers import (
    FROZEN_SIM,
    PREFIX,
    setup_entry,
    station_device_id,
    unload,
    wait_for,
    wait_for_push,
)
from .test_controls import record_states
from .test_diagnostics import dump

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)  # Monday 2026-06-01, 12:00 in Dublin

PEAK_SHAVING = f"switch.{PREFIX}_peak_shaving"
EVENING = {"days": [1, 2, 3, 4, 5], "start": "17:00", "end": "21:00", "peak_power": 3.5}


@pytest.fixture
async def entry(hass: HomeAssistant, sim: Any) -> Any:
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SWITCH, Platform.SENSOR)
    yield entry
    await unload(hass, entry)


async def call(hass: HomeAssistant, entry: MockConfigEntry, name: str, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        name,
        {"device_id": station_device_id(hass, entry.entry_id), **data},
        blocking=True,
        return_response=True,
    )


async def test_switch_reads_writes_and_reads_back(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    station = sim.stations[0]
    assert state(hass, PEAK_SHAVING) == STATE_OFF
    await switch(hass, PEAK_SHAVING, on=True)
    assert station.peak_shaving.enabled is True
    assert state(hass, PEAK_SHAVING) == STATE_ON
    reads = sim.count("peak/shaving", "GET")
    await switch(hass, PEAK_SHAVING, on=False)
    assert sim.count("peak/shaving", "GET") == reads + 2  # read-modify-write, then read back
    assert station.peak_shaving.enabled is False
    # changed in the app: the next poll shows it
    station.peak_shaving.enabled = True
    await refresh_controls(hass, entry)
    assert state(hass, PEAK_SHAVING) == STATE_ON


async def test_switch_goes_back_on_failure(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    sim.faults.http_error("peak/shaving", 500, method="POST")
    seen = record_states(hass, PEAK_SHAVING)
    with pytest.raises(HomeAssistantError) as err:
        await switch(hass, PEAK_SHAVING, on=True)
    assert err.value.translation_key == "cloud_refused"
    assert seen == [STATE_ON, STATE_OFF]
    assert sim.stations[0].peak_shaving.enabled is False


async def test_one_soc_number_for_both_values(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    """The number shows the peak-shaving SOC and writes it (linked: one write)."""
    station = sim.stations[0]
    assert value(hass, PEAK_SHAVING_SOC) == 20
    levels = sim.count("battery/level", "PUT")
    await set_number(hass, PEAK_SHAVING_SOC, 35)
    assert station.peak_shaving_cutoff_soc == 35
    assert sim.count("battery/level", "PUT") == levels  # the levels already read 35
    assert value(hass, PEAK_SHAVING_SOC) == 35
    data = controls_of(entry).data
    assert data is not None
    assert data.peak_shaving is not None
    assert data.soc_levels is not None
    assert data.peak_shaving.soc == data.soc_levels.peak_shaving == 35
    only_one = [s for s in hass.states.async_all("number") if "peak" in s.entity_id]
    assert [s.entity_id for s in only_one] == [PEAK_SHAVING_SOC]


@pytest.mark.sim_config(**FROZEN_SIM, peak_shaving_soc="separate")
async def test_soc_number_keeps_the_levels_in_step(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    station = sim.stations[0]
    assert value(hass, PEAK_SHAVING_SOC) == 10  # the peak-shaving setting's own
    await set_number(hass, PEAK_SHAVING_SOC, 30)
    assert (station.peak_shaving.soc, station.peak_shaving_cutoff_soc) == (30, 30)
    assert value(hass, PEAK_SHAVING_SOC) == 30


async def test_soc_number_goes_back_on_failure(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    sim.faults.http_error("peak/shaving", 500, method="POST")
    seen = record_states(hass, PEAK_SHAVING_SOC)
    with pytest.raises(HomeAssistantError):
        await set_number(hass, PEAK_SHAVING_SOC, 40)
    assert seen == ["40", "20"]
    assert sim.stations[0].peak_shaving_cutoff_soc == 20


async def test_set_caps_the_import_at_peak_times(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    station = sim.stations[0]
    station.set_mode(MODE_FFG)  # the battery idles: the whole load is imported
    station.add_smart_load("Heater", 7.0, on=True)
    answer = await call(hass, entry, "set_peak_shaving", enabled=True, soc=10, periods=[EVENING])
    assert answer == {"enabled": True, "soc": 10, "periods": [EVENING]}
    assert state(hass, PEAK_SHAVING) == STATE_ON
    await let_time_pass(hass, sim, entry, 4 * 3600)  # 16:00: not yet
    assert value(hass, BATTERY_DISCHARGE) == 0.0
    await let_time_pass(hass, sim, entry, 2 * 3600)  # 18:00: in the period
    assert value(hass, GRID_IMPORT) == pytest.approx(3.5, abs=0.02)
    assert value(hass, BATTERY_DISCHARGE) > 0.5
    await let_time_pass(hass, sim, entry, 4 * 3600)  # 22:00: after it
    assert value(hass, BATTERY_DISCHARGE) == 0.0
    assert value(hass, GRID_IMPORT) > 5.0


async def test_get_returns_what_was_set(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    assert await call(hass, entry, "get_peak_shaving") == {
        "enabled": False,
        "soc": 20,
        "periods": [],
    }
    weekend = {"days": "6-7", "start": "00:00", "end": "24:00", "peak_power": "2.5"}
    await call(hass, entry, "set_peak_shaving", periods=[EVENING, weekend])
    assert await call(hass, entry, "get_peak_shaving") == {
        "enabled": False,
        "soc": 20,
        "periods": [EVENING, {"days": [6, 7], "start": "00:00", "end": "24:00", "peak_power": 2.5}],
    }
    # only the switch given: the periods stay
    await call(hass, entry, "set_peak_shaving", enabled=True)
    assert len((await call(hass, entry, "get_peak_shaving"))["periods"]) == 2


@pytest.mark.parametrize(
    ("data", "key", "text"),
    [
        ({"soc": 101}, "invalid_peak_shaving_soc", "101"),
        ({"soc": 10.5}, "invalid_peak_shaving_soc", "10.5"),
        ({"periods": [{**EVENING, "peak_power": 120}]}, "invalid_peak_shaving_periods", "0 to 100"),
        ({"periods": [{**EVENING, "start": "25:00"}]}, "invalid_peak_shaving_periods", "HH:MM"),
        ({"periods": [{**EVENING, "days": [8]}]}, "invalid_peak_shaving_periods", "Monday"),
        ({"periods": [EVENING, {**EVENING, "start": "20:00", "end": "22:00"}]},
         "invalid_peak_shaving_periods", "overlaps"),
        ({"periods": "17:00-21:00"}, "invalid_peak_shaving_periods", "list"),
        ({"periods": [3]}, "invalid_peak_shaving_periods", "mapping"),
        ({}, "peak_shaving_nothing_to_set", ""),
    ],
)  # fmt: skip
async def test_bad_input_is_refused(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry, data: Any, *, key: str, text: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, entry, "set_peak_shaving", **data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert text in str(err.value.translation_placeholders)
    assert sim.count("peak/shaving", "POST") == 0


async def test_a_station_without_peak_shaving(hass: HomeAssistant, sim: Any) -> None:
    """No switch; the number is the SOC levels' peakShavingSOC; the actions say why not."""
    sim.faults.http_error("peak/shaving", 404, method="GET")
    entry = await setup_entry(hass, sim, Platform.NUMBER, Platform.SWITCH)
    assert hass.states.get(PEAK_SHAVING) is None
    await set_number(hass, PEAK_SHAVING_SOC, 30)
    assert sim.stations[0].peak_shaving_cutoff_soc == 30
    assert sim.count("peak/shaving", "POST") == 0
    for name, data in (("get_peak_shaving", {}), ("set_peak_shaving", {"enabled": True})):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, entry, name, **data)
        assert err.value.translation_key == "no_peak_shaving"
    await unload(hass, entry)


async def test_diagnostics_hold_it(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, sim: Any, entry: MockConfigEntry
) -> None:
    await call(hass, entry, "set_peak_shaving", enabled=True, periods=[EVENING])
    _result, text = await dump(hass, hass_client, entry)
    period = {"days": [1, 2, 3, 4, 5], "start": "17:00", "end": "21:00", "peak_power_kw": 3.5}
    expected = f'"enabled": true, "soc": 20, "periods": [{json.dumps(period)}]'
    assert expected in text


async def test_the_push_follows_the_switch(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """The binary sensor is what the station pushes (MQTT peakShavingStatus): it follows."""
    entry = await setup_entry(
        hass, sim_mqtt, Platform.SWITCH, Platform.BINARY_SENSOR, developer=True
    )
    await wait_for_push(hass, sim_mqtt, entry)
    pushed = f"binary_sensor.{PREFIX}_peak_shaving"
    assert state(hass, pushed) == STATE_OFF
    await switch(hass, PEAK_SHAVING, on=True)
    await sim_mqtt.mqtt.publish_changes()  # at once rather than at the next tick
    await wait_for(hass, lambda: state(hass, pushed) == STATE_ON)
    await unload(hass, entry)


async def _seed_periods(sim: Any, periods: list[dict[str, Any]]) -> None:
    """Periods set from outside (the simulator's control API), as the owner's app would."""
    url = f"{sim.control_url}stations/{sim.stations[0].system_id}/peak-shaving"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"periods": periods}) as r,
    ):
        answer = await r.json()
    assert answer["ok"] is True, answer


async def test_toggling_keeps_periods_it_cannot_read(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    """A period over midnight (unreadable to the library) survives the switch and the SOC."""
    night = {"days": [6], "start": "22:00", "end": "02:00", "peakPowerKw": 2.0}
    evening = {"days": [1, 2], "start": "17:00", "end": "21:00", "peakPowerKw": 3.5}
    await _seed_periods(sim, [night, evening])
    await refresh_controls(hass, entry)
    await switch(hass, PEAK_SHAVING, on=True)
    await set_number(hass, PEAK_SHAVING_SOC, 30)
    state_now = sim.stations[0].peak_shaving
    assert state_now.enabled is True
    assert [(sorted(p.days), p.start, p.end) for p in state_now.periods] == [
        ([6], 22 * 60, 2 * 60),
        ([1, 2], 17 * 60, 21 * 60),
    ]


async def test_get_reuses_a_recent_read(
    hass: HomeAssistant, sim: Any, entry: MockConfigEntry
) -> None:
    """Within 5 minutes of the coordinator's read the action does not ask the cloud again."""
    reads = sim.count("peak/shaving", "GET")
    first = await call(hass, entry, "get_peak_shaving")
    assert sim.count("peak/shaving", "GET") == reads
    with patch.object(services_peak_shaving, "READ_REUSE_WINDOW", timedelta(0)):
        assert await call(hass, entry, "get_peak_shaving") == first
    assert sim.count("peak/shaving", "GET") == reads + 1
