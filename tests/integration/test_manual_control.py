"""Manual control as entities, end to end (issue 17).

The select starts a session with the duration and power numbers beside it, or stops
it; the timestamp sensor tells when it ends; the simulator's battery follows, and the
session ends by itself. It is 2026-06-01 12:00 in Dublin (the battery at 50 %).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.number import NumberExtraStoredData
from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.sigen_cloud.const import DEFAULT_MANUAL_DURATION_MIN, DOMAIN

from .controls_helpers import (
    BATTERY_CHARGE,
    BATTERY_DISCHARGE,
    BATTERY_POWER,
    MANUAL_CONTROL,
    MANUAL_DURATION,
    MANUAL_END,
    MANUAL_POWER,
    controls_of,
    let_time_pass,
    refresh_controls,
    select,
    set_number,
    state,
    value,
)
from .platform_helpers import FROZEN_SIM, NOON, setup_entry, unload

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

PLATFORMS = (Platform.NUMBER, Platform.SELECT, Platform.SENSOR)


@pytest.fixture
async def manual_entry(hass: HomeAssistant, sim: Any) -> Any:
    """The demo account with manual control's entities and the power sensors."""
    entry = await setup_entry(hass, sim, *PLATFORMS)
    yield entry
    await unload(hass, entry)


def _at(epoch: float) -> str:
    """A simulated time as the timestamp sensor shows it."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


async def test_charge_then_stop(
    hass: HomeAssistant, sim: Any, manual_entry: MockConfigEntry
) -> None:
    """Charge for 30 minutes at 2 kW: the battery charges at 2 kW; "off" stops it."""
    assert state(hass, MANUAL_CONTROL) == "off"
    assert state(hass, MANUAL_END) == STATE_UNKNOWN
    await set_number(hass, MANUAL_DURATION, 30)
    await set_number(hass, MANUAL_POWER, 2)
    await select(hass, MANUAL_CONTROL, "charge")
    session = sim.stations[0].manual
    assert (session.mode, session.power_kw, session.end) == ("charge", 2.0, NOON + 1800)
    assert state(hass, MANUAL_CONTROL) == "charge"
    assert state(hass, MANUAL_END) == _at(NOON + 1800)
    await let_time_pass(hass, sim, manual_entry)
    assert value(hass, BATTERY_CHARGE) == pytest.approx(2.0)

    await select(hass, MANUAL_CONTROL, "off")
    assert not sim.stations[0].manual_control_active()
    assert state(hass, MANUAL_CONTROL) == "off"
    assert state(hass, MANUAL_END) == STATE_UNKNOWN
    await let_time_pass(hass, sim, manual_entry)
    assert value(hass, BATTERY_CHARGE) == pytest.approx(5.0)  # back to the mode's own


async def test_modes(hass: HomeAssistant, sim: Any, manual_entry: MockConfigEntry) -> None:
    """Hold keeps the battery still; discharge at 0 kW runs at the battery's own power."""
    await select(hass, MANUAL_CONTROL, "hold")
    assert sim.stations[0].manual.mode == "hold"
    await let_time_pass(hass, sim, manual_entry)
    assert value(hass, BATTERY_POWER) == 0.0

    await set_number(hass, MANUAL_POWER, 0)  # the battery's own, unlimited power
    await select(hass, MANUAL_CONTROL, "discharge")
    session = sim.stations[0].manual
    assert (session.mode, session.power_kw) == ("discharge", None)
    assert session.end == NOON + 60 + DEFAULT_MANUAL_DURATION_MIN * 60
    await let_time_pass(hass, sim, manual_entry)
    assert value(hass, BATTERY_DISCHARGE) == pytest.approx(5.0)

    # The power is not sent for hold and self-consumption (the cloud takes none).
    await set_number(hass, MANUAL_POWER, 3)
    await select(hass, MANUAL_CONTROL, "self_consumption")
    session = sim.stations[0].manual
    assert (session.mode, session.power_kw) == ("self_consumption", None)
    assert state(hass, MANUAL_CONTROL) == "self_consumption"


async def test_session_ends_by_itself(
    hass: HomeAssistant, sim: Any, manual_entry: MockConfigEntry
) -> None:
    """After its duration the session is over and the select shows "off" again."""
    await set_number(hass, MANUAL_DURATION, 15)
    await select(hass, MANUAL_CONTROL, "discharge")
    await let_time_pass(hass, sim, manual_entry, 16 * 60)
    await refresh_controls(hass, manual_entry)
    assert not sim.stations[0].manual_control_active()
    assert state(hass, MANUAL_CONTROL) == "off"
    assert state(hass, MANUAL_END) == STATE_UNKNOWN
    assert value(hass, BATTERY_CHARGE) > 0  # the mode charges again at noon


async def test_read_again_when_the_session_ends(
    hass: HomeAssistant, sim: Any, freezer: FrozenDateTimeFactory
) -> None:
    """Just after the session's end the settings are read again: the select shows "off"."""
    freezer.move_to(datetime.fromtimestamp(NOON, UTC))
    entry = await setup_entry(hass, sim, *PLATFORMS)
    # Shorter than the 10-minute poll: only the end's read can show it.
    await set_number(hass, MANUAL_DURATION, 5)
    await select(hass, MANUAL_CONTROL, "hold")
    reads = sim.count("instant/manunal", "GET")
    await sim.advance(5 * 60 + 10)
    freezer.tick(timedelta(minutes=5, seconds=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sim.count("instant/manunal", "GET") == reads + 1
    assert state(hass, MANUAL_CONTROL) == "off"
    assert state(hass, MANUAL_END) == STATE_UNKNOWN
    await unload(hass, entry)


async def test_failures(
    hass: HomeAssistant,
    sim: Any,
    manual_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused start goes back to "off"; a start not applied shows "off", warned once."""
    sim.faults.http_error("instant/manunal", 500, method="PUT")
    with pytest.raises(HomeAssistantError) as err:
        await select(hass, MANUAL_CONTROL, "charge")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "cloud_refused"
    assert state(hass, MANUAL_CONTROL) == "off"

    sim.faults.clear()
    sim.faults.not_applied("instant/manunal")
    await select(hass, MANUAL_CONTROL, "charge")
    assert state(hass, MANUAL_CONTROL) == "off"
    assert not sim.stations[0].manual_control_active()
    not_applied = [r for r in caplog.records if "did not apply" in r.getMessage()]
    assert len(not_applied) == 1


@pytest.mark.sim_config(**FROZEN_SIM, manual_control_durations="app")
async def test_duration_the_cloud_refuses(
    hass: HomeAssistant, sim: Any, manual_entry: MockConfigEntry
) -> None:
    """A cloud that takes only the app's durations (30-120 in steps of 30) refuses 45."""
    await set_number(hass, MANUAL_DURATION, 45)
    with pytest.raises(HomeAssistantError) as err:
        await select(hass, MANUAL_CONTROL, "hold")
    assert err.value.translation_key == "cloud_refused"
    assert state(hass, MANUAL_CONTROL) == "off"
    await set_number(hass, MANUAL_DURATION, 90)
    await select(hass, MANUAL_CONTROL, "hold")
    assert sim.stations[0].manual.end == NOON + 90 * 60


async def test_duration_and_power_restored(hass: HomeAssistant, sim: Any) -> None:
    """The duration and power numbers keep their values across a restart."""
    mock_restore_cache_with_extra_data(
        hass,
        (
            (
                State(MANUAL_DURATION, "90.0"),
                NumberExtraStoredData(1440.0, 1.0, 1.0, "min", 90.0).as_dict(),
            ),
            (
                State(MANUAL_POWER, "3.5"),
                NumberExtraStoredData(100.0, 0.0, 0.1, "kW", 3.5).as_dict(),
            ),
        ),
    )
    entry = await setup_entry(hass, sim, *PLATFORMS)
    assert value(hass, MANUAL_DURATION) == 90
    assert value(hass, MANUAL_POWER) == 3.5
    await select(hass, MANUAL_CONTROL, "charge")
    session = sim.stations[0].manual
    assert (session.power_kw, session.end) == (3.5, NOON + 90 * 60)
    await unload(hass, entry)


async def test_coordinator_methods_for_the_actions(
    hass: HomeAssistant, sim: Any, manual_entry: MockConfigEntry
) -> None:
    """The coordinator starts and stops manual control for the actions, shown at once."""
    controls = controls_of(manual_entry)
    await controls.async_start_manual_control("Self-Consumption", 30)
    await hass.async_block_till_done()
    assert sim.stations[0].manual.mode == "self_consumption"
    assert state(hass, MANUAL_CONTROL) == "self_consumption"
    await controls.async_stop_manual_control()
    await hass.async_block_till_done()
    assert state(hass, MANUAL_CONTROL) == "off"
