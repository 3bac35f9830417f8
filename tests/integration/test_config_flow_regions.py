"""The config flow's regions: Automatic, a wrong region named, reauth corrects it.

The simulator hosts the account on one shard (``SimConfig.shard``) behind one port and
tells the shards apart by the ``client-server`` header, as the cloud does by host: a
wrong shard refuses the login like a wrong password, without counting it.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud.const import (
    CONF_REGION,
    CONF_SERVER_URL,
    DOMAIN,
    REGION_AUTO,
    REGIONS,
)
from custom_components.sigen_cloud.sigen.regions import REGIONS as SHARDS
from sigen_sim import app_api
from sigen_sim.broker import free_port

from .conftest import account_data, account_id, password_logins
from .flow_checks import check_flow_translations, no_entry_setup

# autouse: every flow step is checked, and no entry the flows create is set up
__all__ = ["check_flow_translations", "no_entry_setup"]

TOKEN = "auth/oauth/token"
REGION_NAMES = {
    "eu": "Europe, Middle East and Africa",
    "apac": "Asia-Pacific",
    "aus": "Australia and New Zealand",
    "us": "North America",
    "jp": "Japan",
    "cn": "China",
}


def account(sim: Any, region: str = REGION_AUTO, **changes: Any) -> dict[str, Any]:
    """The user step's input for the simulator's account."""
    data = {CONF_USERNAME: sim.username, CONF_PASSWORD: sim.password, **changes}
    server_url = data.pop(CONF_SERVER_URL, sim.api_url)
    return {**data, CONF_REGION: region, "advanced": {CONF_SERVER_URL: server_url}}


def logins_per_shard(sim: Any) -> dict[str, int]:
    return {shard: password_logins(sim, shard) for shard in REGIONS}


async def submit_user(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


def schema_default(result: dict[str, Any], key: str) -> Any:
    for marker in result["data_schema"].schema:
        if str(marker) == key:
            return marker.default()
    raise AssertionError(f"no field {key}")


def test_region_names_match_the_library() -> None:
    assert {key: region.name for key, region in SHARDS.items()} == REGION_NAMES


async def test_automatic_is_the_default(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert schema_default(result, CONF_REGION) == REGION_AUTO
    options = result["data_schema"].schema[CONF_REGION].config["options"]
    assert options == [REGION_AUTO, *REGIONS]


@pytest.mark.parametrize(
    "shard", [pytest.param(key, marks=pytest.mark.sim_config(shard=key)) for key in REGIONS]
)
async def test_automatic_finds_the_account_on_each_shard(
    hass: HomeAssistant, sim: Any, socket_enabled: None, shard: str
) -> None:
    """Every shard is tried once at the same time; the one that accepts is stored."""
    result = await submit_user(hass, account(sim))
    assert result["step_id"] == "developer"
    assert logins_per_shard(sim) == dict.fromkeys(REGIONS, 1)
    assert sim.count(TOKEN) == len(REGIONS)  # the account is read without a new login
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**account_data(sim), CONF_REGION: shard}
    assert result["result"].unique_id == await account_id(sim)


@pytest.mark.sim_config(shard="aus")
async def test_a_wrong_region_names_the_right_one(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """The chosen shard refuses, another accepts: the error names it; the account's
    own shard saw one login, which succeeded."""
    result = await submit_user(hass, account(sim, "apac"))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_region"}
    assert result["description_placeholders"]["region_name"] == "Australia and New Zealand"
    assert logins_per_shard(sim) == dict.fromkeys(REGIONS, 1)
    assert not sim.tokens.locked(sim.username.lower())

    result = await hass.config_entries.flow.async_configure(result["flow_id"], account(sim, "aus"))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["data"][CONF_REGION] == "aus"


@pytest.mark.parametrize("region", [REGION_AUTO, "eu", "us"])
@pytest.mark.sim_config(shard="us", lockout_attempts=5)
async def test_a_wrong_password_is_one_failed_login_per_submit(
    hass: HomeAssistant, sim: Any, socket_enabled: None, region: str
) -> None:
    """Whatever the region chosen, each submit with a wrong password costs the shard
    holding the account one failed login, never more: four submits do not lock it."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for submit in range(1, 5):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], account(sim, region, **{CONF_PASSWORD: "wrong-password"})
        )
        assert result["errors"] == {"base": "invalid_auth"}
        assert password_logins(sim) == submit
        assert sum(logins_per_shard(sim).values()) == submit * len(REGIONS)
    assert not sim.tokens.locked(sim.username.lower())
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account(sim))
    assert result["step_id"] == "developer"


@pytest.mark.sim_config(shard="jp")
async def test_automatic_with_a_locked_account(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    for _ in range(10):
        if sim.tokens.record_failure(sim.username.lower()):
            break
    result = await submit_user(hass, account(sim))
    assert result["errors"] == {"base": "account_locked"}
    assert password_logins(sim) == 1


@pytest.mark.parametrize("region", [REGION_AUTO, "eu"])
async def test_locked_on_the_holding_shard_after_a_wrong_region(
    hass: HomeAssistant, sim: Any, socket_enabled: None, region: str
) -> None:
    """The holding shard says "locked" while the chosen one refused: locked it is."""
    sim.move_account("cn")
    for _ in range(10):
        if sim.tokens.record_failure(sim.username.lower()):
            break
    result = await submit_user(hass, account(sim, region))
    assert result["errors"] == {"base": "account_locked"}


async def test_automatic_unreachable(hass: HomeAssistant, sim: Any, socket_enabled: None) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    result = await submit_user(hass, account(sim, **{CONF_SERVER_URL: closed}))
    assert result["errors"] == {"base": "cannot_connect"}


async def test_automatic_with_server_errors_only(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """No shard answered anything usable: an unknown error (each one logged)."""
    sim.faults.server_error(TOKEN, 500)
    result = await submit_user(hass, account(sim))
    assert result["errors"] == {"base": "unknown"}


@pytest.mark.sim_config(shard="aus")
async def test_some_shards_could_not_check(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """No shard accepted and some did not answer: the error names those."""
    sim.faults.server_error(TOKEN, 503, count=2)
    result = await submit_user(hass, account(sim, **{CONF_PASSWORD: "wrong"}))
    assert result["errors"] == {"base": "regions_unreachable"}
    names = result["description_placeholders"]["region_names"].split("; ")
    assert len(names) == 2
    assert set(names) <= set(REGION_NAMES.values())


async def test_empty_password_with_automatic_sends_nothing(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    result = await submit_user(hass, account(sim, **{CONF_PASSWORD: ""}))
    assert result["errors"] == {"base": "invalid_auth"}
    assert sim.count(TOKEN) == 0


@pytest.mark.parametrize("region", [REGION_AUTO, "apac"])
async def test_several_shards_accept(
    hass: HomeAssistant,
    sim: Any,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    region: str,
) -> None:
    """The same e-mail on several shards (a server that holds the account on every
    shard but apac): the user chooses one."""

    def request_shard(self: app_api.AppApi, request: Any) -> str:
        if request.headers.get("client-server") == "apac":
            return "apac"
        return str(self.sim.shard)

    monkeypatch.setattr(app_api.AppApi, "request_shard", request_shard)
    result = await submit_user(hass, account(sim, region))
    assert result["errors"] == {"base": "multiple_regions"}
    assert result["description_placeholders"]["region_names"] == "; ".join(
        name for key, name in REGION_NAMES.items() if key != "apac"
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account(sim, "eu"))
    assert result["step_id"] == "developer"


async def test_an_unexpected_error_while_searching(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    with patch(
        "custom_components.sigen_cloud.flow_login.find_region", side_effect=RuntimeError("bug")
    ):
        result = await submit_user(hass, account(sim))
    assert result["errors"] == {"base": "unknown"}


async def test_the_account_cannot_be_read_after_automatic(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """The shard accepted, but reading the account failed: that error is shown."""
    sim.faults.malformed_json("station/home")
    result = await submit_user(hass, account(sim))
    assert result["errors"] == {"base": "unknown"}


# --- reauth ----------------------------------------------------------------------------


@pytest.mark.sim_config(shard="aus")
async def test_reauth_corrects_the_region(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """An Australian owner stored on the European shard: the password is right, the
    region is not. Reauth finds the account's shard and stores it."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    assert entry.data[CONF_REGION] == "eu"
    sim.clear_requests()
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert password_logins(sim) == 1
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: sim.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == {**account_data(sim), CONF_REGION: "aus"}
    assert password_logins(sim) == 2
    assert not sim.tokens.locked(sim.username.lower())


async def test_reauth_keeps_a_region_that_accepts(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    sim.clear_requests()
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: sim.password}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_REGION] == "eu"
    assert sim.count(TOKEN) == 1  # no other shard asked


# --- reconfigure -----------------------------------------------------------------------


@pytest.mark.sim_config(shard="jp")
async def test_reconfigure_with_automatic(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """Automatic in reconfigure stores the shard found; a wrong one is named."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "us", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "wrong_region"}
    assert result["description_placeholders"]["region_name"] == "Japan"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: REGION_AUTO, "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "developer"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), CONF_REGION: "jp"}


@pytest.mark.sim_config(shard="aus")
async def test_reconfigure_password_takes_the_region_that_accepts(
    hass: HomeAssistant, sim: Any, socket_enabled: None
) -> None:
    """Stored password and region both stale: the password step finds the shard."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=account_data(sim))
    entry.add_to_hass(hass)
    sim.change_password("new-password")
    sim.clear_requests()
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REGION: "eu", "advanced": {CONF_SERVER_URL: sim.api_url}}
    )
    assert result["step_id"] == "reconfigure_password"
    assert password_logins(sim) == 1
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "new-password"}
    )
    assert result["step_id"] == "developer"
    assert password_logins(sim) == 2
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"advanced": {}})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {**account_data(sim), CONF_REGION: "aus", CONF_PASSWORD: "new-password"}
