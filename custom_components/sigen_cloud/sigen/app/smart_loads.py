"""Smart loads of the app API: the station's loads, their consumption, switching them.

Reading a load's consumption needs its ``smartLoadId``, which another endpoint gives;
:class:`SmartLoadsApi` looks it up once per load and keeps it (its only state).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from .._envelope import parse_each
from .._parse import parse_str
from ..errors import SigenAPIError, SigenError, SigenRateLimitError, SigenValidationError
from ..models import SmartLoad, SmartLoadConsumption
from ._transport import AppTransport

_LOGGER = logging.getLogger(__name__)


def path_of(load: int | SmartLoad) -> int:
    """The ``path`` (the load's number) of a load or a path, checked."""
    if isinstance(load, SmartLoad):
        return load.path
    if isinstance(load, bool) or not isinstance(load, int):
        raise SigenValidationError(
            f"A smart load's path must be an integer (SmartLoad.path), got {load!r}"
        )
    return load


class SmartLoadsApi:
    """A station's smart loads (app API). Keeps only the loads' ``smartLoadId``."""

    def __init__(self, transport: AppTransport) -> None:
        """Send through ``transport``."""
        self._request = transport.request
        self._ids: dict[tuple[str, int], Any] = {}

    async def get_all(self, station_id: str) -> list[SmartLoad]:
        """The station's smart loads (name, path, power kW, on/off)."""
        reply = await self._request(
            "GET",
            "device/system/device/systemDevice/card",
            what=f"Reading the smart loads of station {station_id}",
            params={"stationId": station_id, "showNewGenerator": "true"},
        )
        items = reply.items("list", "records", "cards", "smartLoads")
        return parse_each(reply.what, items, SmartLoad.from_dict, "smart load")

    async def get_consumption(self, station_id: str, path: int) -> SmartLoadConsumption:
        """Energy used by a smart load today, this month and in total (kWh).

        The load's ``smartLoadId`` is looked up once and kept; if the cloud refuses a
        kept id (the load was re-created), it is looked up again once.
        """
        what = f"Reading the consumption of smart load {path} of station {station_id}"
        for attempt in range(2):
            cached = (station_id, path) in self._ids
            smart_load_id = await self._smart_load_id(station_id, path)
            try:
                reply = await self._request(
                    "GET",
                    "data-process/sigen/station/statistics/real-time-consumption",
                    what=what,
                    params={
                        "stationId": station_id,
                        "loadPath": str(path),
                        "smartLoadId": str(smart_load_id),
                    },
                )
            except SigenAPIError as err:
                if attempt or not cached or isinstance(err, SigenRateLimitError):
                    raise
                _LOGGER.debug("%s: the cached smartLoadId was refused, looking it up again", what)
                self._ids.pop((station_id, path), None)
                continue
            return SmartLoadConsumption.from_dict(reply.object())
        raise SigenError(f"{what}: unreachable")  # pragma: no cover

    async def switch(self, station_id: str, path: int, *, on: bool) -> None:
        """Switch a smart load on or off (``manualSwitch``)."""
        await self._request(
            "PATCH",
            "device/tp-device/smart-loads/control-mode/manual/switch",
            what=f"Switching smart load {path} of station {station_id} {'on' if on else 'off'}",
            params={
                "stationId": station_id,
                "loadPath": str(path),
                "manualSwitch": "1" if on else "0",
            },
        )

    async def _smart_load_id(self, station_id: str, path: int) -> Any:
        """The load's ``smartLoadId``, looked up on first use."""
        cached = self._ids.get((station_id, path))
        if cached is not None:
            return cached
        reply = await self._request(
            "GET",
            "device/tp-device/smart-loads",
            what=f"Looking up smart load {path} of station {station_id}",
            params={"stationId": station_id, "loadPath": str(path)},
        )
        data = reply.data
        if isinstance(data, list) and data:
            reply = replace(reply, data=data[0])
        smart_load_id = parse_str(reply.object().get("smartLoadId"))
        if smart_load_id is None:
            raise reply.error("the answer has no smartLoadId")
        self._ids[(station_id, path)] = smart_load_id
        return smart_load_id
