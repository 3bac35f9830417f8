"""What the settings areas (battery, grid, control) share: the station, checks, formats.

Their methods take an optional ``station_id``; without one they address the account's
home station, which they take from the client (:class:`HomeStation`). When the client
has not read it yet, it is read once, as :meth:`Sigen.async_initialize` would; when
the caller gives the id, or the client knows it, nothing extra is sent.

Every argument is checked before anything is sent, and a
:class:`~..errors.SigenValidationError` names the argument, the allowed range and the
value given. The cloud wants its numbers as text in fixed formats (§7.0 of the API
notes): kW with 3 decimals, amperes with 1, whole percent.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from ..const import UNLIMITED_POWER_TEXT
from ..errors import SigenError, SigenValidationError

if TYPE_CHECKING:
    from .._envelope import Reply
    from ..models import StationInfo
    from ._transport import AppTransport

#: A station id as the caller may give it (the cloud's ids are numbers).
type StationRef = str | int


class HomeStation(Protocol):
    """Where an area finds the home station: :class:`~._client.SigenAppClient`."""

    @property
    def station_id(self) -> str | None:
        """The home station's id, once it was read."""

    async def get_station_info(self) -> StationInfo:
        """Read the home station and remember it (``station_id`` is set after)."""


def station_text(station_id: object) -> str:
    """A station id given by the caller, checked, as text."""
    if isinstance(station_id, bool) or not isinstance(station_id, str | int):
        raise SigenValidationError(f"A station id must be a string or int, got {station_id!r}")
    text = str(station_id).strip()
    if not text:
        raise SigenValidationError("The station id is empty")
    return text


def body_station_id(station_id: str) -> int | str:
    """The station id as the app API's JSON bodies want it: a number when it is one."""
    return int(station_id) if station_id.isdigit() else station_id


def in_path(station_id: str) -> str:
    """The station id as the last segment of a path."""
    return quote(station_id, safe="")


# --------------------------------------------------------------------------- checks


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool, else a :class:`SigenValidationError`."""
    if not isinstance(value, bool):
        raise SigenValidationError(f"{name} must be True or False, got {value!r}")
    return value


def check_number(
    name: str, value: object, low: float, high: float, unit: str, *, above_low: bool = False
) -> float:
    """``value`` as a float within ``low`` … ``high`` (above ``low`` with ``above_low``)."""
    lowest = f"above {low:g}" if above_low else f"from {low:g}"
    wanted = f"{name} must be a number {lowest} to {high:g} {unit}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SigenValidationError(wanted)
    number = float(value)
    if not math.isfinite(number) or number > high or number < low or (above_low and number == low):
        raise SigenValidationError(wanted)
    return number + 0.0


def check_whole(name: str, value: object, low: int, high: int, unit: str) -> int:
    """``value`` as an int within ``low`` … ``high`` (``50.0`` is 50, ``50.5`` is refused)."""
    wanted = f"{name} must be a whole number from {low} to {high} {unit}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SigenValidationError(wanted)
    if isinstance(value, float) and not value.is_integer():
        raise SigenValidationError(wanted)
    number = int(value)
    if not low <= number <= high:
        raise SigenValidationError(wanted)
    return number


# --------------------------------------------------------------------------- formats


def kw_text(power: float | None) -> str:
    """A power as the cloud writes it: ``"17.000"``; ``None`` is "no limit"."""
    return UNLIMITED_POWER_TEXT if power is None else f"{power:.3f}"


def amp_text(current: float) -> str:
    """A current as the app writes it: ``"32.0"``."""
    return f"{current:.1f}"


# --------------------------------------------------------------------------- the area


class SettingsArea:
    """The base of an area whose methods default to the home station.

    ``home`` gives the home station (the client); without it every call needs a
    ``station_id``. Holds no state of its own.
    """

    def __init__(self, transport: AppTransport, home: HomeStation | None = None) -> None:
        """Send through ``transport``; find the home station through ``home``."""
        self._request = transport.request
        self._home = home

    async def _station(self, station_id: StationRef | None) -> str:
        """``station_id`` checked, else the home station's id (read once if unknown)."""
        if station_id is not None:
            return station_text(station_id)
        if self._home is None:
            raise SigenError("No home station to default to: pass station_id")
        if self._home.station_id is None:
            await self._home.get_station_info()
        if self._home.station_id is None:  # pragma: no cover - get_station_info sets it
            raise SigenError("The account's home station is unknown: pass station_id")
        return self._home.station_id

    async def _get(self, path: str, station_id: str, what: str) -> Reply:
        """``GET <path>/<station>``, ``what`` naming it in errors."""
        return await self._request("GET", f"{path}/{in_path(station_id)}", what=what)

    async def _put(self, path: str, station_id: str, body: dict[str, Any], what: str) -> None:
        """``PUT <path>`` with ``body`` and the station id (a JSON number) first."""
        await self._request(
            "PUT", path, what=what, json={"stationId": body_station_id(station_id), **body}
        )
