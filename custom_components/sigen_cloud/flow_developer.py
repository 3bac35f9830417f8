"""The developer credentials in the config flow: their form, merge and validation.

The developer credentials (app key, secret, identifier, certificates as pasted PEM text,
an advanced broker host and port) are entered in the second step of the add flow and
added, changed or removed in the second step of reconfigure. They are checked with a
key login on the northbound API and one TLS round trip to the MQTT broker; a loaded
entry's northbound session with the same key is reused, so that the check does not
replace the broker password of that entry's live listener.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import probatio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from yarl import URL

from .client import build_mqtt, nb_base_url
from .const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_SERVER_URL,
    DOMAIN,
    LOGGER,
)
from .data import SigenConfigEntry, SigenRuntimeData
from .flow_forms import (
    PEM,
    PORT,
    SECRET,
    SECTION_ADVANCED,
    TEXT,
    advanced_section,
    flatten,
    suggested,
)
from .sigen import (
    MQTT_PORT,
    NorthboundClient,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenValidationError,
)

# Shown in the form (secrets never are: left empty, they keep the stored value).
SHOWN_KEYS = (CONF_APP_KEY, CONF_APP_IDENTIFIER, CONF_CA_CERT, CONF_CLIENT_CERT)
BROKER_KEYS = (CONF_MQTT_HOST, CONF_MQTT_PORT)  # in the advanced section
DEVELOPER_KEYS = (*SHOWN_KEYS, CONF_APP_SECRET, CONF_CLIENT_KEY, *BROKER_KEYS)
REQUIRED_KEYS = (CONF_APP_KEY, CONF_APP_SECRET, CONF_APP_IDENTIFIER)
PEM_KEYS = (CONF_CA_CERT, CONF_CLIENT_CERT, CONF_CLIENT_KEY)
# How long the simulator's control API may take to name its broker.
SIM_STATE_TIMEOUT = 10.0


def developer_schema(*, expanded: bool) -> probatio.Schema:
    """The developer step's form; every field optional (no app key: no credentials)."""
    return probatio.Schema(
        {
            probatio.Optional(CONF_APP_KEY): TEXT,
            probatio.Optional(CONF_APP_SECRET): SECRET,
            probatio.Optional(CONF_APP_IDENTIFIER): TEXT,
            probatio.Optional(CONF_CA_CERT): PEM,
            probatio.Optional(CONF_CLIENT_CERT): PEM,
            probatio.Optional(CONF_CLIENT_KEY): PEM,
            probatio.Required(SECTION_ADVANCED): advanced_section(
                {probatio.Optional(CONF_MQTT_HOST): TEXT, probatio.Optional(CONF_MQTT_PORT): PORT},
                expanded=expanded,
            ),
        }
    )


def developer_suggested(data: Mapping[str, Any]) -> dict[str, Any]:
    """The developer form's suggested values from ``data``; never a secret."""
    return suggested(data, SHOWN_KEYS, BROKER_KEYS)


def has_stored_developer(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` holds developer credentials (the step then edits them)."""
    return bool(data.get(CONF_APP_KEY))


def without_developer(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without any developer credential."""
    return {k: v for k, v in data.items() if k not in DEVELOPER_KEYS}


def merge_developer(
    stored: Mapping[str, Any], user_input: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The developer credentials to store: None removes them (no app key given).

    An empty secret keeps the stored one for the same app key; an empty private key
    keeps the stored one while a client certificate is given. Clearing the client
    certificate removes the key with it (mutual TLS off).
    """
    new = flatten(user_input)
    if not new.get(CONF_APP_KEY):
        return None
    for key in PEM_KEYS:
        if new.get(key):
            new[key] += "\n"  # PEM text ends with a newline
    if new.get(CONF_MQTT_PORT) is not None:
        new[CONF_MQTT_PORT] = int(new[CONF_MQTT_PORT])
    if (
        not new.get(CONF_APP_SECRET)
        and stored.get(CONF_APP_SECRET)
        and new[CONF_APP_KEY] == stored.get(CONF_APP_KEY)
    ):
        new[CONF_APP_SECRET] = stored[CONF_APP_SECRET]
    if not new.get(CONF_CLIENT_KEY) and new.get(CONF_CLIENT_CERT) and stored.get(CONF_CLIENT_KEY):
        new[CONF_CLIENT_KEY] = stored[CONF_CLIENT_KEY]
    return new


def _public_key_der(key: Any) -> bytes:
    return bytes(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def pem_errors(data: Mapping[str, Any]) -> dict[str, str]:
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
        # runtime_data is set by the entry's own setup, which a test may replace.
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


async def async_with_broker(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the broker of its server URL, where one is given and no broker is.

    The broker found is stored, so that the entry connects where the check did.
    """
    if data.get(CONF_SERVER_URL) and not data.get(CONF_MQTT_HOST):
        host, port = await _async_simulator_broker(hass, data[CONF_SERVER_URL])
        data = {CONF_MQTT_PORT: port, **data, CONF_MQTT_HOST: host}
    return data


async def async_validate_developer(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Check developer credentials: a key login and one TLS round trip to the broker.

    A loaded entry's northbound session with the same key and secret is reused.
    """
    if missing := [k for k in REQUIRED_KEYS if not data.get(k)]:
        return {missing[0]: "required_with_app_key"}
    if errors := pem_errors(data):
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
    """One TLS connection to the broker with the credentials; errors by form field."""
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
