"""Repair issues: onboarding waiting for the owner's approval; a refused password is left
to Home Assistant's own reauthentication and its repair."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_RECONFIGURE, ConfigEntryState
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
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
    push = entry.runtime_data.push
    registry = ir.async_get(hass)
    issue_id = f"onboarding_pending_{system_id}"

    def pending() -> bool:
        push.async_update_onboarding_issues()
        return registry.async_get_issue(DOMAIN, issue_id) is not None

    await wait_for(hass, pending, "the onboarding issue")
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "onboarding_pending"
    assert issue.translation_placeholders == {"system_id": system_id}

    sim.approve_onboarding(system_id)
    # Once approved, telemetry flows: the issue goes away at the first message.
    await wait_for(hass, lambda: push.connected, "the connection")
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
    push = entry.runtime_data.push
    registry = ir.async_get(hass)
    issue_id = f"onboarding_pending_{system_id}"
    await wait_for(
        hass, lambda: registry.async_get_issue(DOMAIN, issue_id) is not None, "the issue"
    )
    await wait_for(hass, lambda: push.connected, "the connection")

    sim.approve_onboarding(system_id)
    await sim.faults.drop_mqtt_clients()
    await wait_for(hass, lambda: not push.connected, "the drop")
    await wait_for(hass, lambda: push.connected, "the reconnection")
    assert registry.async_get_issue(DOMAIN, issue_id) is None

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _sources(hass: HomeAssistant) -> list[str]:
    return [
        f["context"]["source"] for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ]


def _our_issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    return [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN]


def _reauth_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        HOMEASSISTANT_DOMAIN, f"config_entry_reauth_{DOMAIN}_{entry.entry_id}"
    )


async def test_refused_password_while_a_reconfigure_is_left_open(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, sim: Any
) -> None:
    """The password changes while a reconfigure flow sits open (a closed browser tab):
    the open flow is aborted, so Home Assistant starts its reauthentication with its own
    repair, which opens that flow; ours is gone. Entering the new password brings the entry back."""
    await loaded_entry.start_reconfigure_flow(hass)
    assert _sources(hass) == [SOURCE_RECONFIGURE]
    sim.change_password("changed-elsewhere")
    sim.faults.expire_tokens()
    coordinator = next(iter(loaded_entry.runtime_data.stations.values())).live
    assert coordinator is not None
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert _sources(hass) == [SOURCE_REAUTH]
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    issue = _reauth_issue(hass, loaded_entry)
    assert issue is not None
    assert issue.data == {"flow_id": flow["flow_id"]}  # the repair opens the reauth flow
    assert _our_issues(hass) == []

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "changed-elsewhere"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert _reauth_issue(hass, loaded_entry) is None


async def test_refused_password_at_setup_while_a_reconfigure_is_open(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> None:
    """The same when the setup (a reload) finds the password refused."""
    await entry.start_reconfigure_flow(hass)
    sim.change_password("changed-elsewhere")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert _sources(hass) == [SOURCE_REAUTH]
    assert _reauth_issue(hass, entry) is not None
    assert _our_issues(hass) == []
