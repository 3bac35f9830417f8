"""Repair issues of Sigen Cloud: refused developer credentials, onboarding pending.

Neither is fixable from the repair itself: the first is corrected in the reconfigure
flow, the second by the station's owner in the mySigen app. A refused account password
raises no issue of ours: Home Assistant's reauthentication (started by
``ConfigEntryAuthFailed``) is the notification.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from .data import SigenConfigEntry
    from .sigen import OnboardResult, SigenError

ISSUE_ONBOARDING_PENDING = "onboarding_pending"
ISSUE_DEVELOPER_CREDENTIALS = "developer_credentials_invalid"


@callback
def async_create_developer_issue(
    hass: HomeAssistant, entry: SigenConfigEntry, err: SigenError
) -> None:
    """Raise the issue that the developer credentials are refused (push is off)."""
    LOGGER.debug("Developer credentials refused: %s", err)
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_DEVELOPER_CREDENTIALS,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_DEVELOPER_CREDENTIALS,
        translation_placeholders={"title": entry.title},
    )


@callback
def async_delete_developer_issue(hass: HomeAssistant) -> None:
    """Withdraw the refused-credentials issue (accepted again, or removed)."""
    ir.async_delete_issue(hass, DOMAIN, ISSUE_DEVELOPER_CREDENTIALS)


@callback
def async_update_onboarding_issues(
    hass: HomeAssistant, onboarding: Mapping[str, OnboardResult], delivering: Container[str]
) -> None:
    """Keep one issue per system whose onboarding waits for the owner's approval.

    A system whose telemetry arrives (``delivering``) was approved, whatever the last
    onboarding answer said.
    """
    for system_id, result in onboarding.items():
        issue_id = f"{ISSUE_ONBOARDING_PENDING}_{system_id}"
        if result.pending and system_id not in delivering:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_ONBOARDING_PENDING,
                translation_placeholders={"system_id": system_id},
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
