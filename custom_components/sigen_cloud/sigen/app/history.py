"""A station's energy history (app API): day totals with 5-minute rows, power series.

Dates are local dates of the station's time zone, which comes, in this order, from the
``tz`` argument, from the home station's ``timeZoneName`` (:attr:`StationInfo.time_zone
<..models.StationInfo.time_zone>`, when the station asked for is the home station and
the cloud sent one), else UTC. Dates are checked before anything is sent: none in the
future of the station's today, a range in order.

``statistics/energy`` is asked for as a live account does it: GET with a query
(``stationId``, ``dateFlag=1``, ``startDate=endDate=YYYYMMDD``). A mock seen in the
wild POSTs the same as JSON strings, so when the cloud refuses the GET as a method or
path it does not know (HTTP 404/405, code 405) or as "param illegal" (code 1000), the
POST is tried once and the form that worked is kept (:attr:`HistoryApi.request_form`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Final, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import SigenAPIError, SigenError, SigenRateLimitError, SigenValidationError
from ..models._history_read import parse_local_date, read_day, read_power_series
from ..models.history import DayEnergy, PowerSeries

if TYPE_CHECKING:
    from .._envelope import Reply
    from ..models import StationInfo
    from ._transport import AppTransport

_LOGGER = logging.getLogger(__name__)

ENERGY_PATH: Final = "data-process/sigen/station/statistics/energy"
SERIES_PATH: Final = "data-process/sigen/station/statistics/v1/energy"
#: ``dateFlag`` of a day's statistics.
DAY_FLAG: Final = "1"
#: The cloud's answers that make the GET worth trying again as a POST.
_FALLBACK_STATUSES: Final = frozenset({404, 405})
_FALLBACK_CODES: Final = frozenset({405, 1000})

type RequestForm = Literal["get", "post"]
type DayArg = date | str
type ZoneArg = tzinfo | str


class HistoryHome(Protocol):
    """Where the history finds the home station: :class:`~._client.SigenAppClient`."""

    @property
    def station_id(self) -> str | None:
        """The home station's id, once it was read."""

    @property
    def station(self) -> StationInfo | None:
        """The home station as last read."""

    async def get_station_info(self) -> StationInfo:
        """Read the home station and remember it."""


def zone_of(tz: object) -> tzinfo:
    """``tz`` as a time zone: a :class:`tzinfo`, or an IANA name such as "Europe/Berlin"."""
    if isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str) and tz.strip():
        try:
            return ZoneInfo(tz.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise SigenValidationError(f"Unknown time zone {tz!r}: give an IANA name like 'Europe/Berlin'")


def check_day(value: object, zone: tzinfo, today: date, *, name: str = "The date") -> date:
    """``value`` as a local date of ``zone``, not after ``today`` (the station's today).

    A :class:`date`, an aware :class:`datetime` (its date in ``zone``), a naive one (its
    date), or a text ``YYYY-MM-DD`` / ``YYYYMMDD``.
    """
    day: date | None
    if isinstance(value, datetime):
        day = value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        day = parse_local_date(value.strip(), zone)
    else:
        day = None
    if day is None:
        raise SigenValidationError(
            f"{name} must be a date or a text like '2026-06-30', got {value!r}"
        )
    if day > today:
        raise SigenValidationError(
            f"{name} {day.isoformat()} is in the future "
            f"(the station's today is {today.isoformat()})"
        )
    return day


def local_today(zone: tzinfo) -> date:
    """Today's date in ``zone`` (:attr:`HistoryApi.today` by default)."""
    return datetime.now(zone).date()


def day_text(day: date) -> str:
    """A date as the app API's statistics want it: ``YYYYMMDD``."""
    return day.strftime("%Y%m%d")


class HistoryApi:
    """A station's energy history (app API); the home station by default.

    It keeps no state but the request form found to work.
    """

    def __init__(self, transport: AppTransport, home: HistoryHome | None = None) -> None:
        """Send through ``transport``; find the home station through ``home``."""
        self._request = transport.request
        self._home = home
        #: The form ``statistics/energy`` was answered in (``None`` until one was).
        self.request_form: RequestForm | None = None
        #: Today's date in a zone: the limit of the dates asked for (replaceable, for a
        #: simulated clock).
        self.today: Callable[[tzinfo], date] = local_today

    async def station_and_zone(
        self, station_id: str | int | None = None, tz: ZoneArg | None = None
    ) -> tuple[str, tzinfo]:
        """The station id to ask for, and its time zone (see the module).

        Without ``station_id`` the home station, read once if the client has not yet.
        """
        home = self._home
        if station_id is None:
            if home is None:
                raise SigenError("No home station to default to: pass station_id")
            if home.station_id is None:
                await home.get_station_info()
            if home.station_id is None:  # pragma: no cover - get_station_info sets it
                raise SigenError("The account's home station is unknown: pass station_id")
            sid = home.station_id
        elif isinstance(station_id, bool) or not isinstance(station_id, str | int):
            raise SigenValidationError(f"A station id must be a string or int, got {station_id!r}")
        else:
            sid = str(station_id).strip()
            if not sid:
                raise SigenValidationError("The station id is empty")
        if tz is not None:
            return sid, zone_of(tz)
        info = home.station if home is not None else None
        if info is not None and info.station_id == sid and info.time_zone:
            try:
                return sid, zone_of(info.time_zone)
            except SigenValidationError:
                _LOGGER.warning("Unknown station time zone %r, using UTC", info.time_zone)
        return sid, UTC

    async def commissioning_date(
        self, *, station_id: str | int | None = None, tz: ZoneArg | None = None
    ) -> date | None:
        """The station's commissioning date (``stationOpenTime``), a local date.

        Known for the home station when the cloud sends it (``None`` otherwise): the
        first day that can have history.
        """
        sid, zone = await self.station_and_zone(station_id, tz)
        info = self._home.station if self._home is not None else None
        if info is None or info.station_id != sid or info.open_time is None:
            return None
        return parse_local_date(info.open_time, zone)

    async def get_day(
        self, day: DayArg, *, station_id: str | int | None = None, tz: ZoneArg | None = None
    ) -> DayEnergy:
        """A day's totals and 5-minute rows (``statistics/energy``).

        A day still to come is refused (:class:`SigenValidationError`); today gives the
        rows so far. A day without data (before commissioning, a long outage) has no
        rows and ``None`` totals.
        """
        sid, zone = await self.station_and_zone(station_id, tz)
        checked = check_day(day, zone, self.today(zone))
        reply = await self._energy(sid, checked)
        try:
            return read_day(reply.data, checked, zone)
        except SigenAPIError as err:
            raise reply.error(str(err)) from None

    async def get_days(
        self,
        start: DayArg,
        end: DayArg | None = None,
        *,
        station_id: str | int | None = None,
        tz: ZoneArg | None = None,
    ) -> AsyncIterator[DayEnergy]:
        """Each day from ``start`` to ``end`` (default: the station's today), one request each.

        Both are checked before the first request (not in the future, ``start`` not
        after ``end``). The pace is the caller's: the cloud limits how often it may be
        asked (a :class:`SigenRateLimitError` says how long to wait).
        """
        sid, zone = await self.station_and_zone(station_id, tz)
        today = self.today(zone)
        first = check_day(start, zone, today, name="The start date")
        last = check_day(today if end is None else end, zone, today, name="The end date")
        if first > last:
            raise SigenValidationError(
                f"The start date {first.isoformat()} is after the end date {last.isoformat()}"
            )
        for offset in range((last - first).days + 1):
            yield await self.get_day(first + timedelta(days=offset), station_id=sid, tz=zone)

    async def get_power_series(
        self, day: DayArg, *, station_id: str | int | None = None, tz: ZoneArg | None = None
    ) -> PowerSeries:
        """A day's 5-minute power series (``statistics/v1/energy``), kW with the cloud's signs."""
        sid, zone = await self.station_and_zone(station_id, tz)
        checked = check_day(day, zone, self.today(zone))
        text = day_text(checked)
        reply = await self._request(
            "GET",
            SERIES_PATH,
            what=f"Reading the power series of station {sid} on {checked.isoformat()}",
            params={"stationId": sid, "dateFlag": DAY_FLAG, "startDate": text, "endDate": text},
        )
        try:
            return read_power_series(reply.data, checked, zone)
        except SigenAPIError as err:
            raise reply.error(str(err)) from None

    async def _energy(self, station_id: str, day: date) -> Reply:
        """``statistics/energy`` for one day, in the form that works (see the module)."""
        what = f"Reading the energy of station {station_id} on {day.isoformat()}"
        text = day_text(day)
        query = {"stationId": station_id, "dateFlag": DAY_FLAG, "startDate": text, "endDate": text}
        if self.request_form == "post":
            return await self._request("POST", ENERGY_PATH, what=what, json=query)
        try:
            reply = await self._request("GET", ENERGY_PATH, what=what, params=query)
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            refused = err.status_code in _FALLBACK_STATUSES or err.code in _FALLBACK_CODES
            if self.request_form is not None or not refused:
                raise
            _LOGGER.debug("%s: the GET was refused (%s), trying the POST form", what, err)
            reply = await self._request("POST", ENERGY_PATH, what=what, json=query)
            self.request_form = "post"
            return reply
        self.request_form = "get"
        return reply
