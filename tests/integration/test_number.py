"""The battery and grid settings as numbers and switches, end to end (issue 17).

Each control is changed through Home Assistant; the simulator's state changes, and
after the simulated clock moves the power and SOC sensors show the physical effect.
It is 2026-06-01 12:00 in Dublin: the sun is up, the battery (50 %) charges at its
rated 5 kW and the rest of the PV goes to the grid.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.number import ATTR_MAX, ATTR_MIN, ATTR_STEP
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.sigen_cloud.const import DEFAULT_BATTERY_POWER_MAX_KW

from .controls_helpers import (
    BACKUP_SOC,
    BATTERY_CHARGE,
    BATTERY_DISCHARGE,
    BATTERY_EXPORT,
    BATTERY_SOC,
    CHARGE_CUT_OFF,
    CURRENT_LIMIT,
    DISCHARGE_CUT_OFF,
    EXPORT_LIMIT,
    EXPORT_LIMITATION,
    GRID_EXPORT,
    GRID_IMPORT,
    IMPORT_LIMIT,
    IMPORT_LIMITATION,
    MANUAL_CONTROL,
    MAX_CHARGE,
    MAX_DISCHARGE,
    PEAK_SHAVING_SOC,
    PV_LIMIT,
    PV_POWER,
    let_time_pass,
    select,
    set_number,
    state,
    switch,
    value,
)
from .platform_helpers import FROZEN_SIM, setup_entry, snapshot_entities, unload, wait_for_push

pytestmark = pytest.mark.sim_config(**FROZEN_SIM)

# The platforms whose entities these tests use (the power sensors show the physics).
PLATFORMS = (Platform.NUMBER, Platform.SWITCH, Platform.SELECT, Platform.SENSOR)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer, stored in ``snapshots/``."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def controls_entry(hass: HomeAssistant, sim: Any) -> Any:
    """The demo account set up with the platforms of the settings and the sensors."""
    entry = await setup_entry(hass, sim, *PLATFORMS)
    yield entry
    await unload(hass, entry)


async def test_numbers(
    hass: HomeAssistant,
    sim: Any,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every setting the station reports is a number, enabled, with its range and unit."""
    entry = await setup_entry(hass, sim, Platform.NUMBER)
    snapshot_entities(hass, entity_registry, snapshot, entry.entry_id)
    await unload(hass, entry)


async def test_ranges_follow_the_cloud(hass: HomeAssistant, sim_mqtt: Any) -> None:
    """The installer's limits, the rated power (push) and the PV capacity bound the numbers."""
    entry = await setup_entry(hass, sim_mqtt, Platform.NUMBER, developer=True)
    attributes = hass.states.get(MAX_CHARGE)
    assert attributes is not None
    # Before the system data arrives: the documented default; no limit shows as it.
    assert attributes.attributes[ATTR_MAX] == DEFAULT_BATTERY_POWER_MAX_KW
    assert value(hass, MAX_CHARGE) == DEFAULT_BATTERY_POWER_MAX_KW
    await wait_for_push(hass, sim_mqtt, entry)
    await hass.async_block_till_done()
    # The battery's rated 5 kW (the MQTT system data) is the maximum, and "no limit".
    for entity_id in (MAX_CHARGE, MAX_DISCHARGE):
        found = hass.states.get(entity_id)
        assert found is not None
        assert found.attributes[ATTR_MAX] == 5.0
        assert float(found.state) == 5.0
    limits = {
        entity_id: (found.attributes[ATTR_MIN], found.attributes[ATTR_MAX])
        for entity_id in (EXPORT_LIMIT, IMPORT_LIMIT, PV_LIMIT, CURRENT_LIMIT, CHARGE_CUT_OFF)
        if (found := hass.states.get(entity_id)) is not None
    }
    assert limits == {
        EXPORT_LIMIT: (0.0, 10.0),  # the installer's limits
        IMPORT_LIMIT: (0.0, 15.0),
        PV_LIMIT: (0.0, 10.3),  # the station's PV capacity
        CURRENT_LIMIT: (1.0, 32.0),
        CHARGE_CUT_OFF: (5, 100),  # not below the discharge cut-off
    }
    step = hass.states.get(CHARGE_CUT_OFF)
    assert step is not None
    assert step.attributes[ATTR_STEP] == 1
    await unload(hass, entry)


async def test_export_limit(hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry) -> None:
    """The export limitation switched on with a limit caps what goes to the grid."""
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, GRID_EXPORT) > 2.0
    await set_number(hass, EXPORT_LIMIT, 1.5)
    await switch(hass, EXPORT_LIMITATION, on=True)
    settings = sim.stations[0].settings
    assert settings.export_limit.enabled
    assert settings.export_limit.owner_kw == 1.5
    assert value(hass, EXPORT_LIMIT) == 1.5
    assert state(hass, EXPORT_LIMITATION) == STATE_ON
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, GRID_EXPORT) <= 1.5

    await switch(hass, EXPORT_LIMITATION, on=False)
    assert not sim.stations[0].settings.export_limit.enabled
    assert sim.stations[0].settings.export_limit.owner_kw == 1.5  # the limit stays
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, GRID_EXPORT) > 2.0


async def test_pv_limit_and_import_limit(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """No PV and a charging battery draw from the grid, up to the import limit."""
    await set_number(hass, PV_LIMIT, 0)
    assert sim.stations[0].settings.pv_limit_kw == 0.0
    await select(hass, MANUAL_CONTROL, "charge")  # at the battery's own 5 kW
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, PV_POWER) == 0.0
    assert value(hass, GRID_IMPORT) > 5.0

    await switch(hass, IMPORT_LIMITATION, on=True)
    await set_number(hass, IMPORT_LIMIT, 2.0)
    limit = sim.stations[0].settings.import_limit
    assert (limit.enabled, limit.owner_kw) == (True, 2.0)
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, GRID_IMPORT) <= 2.0
    assert value(hass, BATTERY_CHARGE) < 5.0

    # The maximum lifts the PV limit ("no limit"), and shows as the maximum.
    await set_number(hass, PV_LIMIT, 10.3)
    assert sim.stations[0].settings.pv_limit_kw is None
    assert value(hass, PV_LIMIT) == 10.3
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, PV_POWER) > 5.0


async def test_battery_power_limits(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """The battery charges and discharges at most at its power limits."""
    await set_number(hass, MAX_CHARGE, 2.0)
    assert sim.stations[0].settings.max_charge_kw == 2.0
    await let_time_pass(hass, sim, controls_entry)
    assert 0 < value(hass, BATTERY_CHARGE) <= 2.0

    await set_number(hass, MAX_DISCHARGE, 1.5)
    assert sim.stations[0].settings.max_discharge_kw == 1.5
    assert sim.stations[0].settings.max_charge_kw == 2.0  # the other limit stays
    await select(hass, MANUAL_CONTROL, "discharge")
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, BATTERY_DISCHARGE) == pytest.approx(1.5)

    # The maximum is no limit: back to the battery's own power.
    await set_number(hass, MAX_DISCHARGE, DEFAULT_BATTERY_POWER_MAX_KW)
    assert sim.stations[0].settings.max_discharge_kw is None
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, BATTERY_DISCHARGE) == pytest.approx(5.0)


async def test_cut_off_socs(hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry) -> None:
    """The charge cut-off stops charging; the discharge cut-off and backup stop discharging."""
    await set_number(hass, CHARGE_CUT_OFF, 50)
    assert sim.stations[0].charge_cutoff_soc == 50
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, BATTERY_CHARGE) == 0.0
    assert value(hass, BATTERY_SOC) == pytest.approx(50.0, abs=0.5)

    await set_number(hass, DISCHARGE_CUT_OFF, 45)
    assert sim.stations[0].discharge_cutoff_soc == 45
    await select(hass, MANUAL_CONTROL, "discharge")
    await let_time_pass(hass, sim, controls_entry, 30 * 60)
    assert value(hass, BATTERY_SOC) == pytest.approx(45.0, abs=0.5)
    assert value(hass, BATTERY_DISCHARGE) == 0.0

    # The backup SOC above the SOC: the battery keeps it in reserve.
    await set_number(hass, DISCHARGE_CUT_OFF, 5)
    await set_number(hass, BACKUP_SOC, 40)
    assert sim.stations[0].backup_cutoff_soc == 40
    await let_time_pass(hass, sim, controls_entry, 30 * 60)
    assert value(hass, BATTERY_SOC) == pytest.approx(40.0, abs=0.5)

    # The peak-shaving SOC is stored and reported (no physics of its own).
    await set_number(hass, PEAK_SHAVING_SOC, 35)
    assert sim.stations[0].peak_shaving_cutoff_soc == 35
    assert value(hass, PEAK_SHAVING_SOC) == 35


async def test_battery_export_switch(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """A battery not allowed to export discharges only for the house."""
    await select(hass, MANUAL_CONTROL, "discharge")
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, BATTERY_DISCHARGE) > 1.0
    await switch(hass, BATTERY_EXPORT, on=False)
    assert sim.stations[0].settings.battery_export is False
    assert state(hass, BATTERY_EXPORT) == STATE_OFF
    await let_time_pass(hass, sim, controls_entry)
    # The sun covers the house: nothing left for the battery to serve.
    assert value(hass, BATTERY_DISCHARGE) == 0.0


async def test_grid_current_limit(
    hass: HomeAssistant, sim: Any, controls_entry: MockConfigEntry
) -> None:
    """The grid connection current limit caps the grid power (A x 230 V x 3 phases)."""
    await set_number(hass, CURRENT_LIMIT, 2)
    current = sim.stations[0].settings.current_limit
    assert (current.enabled, current.owner_a) == (True, 2.0)
    assert value(hass, CURRENT_LIMIT) == 2.0
    await let_time_pass(hass, sim, controls_entry)
    assert value(hass, GRID_EXPORT) <= 2 * 230 * 3 / 1000 + 0.01
