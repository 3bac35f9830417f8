"""Actions of the energy history (issue 19): import it into the statistics, or stop that.

``sigen_cloud.import_history`` imports the days ``start`` … ``end`` (default: yesterday;
today's hours come from the live poll) of a station in the background and returns at
once; progress shows in a persistent notification. ``sigen_cloud.cancel_history_import``
stops a running import of the station. Both need the recorder and an app API station.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

import probatio as vol
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN
from .services_fields import async_get_station, field_error, validation_error

if TYPE_CHECKING:
    from .data import SigenConfigEntry, StationRuntime
    from .history_import import HistoryImports

ATTR_START: Final = "start"
ATTR_END: Final = "end"
SERVICE_IMPORT_HISTORY: Final = "import_history"
SERVICE_CANCEL_HISTORY_IMPORT: Final = "cancel_history_import"


def _date(field: str) -> Any:
    """A date (``YYYY-MM-DD`` or a date); anything else names the field."""

    def validate(value: Any) -> date:
        try:
            return cv.date(value)
        except vol.Invalid:
            raise field_error("invalid_date", field, value) from None

    return validate


IMPORT_HISTORY_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_START): _date(ATTR_START),
        vol.Optional(ATTR_END): _date(ATTR_END),
    }
)
CANCEL_HISTORY_IMPORT_SCHEMA: Final = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


def _imports(entry: SigenConfigEntry, station: StationRuntime) -> HistoryImports:
    """The entry's history imports, for a station that has a history (else an error)."""
    imports = entry.runtime_data.history
    if imports is None or station.history is None or station.station_id not in imports.stations:
        raise validation_error("no_history")
    return imports


async def async_import_history(hass: HomeAssistant, call: ServiceCall) -> None:
    """Start importing a station's history (checked first; the import runs on its own)."""
    entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
    imports = _imports(entry, station)
    assert station.history is not None
    yesterday = station.history.today() - timedelta(days=1)
    start: date = call.data[ATTR_START]
    end: date = min(call.data.get(ATTR_END, yesterday), yesterday)
    if start > yesterday:
        raise field_error("history_start_too_late", ATTR_START, start, last=yesterday.isoformat())
    if start > end:
        raise field_error("history_range_reversed", ATTR_START, start, end=end.isoformat())
    if imports.running(station.station_id):
        raise validation_error("history_import_running")
    imports.start(station.station_id, start, end)


async def async_cancel_history_import(hass: HomeAssistant, call: ServiceCall) -> None:
    """Stop the station's running import (it is not resumed later)."""
    entry, station = async_get_station(hass, call.data[ATTR_DEVICE_ID])
    if not _imports(entry, station).cancel(station.station_id):
        raise validation_error("no_history_import")


@callback
def async_setup_history_services(hass: HomeAssistant) -> None:
    """Register the history actions."""

    async def import_history(call: ServiceCall) -> None:
        await async_import_history(hass, call)

    async def cancel_history_import(call: ServiceCall) -> None:
        await async_cancel_history_import(hass, call)

    hass.services.async_register(
        DOMAIN, SERVICE_IMPORT_HISTORY, import_history, schema=IMPORT_HISTORY_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CANCEL_HISTORY_IMPORT,
        cancel_history_import,
        schema=CANCEL_HISTORY_IMPORT_SCHEMA,
    )
