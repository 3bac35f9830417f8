"""Config flow of Sigen Cloud: account, developer credentials, reauth and reconfigure.

The account is checked with one login on the chosen region (shard); with the region
"Automatic" (the default) on every shard at once, and the one that accepts the account
is stored. A shard that does not hold an account refuses it like a wrong password: when
the chosen shard refuses, the other shards are tried once each, and the error names the
one that accepted. Only the shard holding the account can count a failed login towards
its lock, so a user action costs it at most one. The developer credentials (app key,
secret, identifier, certificates) are entered in the second step of the add flow and
edited in the second step of reconfigure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, override

import aiohttp
import probatio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
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
from yarl import URL

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
    REGION_AUTO,
    REGIONS,
)
from .coordinator import build_client, build_mqtt, mqtt_broker, nb_base_url, server_options
from .data import SigenConfigEntry, SigenRuntimeData
from .sigen import REGIONS as SHARDS
from .sigen import (
    NorthboundClient,
    RegionSearch,
    Sigen,
    SigenAccountLockedError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenValidationError,
    find_region,
)
from .sigen.const import MQTT_PORT

SECTION_ADVANCED = "advanced"
# The developer step: "developer" where nothing is stored yet, "developer_edit" where
# stored credentials are edited (an empty secret or private key keeps the stored one).
STEP_DEVELOPER = "developer"
STEP_DEVELOPER_EDIT = "developer_edit"
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
# Secrets are never shown in a form; left empty when editing, they keep the stored value.
SECRET_KEYS = (CONF_APP_SECRET, CONF_CLIENT_KEY)
ADVANCED_KEYS = (CONF_SERVER_URL, CONF_MQTT_HOST, CONF_MQTT_PORT)
# How long the simulator's control API may take to name its broker.
SIM_STATE_TIMEOUT = 10.0

_TEXT = TextSelector(TextSelectorConfig(autocomplete="off"))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PEM = TextSelector(TextSelectorConfig(multiline=True, autocomplete="off"))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
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
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))


def _advanced_section(fields: dict[Any, Any], *, expanded: bool) -> section:
    return section(probatio.Schema(fields), {"collapsed": not expanded})


def _account_schema(*, with_credentials: bool, expanded: bool) -> probatio.Schema:
    fields: dict[Any, Any] = {}
    if with_credentials:
        fields[probatio.Required(CONF_USERNAME)] = TextSelector(
            TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
        )
        fields[probatio.Required(CONF_PASSWORD)] = _PASSWORD
    fields[probatio.Required(CONF_REGION, default=REGION_AUTO)] = _REGION
    fields[probatio.Required(SECTION_ADVANCED)] = _advanced_section(
        {probatio.Optional(CONF_SERVER_URL): _URL}, expanded=expanded
    )
    return probatio.Schema(fields)


def _developer_schema(*, expanded: bool) -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Optional(CONF_APP_KEY): _TEXT,
            probatio.Optional(CONF_APP_SECRET): _SECRET,
            probatio.Optional(CONF_APP_IDENTIFIER): _TEXT,
            probatio.Optional(CONF_CA_CERT): _PEM,
            probatio.Optional(CONF_CLIENT_CERT): _PEM,
            probatio.Optional(CONF_CLIENT_KEY): _PEM,
            probatio.Required(SECTION_ADVANCED): _advanced_section(
                {
                    probatio.Optional(CONF_MQTT_HOST): _TEXT,
                    probatio.Optional(CONF_MQTT_PORT): _PORT,
                },
                expanded=expanded,
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


def _suggested(data: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Suggested form values: never a secret, the advanced ones inside their section."""
    top = {k: data[k] for k in keys if k in data and k not in SECRET_KEYS}
    advanced = {k: top.pop(k) for k in ADVANCED_KEYS if k in top}
    return {**top, SECTION_ADVANCED: advanced}


# --- logging in to the app API ----------------------------------------------------------


@dataclass(slots=True)
class _Attempt:
    """The outcome of one login on one shard."""

    region: str
    account_id: str = ""
    error: str = ""  # a config flow error key; empty on success


@dataclass(slots=True)
class _Login:
    """The outcome of the login of a user action (one or several shards)."""

    account_id: str = ""
    region: str = ""  # the shard that accepted the account
    errors: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)


def _region_names(regions: Iterable[str]) -> str:
    """The readable names of shards, for an error's placeholder."""
    return "; ".join(SHARDS[region].name for region in regions)


async def _async_read_account(client: Sigen) -> _Attempt:
    """Log in (unless the client is logged in already), read the account, close."""
    region = client.region
    try:
        await client.async_initialize()
    except SigenAccountLockedError:
        return _Attempt(region, error="account_locked")
    except SigenAuthError:
        return _Attempt(region, error="invalid_auth")
    except SigenConnectionError:
        return _Attempt(region, error="cannot_connect")
    except Exception:
        LOGGER.exception("Unexpected error while logging in to the Sigen cloud")
        return _Attempt(region, error="unknown")
    finally:
        await client.close()
    return _Attempt(region, account_id=str(client.account_id))


async def _async_try_region(hass: HomeAssistant, data: Mapping[str, Any], region: str) -> _Attempt:
    """Log in on one shard and read the account; one login attempt at most."""
    try:
        client = build_client({**data, CONF_REGION: region}, async_get_clientsession(hass))
    except SigenValidationError:
        return _Attempt(region, error="invalid_auth")
    return await _async_read_account(client)


async def _async_search(
    hass: HomeAssistant, data: Mapping[str, Any], regions: Iterable[str]
) -> RegionSearch | None:
    """One login on each of ``regions`` at once (with a server URL: all on that server,
    told apart by their ``client-server`` header); None when the e-mail or password is
    unusable (nothing was sent).
    """
    try:
        return await find_region(
            data.get(CONF_USERNAME, ""),
            data.get(CONF_PASSWORD, ""),
            regions=regions,
            session=async_get_clientsession(hass),
            **server_options(data),
        )
    except SigenValidationError:
        return None


async def _async_found(
    search: RegionSearch | None, *, refused_by: str | None, follow: bool
) -> _Login:
    """The login of a user action from the answers of the shards searched.

    ``refused_by``: the chosen shard, which refused the credentials (None: every shard
    was searched). ``follow``: take the shard that accepted (a step that asks only for
    the password); otherwise a chosen shard that refused is answered ``wrong_region``.
    """
    if search is None:
        return _Login(errors={"base": "invalid_auth"})
    async with search:
        if search.locked:
            return _Login(errors={"base": "account_locked"})
        for region in search.failed:
            LOGGER.warning(
                "The Sigen cloud's region %s could not check the account: %s",
                region,
                search.attempt(region).error,
            )
        if len(search.accepted) > 1 and not follow:
            return _Login(
                errors={"base": "multiple_regions"},
                placeholders={"region_names": _region_names(search.accepted)},
            )
        if search.client is not None:
            if refused_by is not None and not follow:
                return _Login(
                    errors={"base": "wrong_region"},
                    placeholders={"region_name": _region_names([search.client.region])},
                )
            attempt = await _async_read_account(search.client)
            if attempt.error:
                return _Login(errors={"base": attempt.error})
            return _Login(account_id=attempt.account_id, region=attempt.region)
        silent = search.unreachable + search.failed
        if refused_by is not None or search.refused:
            if silent:
                return _Login(
                    errors={"base": "regions_unreachable"},
                    placeholders={"region_names": _region_names(silent)},
                )
            return _Login(errors={"base": "invalid_auth"})
        if search.unreachable:
            return _Login(errors={"base": "cannot_connect"})
        return _Login(errors={"base": "unknown"})


async def async_login(
    hass: HomeAssistant, data: Mapping[str, Any], region: str, *, follow: bool = False
) -> _Login:
    """Log in with the account in ``data`` on the shard ``region``.

    ``REGION_AUTO`` tries every shard at once. When a chosen shard refuses the
    credentials, each other shard is tried once (a wrong shard looks like a wrong
    password): one that accepts is taken with ``follow`` (steps that ask only for the
    password), otherwise answered ``wrong_region`` with its name. Either way the shard
    holding the account sees at most one failed login.
    """
    try:
        if region == REGION_AUTO:
            return await _async_found(
                await _async_search(hass, data, REGIONS), refused_by=None, follow=follow
            )
        attempt = await _async_try_region(hass, data, region)
        if attempt.error != "invalid_auth":
            if attempt.error:
                return _Login(errors={"base": attempt.error})
            return _Login(account_id=attempt.account_id, region=region)
        others = [other for other in REGIONS if other != region]
        return await _async_found(
            await _async_search(hass, data, others), refused_by=region, follow=follow
        )
    except Exception:
        LOGGER.exception("Unexpected error while looking for the Sigen account's region")
        return _Login(errors={"base": "unknown"})


# --- developer credentials --------------------------------------------------------------


def _public_key_der(key: Any) -> bytes:
    return bytes(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def _pem_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """Check the pasted PEM text: certificates, an unencrypted key that fits its cert."""
    errors: dict[str, str] = {}
    certs: dict[str, list[x509.Certificate]] = {}
    for key in (CONF_CA_CERT, CONF_CLIENT_CERT):
        if pem := data.get(key):
            try:
                certs[key] = x509.load_pem_x509_certificates(pem.encode())
            except ValueError:
                certs[key] = []
            if not certs[key]:
                errors[key] = "invalid_certificate"
    private_key: Any = None
    if pem := data.get(CONF_CLIENT_KEY):
        try:
            private_key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            errors[CONF_CLIENT_KEY] = "invalid_private_key"
    if errors:
        return errors
    if bool(data.get(CONF_CLIENT_CERT)) != bool(data.get(CONF_CLIENT_KEY)):
        missing = CONF_CLIENT_KEY if data.get(CONF_CLIENT_CERT) else CONF_CLIENT_CERT
        return {missing: "client_pair_incomplete"}
    if private_key is not None and _public_key_der(private_key.public_key()) != _public_key_der(
        certs[CONF_CLIENT_CERT][0].public_key()
    ):
        return {CONF_CLIENT_KEY: "client_key_mismatch"}
    return {}


def _running_northbound(hass: HomeAssistant, data: Mapping[str, Any]) -> NorthboundClient | None:
    """The northbound session of a loaded entry with the same app key and secret.

    Checking the credentials with it needs no new key login: a new login would replace
    the broker password of that entry's live MQTT listener and cut its push.
    """
    entries: list[SigenConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    for entry in entries:
        # runtime_data is set once the entry's setup has finished.
        runtime: SigenRuntimeData | None = getattr(entry, "runtime_data", None)
        northbound = runtime.northbound if runtime is not None else None
        if (
            northbound is not None
            and northbound.access_token is not None
            and entry.data.get(CONF_APP_KEY) == data.get(CONF_APP_KEY)
            and entry.data.get(CONF_APP_SECRET) == data.get(CONF_APP_SECRET)
            and nb_base_url(entry.data) == nb_base_url(data)
        ):
            return northbound
    return None


async def _async_simulator_broker(hass: HomeAssistant, server_url: str) -> tuple[str, int]:
    """The MQTT broker of a server given by URL (a test server, the simulator).

    The simulator names its broker in ``GET /_sim/state``; any other server is taken
    to run its broker on its own host, on the standard TLS port.
    """
    url = URL(server_url)
    host, port = url.host or "", MQTT_PORT
    state_url = url.with_path(url.path.rstrip("/") + "/_sim/state")
    try:
        async with asyncio.timeout(SIM_STATE_TIMEOUT):
            response = await async_get_clientsession(hass).get(state_url)
            state = await response.json(content_type=None)
        mqtt = state["data"]["mqtt"]
        host, port = str(mqtt["host"]), int(mqtt["port"])
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as err:
        LOGGER.debug("The server does not name its MQTT broker (%s): using %s:%s", err, host, port)
    return host, port


async def async_validate_developer(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Check developer credentials: a key login and one TLS round trip to the broker.

    A loaded entry's northbound session with the same key and secret is reused.
    """
    required = (CONF_APP_KEY, CONF_APP_SECRET, CONF_APP_IDENTIFIER)
    if missing := [k for k in required if not data.get(k)]:
        return {missing[0]: "required_with_app_key"}
    if errors := _pem_errors(data):
        return errors
    session = async_get_clientsession(hass)
    northbound = _running_northbound(hass, data)
    owned: NorthboundClient | None = None
    if northbound is None:
        try:
            northbound = owned = await NorthboundClient.from_app_key(
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
        return await _async_check_broker(data, session, northbound)
    finally:
        if owned is not None:
            await owned.close()


async def _async_check_broker(
    data: Mapping[str, Any], session: aiohttp.ClientSession, northbound: NorthboundClient
) -> dict[str, str]:
    try:
        # The check opens one connection and subscribes to nothing: any valid id does.
        mqtt = build_mqtt(data, ["config-check"], session, northbound)
    except SigenValidationError:
        return {"base": "invalid_certificate"}
    # Log in again only when the token has expired (a running listener shares it).
    mqtt.token_refresh_margin = 0.0
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
    return {}


def _merge_developer(
    stored: Mapping[str, Any], user_input: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The developer credentials to store: None removes them (no app key given).

    An empty secret keeps the stored one for the same app key; an empty private key
    keeps the stored one while a client certificate is given. Clearing the client
    certificate removes the key with it (mutual TLS off).
    """
    new = _flatten(user_input)
    if not new.get(CONF_APP_KEY):
        return None
    if (
        not new.get(CONF_APP_SECRET)
        and stored.get(CONF_APP_SECRET)
        and new[CONF_APP_KEY] == stored.get(CONF_APP_KEY)
    ):
        new[CONF_APP_SECRET] = stored[CONF_APP_SECRET]
    if not new.get(CONF_CLIENT_KEY) and new.get(CONF_CLIENT_CERT) and stored.get(CONF_CLIENT_KEY):
        new[CONF_CLIENT_KEY] = stored[CONF_CLIENT_KEY]
    return new


def _without_developer(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in DEVELOPER_KEYS}


def _has_stored_developer(data: Mapping[str, Any]) -> bool:
    return bool(data.get(CONF_APP_KEY))


class SigenConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Sigen cloud account."""

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
            data = _flatten(user_input)
            login = await async_login(self.hass, data, data.pop(CONF_REGION, REGION_AUTO))
            errors, placeholders = login.errors, login.placeholders
            if not errors:
                await self.async_set_unique_id(login.account_id)
                self._abort_if_unique_id_configured()
                self._data = {**data, CONF_REGION: login.region}
                return await self.async_step_developer()
        suggested = {**(user_input or {}), CONF_PASSWORD: None}
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(
                    with_credentials=True,
                    expanded=bool(errors) or _holds_value(suggested),
                ),
                suggested,
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_developer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Optional developer credentials (MQTT push, northbound mode, battery commands)."""
        return await self._async_developer(STEP_DEVELOPER, user_input)

    async def async_step_developer_edit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the stored developer credentials (reconfigure)."""
        return await self._async_developer(STEP_DEVELOPER_EDIT, user_input)

    async def _async_developer(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        shown: Mapping[str, Any] = self._data
        if user_input is not None:
            developer = _merge_developer(self._data, user_input)
            base = _without_developer(self._data)
            if developer is None:
                return self._async_finish(base)
            data = {**base, **developer}
            if data.get(CONF_SERVER_URL) and not data.get(CONF_MQTT_HOST):
                host, port = await _async_simulator_broker(self.hass, data[CONF_SERVER_URL])
                data.setdefault(CONF_MQTT_PORT, port)
                data[CONF_MQTT_HOST] = host
            errors = await async_validate_developer(self.hass, data)
            if not errors:
                return self._async_finish(data)
            shown = data
        host, port = mqtt_broker(shown)
        suggested = _suggested(shown, DEVELOPER_KEYS)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _developer_schema(expanded=bool(errors) or _holds_value(suggested)), suggested
            ),
            errors=errors,
            description_placeholders={"broker": f"{host}:{port}"},
            last_step=True,
        )

    def _developer_step_id(self) -> str:
        return STEP_DEVELOPER_EDIT if _has_stored_developer(self._data) else STEP_DEVELOPER

    def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return self.async_update_reload_and_abort(
                entry,
                data=data,
                # Unchanged credentials leave a running entry (and its push) alone.
                reload_even_if_entry_is_unchanged=entry.state is not ConfigEntryState.LOADED,
            )
        return self.async_create_entry(title=entry_title(data[CONF_USERNAME]), data=data)

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
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema({probatio.Required(CONF_PASSWORD): _PASSWORD}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the region or server, then the developer credentials."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {CONF_USERNAME: entry.data[CONF_USERNAME]}
        if user_input is not None:
            new = _flatten(user_input)
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
        suggested = (
            user_input
            if user_input is not None
            else _suggested(entry.data, (CONF_REGION, CONF_SERVER_URL))
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(
                    with_credentials=False,
                    expanded=bool(errors) or _holds_value(suggested),
                ),
                suggested,
            ),
            description_placeholders=placeholders,
            errors=errors,
        )

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
        return self.async_show_form(
            step_id="reconfigure_password",
            data_schema=probatio.Schema({probatio.Required(CONF_PASSWORD): _PASSWORD}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def _async_reconfigure_login_done(
        self, data: dict[str, Any], login: _Login
    ) -> ConfigFlowResult:
        await self.async_set_unique_id(login.account_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        self._data = {**data, CONF_REGION: login.region}
        if self._developer_step_id() == STEP_DEVELOPER_EDIT:
            return await self.async_step_developer_edit()
        return await self.async_step_developer()


def _holds_value(suggested: Mapping[str, Any]) -> bool:
    """Whether the advanced section of a form's values holds anything."""
    return any(v not in (None, "") for v in (suggested.get(SECTION_ADVANCED) or {}).values())
