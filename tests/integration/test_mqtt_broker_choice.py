"""Which MQTT broker the integration connects to (issue 14).

Without a broker set by the user, the listener gets the region's host candidates (two
for Australia, where the sources disagree) and tries them in order; the candidate that
answered is kept for the entry's life: a rebuilt listener (new systems, a restart of the
push) tries it first.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import pytest_socket
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.sigen_cloud import client as client_module
from custom_components.sigen_cloud.client import build_mqtt, mqtt_broker, mqtt_brokers
from custom_components.sigen_cloud.const import (
    CONF_APP_IDENTIFIER,
    CONF_APP_KEY,
    CONF_APP_SECRET,
    CONF_MQTT_HOST,
    CONF_MQTT_PORT,
    CONF_REGION,
    DOMAIN,
)
from custom_components.sigen_cloud.push import SigenPushListener
from custom_components.sigen_cloud.sigen import REGIONS, get_region

from .conftest import account_data, account_id, developer_data, wait_for

AUS = ("mqtt-aus.sigencloud.com", "mqtt-apac.sigencloud.com")
CLOSED = "127.0.0.2"  # nothing listens there


def test_candidates_of_the_region_or_the_users_host() -> None:
    assert get_region("aus").mqtt_hosts == AUS
    assert mqtt_brokers({CONF_REGION: "aus"}) == (AUS, 8883)
    assert mqtt_broker({CONF_REGION: "aus"}) == (AUS[0], 8883)  # shown in the form
    assert mqtt_brokers({CONF_REGION: "eu"}) == (("mqtt-eu.sigencloud.com",), 8883)
    assert mqtt_brokers({}) == (("mqtt-eu.sigencloud.com",), 8883)
    # A host set by the user is the only candidate.
    assert mqtt_brokers({CONF_REGION: "aus", CONF_MQTT_HOST: "b", CONF_MQTT_PORT: 1}) == (
        ("b",),
        1,
    )


def test_build_mqtt_puts_the_answered_broker_first() -> None:
    data = {
        CONF_REGION: "aus",
        CONF_APP_KEY: "key",
        CONF_APP_SECRET: "secret",
        CONF_APP_IDENTIFIER: "app",
    }
    session: Any = None  # never used: nothing connects here
    assert build_mqtt(data, ["SYS"], session, None).brokers == AUS
    again = build_mqtt(data, ["SYS"], session, None, answered_broker=AUS[1])
    assert again.brokers == (AUS[1], AUS[0])
    # A host that is no candidate (the region changed) is ignored.
    assert build_mqtt(data, ["SYS"], session, None, answered_broker="x").brokers == AUS


async def test_answered_broker_kept_for_the_entry(
    hass: HomeAssistant, sim_mqtt: Any, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The region's first candidate does not answer (a closed port here), the second
    does; after a restart of the push the listener tries the second first."""
    sim = sim_mqtt
    pytest_socket.socket_allow_hosts(["127.0.0.1", CLOSED])
    region = dataclasses.replace(REGIONS[sim.shard], mqtt_hosts=(CLOSED, sim.mqtt_host))
    monkeypatch.setattr(client_module, "get_region", lambda key: region)
    data = {**account_data(sim), **developer_data(sim)}
    del data[CONF_MQTT_HOST]  # no broker set by the user: the region's candidates
    entry = MockConfigEntry(domain=DOMAIN, unique_id=await account_id(sim), data=data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    push: SigenPushListener = entry.runtime_data.push
    try:
        await wait_for(hass, lambda: push.connected, "the MQTT connection")
        first = push.mqtt
        assert first is not None
        assert first.brokers == (CLOSED, sim.mqtt_host)
        assert first.answered_broker == sim.mqtt_host

        await push.async_restart()
        second = push.mqtt
        assert second is not None
        assert second is not first
        assert second.brokers == (sim.mqtt_host, CLOSED)
        await wait_for(hass, lambda: push.connected, "the MQTT connection")
        assert second.answered_broker == sim.mqtt_host
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
