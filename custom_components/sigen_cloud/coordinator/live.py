"""Per-station polling of the app API: the live energy flow and the smart loads."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..const import ENERGY_FLOW_INTERVAL, LOGGER, SLOW_REFRESH_INTERVAL
from ..models import LiveData, SmartLoadsData
from ..sigen import SigenError
from .base import SigenCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import EnergyFlow, Sigen


class SigenLiveCoordinator(SigenCoordinator[LiveData]):
    """The energy flow of one app API station, every minute."""

    interval = ENERGY_FLOW_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station_id: str
    ) -> None:
        """Poll the energy flow of ``station_id``."""
        super().__init__(hass, entry, client)
        self.station_id = station_id
        self._offline = False
        # The first energy flow, asked for at start-up before the station read (issue 21).
        self.prefetched: asyncio.Task[EnergyFlow] | None = None

    async def _async_fetch(self) -> LiveData:
        """The energy flow, stamped with the time it was asked for."""
        now = dt_util.utcnow()
        flow = await self._async_prefetched()
        if flow is None:
            flow = await self.client.get_energy_flow(station_id=self.station_id)
        self._note_offline(offline=flow.is_offline)
        return LiveData(flow, now)

    async def _async_prefetched(self) -> EnergyFlow | None:
        """The prefetched energy flow, once; ``None`` when there is none or it failed."""
        task, self.prefetched = self.prefetched, None
        if task is None:
            return None
        try:
            return await task
        except SigenError:
            return None  # read again, with the usual error handling

    def _note_offline(self, *, offline: bool) -> None:
        """Log once when the cloud reports the station offline, and once when it is back."""
        if offline and not self._offline:
            LOGGER.warning(
                "The Sigen cloud reports station %s offline; its readings are unavailable "
                "until it is back",
                self.station_id,
            )
        elif not offline and self._offline:
            LOGGER.info("Station %s is online again", self.station_id)
        self._offline = offline


class SigenSmartLoadCoordinator(SigenCoordinator[SmartLoadsData]):
    """The smart loads of one app API station and their consumption.

    Polled every 10 minutes, and right after a switch through us.
    """

    interval = SLOW_REFRESH_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station_id: str
    ) -> None:
        """Poll the smart loads of ``station_id``."""
        super().__init__(hass, entry, client)
        self.station_id = station_id

    async def _async_fetch(self) -> SmartLoadsData:
        """The loads, then the consumption of each (together for the first data)."""
        sid = self.station_id
        loads = await self.client.get_smart_loads(station_id=sid)
        consumption = await self._async_each(
            [
                partial(self.client.get_smart_load_consumption, load.path, station_id=sid)
                for load in loads
            ]
        )
        return SmartLoadsData(
            loads={load.path: load for load in loads},
            consumption={load.path: used for load, used in zip(loads, consumption, strict=True)},
        )

    async def async_set_load_state(self, path: int, on: bool) -> None:
        """Switch a load on or off; the accepted state shows at once, a refresh follows."""
        await self.client.set_smart_load_state(path, on, station_id=self.station_id)
        if self.data is not None and (load := self.data.loads.get(path)) is not None:
            loads = {**self.data.loads, path: replace(load, on=on)}
            self.async_set_updated_data(replace(self.data, loads=loads))
        await self.async_request_refresh()
