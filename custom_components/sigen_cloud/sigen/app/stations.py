"""Stations of the app API: the account's home station and a station's energy flow."""

from __future__ import annotations

from ..models import EnergyFlow, StationInfo
from ._transport import AppTransport


class StationsApi:
    """The account's stations (app API). Holds no state."""

    def __init__(self, transport: AppTransport) -> None:
        """Send through ``transport``."""
        self._request = transport.request

    async def get_home(self) -> StationInfo:
        """The account's home station (``device/owner/station/home``)."""
        reply = await self._request(
            "GET", "device/owner/station/home", what="Reading the Sigen home station"
        )
        return StationInfo.from_dict(reply.object())

    async def get_energy_flow(self, station_id: str) -> EnergyFlow:
        """Live power flow of a station.

        kW, grid + = import, battery + = discharge (see :class:`~..models.EnergyFlow`
        for the cloud's own signs).
        """
        reply = await self._request(
            "GET",
            "device/sigen/station/energyflow",
            what=f"Reading the energy flow of station {station_id}",
            params={"id": station_id},
        )
        return EnergyFlow.from_dict(reply.object())
