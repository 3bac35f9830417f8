"""The README's Predbat and EMHASS recipes name entities a fresh set-up really has (issue 18).

A station called "My Home" (the README's example) is set up with developer credentials,
so every entity the recipes may name is there; each ``<domain>.my_home_…`` id of the
recipes' section must be in the entity registry, enabled.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN

from .conftest import account_data, account_id, developer_data, wait_for

README = Path(__file__).parents[2] / "README.md"
SECTION = "## Energy optimizers: Predbat and EMHASS"
ENTITY_ID = re.compile(
    r"\b(?:sensor|number|switch|select|binary_sensor|calendar|event|button)\.my_home_[a-z0-9_]+"
)


def recipe_entity_ids() -> set[str]:
    """Every entity id of this integration the README's recipes name."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return set(ENTITY_ID.findall(text[start:end]))


def test_the_recipes_name_the_key_entities() -> None:
    """The section is found and names what an optimizer needs (not an empty check)."""
    ids = recipe_entity_ids()
    assert {
        "sensor.my_home_battery",
        "sensor.my_home_battery_power",
        "sensor.my_home_grid_power",
        "number.my_home_discharge_cut_off_state_of_charge",
        "number.my_home_battery_maximum_charge_power",
    } <= ids


async def test_recipe_entities_exist_in_a_fresh_set_up(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Every id of the recipes is a registered, enabled entity of a fresh entry."""
    sim = sim_mqtt
    sim.stations[0].name = "My Home"
    for station in sim.stations:
        sim.approve_onboarding(station.system_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sigen Cloud",
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(hass, lambda: entry.runtime_data.push.connected, "the MQTT connection")

    registry = er.async_get(hass)
    missing = sorted(i for i in recipe_entity_ids() if registry.async_get(i) is None)
    assert not missing, f"the README names entities a fresh set-up lacks: {missing}"
    disabled = sorted(
        i for i in recipe_entity_ids() if registry.async_get(i).disabled_by is not None
    )
    assert not disabled, f"the README names entities disabled by default: {disabled}"
    for entity_id in recipe_entity_ids():
        assert hass.states.get(entity_id) is not None, entity_id

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
