"""Building the library's clients from a config entry's data (or a config flow's input).

The setup, the config flow and the MQTT push listener build their clients here, so that
one entry's server overrides, region and broker candidates are read one way only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from homeassistant.const import CONF_PASSWORD, CONF_USERNAME

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
)
from .sigen import MQTT_PORT, NorthboundClient, Sigen, SigenMQTT, get_region

if TYPE_CHECKING:
    from aiohttp import ClientSession

# Seconds before reconnecting to the broker after a disconnection / an error.
MQTT_RECONNECT_INTERVAL = 30.0
MQTT_ERROR_RECONNECT_INTERVAL = 60.0


def has_developer_credentials(data: Mapping[str, Any]) -> bool:
    """Whether the entry (or flow input) holds a complete set of developer credentials."""
    return all(data.get(key) for key in (CONF_APP_KEY, CONF_APP_SECRET, CONF_APP_IDENTIFIER))


def app_base_url(data: Mapping[str, Any]) -> str:
    """The app API base URL: the advanced server URL, else the region's."""
    if server_url := data.get(CONF_SERVER_URL):
        return str(server_url)
    return get_region(data.get(CONF_REGION) or DEFAULT_REGION).app_base_url


def nb_base_url(data: Mapping[str, Any]) -> str:
    """The northbound API base URL (a custom server URL serves both APIs)."""
    if nb_url := data.get(CONF_NB_URL):
        return str(nb_url)
    if server_url := data.get(CONF_SERVER_URL):
        return str(server_url)
    return get_region(data.get(CONF_REGION) or DEFAULT_REGION).nb_base_url


def mqtt_broker(data: Mapping[str, Any]) -> tuple[str, int]:
    """The MQTT broker host (the first to try) and TLS port."""
    hosts, port = mqtt_brokers(data)
    return hosts[0], port


def mqtt_brokers(data: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    """The MQTT broker host candidates and TLS port.

    The advanced override is one host; else the region's candidates come in the order
    to try (Australia has two).
    """
    port = int(data.get(CONF_MQTT_PORT) or MQTT_PORT)
    if host := data.get(CONF_MQTT_HOST):
        return (str(host),), port
    return get_region(data.get(CONF_REGION) or DEFAULT_REGION).mqtt_hosts, port


class ServerOptions(TypedDict):
    """The entry's server overrides, as :class:`~sigen.client.Sigen` keyword arguments."""

    base_url: str | None
    nb_base_url: str | None


def server_options(data: Mapping[str, Any]) -> ServerOptions:
    """The entry's server overrides (both ``None``: the region's own hosts)."""
    server_url = data.get(CONF_SERVER_URL) or None
    return ServerOptions(base_url=server_url, nb_base_url=nb_base_url(data) if server_url else None)


def build_client(data: Mapping[str, Any], session: ClientSession) -> Sigen:
    """An app API client for the entry's account, on the given (shared) session."""
    return Sigen(
        data.get(CONF_USERNAME, ""),
        data.get(CONF_PASSWORD, ""),
        region=data.get(CONF_REGION, DEFAULT_REGION),
        session=session,
        **server_options(data),
    )


def build_mqtt(
    data: Mapping[str, Any],
    system_ids: list[str],
    session: ClientSession,
    northbound: NorthboundClient | None,
    *,
    answered_broker: str | None = None,
) -> SigenMQTT:
    """An MQTT client for the entry's developer credentials (certificates as PEM text).

    It tries the broker candidates in order (:func:`mqtt_brokers`); ``answered_broker``
    (one that answered an earlier client of the entry) goes first.
    """
    hosts, port = mqtt_brokers(data)
    if answered_broker in hosts:
        hosts = (answered_broker, *(h for h in hosts if h != answered_broker))
    return SigenMQTT(
        data[CONF_APP_KEY],
        data[CONF_APP_SECRET],
        data[CONF_APP_IDENTIFIER],
        system_ids,
        broker=hosts,
        port=port,
        base_url=nb_base_url(data),
        ca_cert_pem=data.get(CONF_CA_CERT) or None,
        client_cert_pem=data.get(CONF_CLIENT_CERT) or None,
        client_key_pem=data.get(CONF_CLIENT_KEY) or None,
        session=session,
        northbound=northbound,
        reconnect_interval=MQTT_RECONNECT_INTERVAL,
        error_reconnect_interval=MQTT_ERROR_RECONNECT_INTERVAL,
    )
