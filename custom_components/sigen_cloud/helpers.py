"""Helpers the platforms, the coordinators and the actions share.

Error translation, and the station's time zone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .sigen import (
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenMQTTError,
    SigenRateLimitError,
    SigenValidationError,
)

if TYPE_CHECKING:
    from .data import SigenConfigEntry
    from .models import AccountStation

# The translation key of each library error a user's action may meet, most specific
# first (a rate limit is an API error, a validation error is a ValueError too).
_ACTION_ERRORS: tuple[tuple[type[SigenError], str], ...] = (
    (SigenRateLimitError, "rate_limited"),
    (SigenAPIError, "cloud_refused"),
    (SigenConnectionError, "cannot_connect"),
    (SigenMQTTError, "mqtt_error"),
    (SigenError, "unknown_error"),
)


@asynccontextmanager
async def sigen_errors(hass: HomeAssistant, entry: SigenConfigEntry) -> AsyncIterator[None]:
    """Turn the library's errors into translated Home Assistant errors.

    Bad input is the user's (``ServiceValidationError``); a refused password also starts
    the reauthentication; everything else is the cloud's (``HomeAssistantError``).
    """
    try:
        yield
    except SigenValidationError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_request",
            translation_placeholders={"error": str(err)},
        ) from err
    except SigenAuthError as err:
        entry.async_start_reauth(hass)
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    except SigenError as err:
        key = next(key for kind, key in _ACTION_ERRORS if isinstance(err, kind))
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"error": str(err)},
        ) from err


@callback
def async_unblock_reauth(hass: HomeAssistant, entry: SigenConfigEntry) -> None:
    """Abort the entry's open reconfigure flows before its password is reported refused.

    Home Assistant starts no reauthentication (with its own fixable repair) while a
    reconfigure flow of the entry is open, and one left open in a closed browser tab
    stays open until Home Assistant restarts. This is no second notification: without
    it, the reauthentication would not start at all.
    """
    for flow in entry.async_get_active_flows(hass, {SOURCE_RECONFIGURE}):
        hass.config_entries.flow.async_abort(flow["flow_id"])


def station_zone(station: AccountStation, default: str | None = None) -> tzinfo:
    """The station's time zone (its ``timeZoneName``), else ``default``, else HA's.

    The cloud counts days, prices and schedules in the station's local time; an
    unknown zone name is logged and skipped.
    """
    name = station.info.time_zone if station.info is not None else None
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                LOGGER.debug("Unknown time zone %r of station %s", candidate, station.station_id)
    return dt_util.get_default_time_zone()
