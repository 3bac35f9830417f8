"""Fixtures of the reliability suite (issue 7): the simulator, a fast-reconnecting
:class:`SigenMQTT`, Home Assistant with the integration, and leak counters."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/sigen_cloud (tests with ``hass``)."""


@pytest.fixture
def fast_ha_reconnect() -> Iterator[None]:
    """The integration's MQTT listener reconnects within a fraction of a second."""
    with (
        patch("custom_components.sigen_cloud.client.MQTT_RECONNECT_INTERVAL", 0.2),
        patch("custom_components.sigen_cloud.client.MQTT_ERROR_RECONNECT_INTERVAL", 0.2),
    ):
        yield
