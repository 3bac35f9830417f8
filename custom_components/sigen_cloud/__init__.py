"""The Sigen Cloud integration: Sigenergy solar and battery systems through their cloud."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .client import (
    async_create_session,
    build_client,
    has_developer_credentials,
    keep_one_connection,
    nb_base_url,
)
from .const import CONF_APP_KEY, CONF_APP_SECRET, DOMAIN, LOGGER, PLATFORMS
from .coordinator import NorthboundAccess, SigenAccountCoordinator
from .coordinator.base import gather_all
from .data import SigenConfigEntry, SigenRuntimeData
from .device_tree import tree_identifier
from .entity import smart_load_identifier
from .ev_entity import charger_identifier
from .helpers import async_unblock_reauth
from .history_import import async_setup_history
from .push import SigenPushListener
from .repairs import async_create_developer_issue, async_delete_developer_issue
from .services import async_setup_services
from .session_store import SavedSession, SessionStore, async_remove_session
from .sigen import NBSystem, NorthboundClient, Sigen, SigenAuthError, SigenError

if TYPE_CHECKING:
    from aiohttp import ClientSession

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they target station devices)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SigenConfigEntry) -> bool:
    """Log in (or take the last run's tokens), fetch every station's first data, push.

    Nothing waits for a read it does not depend on (issue 21): the app login and the
    developer API's go together; on a restart (no login) the last run's stations send
    their first reads beside the station read, and the push listener starts as soon as
    the stations are known.
    """
    store = SessionStore(hass, entry)
    saved = await store.async_load()
    session = async_create_session(hass, entry)
    client = build_client(entry.data, session)
    restored = saved is not None and client.restore_tokens(saved.app)
    login, started = await asyncio.gather(
        _async_nothing() if restored else _async_login(hass, entry, client),
        _async_northbound(hass, entry, saved, session),
        return_exceptions=True,
    )
    if isinstance(login, BaseException):
        raise login
    if isinstance(started, BaseException):
        raise started
    northbound, check = started
    access = NorthboundAccess(northbound, check) if northbound is not None else None
    account = SigenAccountCoordinator(hass, entry, client, access)
    if saved is not None:
        account.saved_stations = saved.stations
    store.async_track(client, northbound, account)
    push = SigenPushListener(hass, entry, account, northbound, session)
    starting: list[asyncio.Task[None]] = []
    account.on_stations = lambda: starting.append(
        entry.async_create_task(
            hass, _async_start_push(hass, push, access), "sigen_cloud push start"
        )
    )
    try:
        await account.async_config_entry_first_refresh()
        await gather_all(starting)
    except BaseException:
        await push.async_stop()
        raise
    if access is not None and access.refused is not None:
        _developer_off(hass, entry, account, push, access.refused)
        northbound = None
        store.async_track(client, None, account)
    elif access is not None and not starting:
        async_delete_developer_issue(hass)  # else done as the push started
    store.async_save_later()  # the stations are known now
    entry.runtime_data = SigenRuntimeData(
        client=client, account=account, push=push, northbound=northbound, session=store
    )
    entry.async_on_unload(account.async_add_listener(push.async_account_updated))
    entry.async_on_unload(account.async_add_listener(store.async_save_later))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    keep_one_connection(session)
    await async_setup_history(hass, entry)
    return True


async def _async_nothing() -> None:
    """No login: the last run's app token is used."""


async def _async_start_push(
    hass: HomeAssistant, push: SigenPushListener, access: NorthboundAccess | None
) -> None:
    """Start the MQTT push once the stations are known (and a restored token checked)."""
    if access is not None:
        await access.async_checked()
        if access.refused is not None:
            return
        async_delete_developer_issue(hass)  # the credentials work (the push may say else)
    if push.async_create():
        push.async_start()


def _developer_off(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    account: SigenAccountCoordinator,
    push: SigenPushListener,
    err: SigenAuthError,
) -> None:
    """The restored developer token and the credentials were refused: app API only."""
    _developer_refused(hass, entry, err)
    account.northbound = None
    push.northbound = None
    for runtime in account.stations.values():
        runtime.settings.northbound = None


async def _async_login(hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen) -> None:
    """Log in with the password; a refusal asks for it again (reauthentication)."""
    try:
        await client.async_login()
    except SigenAuthError as err:
        async_unblock_reauth(hass, entry)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="setup_auth_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    except SigenError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err


async def _async_northbound(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    saved: SavedSession | None,
    session: ClientSession,
) -> tuple[NorthboundClient | None, asyncio.Task[list[NBSystem]] | None]:
    """The northbound client for the developer credentials, when there are any.

    The last run's token needs no login: the system list the account coordinator reads
    first is asked for at once with it (the check, handed over) and goes out beside the
    app API's first reads; a token and credentials the cloud no longer takes turn the
    developer API off after the first refresh (:func:`_developer_off`). Refused
    developer credentials do not stop the integration: it runs on the app API alone and
    a repair issue asks to correct them (reconfigure).
    """
    if not has_developer_credentials(entry.data):
        async_delete_developer_issue(hass)
        return None, None
    if saved is not None and saved.northbound is not None:
        restored = NorthboundClient(
            nb_base_url(entry.data),
            session=session,
            app_key=entry.data[CONF_APP_KEY],
            app_secret=entry.data[CONF_APP_SECRET],
        )
        if restored.restore_tokens(saved.northbound):
            check = entry.async_create_task(
                hass, restored.get_systems(), "sigen_cloud northbound check"
            )
            check.add_done_callback(_retrieve)
            return restored, check
    try:
        northbound = await NorthboundClient.from_app_key(
            base_url=nb_base_url(entry.data),
            app_key=entry.data[CONF_APP_KEY],
            app_secret=entry.data[CONF_APP_SECRET],
            session=session,
        )
    except SigenAuthError as err:
        _developer_refused(hass, entry, err)
        return None, None
    except SigenError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_northbound_cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    async_delete_developer_issue(hass)
    return northbound, None


def _retrieve(task: asyncio.Task[list[NBSystem]]) -> None:
    """Take the check's outcome (read by the account coordinator, or by no one)."""
    if not task.cancelled():
        task.exception()


def _developer_refused(hass: HomeAssistant, entry: SigenConfigEntry, err: SigenAuthError) -> None:
    """Run without the developer API; a repair issue asks to correct the credentials."""
    LOGGER.warning("The developer credentials were refused, push is off: %s", err)
    async_create_developer_issue(hass, entry, err)


async def async_unload_entry(hass: HomeAssistant, entry: SigenConfigEntry) -> bool:
    """Unload the platforms, stop the MQTT listener and close the clients we own."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    runtime = entry.runtime_data
    if runtime.history is not None:
        await runtime.history.async_unload()
    if runtime.session is not None:
        await runtime.session.async_save()
    # The clients run on the entry's session, closed with the entry (client.py).
    await runtime.push.async_stop()
    if runtime.northbound is not None:
        await runtime.northbound.close()
    await runtime.client.close()
    return True


async def async_remove_entry(hass: HomeAssistant, entry: SigenConfigEntry) -> None:
    """Remove the entry's stored session (its tokens) with the entry."""
    await async_remove_session(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: SigenConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow deleting a device only when its station (or load, or charger) is gone."""
    active: set[tuple[str, str]] = set()
    for station_id, station in entry.runtime_data.stations.items():
        active.add((DOMAIN, station_id))
        if station.smart_loads is not None and station.smart_loads.data is not None:
            active.update(
                smart_load_identifier(station_id, path) for path in station.smart_loads.data.loads
            )
        if station.ev is not None and station.ev.data is not None:
            active.update(charger_identifier(station_id, sn) for sn in station.ev.data.chargers)
        if station.devices is not None and station.devices.data is not None:
            tree = station.devices.data.tree or ()
            active.update(tree_identifier(station_id, node.serial) for node in tree)
    return not device.identifiers & active
