"""The Sigen Cloud integration: Sigenergy solar and battery systems through their cloud."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .client import build_client, has_developer_credentials, nb_base_url
from .const import CONF_APP_KEY, CONF_APP_SECRET, DOMAIN, LOGGER, PLATFORMS
from .coordinator import NorthboundAccess, SigenAccountCoordinator
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

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they target station devices)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SigenConfigEntry) -> bool:
    """Log in (or take the last run's tokens), fetch every station's first data, push."""
    store = SessionStore(hass, entry)
    saved = await store.async_load()
    client = build_client(entry.data, async_get_clientsession(hass))
    if saved is None or not client.restore_tokens(saved.app):
        await _async_login(hass, entry, client)
    northbound, systems = await _async_northbound(hass, entry, saved)
    access = NorthboundAccess(northbound) if northbound is not None else None
    if access is not None:
        access.first_systems = systems
    account = SigenAccountCoordinator(hass, entry, client, access)
    if saved is not None:
        account.saved_stations = saved.stations
    store.async_track(client, northbound, account)
    await account.async_config_entry_first_refresh()
    store.async_save_later()  # the stations are known now
    push = SigenPushListener(hass, entry, account, northbound)
    entry.runtime_data = SigenRuntimeData(
        client=client, account=account, push=push, northbound=northbound, session=store
    )
    push.async_create()  # before the platforms: they look at runtime_data.mqtt
    entry.async_on_unload(account.async_add_listener(push.async_account_updated))
    entry.async_on_unload(account.async_add_listener(store.async_save_later))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    push.async_start()
    await async_setup_history(hass, entry)
    return True


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
    hass: HomeAssistant, entry: SigenConfigEntry, saved: SavedSession | None
) -> tuple[NorthboundClient | None, list[NBSystem] | None]:
    """Log in to the northbound API with the developer credentials, when there are any.

    The last run's token needs no login: the system list the account coordinator reads
    first is read here with it (and handed over), so that a token and credentials the
    cloud no longer takes fall back to the login below. Refused developer credentials
    do not stop the integration: it runs on the app API alone and a repair issue asks
    to correct them (reconfigure).
    """
    if not has_developer_credentials(entry.data):
        async_delete_developer_issue(hass)
        return None, None
    if saved is not None and saved.northbound is not None:
        restored = NorthboundClient(
            nb_base_url(entry.data),
            session=async_get_clientsession(hass),
            app_key=entry.data[CONF_APP_KEY],
            app_secret=entry.data[CONF_APP_SECRET],
        )
        if restored.restore_tokens(saved.northbound):
            try:
                systems = await restored.get_systems()
            except SigenAuthError as err:  # the token and a new login were refused
                return _developer_refused(hass, entry, err)
            except SigenError:
                systems = None  # the account coordinator reads the list again
            async_delete_developer_issue(hass)
            return restored, systems
    try:
        northbound = await NorthboundClient.from_app_key(
            base_url=nb_base_url(entry.data),
            app_key=entry.data[CONF_APP_KEY],
            app_secret=entry.data[CONF_APP_SECRET],
            session=async_get_clientsession(hass),
        )
    except SigenAuthError as err:
        return _developer_refused(hass, entry, err)
    except SigenError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_northbound_cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    async_delete_developer_issue(hass)
    return northbound, None


def _developer_refused(
    hass: HomeAssistant, entry: SigenConfigEntry, err: SigenAuthError
) -> tuple[None, None]:
    """Run without the developer API; a repair issue asks to correct the credentials."""
    LOGGER.warning("The developer credentials were refused, push is off: %s", err)
    async_create_developer_issue(hass, entry, err)
    return None, None


async def async_unload_entry(hass: HomeAssistant, entry: SigenConfigEntry) -> bool:
    """Unload the platforms, stop the MQTT listener and close the clients we own."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    runtime = entry.runtime_data
    if runtime.history is not None:
        await runtime.history.async_unload()
    if runtime.session is not None:
        await runtime.session.async_save()
    # The clients run on Home Assistant's shared session, which they never close.
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
