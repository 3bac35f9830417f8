"""The station's time zone, for the areas that read or write station-local times."""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import SigenValidationError
from ..models import StationInfo


def check_zone(zone: object) -> tzinfo | None:
    """A zone given by the caller: a ``tzinfo``, an IANA name, or ``None``."""
    if zone is None or isinstance(zone, tzinfo):
        return zone
    if isinstance(zone, str) and zone.strip():
        try:
            return ZoneInfo(zone.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise SigenValidationError(f"Unknown time zone {zone!r}: give an IANA name or a tzinfo")


def station_zone(home: object, station_id: str) -> tzinfo | None:
    """The home station's zone (its ``timeZoneName``) when ``station_id`` is it, else ``None``.

    ``home`` is the client (its ``station`` is the home station as last read).
    """
    station = getattr(home, "station", None)
    if not isinstance(station, StationInfo) or station.station_id != station_id:
        return None
    if station.time_zone is None:
        return None
    try:
        return ZoneInfo(station.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
