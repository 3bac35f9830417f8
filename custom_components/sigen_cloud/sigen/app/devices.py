"""A station's alarm list and device tree (app API; no developer credentials needed).

``sigen.alarms`` pages through ``device/alarm/page`` (§7.16 of the API notes): the
same alarms the developer API pushes over MQTT, polled. ``sigen.devices`` reads the
device tree ``device/devicetreepanel/topology`` (§7.17) as a flat list of typed nodes.
Both default to the home station.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .._envelope import parse_each
from .._parse import parse_int
from ..errors import SigenValidationError
from ..models.devices import AlarmRecord, DeviceNode, devices_in_tree
from ._settings import SettingsArea, StationRef

_ALARMS: Final = "device/alarm/page"
_TREE: Final = "device/devicetreepanel/topology"
#: Records per page: the app asks for 10; more per page means fewer requests.
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100
#: :meth:`AlarmsApi.get_active` reads at most this many pages (a station with more
#: alarms than that has other problems; the cloud is not asked without end).
MAX_ALARM_PAGES: Final = 10


@dataclass(frozen=True, slots=True)
class AlarmPage:
    """One page of the alarm list: its records, the total and the page's number and size.

    ``listed`` counts the page's items, unreadable ones included (for paging).
    """

    records: list[AlarmRecord]
    total: int | None
    page: int
    size: int
    listed: int


class AlarmsApi(SettingsArea):
    """The station's alarm list (app API); the home station by default."""

    async def get_page(
        self, page: int = 1, size: int = DEFAULT_PAGE_SIZE, *, station_id: StationRef | None = None
    ) -> AlarmPage:
        """One page of the alarm list (``page`` from 1); unreadable records are skipped."""
        for name, value, high in (("page", page, 10_000), ("size", size, MAX_PAGE_SIZE)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise SigenValidationError(
                    f"The alarm list's {name} must be a whole number from 1 to {high}, "
                    f"got {value!r}"
                )
        sid = await self._station(station_id)
        what = f"Reading page {page} of the alarm list of station {sid}"
        params = {"stationId": sid, "current": str(page), "size": str(size)}
        reply = await self._request("GET", _ALARMS, what=what, params=params)
        data = reply.data
        total = parse_int(data.get("total")) if isinstance(data, dict) else None
        items = reply.items("records", "list", "rows")
        records = parse_each(what, items, AlarmRecord.from_dict, "alarm record")
        return AlarmPage(records, total, page, size, len(items))

    async def get_records(self, *, station_id: StationRef | None = None) -> list[AlarmRecord]:
        """Every record of the alarm list (recovered ones too, when listed), all pages.

        The list's ``total`` is trusted first: paging goes on until that many records
        were listed (a cloud that caps the page size answers pages shorter than asked
        for), or a page is empty, or ``MAX_ALARM_PAGES`` were read. Only without a
        total does a short page end the list.
        """
        sid = await self._station(station_id)
        found: list[AlarmRecord] = []
        seen = 0
        for number in range(1, MAX_ALARM_PAGES + 1):
            page = await self.get_page(number, DEFAULT_PAGE_SIZE, station_id=sid)
            found.extend(page.records)
            seen += page.listed
            if page.listed == 0:
                break
            if page.total is not None:
                if seen >= page.total:
                    break
            elif page.listed < page.size:
                break
        return found

    async def get_active(self, *, station_id: StationRef | None = None) -> list[AlarmRecord]:
        """Every listed alarm that has not recovered (paged as :meth:`get_records`)."""
        return [record for record in await self.get_records(station_id=station_id) if record.active]


class DevicesApi(SettingsArea):
    """The station's device tree (app API); the home station by default."""

    async def get_tree(self, *, station_id: StationRef | None = None) -> list[DeviceNode]:
        """Every device of the station's tree, parents first, each with its parent's serial."""
        sid = await self._station(station_id)
        what = f"Reading the device tree of station {sid}"
        reply = await self._request("GET", _TREE, what=what, params={"stationId": sid})
        return devices_in_tree(what, reply.data)


__all__ = ["AlarmPage", "AlarmsApi", "DevicesApi"]
