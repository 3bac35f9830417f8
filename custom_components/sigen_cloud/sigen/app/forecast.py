"""Sigen's AI forecast of the app API: PV, load and SOC ahead, and when it was made.

The forecast's times are station-local text; they are read in the station's zone,
which is the home station's ``timeZoneName`` unless the caller names one (for another
station, or a home station without one, the points' epoch ``timestamp`` is used).
The cloud remakes the forecast about hourly; polling more often gains nothing.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Final

from ..models import Forecast
from ._settings import SettingsArea, StationRef, in_path
from ._zone import check_zone, station_zone

_FORECAST: Final = "prediction/predictData/get/predictData"


class ForecastApi(SettingsArea):
    """A station's AI forecast (app API); the home station by default."""

    async def get_forecast(
        self,
        *,
        station_id: StationRef | None = None,
        time_zone: str | tzinfo | None = None,
    ) -> Forecast:
        """The PV and load power (kW) and SOC (%) forecast series, and when they were made.

        ``time_zone`` is the station's (an IANA name or a tzinfo); by default the home
        station's.
        """
        zone = check_zone(time_zone)
        sid = await self._station(station_id)
        if zone is None:
            zone = station_zone(self._home, sid)
        what = f"Reading the AI forecast of station {sid}"
        reply = await self._request("GET", f"{_FORECAST}/{in_path(sid)}", what=what)
        return Forecast.parse(reply.object(), zone)


__all__ = ["ForecastApi"]
