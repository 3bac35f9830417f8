"""The config flow: account, developer credentials, reauth, reconfigure."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.config_flow import SigenConfigFlow
from custom_components.sigen_cloud.const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
    REGIONS,
)
from custom_components.sigen_cloud.flow_forms import entry_title
from sigen_sim.broker import free_port

from .conftest import account_data, account_id, developer_data, password_logins
from .flow_checks import (
    TRANSLATIONS,
    check_flow_translations,
    no_entry_setup,
    section_collapsed,
    suggested_values,
)

# autouse: every flow step is checked, and no entry the flows create is set up
__all__ = ["check_flow_translations", "no_entry_setup"]


BAD_PEM = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/"


def user_input(sim: Any, **changes: Any) -> dict[str, Any]:
    data = {**account_data(sim), **changes}
    return {
        CONF_USERNAME: data[CONF_USERNAME],
        CONF_PASSWORD: data[CONF_PASSWORD],
        CONF_REGION: data[CONF_REGION],
        "advanced": {CONF_SERVER_URL: data[CONF_SERVER_URL]},
    }


def developer_input(sim: Any, **changes: Any) -> dict[str, Any]:
    data = {**developer_data(sim), **changes}
    advanced = {k: data.pop(k) for k in (CONF_MQTT_HOST, CONF_MQTT_PORT) if k in data}
    return {**{k: v for k, v in data.items() if v is not None}, "advanced": advanced}


async def start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


async def test_user_flow_without_developer_credentials(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """E-mail, password and the simulator's URL create an entry; the second step is skipped."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "developer"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Sigen Cloud (d***@sigen.invalid)"
    assert result["data"] == account_data(sim)
    assert result["result"].unique_id == await account_id(sim)
    assert result["result"].unique_id != sim.username


async def test_user_flow_with_developer_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Developer credentials are checked (key login, broker TLS) and stored in data."""
    sim = sim_mqtt
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], developer_input(sim))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**account_data(sim), **developer_data(sim)}
    assert result["result"].options == {}


async def test_user_flow_with_client_certificate(
    hass: HomeAssistant, sim_mtls: Any, socket_enabled: None
) -> None:
    """A broker that wants a client certificate gets the pasted one."""
    sim = sim_mtls
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    dev = developer_input(
        sim,
        **{CONF_CLIENT_CERT: sim.certs.client_cert_pem, CONF_CLIENT_KEY: sim.certs.client_key_pem},
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dev)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CLIENT_KEY] == sim.certs.client_key_pem


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({CONF_PASSWORD: "wrong-password"}, "invalid_auth"),
        ({CONF_USERNAME: "nobody@sigen.invalid"}, "invalid_auth"),
    ],
)
async def test_user_flow_invalid_auth_then_recover(
    hass: HomeAssistant, sim: Any, socket_enabled: None, change: dict[str, str], error: str
) -> None:
    """A wrong password is reported on the form, which can then be corrected."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **change)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    assert result["step_id"] == "developer"


async def test_user_flow_empty_password(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """An empty password is refused before anything is sent."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **{CONF_PASSWORD: ""})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert sim.count("oauth/token") == 0


def test_entry_title_masks_the_e_mail() -> None:
    """Titles end up in logs: the e-mail is masked."""
    assert entry_title("owner@example.com") == "Sigen Cloud (o***@example.com)"
    assert entry_title("not-an-e-mail") == "Sigen Cloud"


async def test_user_flow_account_locked(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """A locked account has its own message."""
    for _ in range(10):
        if sim.tokens.record_failure(sim.username.lower()):
            break
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    assert result["errors"] == {"base": "account_locked"}


async def test_user_flow_cannot_connect(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """Nothing listening at the server URL."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **{CONF_SERVER_URL: closed_port_url()})
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_unknown_error(hass: HomeAssistant, sim: Any, socket_enabled: None) -> None:
    """An answer the library cannot make sense of is an unknown error, logged."""
    sim.faults.malformed_json("station/home")
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    assert result["errors"] == {"base": "unknown"}


async def test_user_flow_already_configured(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """One entry per account, whatever the spelling of the e-mail."""
    MockConfigEntry(
        domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim)
    ).add_to_hass(hass)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **{CONF_USERNAME: sim.username.upper()})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def _developer_step(hass: HomeAssistant, sim: Any) -> dict[str, Any]:
    result = await start_user_flow(hass)
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({CONF_APP_SECRET: "wrong-secret"}, {"base": "invalid_app_key"}),
        ({CONF_APP_SECRET: None}, {CONF_APP_SECRET: "required_with_app_key"}),
        ({CONF_APP_IDENTIFIER: None}, {CONF_APP_IDENTIFIER: "required_with_app_key"}),
        (
            {CONF_CA_CERT: "-----BEGIN CERTIFICATE-----\nnot base64!\n"},
            {CONF_CA_CERT: "invalid_certificate"},
        ),
        ({CONF_CLIENT_CERT: "garbage"}, {CONF_CLIENT_CERT: "invalid_certificate"}),
        ({CONF_CLIENT_KEY: "garbage"}, {CONF_CLIENT_KEY: "invalid_private_key"}),
        ({CONF_MQTT_HOST: "127.0.0.1", CONF_MQTT_PORT: 1}, {"base": "mqtt_cannot_connect"}),
    ],
)
async def test_developer_step_errors(
    hass: HomeAssistant,
    sim_mqtt: Any,
    socket_enabled: None,
    change: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each kind of bad developer credential has its own error; then it can be fixed."""
    sim = sim_mqtt
    result = await _developer_step(hass, sim)
    if CONF_MQTT_PORT in change:
        change[CONF_MQTT_PORT] = int(closed_port_url().rsplit(":", 1)[1].strip("/"))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **change)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "developer"
    assert result["errors"] == errors
    if CONF_MQTT_PORT in change:  # the error names the broker that failed
        broker = f"127.0.0.1:{change[CONF_MQTT_PORT]}"
        assert result["description_placeholders"]["broker"] == broker

    result = await hass.config_entries.flow.async_configure(result["flow_id"], developer_input(sim))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_developer_step_client_pair_incomplete(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """A client certificate without its key (or the reverse) is refused."""
    sim = sim_mqtt
    result = await _developer_step(hass, sim)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_CLIENT_CERT: sim.certs.client_cert_pem})
    )
    assert result["errors"] == {CONF_CLIENT_KEY: "client_pair_incomplete"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_CLIENT_KEY: sim.certs.client_key_pem})
    )
    assert result["errors"] == {CONF_CLIENT_CERT: "client_pair_incomplete"}


async def test_developer_step_northbound_unreachable(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The key login failing on the network is a connection error."""
    sim = sim_mqtt
    result = await _developer_step(hass, sim)
    sim.faults.server_error("/openapi/auth/login/key", 503)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], developer_input(sim))
    assert result["errors"] in ({"base": "cannot_connect"}, {"base": "unknown"})


# --- reauth ----------------------------------------------------------------------------


async def test_reauth(hass: HomeAssistant, sim: Any, socket_enabled: None) -> None:
    """A changed password is re-entered; a wrong one is refused first."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    sim.change_password("new-password")

    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"][CONF_USERNAME] == sim.username
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "new-password"


async def test_reauth_other_account(hass: HomeAssistant, sim: Any, socket_enabled: None) -> None:
    """The password must open the same account."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="another-account", data=account_data(sim))
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: sim.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


# --- reconfigure -----------------------------------------------------------------------


async def test_reconfigure(hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None) -> None:
    """Region/server, then developer credentials, for the same account."""
    sim = sim_mqtt
    data = {**account_data(sim), CONF_SERVER_URL: closed_port_url()}
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=data)
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # The stored (broken) server cannot be reached.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: data[CONF_SERVER_URL]}}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "developer"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], developer_input(sim))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), **developer_data(sim)}


async def test_reconfigure_other_account(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """Reconfiguring may not switch to another account."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="another-account", data=account_data(sim))
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_reconfigure_removes_developer_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """An empty app key in the second step removes the developer credentials."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=await account_id(sim),
        data={**account_data(sim), **developer_data(sim)},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "developer_edit"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == account_data(sim)


async def _reconfigure_to_developer(
    hass: HomeAssistant, sim: Any, data: dict[str, Any]
) -> tuple[MockConfigEntry, dict[str, Any]]:
    """An entry with ``data`` and its reconfigure flow at the developer step."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=data)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    return entry, result


# --- developer credentials are edited in reconfigure (issue 16) ------------------------


async def test_no_options_flow(hass: HomeAssistant, sim: Any) -> None:
    """The developer credentials are edited in reconfigure: there is no options flow."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data=account_data(sim))
    entry.add_to_hass(hass)
    assert not SigenConfigFlow.async_supports_options_flow(entry)


async def test_reconfigure_adds_and_edits_developer_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Credentials are added (step "developer"), then edited (step "developer_edit"):
    an empty secret keeps the stored one, which is never shown."""
    sim = sim_mqtt
    entry, result = await _reconfigure_to_developer(hass, sim, account_data(sim))
    assert result["step_id"] == "developer"  # nothing stored: nothing to keep
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: "wrong"})
    )
    assert result["errors"] == {"base": "invalid_app_key"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], developer_input(sim))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), **developer_data(sim)}
    assert entry.options == {}

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "developer_edit"
    suggested = suggested_values(result)
    assert CONF_APP_SECRET not in suggested
    assert sim.app_secret not in str(suggested)
    assert suggested["advanced"] == {CONF_MQTT_HOST: sim.mqtt_host, CONF_MQTT_PORT: sim.mqtt_port}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_APP_SECRET] == sim.app_secret


async def test_reconfigure_other_app_key_needs_its_secret(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The stored secret belongs to the stored app key: a new key needs its secret."""
    sim = sim_mqtt
    _, result = await _reconfigure_to_developer(
        hass, sim, {**account_data(sim), **developer_data(sim)}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        developer_input(sim, **{CONF_APP_KEY: "another-key", CONF_APP_SECRET: None}),
    )
    assert result["errors"] == {CONF_APP_SECRET: "required_with_app_key"}


# --- mutual TLS can be turned off (issue 15.3) and the key must fit (15.6) --------------


async def test_reconfigure_turns_mutual_tls_off(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Clearing the client certificate removes it and its stored key; nothing else
    needs entering again (the secret stays)."""
    sim = sim_mqtt
    mtls = {CONF_CLIENT_CERT: sim.certs.client_cert_pem, CONF_CLIENT_KEY: sim.certs.client_key_pem}
    entry, result = await _reconfigure_to_developer(
        hass, sim, {**account_data(sim), **developer_data(sim), **mtls}
    )
    assert result["step_id"] == "developer_edit"
    suggested = suggested_values(result)
    assert suggested[CONF_CLIENT_CERT] == sim.certs.client_cert_pem
    assert CONF_CLIENT_KEY not in suggested  # a secret: never shown
    # The owner clears the certificate field and leaves the (empty) key and secret.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), **developer_data(sim)}
    assert CONF_CLIENT_CERT not in entry.data
    assert CONF_CLIENT_KEY not in entry.data


async def test_reconfigure_keeps_the_key_while_the_certificate_stays(
    hass: HomeAssistant, sim_mtls: Any, socket_enabled: None
) -> None:
    """With the client certificate kept, an empty key field keeps the stored key."""
    sim = sim_mtls
    mtls = {CONF_CLIENT_CERT: sim.certs.client_cert_pem, CONF_CLIENT_KEY: sim.certs.client_key_pem}
    entry, result = await _reconfigure_to_developer(
        hass, sim, {**account_data(sim), **developer_data(sim), **mtls}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        developer_input(
            sim, **{CONF_APP_SECRET: None, CONF_CLIENT_CERT: sim.certs.client_cert_pem}
        ),
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), **developer_data(sim), **mtls}


async def test_developer_step_key_does_not_match_the_certificate(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """A valid private key of another certificate is named as such, on the key field."""
    sim = sim_mqtt
    result = await _developer_step(hass, sim)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        developer_input(
            sim,
            **{
                CONF_CLIENT_CERT: sim.certs.client_cert_pem,
                CONF_CLIENT_KEY: sim.certs.server.key_pem,
            },
        ),
    )
    assert result["errors"] == {CONF_CLIENT_KEY: "client_key_mismatch"}


async def test_reconfigure_new_certificate_with_the_old_key(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """A new certificate with the stored key of the old one: the key does not match."""
    sim = sim_mqtt
    mtls = {CONF_CLIENT_CERT: sim.certs.server.cert_pem, CONF_CLIENT_KEY: sim.certs.server.key_pem}
    _, result = await _reconfigure_to_developer(
        hass, sim, {**account_data(sim), **developer_data(sim), **mtls}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        developer_input(
            sim, **{CONF_APP_SECRET: None, CONF_CLIENT_CERT: sim.certs.client_cert_pem}
        ),
    )
    assert result["errors"] == {CONF_CLIENT_KEY: "client_key_mismatch"}


# --- the simulator's broker is found from the server URL (issue 15.12) -----------------


async def test_developer_step_finds_the_simulators_broker(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """With a server URL and no broker given, the simulator's broker is used."""
    sim = sim_mqtt
    result = await _developer_step(hass, sim)
    dev = developer_input(sim)
    dev["advanced"] = {}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dev)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MQTT_HOST] == sim.mqtt_host
    assert result["data"][CONF_MQTT_PORT] == sim.mqtt_port
    assert result["data"] == {**account_data(sim), **developer_data(sim)}


async def test_developer_step_server_without_broker(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """A server that names no broker (this simulator runs none): its own host on the TLS
    port is tried, the error names that broker and the section opens to show it."""
    result = await _developer_step(hass, sim)
    dev = {
        CONF_APP_KEY: sim.app_key,
        CONF_APP_SECRET: sim.app_secret,
        CONF_APP_IDENTIFIER: sim.app_identifier,
        "advanced": {},
    }
    port = free_port()
    with patch("custom_components.sigen_cloud.flow_developer.MQTT_PORT", port):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], dev)
    assert result["errors"] == {"base": "mqtt_cannot_connect"}
    assert result["description_placeholders"]["broker"] == f"127.0.0.1:{port}"
    assert not section_collapsed(result)
    assert suggested_values(result)["advanced"] == {
        CONF_MQTT_HOST: "127.0.0.1",
        CONF_MQTT_PORT: port,
    }


# --- form polish (issue 15.17) ---------------------------------------------------------


async def test_new_flow_says_nothing_about_stored_values(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """A brand-new flow's developer step is "developer", whose texts never mention a
    stored value; "developer_edit" (reconfigure with stored credentials) does."""
    result = await _developer_step(hass, sim)
    assert result["step_id"] == "developer"
    step = TRANSLATIONS["config"]["step"]
    assert "stored" not in json.dumps(step["developer"])
    assert "keep the stored" in step["developer_edit"]["data_description"][CONF_APP_SECRET]
    assert "keep the stored" in step["developer_edit"]["data_description"][CONF_CLIENT_KEY]


async def test_advanced_section_stays_open_after_an_error(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The advanced section is collapsed while empty, open after an error or with a value."""
    sim = sim_mqtt
    result = await start_user_flow(hass)
    assert section_collapsed(result)
    url = closed_port_url()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **{CONF_SERVER_URL: url})
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert not section_collapsed(result)
    assert suggested_values(result)["advanced"] == {CONF_SERVER_URL: url}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(sim))
    assert result["step_id"] == "developer"
    assert section_collapsed(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
    )
    assert result["errors"] == {CONF_APP_SECRET: "required_with_app_key"}
    assert not section_collapsed(result)


async def test_reconfigure_shows_the_stored_server_open(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """A stored server URL is shown, its section open."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert not section_collapsed(result)
    assert suggested_values(result) == {
        CONF_REGION: "eu",
        "advanced": {CONF_SERVER_URL: sim.api_url},
    }


# --- the password in reconfigure (issue 15.11) ------------------------------------------


async def test_reconfigure_asks_for_a_refused_password(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """Reconfigure with a stored password the cloud refuses asks for the current one
    (one failed login per submit) and stores it."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    sim.change_password("new-password")
    result = await entry.start_reconfigure_flow(hass)
    logins = password_logins(sim)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    # one on the shard holding the account (the other shards are tried once each too)
    assert password_logins(sim) == logins + 1
    assert result["step_id"] == "reconfigure_password"
    assert result["errors"] == {}
    assert result["description_placeholders"][CONF_USERNAME] == sim.username
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "still-wrong"}
    )
    assert result["step_id"] == "reconfigure_password"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "new-password"}
    )
    assert result["step_id"] == "developer"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), CONF_PASSWORD: "new-password"}
    assert not sim.tokens.locked(sim.username)


# --- regions ----------------------------------------------------------------------------


def test_region_selector_translations() -> None:
    """Every region of the selector has its readable name."""
    assert TRANSLATIONS["selector"]["region"]["options"] == {
        "auto": "Automatic",
        "eu": "Europe, Middle East and Africa",
        "apac": "Asia-Pacific",
        "aus": "Australia and New Zealand",
        "us": "North America",
        "jp": "Japan",
        "cn": "China",
    }
    assert list(REGIONS) == ["eu", "apac", "aus", "us", "jp", "cn"]
    assert next(iter(TRANSLATIONS["selector"]["region"]["options"])) == "auto"


@pytest.mark.parametrize(
    "region",
    [pytest.param(key, marks=pytest.mark.sim_config(shard=key)) for key in ("apac", "aus", "jp")],
)
async def test_user_flow_stores_the_chosen_region(
    hass: HomeAssistant, sim: Any, socket_enabled: None, region: str
) -> None:
    """Each of the six regions can be chosen and is stored."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(sim, **{CONF_REGION: region})
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["data"][CONF_REGION] == region
