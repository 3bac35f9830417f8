"""MQTTConfig: the MQTT client's settings in one frozen object, and both ways to build."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sigen import NorthboundClient, SigenMQTT, SigenValidationError
from sigen.mqtt import MQTTConfig


def test_original_constructor_builds_the_config() -> None:
    mqtt = SigenMQTT(
        "key",
        "secret",
        "my app!",
        ["S1", " S2", "S1"],
        Path("/etc/ca.pem"),
        broker=("b1.example", " b2.example "),
        port=1883,
        reconnect_interval=5,
        keepalive=30,
    )
    assert mqtt.config == MQTTConfig(
        app_key="key",
        app_secret="secret",
        app_identifier="my app!",
        system_ids=("S1", "S2"),
        ca_cert_path="/etc/ca.pem",
        brokers=("b1.example", "b2.example"),
        port=1883,
        reconnect_interval=5.0,
        keepalive=30,
    )
    assert mqtt.system_ids == ["S1", "S2"]
    assert mqtt.brokers == ("b1.example", "b2.example")
    assert mqtt.client_id == mqtt.config.client_id == "sigen-myapp"


def test_from_config() -> None:
    config = MQTTConfig(app_key=" key ", app_secret="secret", app_identifier="app", system_ids="S1")
    assert config.app_key == "key"
    assert config.system_ids == ("S1",)
    mqtt = SigenMQTT.from_config(config)
    assert mqtt.config is config
    assert (mqtt.app_key, mqtt.system_ids, mqtt.broker, mqtt.port) == (
        "key",
        ["S1"],
        "mqtt-eu.sigencloud.com",
        8883,
    )
    assert not mqtt.connected
    assert repr(mqtt) == repr(SigenMQTT("key", "secret", "app", "S1"))


def test_from_config_shares_a_northbound_client() -> None:
    config = MQTTConfig(app_key="key", app_identifier="app", system_ids="S1")
    with pytest.raises(SigenValidationError, match="app secret"):
        SigenMQTT.from_config(config)
    northbound = NorthboundClient("https://nb.example/", "someone@example.com", "pw")
    assert SigenMQTT.from_config(config, northbound=northbound).northbound is northbound


def test_config_is_frozen_and_keeps_secrets_out_of_its_repr() -> None:
    config = MQTTConfig(
        app_key="key",
        app_secret="the-secret",
        app_identifier="app",
        system_ids="S1",
        client_cert_pem="CERT",
        client_key_pem="PRIVATE KEY",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
    assert "the-secret" not in repr(config)
    assert "PRIVATE KEY" not in repr(config)
    assert config.has_client_cert
    assert hash(config) == hash(dataclasses.replace(config))


def test_setting_an_attribute_replaces_the_checked_config() -> None:
    mqtt = SigenMQTT("key", "secret", "app", "S1")
    before = mqtt.config
    mqtt.reconnect_interval = 1
    assert mqtt.config.reconnect_interval == 1.0
    assert before.reconnect_interval == 30.0
    mqtt.system_ids = ["S2", "S3"]
    assert mqtt.config.system_ids == ("S2", "S3")
    with pytest.raises(SigenValidationError, match="reconnect_interval"):
        mqtt.reconnect_interval = 0
    assert mqtt.reconnect_interval == 1.0
    mqtt.broker = "other.example"
    assert mqtt.brokers == ("other.example",)
    assert mqtt.answered_broker is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"app_key": " "}, "app key"),
        ({"system_ids": ()}, "at least one system id"),
        ({"system_ids": ("S+",)}, "must not contain"),
        ({"brokers": ()}, "broker must be"),
        ({"ca_cert_path": "x", "ca_cert_pem": "y"}, "not both"),
        ({"client_key_pem": "x"}, "needs its private key"),
        ({"publish_timeout": -1}, "publish_timeout"),
        ({"token_refresh_margin": -1}, "must not be negative"),
    ],
)
def test_config_validation(changes: dict[str, object], message: str) -> None:
    base = {"app_key": "key", "app_secret": "s", "app_identifier": "app", "system_ids": "S1"}
    with pytest.raises(SigenValidationError, match=message):
        MQTTConfig(**{**base, **changes})  # type: ignore[arg-type]
