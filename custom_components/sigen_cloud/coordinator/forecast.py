"""Per-station AI forecast and prices: read hourly, the tariff written safely.

The cloud remakes Sigen's AI forecast about hourly, so the forecast, the tariff plan
and the price summary are read together once an hour (polling more often gains
nothing and costs rate limit). The entities show the value of the current 15-minute
point or 30-minute slot: they move on with the clock between polls.

A tariff write goes through the station's write lock (the controls coordinator's:
one write at a time per station, whatever it changes), and is read back; the
read-back is what the price sensors show.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from ..const import FORECAST_INTERVAL, LOGGER
from ..models import ForecastData
from ..sigen import SigenError
from ._station import StationWriteCoordinator
from .controls import not_reported

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from ..sigen import TariffPlan

#: The directions of a price: what the owner pays, and what the owner is paid.
DIRECTIONS = ("buy", "sell")
NO_DATA = ForecastData()


class SigenForecastCoordinator(StationWriteCoordinator[ForecastData]):
    """Sigen's AI forecast, the tariff plan and the price summary of one app API station."""

    interval = FORECAST_INTERVAL

    async def _async_fetch(self) -> ForecastData:
        """The three parts (at once for the first data); one not offered is empty."""
        sid, tariff = self.station_id, self.client.tariff
        calls: list[Callable[[], Awaitable[Any]]] = [
            partial(self.client.forecast.get_forecast, station_id=sid, time_zone=self.time_zone),
            partial(tariff.get_plan, station_id=sid),
            partial(tariff.get_price_cost, station_id=sid),
        ]
        results = await self._async_each_settled(calls, not_reported)
        forecast, plan, cost = (None if isinstance(r, BaseException) else r for r in results)
        for result in results:
            if isinstance(result, BaseException):
                LOGGER.debug("Station %s does not report a part: %s", sid, result)
        return ForecastData(forecast=forecast, plan=plan, price_cost=tuple(cost or ()))

    @property
    def current(self) -> ForecastData:
        """The data, empty before the first read succeeded."""
        data: ForecastData | None = self.data
        return NO_DATA if data is None else data

    def price_now(self, direction: str) -> float | None:
        """The plan's ``"buy"`` or ``"sell"`` price now (cents/kWh; ``None``: no plan).

        Without a buy slot, the price summary's cost stands for the buy price.
        """
        data = self.current
        if data.plan is not None:
            price = data.plan.price_at(direction, self.local_now())
            if price is not None:
                return price
        if direction == "buy":
            return next((c.price_cost for c in data.price_cost if c.price_cost is not None), None)
        return None

    async def async_set_tariff(self, buy: Sequence[float], sell: Sequence[float]) -> TariffPlan:
        """Write 48 half-hourly buy and sell prices (cents/kWh) and read the plan back.

        One write at a time per station. The library's errors pass through (nothing
        changed then). When the read-back fails, the plan shows as written.
        """
        sid = self.station_id
        async with self._write_lock:
            written = await self.client.tariff.set_tariff(buy, sell, station_id=sid)
            try:
                plan = await self.client.tariff.get_plan(station_id=sid)
            except SigenError as err:
                LOGGER.debug("Reading back the tariff of station %s failed: %s", sid, err)
                plan = written
            else:
                if (plan.buy, plan.sell) != (written.buy, written.sell):
                    LOGGER.warning(
                        "The Sigen cloud accepted the tariff for station %s but reports "
                        "another one, which is shown",
                        sid,
                    )
            self.async_set_updated_data(replace(self.current, plan=plan))
        return plan
