"""Repair issues: onboarding waiting for the owner's approval."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import DOMAIN

from .conftest import account_data, account_id, developer_data, wait_for


async def test_onboarding_pending_issue(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """An unapproved system raises an issue, which goes away once approved."""
    sim = sim_mqtt
    system_id = sim.stations[0].system_id
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    registry = ir.async_get(hass)
    issue_id = f"onboarding_pending_{system_id}"

    def pending() -> bool:
        coordinator._async_update_onboarding_issues()
        return registry.async_get_issue(DOMAIN, issue_id) is not None

    await wait_for(hass, pending, "the onboarding issue")
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "onboarding_pending"
    assert issue.translation_placeholders == {"system_id": system_id}

    sim.approve_onboarding(system_id)
    # Once approved, telemetry flows: the issue goes away at the first message.
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the connection")
    await sim.publish_telemetry(system_id)
    await wait_for(hass, lambda: not pending(), "the issue to go away")

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_onboarding_issue_goes_at_reconnection(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The next connection onboards again and finds the approval."""
    sim = sim_mqtt
    system_id = sim.stations[0].system_id
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data.coordinator
    registry = ir.async_get(hass)
    issue_id = f"onboarding_pending_{system_id}"
    await wait_for(
        hass, lambda: registry.async_get_issue(DOMAIN, issue_id) is not None, "the issue"
    )
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the connection")

    sim.approve_onboarding(system_id)
    await sim.faults.drop_mqtt_clients()
    await wait_for(hass, lambda: not coordinator.data.mqtt_connected, "the drop")
    await wait_for(hass, lambda: coordinator.data.mqtt_connected, "the reconnection")
    assert registry.async_get_issue(DOMAIN, issue_id) is None

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
