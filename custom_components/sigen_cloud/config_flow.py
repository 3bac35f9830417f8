"""Config flow of Sigen Cloud: account, developer credentials, reauth and reconfigure.

The steps live here; the login and region search in ``flow_login``, the developer
credentials' form and checks in ``flow_developer``, the shared form pieces in
``flow_forms``. The developer credentials (app key, secret, identifier, certificates)
are entered in the second step of the add flow and added, changed or removed in the
second step of reconfigure; there is no options flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME

from .client import mqtt_broker
from .const import (
    CONF_NB_URL,
    CONF_REGION,
    CONF_SERVER_URL,
    DEFAULT_REGION,
    DOMAIN,
    LOGGER,
    REGION_AUTO,
)
from .flow_developer import (
    async_validate_developer,
    async_with_broker,
    developer_schema,
    developer_suggested,
    has_stored_developer,
    merge_developer,
    without_developer,
)
from .flow_forms import (
    account_schema,
    entry_title,
    flatten,
    holds_value,
    password_schema,
    suggested,
)
from .flow_login import LoginResult, async_login

# The developer step: "developer" where nothing is stored yet, "developer_edit" where
# stored credentials are edited (an empty secret or private key keeps the stored one).
STEP_DEVELOPER = "developer"
STEP_DEVELOPER_EDIT = "developer_edit"


class SigenConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Sigen cloud account; reauthenticate and reconfigure it."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._data: dict[str, Any] = {}
        self._region_choice = REGION_AUTO

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the account: e-mail, password, region (and a server URL)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data = flatten(user_input)
            login = await async_login(self.hass, data, data.pop(CONF_REGION, REGION_AUTO))
            errors, placeholders = login.errors, login.placeholders
            if not errors:
                await self.async_set_unique_id(login.account_id)
                self._abort_if_unique_id_configured()
                self._data = {**data, CONF_REGION: login.region}
                return await self.async_step_developer()
        return self._async_show_account_form(
            "user", {**(user_input or {}), CONF_PASSWORD: None}, errors, placeholders
        )

    async def async_step_developer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Optional developer credentials (MQTT push, northbound mode, battery commands)."""
        return await self._async_developer(STEP_DEVELOPER, user_input)

    async def async_step_developer_edit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change or remove the stored developer credentials (reconfigure)."""
        return await self._async_developer(STEP_DEVELOPER_EDIT, user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The stored password (or region) stopped working."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's current password.

        When the stored region refuses it and another shard accepts the same account,
        the region is corrected too (an account on the wrong shard looks exactly like
        a changed password).
        """
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {CONF_USERNAME: entry.data[CONF_USERNAME]}
        if user_input is not None:
            data = {**entry.data, CONF_PASSWORD: user_input[CONF_PASSWORD]}
            region = entry.data.get(CONF_REGION, DEFAULT_REGION)
            login = await async_login(self.hass, data, region, follow=True)
            errors, placeholders = login.errors, {**placeholders, **login.placeholders}
            if not errors:
                await self.async_set_unique_id(login.account_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                updates = {CONF_PASSWORD: user_input[CONF_PASSWORD]}
                if login.region != region:
                    LOGGER.info(
                        "The Sigen account is in the region %s, not %s: region corrected",
                        login.region,
                        region,
                    )
                    updates[CONF_REGION] = login.region
                return self.async_update_reload_and_abort(entry, data_updates=updates)
        return self._async_show_password_form("reauth_confirm", errors, placeholders)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the region or server, then add, change or remove developer credentials."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {CONF_USERNAME: entry.data[CONF_USERNAME]}
        if user_input is not None:
            new = flatten(user_input)
            self._region_choice = new.pop(CONF_REGION, REGION_AUTO)
            data = {
                k: v
                for k, v in entry.data.items()
                if k not in (CONF_SERVER_URL, CONF_NB_URL, CONF_REGION)
            }
            data.update(new)
            login = await async_login(self.hass, data, self._region_choice)
            errors, placeholders = login.errors, {**placeholders, **login.placeholders}
            if errors.get("base") == "invalid_auth":
                # The stored password is refused: ask for the current one here.
                self._data = data
                return await self.async_step_reconfigure_password()
            if not errors:
                return await self._async_reconfigure_login_done(data, login)
        values = (
            user_input
            if user_input is not None
            else suggested(entry.data, (CONF_REGION,), (CONF_SERVER_URL,))
        )
        return self._async_show_account_form("reconfigure", values, errors, placeholders)

    async def async_step_reconfigure_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The server refuses the stored password: ask for the current one.

        The region that accepts it is taken, as in reauth (the chosen one, else the
        one that holds the account).
        """
        errors: dict[str, str] = {}
        placeholders = {CONF_USERNAME: self._data[CONF_USERNAME]}
        if user_input is not None:
            data = {**self._data, CONF_PASSWORD: user_input[CONF_PASSWORD]}
            login = await async_login(self.hass, data, self._region_choice, follow=True)
            errors, placeholders = login.errors, {**placeholders, **login.placeholders}
            if not errors:
                return await self._async_reconfigure_login_done(data, login)
        return self._async_show_password_form("reconfigure_password", errors, placeholders)

    async def _async_reconfigure_login_done(
        self, data: dict[str, Any], login: LoginResult
    ) -> ConfigFlowResult:
        """The account checked out: go on to the developer credentials."""
        await self.async_set_unique_id(login.account_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        self._data = {**data, CONF_REGION: login.region}
        if has_stored_developer(self._data):
            return await self.async_step_developer_edit()
        return await self.async_step_developer()

    async def _async_developer(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """The developer step: store, replace or remove the credentials once they check out."""
        errors: dict[str, str] = {}
        shown: Mapping[str, Any] = self._data
        if user_input is not None:
            developer = merge_developer(self._data, user_input)
            base = without_developer(self._data)
            if developer is None:
                return self._async_finish(base)
            data = await async_with_broker(self.hass, {**base, **developer})
            errors = await async_validate_developer(self.hass, data)
            if not errors:
                return self._async_finish(data)
            shown = data
        host, port = mqtt_broker(shown)
        values = developer_suggested(shown)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                developer_schema(expanded=bool(errors) or holds_value(values)), values
            ),
            errors=errors,
            description_placeholders={"broker": f"{host}:{port}"},
            last_step=True,
        )

    def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry, or store a reconfigured one's data (and reload on a change)."""
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return self.async_update_reload_and_abort(
                entry,
                data=data,
                # Unchanged credentials leave a running entry (and its push) alone.
                reload_even_if_entry_is_unchanged=entry.state is not ConfigEntryState.LOADED,
            )
        return self.async_create_entry(title=entry_title(data[CONF_USERNAME]), data=data)

    def _async_show_account_form(
        self,
        step_id: str,
        values: Mapping[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> ConfigFlowResult:
        """The account form: with e-mail and password only where the account is new."""
        schema = account_schema(
            with_credentials=step_id == "user", expanded=bool(errors) or holds_value(values)
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, values),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _async_show_password_form(
        self, step_id: str, errors: dict[str, str], placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        """The form that asks only for the account's current password."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=password_schema(),
            description_placeholders=placeholders,
            errors=errors,
        )
