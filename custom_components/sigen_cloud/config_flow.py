"""Config flow of Sigen Cloud: account, developer credentials, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

import probatio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
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

from .const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_NB_URL,
    CONF_REGION,
    CONF_SERVER_URL,
    DEFAULT_REGION,
    DOMAIN,
    LOGGER,
    REGIONS,
)
from .coordinator import build_client, build_mqtt, nb_base_url
from .sigen import (
    NorthboundClient,
    SigenAccountLockedError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenValidationError,
)

SECTION_ADVANCED = "advanced"
DEVELOPER_KEYS = (
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_APP_IDENTIFIER,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
)
# Left empty in a form that edits existing credentials, these keep their stored value.
KEEP_WHEN_EMPTY = (CONF_APP_SECRET, CONF_CLIENT_KEY)

_TEXT = TextSelector(TextSelectorConfig(autocomplete="off"))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PEM = TextSelector(TextSelectorConfig(multiline=True, autocomplete="off"))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_REGION = SelectSelector(
    SelectSelectorConfig(
        options=list(REGIONS), translation_key="region", mode=SelectSelectorMode.DROPDOWN
    )
)
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))


def _account_schema(*, with_credentials: bool) -> probatio.Schema:
    fields: dict[Any, Any] = {}
    if with_credentials:
        fields[probatio.Required(CONF_USERNAME)] = TextSelector(
            TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
        )
        fields[probatio.Required(CONF_PASSWORD)] = TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
        )
    fields[probatio.Required(CONF_REGION, default=DEFAULT_REGION)] = _REGION
    fields[probatio.Required(SECTION_ADVANCED)] = section(
        probatio.Schema({probatio.Optional(CONF_SERVER_URL): _URL}), {"collapsed": True}
    )
    return probatio.Schema(fields)


DEVELOPER_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_APP_KEY): _TEXT,
        probatio.Optional(CONF_APP_SECRET): _SECRET,
        probatio.Optional(CONF_APP_IDENTIFIER): _TEXT,
        probatio.Optional(CONF_CA_CERT): _PEM,
        probatio.Optional(CONF_CLIENT_CERT): _PEM,
        probatio.Optional(CONF_CLIENT_KEY): _PEM,
        probatio.Required(SECTION_ADVANCED): section(
            probatio.Schema(
                {
                    probatio.Optional(CONF_MQTT_HOST): _TEXT,
                    probatio.Optional(CONF_MQTT_PORT): _PORT,
                }
            ),
            {"collapsed": True},
        ),
    }
)


def _flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Lift the advanced section's fields to the top level; drop empty values."""
    flat = {k: v for k, v in user_input.items() if k != SECTION_ADVANCED}
    flat.update(user_input.get(SECTION_ADVANCED) or {})
    flat = {k: v.strip() if isinstance(v, str) else v for k, v in flat.items()}
    for key in (CONF_CA_CERT, CONF_CLIENT_CERT, CONF_CLIENT_KEY):
        if flat.get(key):
            flat[key] += "\n"  # PEM text ends with a newline
    if flat.get(CONF_MQTT_PORT) is not None:
        flat[CONF_MQTT_PORT] = int(flat[CONF_MQTT_PORT])
    return {k: v for k, v in flat.items() if v not in (None, "")}


def entry_title(username: str) -> str:
    """The entry's title: the e-mail, masked (titles end up in logs)."""
    local, _, domain = username.partition("@")
    if not domain:
        return "Sigen Cloud"
    return f"Sigen Cloud ({local[:1]}***@{domain})"


def _suggested(data: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Suggested form values from stored data: never a secret, advanced ones in the section."""
    top = {k: data[k] for k in keys if k in data and k not in KEEP_WHEN_EMPTY}
    advanced = {
        k: top.pop(k) for k in (CONF_SERVER_URL, CONF_MQTT_HOST, CONF_MQTT_PORT) if k in top
    }
    return {**top, SECTION_ADVANCED: advanced}


def _developer_suggested(
    user_input: Mapping[str, Any] | None, stored: Mapping[str, Any]
) -> dict[str, Any]:
    """What the developer form suggests: the input again after an error (never a secret
    kept when left empty), else the stored credentials."""
    if user_input is not None:
        return {k: v for k, v in user_input.items() if k not in KEEP_WHEN_EMPTY}
    return _suggested(stored, DEVELOPER_KEYS)


async def _async_try_login(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[str, dict[str, str]]:
    """Try the account; return (account id, errors)."""
    try:
        client = build_client(data, async_get_clientsession(hass))
    except SigenValidationError:
        return "", {"base": "invalid_auth"}
    try:
        await client.async_initialize()
    except SigenAccountLockedError:
        return "", {"base": "account_locked"}
    except SigenAuthError:
        return "", {"base": "invalid_auth"}
    except SigenConnectionError:
        return "", {"base": "cannot_connect"}
    except Exception:
        LOGGER.exception("Unexpected error while logging in to the Sigen cloud")
        return "", {"base": "unknown"}
    finally:
        await client.close()
    return str(client.account_id), {}


def _pem_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """Check that the pasted PEM text parses: certificates and an unencrypted key."""
    errors: dict[str, str] = {}
    for key in (CONF_CA_CERT, CONF_CLIENT_CERT):
        if pem := data.get(key):
            try:
                certs = x509.load_pem_x509_certificates(pem.encode())
            except ValueError:
                certs = []
            if not certs:
                errors[key] = "invalid_certificate"
    if pem := data.get(CONF_CLIENT_KEY):
        try:
            load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            errors[CONF_CLIENT_KEY] = "invalid_certificate"
    if not errors and bool(data.get(CONF_CLIENT_CERT)) != bool(data.get(CONF_CLIENT_KEY)):
        errors.setdefault(
            CONF_CLIENT_KEY if data.get(CONF_CLIENT_CERT) else CONF_CLIENT_CERT,
            "client_pair_incomplete",
        )
    return errors


async def async_validate_developer(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Check developer credentials: a key login and one TLS round trip to the broker."""
    if not all(data.get(k) for k in (CONF_APP_KEY, CONF_APP_SECRET, CONF_APP_IDENTIFIER)):
        missing = [
            k for k in (CONF_APP_KEY, CONF_APP_SECRET, CONF_APP_IDENTIFIER) if not data.get(k)
        ]
        return {missing[0]: "required_with_app_key"}
    if errors := _pem_errors(data):
        return errors
    session = async_get_clientsession(hass)
    try:
        northbound = await NorthboundClient.from_app_key(
            base_url=nb_base_url(data),
            app_key=data[CONF_APP_KEY],
            app_secret=data[CONF_APP_SECRET],
            session=session,
        )
    except SigenAuthError:
        return {"base": "invalid_app_key"}
    except SigenConnectionError:
        return {"base": "cannot_connect"}
    except Exception:
        LOGGER.exception("Unexpected error while checking the developer credentials")
        return {"base": "unknown"}
    try:
        # The check opens one connection and subscribes to nothing: any valid id does.
        mqtt = build_mqtt(data, ["config-check"], session, northbound)
    except SigenValidationError:
        await northbound.close()
        return {"base": "invalid_certificate"}
    try:
        await mqtt.check_connection()
    except SigenAuthError:
        return {"base": "invalid_app_key"}
    except SigenValidationError:
        return {"base": "invalid_certificate"}
    except (SigenMQTTError, SigenConnectionError) as err:
        LOGGER.debug("MQTT connection check failed: %s", err)
        return {"base": "mqtt_cannot_connect"}
    except SigenError:
        LOGGER.exception("Unexpected error while checking the MQTT connection")
        return {"base": "unknown"}
    finally:
        await mqtt.close()
        await northbound.close()
    return {}


def _merge_developer(
    stored: Mapping[str, Any], user_input: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The developer credentials to store: None removes them (no app key given)."""
    new = _flatten(user_input)
    if not new.get(CONF_APP_KEY):
        return None
    for key in KEEP_WHEN_EMPTY:
        if not new.get(key) and stored.get(key):
            new[key] = stored[key]
    return new


def _without_developer(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in DEVELOPER_KEYS}


class SigenConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Sigen cloud account."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._data: dict[str, Any] = {}

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> SigenOptionsFlow:
        """Developer credentials can be edited in the options."""
        return SigenOptionsFlow()

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the account: e-mail, password, region (and a server URL)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _flatten(user_input)
            data.setdefault(CONF_REGION, DEFAULT_REGION)
            account_id, errors = await _async_try_login(self.hass, data)
            if not errors:
                await self.async_set_unique_id(account_id)
                self._abort_if_unique_id_configured()
                self._data = data
                return await self.async_step_developer()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(with_credentials=True),
                {**(user_input or {}), CONF_PASSWORD: None},
            ),
            errors=errors,
        )

    async def async_step_developer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Optional developer credentials (MQTT push, northbound mode, battery commands)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            developer = _merge_developer(self._data, user_input)
            base = _without_developer(self._data)
            if developer is None:
                return self._async_finish(base)
            data = {**base, **developer}
            errors = await async_validate_developer(self.hass, data)
            if not errors:
                return self._async_finish(data)
        return self.async_show_form(
            step_id="developer",
            data_schema=self.add_suggested_values_to_schema(
                DEVELOPER_SCHEMA, _developer_suggested(user_input, self._data)
            ),
            errors=errors,
            last_step=True,
        )

    def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data=data)
        return self.async_create_entry(title=entry_title(data[CONF_USERNAME]), data=data)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The stored password stopped working."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's new password."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_PASSWORD: user_input[CONF_PASSWORD]}
            account_id, errors = await _async_try_login(self.hass, data)
            if not errors:
                await self.async_set_unique_id(account_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_PASSWORD: user_input[CONF_PASSWORD]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_PASSWORD): TextSelector(
                        TextSelectorConfig(
                            type=TextSelectorType.PASSWORD, autocomplete="current-password"
                        )
                    )
                }
            ),
            description_placeholders={CONF_USERNAME: entry.data[CONF_USERNAME]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the region or server, then the developer credentials."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            new = _flatten(user_input)
            data = {
                k: v
                for k, v in entry.data.items()
                if k not in (CONF_SERVER_URL, CONF_NB_URL, CONF_REGION)
            }
            data.update(new)
            account_id, errors = await _async_try_login(self.hass, data)
            if not errors:
                await self.async_set_unique_id(account_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                self._data = data
                return await self.async_step_developer()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(with_credentials=False),
                _suggested(entry.data, (CONF_REGION, CONF_SERVER_URL)),
            ),
            description_placeholders={CONF_USERNAME: entry.data[CONF_USERNAME]},
            errors=errors,
        )


class SigenOptionsFlow(OptionsFlow):
    """Edit (or remove) the developer credentials; they are stored in the entry's data."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with the developer credentials; an empty app key removes them."""
        entry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            developer = _merge_developer(entry.data, user_input)
            data = _without_developer(entry.data)
            if developer is not None:
                data.update(developer)
                errors = await async_validate_developer(self.hass, data)
            if not errors:
                self.hass.config_entries.async_update_entry(entry, data=data)
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                DEVELOPER_SCHEMA, _developer_suggested(user_input, entry.data)
            ),
            errors=errors,
        )
