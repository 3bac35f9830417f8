"""Diagnostics: useful, and nothing that identifies the owner or opens the account."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.sigen_cloud.const import CONF_CLIENT_CERT, CONF_CLIENT_KEY, DOMAIN

from .conftest import account_data, account_id


def forbidden(sim: Any, entry: MockConfigEntry) -> list[str]:
    """Every secret, identifier and piece of certificate text the dump must not hold."""
    values = [sim.username, sim.password, str(entry.unique_id)]
    for station in sim.stations:
        values += [str(station.station_id), station.system_id]
    if sim.mqtt is not None:
        values += [sim.app_key, sim.app_secret, sim.app_identifier]
        # Any line of the PEM body (the armour lines are public knowledge).
        values += [
            line for line in sim.certs.ca_pem.splitlines() if line and not line.startswith("-----")
        ][:3]
    return values


async def dump(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> tuple[dict[str, Any], str]:
    assert await async_setup_component(hass, "diagnostics", {})
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    return result, json.dumps(result)


async def test_diagnostics_polling(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    loaded_entry: MockConfigEntry,
    sim: Any,
) -> None:
    """The dump has the data, with every secret and serial redacted."""
    result, text = await dump(hass, hass_client, loaded_entry)
    for value in forbidden(sim, loaded_entry):
        assert value not in text, value
    assert result["entry"]["data"]["password"] == "**REDACTED**"
    assert result["coordinator"]["last_update_success"] is True
    station = result["coordinator"]["stations"][0]
    assert station["energy_flow"]["battery_soc"] is not None
    assert station["station_id"] == "**REDACTED**"


async def test_diagnostics_with_mqtt(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mqtt_entry: MockConfigEntry,
    sim_mqtt: Any,
) -> None:
    """Developer credentials, certificates and tokens are redacted too."""
    await sim_mqtt.publish_telemetry()
    result, text = await dump(hass, hass_client, mqtt_entry)
    for value in forbidden(sim_mqtt, mqtt_entry):
        assert value not in text, value
    northbound = mqtt_entry.runtime_data.northbound
    assert northbound is not None
    if northbound.access_token:
        assert northbound.access_token not in text
    assert result["coordinator"]["developer_credentials"] is True
    assert result["entry"]["data"]["ca_cert"] == "**REDACTED**"


async def test_diagnostics_redacts_stored_certificates(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim_mqtt: Any,
    socket_enabled: None,
) -> None:
    """Client certificate and private key text never reach the dump."""
    sim = sim_mqtt
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Sigen Cloud",
        unique_id=await account_id(sim),
        data={
            **account_data(sim),
            CONF_CLIENT_CERT: sim.certs.client_cert_pem,
            CONF_CLIENT_KEY: sim.certs.client_key_pem,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    _, text = await dump(hass, hass_client, entry)
    for pem in (sim.certs.client_cert_pem, sim.certs.client_key_pem):
        for line in pem.splitlines():
            if line and not line.startswith("-----"):
                assert line not in text
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
