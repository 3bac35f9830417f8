"""Grid settings of the app API: export/import limitation, connection current, PV limit.

The owner may only lower a limit below the installer's ceiling, which the cloud
reports with the setting; a setter therefore reads the setting first, checks the new
limit against that ceiling, and writes the switch and the limit together (the cloud
takes them only together, so switching keeps the limit as it is).
"""

from __future__ import annotations

from typing import Final

from ..const import GRID_DIRECTIONS, MAX_GRID_CURRENT_A, MAX_SETTING_POWER_KW
from ..errors import SigenValidationError
from ..models import GridCurrentLimit, GridLimit, PvLimit
from ._peak_shaving import PeakShavingArea
from ._settings import StationRef, amp_text, check_bool, check_number, kw_text

_LIMITATION: Final = "device/energy-profile/grid/limitation"
_CURRENT: Final = "device/energy-profile/parallel/off/grid"
_PV: Final = "device/energy-profile/solar/limit"


def check_direction(direction: object) -> str:
    """``"export"`` or ``"import"`` (any case), else a :class:`SigenValidationError`."""
    if isinstance(direction, str) and direction.strip().lower() in GRID_DIRECTIONS:
        return direction.strip().lower()
    raise SigenValidationError(
        f"The grid limitation's direction must be 'export' or 'import', got {direction!r}"
    )


def limit_to_send(
    noun: str, limit: float | None, current: float | None, ceiling: float | None, unit: str
) -> float:
    """The limit to write: the one given, within the installer's ceiling, else ``current``."""
    if limit is not None and ceiling is not None and limit > ceiling:
        raise SigenValidationError(
            f"The {noun} must be from 0 to {ceiling:g} {unit} (the installer's limit), "
            f"got {limit:g}"
        )
    if limit is not None:
        return limit
    if current is None:
        raise SigenValidationError(f"The cloud reports no {noun} to keep: give limit (in {unit})")
    return current


class GridApi(PeakShavingArea):
    """A station's grid settings (app API); the home station by default.

    Peak shaving (``get_peak_shaving``, ``set_peak_shaving``) comes from
    :class:`~._peak_shaving.PeakShavingArea`.
    """

    async def get_limit(self, direction: str, *, station_id: StationRef | None = None) -> GridLimit:
        """The grid ``"export"`` or ``"import"`` limitation: on/off, limit and ceiling (kW)."""
        way = check_direction(direction)
        sid = await self._station(station_id)
        what = f"Reading the grid {way} limitation of station {sid}"
        reply = await self._get(f"{_LIMITATION}/{way}", sid, what)
        return GridLimit.from_dict(reply.object())

    async def set_limit(
        self,
        direction: str,
        *,
        enabled: bool,
        limit: float | None = None,
        station_id: StationRef | None = None,
    ) -> GridLimit:
        """Switch the grid ``"export"`` or ``"import"`` limitation, and set its limit (kW).

        ``limit`` (0 up to the installer's limit) left out keeps the current one. Reads
        the setting first (for the installer's limit); returns what was written.
        """
        way = check_direction(direction)
        check_bool("enabled", enabled)
        noun = f"grid {way} limit"
        if limit is not None:
            limit = check_number(f"The {noun}", limit, 0.0, MAX_SETTING_POWER_KW, "kW")
        sid = await self._station(station_id)
        current = await self.get_limit(way, station_id=sid)
        value = limit_to_send(noun, limit, current.limit, current.installer_limit, "kW")
        body = {"enable": enabled, "maxLimitationOwner": kw_text(value)}
        word = "Enabling" if enabled else "Disabling"
        await self._put(
            f"{_LIMITATION}/{way}",
            sid,
            {**body, "maxLimitationInstaller": None},
            f"{word} the grid {way} limitation ({value:g} kW) of station {sid}",
        )
        return GridLimit.build(body, installer_limit=current.installer_limit)

    async def get_current_limit(self, *, station_id: StationRef | None = None) -> GridCurrentLimit:
        """The grid connection current limit: on/off, limit and ceiling (A)."""
        sid = await self._station(station_id)
        what = f"Reading the grid connection current limit of station {sid}"
        reply = await self._get(_CURRENT, sid, what)
        return GridCurrentLimit.from_dict(reply.object())

    async def set_current_limit(
        self,
        *,
        enabled: bool,
        limit: float | None = None,
        station_id: StationRef | None = None,
    ) -> GridCurrentLimit:
        """Switch the grid connection current limit, and set it (A, above 0).

        ``limit`` (up to the installer's limit) left out keeps the current one. Reads
        the setting first (for the installer's limit); returns what was written. The
        cloud shows an owner limit equal to the installer's as unset (``""``).
        """
        check_bool("enabled", enabled)
        noun = "grid connection current limit"
        if limit is not None:
            limit = check_number(f"The {noun}", limit, 0.0, MAX_GRID_CURRENT_A, "A", above_low=True)
        sid = await self._station(station_id)
        current = await self.get_current_limit(station_id=sid)
        value = limit_to_send(noun, limit, current.limit, current.installer_limit, "A")
        body = {"enable": enabled, "ownerSetLimitation": amp_text(value)}
        word = "Enabling" if enabled else "Disabling"
        await self._put(
            _CURRENT,
            sid,
            {**body, "installerSetLimitation": None},
            f"{word} the grid connection current limit ({value:g} A) of station {sid}",
        )
        return GridCurrentLimit.build(body, installer_limit=current.installer_limit)

    async def get_pv_limit(self, *, station_id: StationRef | None = None) -> PvLimit:
        """The PV (solar) power limit, kW (``None``: no limit)."""
        sid = await self._station(station_id)
        reply = await self._get(_PV, sid, f"Reading the PV power limit of station {sid}")
        return PvLimit.from_dict(reply.object())

    async def set_pv_limit(
        self, limit: float | None, *, station_id: StationRef | None = None
    ) -> PvLimit:
        """Limit the PV power to ``limit`` kW (0 … 1000), or lift the limit (``None``)."""
        if limit is not None:
            limit = check_number("The PV power limit", limit, 0.0, MAX_SETTING_POWER_KW, "kW")
        sid = await self._station(station_id)
        body = {"powerLimit": kw_text(limit)}
        shown = "none" if limit is None else f"{limit:g} kW"
        what = f"Setting the PV power limit ({shown}) of station {sid}"
        await self._put(_PV, sid, body, what)
        return PvLimit.from_dict(body)
