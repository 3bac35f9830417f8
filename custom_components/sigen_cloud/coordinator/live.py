"""Per-station polling of the app API: the live energy flow and the smart loads."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..const import ENERGY_FLOW_INTERVAL, LOGGER, SLOW_REFRESH_INTERVAL
from ..models import LiveData, SmartLoadsData
from .base import SigenCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import Sigen


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

    async def _async_fetch(self) -> LiveData:
        """The energy flow, stamped with the time it was asked for."""
        now = dt_util.utcnow()
        flow = await self.client.get_energy_flow(station_id=self.station_id)
        self._note_offline(offline=flow.is_offline)
        return LiveData(flow, now)

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

    Polled every 10 minutes, and right after a switch through us. The consumption
    needs each load's id, looked up after the loads are read: two round trips more
    than the start-up's one (issue 21). So the first data is the loads alone (their
    devices and switches), and a refresh right after it brings the consumption, its
    reads all at once; the set-up does not wait for it.
    """

    interval = SLOW_REFRESH_INTERVAL

    def __init__(
        self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen, station_id: str
    ) -> None:
        """Poll the smart loads of ``station_id``."""
        super().__init__(hass, entry, client)
        self.station_id = station_id
        self._first = True  # the first data is the loads alone

    async def _async_fetch(self) -> SmartLoadsData:
        """The loads, then the consumption of each (see the class)."""
        sid = self.station_id
        if self.completing and self.data is not None:
            loads = list(self.data.loads.values())  # just read, with the first data
        else:
            loads = await self.client.get_smart_loads(station_id=sid)
        if self._first and loads:
            self._first = False
            self._async_complete_later()
            return SmartLoadsData(loads={load.path: load for load in loads}, consumption={})
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

    def _async_complete_later(self) -> None:
        """Read the consumption right after the first data (not waited for)."""

        async def complete() -> None:
            self.completing = True
            try:
                await self.async_refresh()
            finally:
                self.completing = False

        entry = self.config_entry
        task = entry.async_create_task(
            self.hass,
            complete(),
            f"sigen_cloud smart-load consumption {self.station_id}",
            eager_start=False,
        )

        @callback
        def cancel() -> None:
            task.cancel()  # before the entry's session closes

        entry.async_on_unload(cancel)

    async def async_set_load_state(self, path: int, on: bool) -> None:
        """Switch a load on or off; the accepted state shows at once, a refresh follows."""
        await self.client.set_smart_load_state(path, on, station_id=self.station_id)
        if self.data is not None and (load := self.data.loads.get(path)) is not None:
            loads = {**self.data.loads, path: replace(load, on=on)}
            self.async_set_updated_data(replace(self.data, loads=loads))
        await self.async_request_refresh()
