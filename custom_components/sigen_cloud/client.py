"""Building the library's clients from a config entry's data (or a config flow's input).

The setup, the config flow and the MQTT push listener build their clients here, so that
one entry's server overrides, region and broker candidates are read one way only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypedDict

import aiohttp
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import HomeAssistantTCPConnector
from homeassistant.util import ssl as ssl_util

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
    ENERGY_FLOW_INTERVAL,
)
from .sigen import MQTT_PORT, NorthboundClient, Sigen, SigenMQTT, get_region

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from .data import SigenConfigEntry

# Seconds an idle connection to the cloud is kept (issue 21): longer than the energy
# flow's poll, so that the steady state runs on the connections it has. Home
# Assistant's shared connector keeps them 15 s, and so opened a TCP and TLS connection
# for almost every poll (72 an hour).
KEEPALIVE_TIMEOUT: Final = 1.5 * ENERGY_FLOW_INTERVAL.total_seconds()
# Connections to one host at most: every read of a start-up goes out at once (50
# stations' northbound modes and one station's app reads: 72). After it, one: a read
# beside another waits for the connection instead of opening a second one that would
# idle past its keep-alive (bench: 12 new connections an hour with two).
CONNECTIONS_PER_HOST: Final = 100


class EntryConnector(HomeAssistantTCPConnector):
    """Home Assistant's connector, wide for the start-up, then one connection per host."""

    def keep_one_connection(self) -> None:
        """From now on, requests to a host take turns on one connection."""
        self._limit_per_host = 1


def keep_one_connection(session: ClientSession) -> None:
    """The entry's start-up is done: its requests take turns on one connection a host."""
    if isinstance(connector := session.connector, EntryConnector):
        connector.keep_one_connection()


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


@callback
def async_create_session(hass: HomeAssistant, entry: SigenConfigEntry) -> ClientSession:
    """The entry's HTTP session: kept-alive connections, verified TLS, closed with it.

    Home Assistant's connector class and TLS context (certificates verified, HTTP/1.1
    negotiated), with a keep-alive that outlasts the poll interval; the shared session's
    connector cannot be given another one. After the start-up (:func:`keep_one_connection`)
    it keeps one connection per host. It is closed when the entry unloads (a failed
    set-up too) and when Home Assistant closes.
    """
    connector = EntryConnector(
        ssl=ssl_util.client_context(
            ssl_util.SSLCipherList.PYTHON_DEFAULT, ssl_util.SSL_ALPN_HTTP11
        ),
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        limit=2 * CONNECTIONS_PER_HOST,
        limit_per_host=CONNECTIONS_PER_HOST,
        # The cloud's hosts are public names: no multicast DNS needed.
        resolver=aiohttp.ThreadedResolver(),
    )
    session = aiohttp.ClientSession(connector=connector)

    async def _async_close(_event: Event | None = None) -> None:
        await session.close()

    entry.async_on_unload(_async_close)
    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, _async_close))
    return session


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
