"""Which northbound system is which app station (the two APIs share no reliable key)."""

from __future__ import annotations

from collections.abc import Iterable

from .northbound import NBSystem
from .station import StationInfo


def _same_number(a: float | None, b: float | None) -> bool | None:
    """Whether two capacities agree (``None`` when one is unknown)."""
    if a is None or b is None:
        return None
    return abs(a - b) <= max(0.01, 0.005 * max(abs(a), abs(b)))


def _attributes_agree(station: StationInfo, system: NBSystem) -> bool:
    """At least one of name, PV and battery capacity is equal, and none differs."""
    checks: list[bool | None] = [
        None
        if station.name is None or system.name is None
        else station.name.strip().casefold() == system.name.strip().casefold(),
        _same_number(station.pv_capacity, system.pv_capacity),
        _same_number(station.battery_capacity, system.battery_capacity),
    ]
    known = [check for check in checks if check is not None]
    return bool(known) and all(known)


def match_system(station: StationInfo, systems: Iterable[NBSystem]) -> NBSystem | None:
    """The northbound system that is this app station, or ``None`` when it cannot be told.

    With a ``stationCode`` (``station.station_code``) only the system with that id
    matches. Without one, the single system whose name and capacities agree with the
    station's (at least one of them equal, none different) matches; none or several
    such systems give ``None``. ``sn_code`` and ``station_id`` are never compared.
    """
    items = list(systems)
    if station.station_code is not None:
        return next((item for item in items if item.system_id == station.station_code), None)
    candidates = [item for item in items if _attributes_agree(station, item)]
    return candidates[0] if len(candidates) == 1 else None


def pair_stations(
    stations: Iterable[StationInfo], systems: Iterable[NBSystem]
) -> dict[str, NBSystem]:
    """Pair app stations with northbound systems: ``{station_id: system}``.

    A station's ``stationCode`` pairs it with the system of that id; stations without
    one are matched as :func:`match_system` does against the systems left over, and a
    system that two such stations would match pairs with neither. A station without a
    pair is absent from the result.
    """
    station_list = list(stations)
    system_list = list(systems)
    pairs: dict[str, NBSystem] = {}
    for station in station_list:
        if station.station_code is not None:
            found = match_system(station, system_list)
            if found is not None:
                pairs[station.station_id] = found
    used = {system.system_id for system in pairs.values()}
    left = [system for system in system_list if system.system_id not in used]
    guesses: dict[str, NBSystem] = {}
    for station in station_list:
        if station.station_code is None:
            found = match_system(station, left)
            if found is not None:
                guesses[station.station_id] = found
    taken = [system.system_id for system in guesses.values()]
    for station_id, system in guesses.items():
        if taken.count(system.system_id) == 1:
            pairs[station_id] = system
    return pairs
