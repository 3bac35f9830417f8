"""Instant manual control of the app API: charge, discharge, hold or self-consume now.

Manual control overrides the operating mode for a number of minutes without switching
away from it; the station returns to its mode by itself when the time is up. The
cloud's path is spelt ``instant/manunal``. Unlike scheduled battery commands (MQTT,
developer credentials), this needs only the account's password.
"""

from __future__ import annotations

from typing import Final

from .._parse import manual_mode_name
from ..const import (
    MANUAL_CONTROL_DURATION_RANGE,
    MANUAL_CONTROL_MODES,
    MANUAL_CONTROL_POWER_MODES,
    MAX_MANUAL_CONTROL_POWER_KW,
)
from ..errors import SigenValidationError
from ..models import ManualControl
from ._settings import SettingsArea, StationRef, check_number, check_whole, kw_text

_MANUAL: Final = "device/energy-profile/instant/manunal"  # the cloud's spelling


def check_mode(mode: object) -> str:
    """The library's name of ``mode`` (any case, ``-`` or ``_``), else an error."""
    name = manual_mode_name(mode) if isinstance(mode, str) else None
    if name is None:
        allowed = ", ".join(MANUAL_CONTROL_MODES)
        raise SigenValidationError(f"Unknown manual control mode {mode!r}; allowed: {allowed}")
    return name


def check_power(mode: str, power: object) -> float | None:
    """The power of a ``mode``: kW above 0 for charge and discharge, ``None`` = unlimited."""
    if power is None:
        return None
    if mode not in MANUAL_CONTROL_POWER_MODES:
        raise SigenValidationError(
            f"Manual control {mode!r} takes no power (only charge and discharge do), got {power!r}"
        )
    return check_number(
        "The manual control power", power, 0.0, MAX_MANUAL_CONTROL_POWER_KW, "kW", above_low=True
    )


class ControlApi(SettingsArea):
    """A station's instant manual control (app API); the home station by default."""

    async def get_manual_control(self, *, station_id: StationRef | None = None) -> ManualControl:
        """Whether manual control runs (``active``), its mode and when it ends.

        After a stop the cloud keeps the last session's mode and end: only ``active``
        says whether it runs.
        """
        sid = await self._station(station_id)
        reply = await self._get(_MANUAL, sid, f"Reading the manual control of station {sid}")
        if reply.data is None:  # a station that never used it may have nothing to say
            return ManualControl.build({})
        return ManualControl.from_dict(reply.object())

    async def start_manual_control(
        self,
        mode: str,
        duration: int,
        power: float | None = None,
        *,
        station_id: StationRef | None = None,
    ) -> None:
        """Start manual control now for ``duration`` minutes (1 … 1440).

        ``mode`` is ``"charge"``, ``"discharge"``, ``"hold"`` or ``"self_consumption"``;
        ``power`` caps charging or discharging, kW up to 100 (``None``: unlimited), and
        is not taken by the other two modes.
        """
        name = check_mode(mode)
        low, high = MANUAL_CONTROL_DURATION_RANGE
        minutes = check_whole("The manual control duration", duration, low, high, "minutes")
        limit = check_power(name, power)
        sid = await self._station(station_id)
        body = {
            "enable": True,
            "mode": MANUAL_CONTROL_MODES[name],
            "duration": str(minutes),
            "powerLimitation": kw_text(limit) if name in MANUAL_CONTROL_POWER_MODES else "",
        }
        shown = "" if limit is None else f" at {limit:g} kW"
        what = f"Starting manual control {name!r} for {minutes} min{shown} on station {sid}"
        await self._put(_MANUAL, sid, body, what)

    async def stop_manual_control(self, *, station_id: StationRef | None = None) -> None:
        """Stop manual control; the station goes back to its operating mode."""
        sid = await self._station(station_id)
        body = {"enable": False, "mode": "", "duration": "", "powerLimitation": ""}
        await self._put(_MANUAL, sid, body, f"Stopping manual control on station {sid}")
