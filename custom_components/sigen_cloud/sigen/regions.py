"""The shards ("regions") of Sigenergy's cloud (§1.1 of the API notes).

Each shard has its own app API host, northbound (developer) API host and MQTT broker,
and the app API's ``client-server`` header names it. An account lives on one shard;
any other shard answers its login with "authentication failed", exactly like a wrong
password.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .errors import SigenValidationError


@dataclass(frozen=True, slots=True)
class Region:
    """One shard of the cloud.

    ``mqtt_hosts`` lists the MQTT broker host candidates in the order to try (the
    sources disagree for some shards); ``mqtt_host`` is the first.
    """

    key: str
    name: str
    app_base_url: str
    nb_base_url: str
    mqtt_hosts: tuple[str, ...]
    client_server: str

    @property
    def mqtt_host(self) -> str:
        """The MQTT broker host to try first."""
        return self.mqtt_hosts[0]

    @property
    def web_app_origin(self) -> str:
        """The web app's origin (``https://api-X`` becomes ``https://app-X``)."""
        return self.app_base_url.rstrip("/").replace("https://api-", "https://app-", 1)


def _region(
    key: str, name: str, *, mqtt_hosts: tuple[str, ...] | None = None, client_server: str = ""
) -> Region:
    return Region(
        key=key,
        name=name,
        app_base_url=f"https://api-{key}.sigencloud.com/",
        nb_base_url=f"https://openapi-{key}.sigencloud.com/",
        mqtt_hosts=mqtt_hosts or (f"mqtt-{key}.sigencloud.com",),
        client_server=client_server or key,
    )


#: The six shards, by key, in the order a region list shows them. ``apac`` sends the
#: header ``apac`` (one source maps it to ``aus``, which is now its own shard); the
#: Australian broker is unresolved (``mqtt-aus`` first, then ``mqtt-apac``); no source
#: names a Japanese broker (``mqtt-jp`` follows the naming rule).
REGIONS: Final[MappingProxyType[str, Region]] = MappingProxyType(
    {
        region.key: region
        for region in (
            _region("eu", "Europe, Middle East and Africa"),
            _region("apac", "Asia-Pacific"),
            _region(
                "aus",
                "Australia and New Zealand",
                mqtt_hosts=("mqtt-aus.sigencloud.com", "mqtt-apac.sigencloud.com"),
            ),
            _region("us", "North America"),
            _region("jp", "Japan"),
            _region("cn", "China"),
        )
    }
)
DEFAULT_REGION: Final = "eu"


def get_region(region: str) -> Region:
    """The shard of ``region`` (a key, case and surrounding blanks ignored).

    Raises :class:`~sigen.errors.SigenValidationError` (a :class:`ValueError`) for an
    unknown key.
    """
    key = region.strip().lower() if isinstance(region, str) else ""
    try:
        return REGIONS[key]
    except KeyError:
        raise SigenValidationError(
            f"Unknown Sigen region {region!r}: use one of {', '.join(REGIONS)} "
            "(Middle East and Africa use 'eu', New Zealand uses 'aus')"
        ) from None
