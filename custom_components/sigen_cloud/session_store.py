"""What a restart starts from: the last run's tokens and station ids (issue 21).

Home Assistant restarts often; logging in again each time costs a round trip and is one
more chance for the cloud's login rate limit and account lock. The entry's app token
(with its refresh token), its northbound token and its stations (ids, and the app
station as last read, so that every first read goes out at once) are kept in Home
Assistant's private storage (``.storage/sigen_cloud.session.<entry id>``), saved a
little after every new token and at unload, and removed with the entry. They are
secrets: never logged, never in the diagnostics.

Anything unusable is ignored and the start-up takes the path of a first set-up: a
stored state of another format or account, an unreadable file. A token the cloud no
longer takes is renewed by the library as any other (refresh, then login).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import CONF_USERNAME
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .client import app_base_url, nb_base_url
from .const import CONF_APP_KEY, DOMAIN, LOGGER
from .sigen import SigenError, StationInfo

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .coordinator import SigenAccountCoordinator
    from .data import SigenConfigEntry
    from .sigen import NorthboundClient, Sigen

# The Store's own version stays 1 (another would need a migration); the data's format
# is FORMAT: a stored state of another format is ignored, never migrated.
_STORE_VERSION: Final = 1
FORMAT: Final = 1
# Seconds between a new token and its write (Home Assistant's delayed save).
SAVE_DELAY: Final = 10.0


def storage_key(entry_id: str) -> str:
    """The storage key of an entry's session."""
    return f"{DOMAIN}.session.{entry_id}"


def account_fingerprint(data: Mapping[str, Any]) -> str:
    """Which account and servers a stored state belongs to (a hash, no address in it).

    Another account, server or developer key (a reconfiguration) makes the state
    of the last run worthless.
    """
    parts = (
        str(data.get(CONF_USERNAME, "")).strip().lower(),
        app_base_url(data),
        nb_base_url(data),
        str(data.get(CONF_APP_KEY) or ""),
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SavedStation:
    """A station of the last run: its key, its northbound system id, its app station.

    ``info`` (the app API's station as last read) lets a restart build the station's
    coordinators before the station is read again; a state stored without it (an
    earlier version) waits for that read instead.
    """

    station_id: str
    system_id: str | None
    app: bool
    info: StationInfo | None = None


def _info(value: object, station_id: str) -> StationInfo | None:
    """The stored app station, when it is readable and the station's own."""
    if not isinstance(value, dict):
        return None
    try:
        info = StationInfo.from_dict(value)
    except SigenError:
        return None
    return info if info.station_id == station_id else None


@dataclass(frozen=True, slots=True)
class SavedSession:
    """The state of the last run, as loaded (the tokens as the library exported them)."""

    app: Mapping[str, Any] | None
    northbound: Mapping[str, Any] | None
    stations: tuple[SavedStation, ...]


def _stations(value: object) -> tuple[SavedStation, ...]:
    """The stored stations (malformed items are left out)."""
    if not isinstance(value, list):
        return ()
    found: list[SavedStation] = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("station_id"), str):
            continue
        system_id = item.get("system_id")
        app = bool(item.get("app"))
        found.append(
            SavedStation(
                item["station_id"],
                system_id if isinstance(system_id, str) else None,
                app,
                _info(item.get("info"), item["station_id"]) if app else None,
            )
        )
    return tuple(found)


def parse(data: object, fingerprint: str) -> SavedSession | None:
    """The stored state when it is of this format and account, else ``None``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("account") != fingerprint:
        return None
    app, northbound = data.get("app"), data.get("northbound")
    return SavedSession(
        app if isinstance(app, dict) else None,
        northbound if isinstance(northbound, dict) else None,
        _stations(data.get("stations")),
    )


class SessionStore:
    """The entry's stored session: loaded at set-up, saved after new tokens and at unload."""

    def __init__(self, hass: HomeAssistant, entry: SigenConfigEntry) -> None:
        """The store of ``entry`` (nothing is read yet)."""
        self._store = Store[dict[str, Any]](
            hass, _STORE_VERSION, storage_key(entry.entry_id), private=True
        )
        self._fingerprint = account_fingerprint(entry.data)
        self._client: Sigen | None = None
        self._northbound: NorthboundClient | None = None
        self._account: SigenAccountCoordinator | None = None

    async def async_load(self) -> SavedSession | None:
        """The last run's state, or ``None`` (nothing stored, or nothing usable)."""
        try:
            data = await self._store.async_load()
        except (HomeAssistantError, NotImplementedError, ValueError, OSError) as err:
            LOGGER.debug("The stored session could not be read, logging in: %s", type(err))
            return None
        saved = parse(data, self._fingerprint)
        if data is not None and saved is None:
            LOGGER.debug("The stored session is of another format or account; ignored")
        return saved

    @callback
    def async_track(
        self,
        client: Sigen,
        northbound: NorthboundClient | None,
        account: SigenAccountCoordinator,
    ) -> None:
        """Save (a little later) after every new token of either client."""
        self._client, self._northbound, self._account = client, northbound, account
        client.set_token_listener(self.async_save_later)
        if northbound is not None:
            northbound.set_token_listener(self.async_save_later)

    @callback
    def async_save_later(self) -> None:
        """Save the current state in :data:`SAVE_DELAY` seconds (one write for many)."""
        if self._client is not None:
            self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_save(self) -> None:
        """Save now (at unload) and stop listening for tokens."""
        if self._client is None:
            return
        await self._store.async_save(self._data())
        self._client.set_token_listener(None)
        if self._northbound is not None:
            self._northbound.set_token_listener(None)

    def _data(self) -> dict[str, Any]:
        """What is stored: the format, the account's fingerprint, tokens, stations."""
        assert self._client is not None
        stations = [] if self._account is None else self._account.stations.values()
        return {
            "format": FORMAT,
            "account": self._fingerprint,
            "app": self._client.token_state(),
            "northbound": None if self._northbound is None else self._northbound.token_state(),
            "stations": [
                {
                    "station_id": runtime.station_id,
                    "system_id": runtime.system_id,
                    "app": runtime.info is not None,
                    "info": None if runtime.info is None else runtime.info.raw,
                }
                for runtime in stations
            ],
        }


async def async_remove_session(hass: HomeAssistant, entry_id: str) -> None:
    """Remove an entry's stored session (the entry is deleted)."""
    await Store[dict[str, Any]](hass, _STORE_VERSION, storage_key(entry_id)).async_remove()
