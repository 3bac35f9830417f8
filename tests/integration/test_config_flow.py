"""The config flow: account, developer credentials, options, reauth, reconfigure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.config_flow import entry_title
from custom_components.sigen_cloud.const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_SECRET,
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
)
from sigen_sim.broker import free_port

from .conftest import account_data, account_id, developer_data


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Iterator[AsyncMock]:
    """The flows are tested on their own; entries they create are not set up."""
    with (
        patch("custom_components.sigen_cloud.async_setup_entry", return_value=True) as mock,
        patch("custom_components.sigen_cloud.async_unload_entry", return_value=True),
    ):
        yield mock


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


async def test_options_flow_reloads_a_loaded_entry(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """Saving the options reloads the entry with the new credentials."""
    sim = sim_mqtt
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data=account_data(sim))
    entry.add_to_hass(hass)
    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], developer_input(sim)
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    reload.assert_called_once_with(entry.entry_id)


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
        ({CONF_CLIENT_KEY: "garbage"}, {CONF_CLIENT_KEY: "invalid_certificate"}),
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


# --- options ---------------------------------------------------------------------------


async def test_options_flow_adds_edits_and_removes_credentials(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None
) -> None:
    """The options edit the developer credentials, stored in the entry's data."""
    sim = sim_mqtt
    entry = MockConfigEntry(domain=DOMAIN, unique_id="x", data=account_data(sim))
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: "wrong"})
    )
    assert result["errors"] == {"base": "invalid_app_key"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], developer_input(sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data == {**account_data(sim), **developer_data(sim)}
    assert entry.options == {}

    # Editing: an empty secret keeps the stored one; the secret is never shown.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema_keys = {str(k): k for k in result["data_schema"].schema}
    suggested = schema_keys[CONF_APP_SECRET].description
    assert not suggested or sim.app_secret not in str(suggested)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], developer_input(sim, **{CONF_APP_SECRET: None})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data[CONF_APP_SECRET] == sim.app_secret

    # Removing: an empty app key.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data == account_data(sim)


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
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == account_data(sim)
