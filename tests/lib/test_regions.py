"""The six shards of the cloud (§1.1 of the API notes) and the tables derived from them."""

from __future__ import annotations

import dataclasses

import pytest

import sigen
from sigen.const import CLIENT_SERVER_BY_REGION, MQTT_BROKERS, NB_BASE_URLS, REGION_BASE_URLS
from sigen.errors import SigenValidationError
from sigen.regions import DEFAULT_REGION, REGIONS, Region, get_region


def test_six_shards_in_order() -> None:
    assert list(REGIONS) == ["eu", "apac", "aus", "us", "jp", "cn"]
    assert {k: r.name for k, r in REGIONS.items()} == {
        "eu": "Europe, Middle East and Africa",
        "apac": "Asia-Pacific",
        "aus": "Australia and New Zealand",
        "us": "North America",
        "jp": "Japan",
        "cn": "China",
    }
    assert DEFAULT_REGION in REGIONS
    assert sigen.REGIONS is REGIONS
    assert sigen.Region is Region


@pytest.mark.parametrize("key", ["eu", "apac", "aus", "us", "jp", "cn"])
def test_shard_hosts(key: str) -> None:
    region = REGIONS[key]
    assert region.key == key
    assert region.app_base_url == f"https://api-{key}.sigencloud.com/"
    assert region.nb_base_url == f"https://openapi-{key}.sigencloud.com/"
    assert region.web_app_origin == f"https://app-{key}.sigencloud.com"
    # The header names the shard: apac sends "apac", aus (its own shard) "aus".
    assert region.client_server == key
    assert region.mqtt_host == region.mqtt_hosts[0]
    assert isinstance(region.mqtt_hosts, tuple)


def test_mqtt_candidates() -> None:
    # Australia is unresolved: mqtt-aus first, then mqtt-apac.
    assert REGIONS["aus"].mqtt_hosts == ("mqtt-aus.sigencloud.com", "mqtt-apac.sigencloud.com")
    assert REGIONS["eu"].mqtt_hosts == ("mqtt-eu.sigencloud.com",)
    assert REGIONS["jp"].mqtt_hosts == ("mqtt-jp.sigencloud.com",)


def test_region_is_frozen_and_table_read_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGIONS["eu"].key = "xx"  # type: ignore[misc]
    with pytest.raises(TypeError):
        REGIONS["xx"] = REGIONS["eu"]  # type: ignore[index]


def test_derived_tables() -> None:
    assert set(REGION_BASE_URLS) == set(REGIONS)
    for key, region in REGIONS.items():
        assert REGION_BASE_URLS[key] == region.app_base_url
        assert NB_BASE_URLS[key] == region.nb_base_url
        assert CLIENT_SERVER_BY_REGION[key] == region.client_server
        assert MQTT_BROKERS[key] == region.mqtt_hosts[0]


def test_get_region() -> None:
    assert get_region(" AUS ") is REGIONS["aus"]
    with pytest.raises(SigenValidationError, match="Unknown Sigen region 'anz'"):
        get_region("anz")
    with pytest.raises(SigenValidationError, match="Unknown Sigen region None"):
        get_region(None)  # type: ignore[arg-type]
