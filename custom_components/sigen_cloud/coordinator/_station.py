"""What the coordinators of one app API station that also write share.

The schedule and the forecast/tariff coordinators each poll one station, read its
time in the station's own zone and write under the station's write lock (the
controls coordinator's: one write at a time per station, whatever it changes).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..helpers import station_zone
from .base import SigenCoordinator

if TYPE_CHECKING:
    import asyncio

    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..models import AccountStation
    from ..sigen import Sigen


class StationWriteCoordinator[T](SigenCoordinator[T]):
    """A coordinator of one station whose writes take the station's write lock."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        client: Sigen,
        station: AccountStation,
        write_lock: asyncio.Lock,
    ) -> None:
        """Poll ``station``; writes take ``write_lock`` (the station's)."""
        super().__init__(hass, entry, client)
        self.station_id = station.station_id
        self.time_zone: tzinfo = station_zone(station)
        self._write_lock = write_lock

    def local_now(self) -> datetime:
        """Now in the station's time zone."""
        return dt_util.utcnow().astimezone(self.time_zone)
