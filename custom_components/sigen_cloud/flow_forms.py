"""Form pieces shared by the steps of the config flow.

The selectors, the account and password forms, and the handling of the collapsible
"advanced" section: its fields are lifted to the top level when a form is submitted and
put back into the section when stored values are suggested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import probatio
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import CONF_REGION, CONF_SERVER_URL, REGION_AUTO, REGIONS

SECTION_ADVANCED = "advanced"

TEXT = TextSelector(TextSelectorConfig(autocomplete="off"))
SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PEM = TextSelector(TextSelectorConfig(multiline=True, autocomplete="off"))
PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_EMAIL = TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username"))
_PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_REGION = SelectSelector(
    SelectSelectorConfig(
        options=[REGION_AUTO, *REGIONS],
        translation_key="region",
        mode=SelectSelectorMode.DROPDOWN,
    )
)


def advanced_section(fields: dict[Any, Any], *, expanded: bool) -> section:
    """The collapsible "advanced" section; open when it holds a value or after an error."""
    return section(probatio.Schema(fields), {"collapsed": not expanded})


def account_schema(*, with_credentials: bool, expanded: bool) -> probatio.Schema:
    """The account form: e-mail and password (a new account only), region, server URL."""
    fields: dict[Any, Any] = {}
    if with_credentials:
        fields[probatio.Required(CONF_USERNAME)] = _EMAIL
        fields[probatio.Required(CONF_PASSWORD)] = _PASSWORD
    fields[probatio.Required(CONF_REGION, default=REGION_AUTO)] = _REGION
    fields[probatio.Required(SECTION_ADVANCED)] = advanced_section(
        {probatio.Optional(CONF_SERVER_URL): _URL}, expanded=expanded
    )
    return probatio.Schema(fields)


def password_schema() -> probatio.Schema:
    """The form that asks only for the account's current password."""
    return probatio.Schema({probatio.Required(CONF_PASSWORD): _PASSWORD})


def flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Lift the advanced section's fields to the top level; strip text, drop empty values."""
    flat = {k: v for k, v in user_input.items() if k != SECTION_ADVANCED}
    flat.update(user_input.get(SECTION_ADVANCED) or {})
    flat = {k: v.strip() if isinstance(v, str) else v for k, v in flat.items()}
    return {k: v for k, v in flat.items() if v not in (None, "")}


def suggested(
    data: Mapping[str, Any], keys: Iterable[str], advanced: Iterable[str]
) -> dict[str, Any]:
    """Suggested form values from stored ``data``: ``keys`` on top, ``advanced`` inside.

    The caller leaves secrets out of both: they are never shown.
    """
    return {
        **{k: data[k] for k in keys if k in data},
        SECTION_ADVANCED: {k: data[k] for k in advanced if k in data},
    }


def holds_value(values: Mapping[str, Any]) -> bool:
    """Whether the advanced section of a form's values holds anything."""
    return any(v not in (None, "") for v in (values.get(SECTION_ADVANCED) or {}).values())


def entry_title(username: str) -> str:
    """The entry's title: the e-mail, masked (titles end up in logs)."""
    local, _, domain = username.partition("@")
    if not domain:
        return "Sigen Cloud"
    return f"Sigen Cloud ({local[:1]}***@{domain})"
