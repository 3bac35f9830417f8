"""The writes of the controls coordinator: one per setting, each with how to check it.

A write is sent inside the station's write lock, given the data as the previous write
left it: a switch keeps the limit that was just set, a limit keeps the switch.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from ..sigen._parse import manual_mode_name

if TYPE_CHECKING:
    from ..models import ControlsData
    from ..sigen import GridLimit, PeakShavingPeriod, Sigen

# Two values closer than this (kW, A) are the same: the cloud keeps three decimals.
_SAME: Final = 0.0005

type Send = Callable[[Sigen, str, ControlsData], Awaitable[object]]
type SocLevel = Literal["charge_cut_off", "discharge_cut_off", "peak_shaving", "backup"]
type PowerLimit = Literal["max_charge", "max_discharge"]
type Direction = Literal["export", "import"]

SOC_LABELS: Final[dict[str, str]] = {
    "charge_cut_off": "the charge cut-off SOC",
    "discharge_cut_off": "the discharge cut-off SOC",
    "peak_shaving": "the peak-shaving SOC",
    "backup": "the backup SOC",
}


def same(a: float | None, b: float | None) -> bool:
    """Whether two values the cloud reports are equal (``None`` is "no limit")."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, abs_tol=_SAME)


@dataclass(frozen=True, slots=True)
class ControlWrite:
    """One write of a setting.

    ``send`` writes it through the library, given the station's data as the previous
    write left it, and returns the part as written (``None``: unknown). ``part`` is the
    part of :class:`~..models.ControlsData` read back after it; ``applied`` tells from
    the read-back whether the cloud applied it; ``what`` names it in the log. ``also``
    names other parts the write may change, read back too where the station has them.
    """

    part: str
    what: str
    send: Send
    applied: Callable[[ControlsData], bool]
    also: tuple[str, ...] = ()


def _kw(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} kW"


def soc_level(name: SocLevel, value: int) -> ControlWrite:
    """Set one SOC level (whole %); the library writes the four together."""

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        return await client.battery.set_soc_levels(station_id=sid, **{name: value})

    return ControlWrite(
        part="soc_levels",
        what=f"{SOC_LABELS[name]} of {value} %",
        send=send,
        applied=lambda d: d.soc_levels is not None and getattr(d.soc_levels, name) == value,
    )


def power_limit(name: PowerLimit, value: float | None) -> ControlWrite:
    """Set the battery's largest charge or discharge power (kW, ``None``: the system's own)."""

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        if name == "max_charge":
            return await client.battery.set_power_limits(max_charge=value, station_id=sid)
        return await client.battery.set_power_limits(max_discharge=value, station_id=sid)

    word = "charge" if name == "max_charge" else "discharge"
    return ControlWrite(
        part="power_limits",
        what=f"the battery's maximum {word} power of {_kw(value)}",
        send=send,
        applied=lambda d: d.power_limits is not None and same(getattr(d.power_limits, name), value),
    )


def _grid_part(data: ControlsData, direction: Direction) -> GridLimit | None:
    return data.export_limit if direction == "export" else data.import_limit


def grid_limit(
    direction: Direction, *, enabled: bool | None = None, limit: float | None = None
) -> ControlWrite:
    """Switch the grid export or import limitation and/or set its limit (kW).

    What is not given stays as the data has it; a limitation switched on without any
    limit of the owner's gets the installer's (the cloud takes both together).
    """

    async def send(client: Sigen, sid: str, data: ControlsData) -> object:
        current = _grid_part(data, direction)
        on = enabled if enabled is not None else current is not None and current.enabled
        value = limit
        if value is None and current is not None and current.limit is None:
            value = current.installer_limit
        return await client.grid.set_limit(direction, enabled=on, limit=value, station_id=sid)

    def applied(data: ControlsData) -> bool:
        part = _grid_part(data, direction)
        return (
            part is not None
            and (enabled is None or part.enabled == enabled)
            and (limit is None or same(part.limit, limit))
        )

    shown = [] if enabled is None else ["on" if enabled else "off"]
    shown += [] if limit is None else [f"{limit:g} kW"]
    return ControlWrite(
        part=f"{direction}_limit",
        what=f"the grid {direction} limitation ({', '.join(shown)})",
        send=send,
        applied=applied,
    )


def current_limit(limit: float) -> ControlWrite:
    """Set the grid connection current limit (A); its switch stays as it is."""

    async def send(client: Sigen, sid: str, data: ControlsData) -> object:
        current = data.current_limit
        on = current is None or current.enabled
        return await client.grid.set_current_limit(enabled=on, limit=limit, station_id=sid)

    return ControlWrite(
        part="current_limit",
        what=f"the grid connection current limit of {limit:g} A",
        send=send,
        applied=lambda d: d.current_limit is not None and same(d.current_limit.limit, limit),
    )


def pv_limit(limit: float | None) -> ControlWrite:
    """Limit the PV power (kW), or lift the limit (``None``)."""

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        return await client.grid.set_pv_limit(limit, station_id=sid)

    return ControlWrite(
        part="pv_limit",
        what=f"the PV power limit of {_kw(limit)}",
        send=send,
        applied=lambda d: d.pv_limit is not None and same(d.pv_limit.limit, limit),
    )


def export_allowed(allowed: bool) -> ControlWrite:
    """Allow or forbid the battery to export to the grid."""

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        await client.battery.set_export_allowed(allowed, station_id=sid)
        return allowed

    return ControlWrite(
        part="export_allowed",
        what=f"the battery export to the grid ({'allowed' if allowed else 'forbidden'})",
        send=send,
        applied=lambda d: d.export_allowed is allowed,
    )


def manual_start(mode: str, duration: int, power: float | None = None) -> ControlWrite:
    """Start manual control now for ``duration`` minutes (``power`` kW, ``None``: the own).

    ``mode`` as the library takes it (any case, ``-`` or ``_``); the library checks it.
    """
    name = manual_mode_name(mode) or mode

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        await client.control.start_manual_control(mode, duration, power, station_id=sid)
        return None

    return ControlWrite(
        part="manual",
        what=f"manual control {name!r} for {duration} min ({_kw(power)})",
        send=send,
        applied=lambda d: d.manual is not None and d.manual.active and d.manual.mode == name,
    )


def manual_stop() -> ControlWrite:
    """Stop manual control."""

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        await client.control.stop_manual_control(station_id=sid)
        return None

    return ControlWrite(
        part="manual",
        what="stopping manual control",
        send=send,
        applied=lambda d: d.manual is not None and not d.manual.active,
    )


def peak_shaving(
    *,
    enabled: bool | None = None,
    soc: int | None = None,
    periods: tuple[PeakShavingPeriod, ...] | None = None,
) -> ControlWrite:
    """Switch peak shaving, set its SOC (%) and/or replace its periods (checked before).

    The library writes the whole setting, reading first what is not given. A SOC is
    also kept in step with the SOC levels' peak-shaving SOC (see :func:`_keep_levels`).
    """

    async def send(client: Sigen, sid: str, _data: ControlsData) -> object:
        written = await client.grid.set_peak_shaving(
            enabled=enabled, soc=soc, periods=periods, station_id=sid
        )
        if soc is not None:
            await _keep_levels(client, sid, soc)
        return written

    def applied(data: ControlsData) -> bool:
        part = data.peak_shaving
        return (
            part is not None
            and (enabled is None or part.enabled == enabled)
            and (soc is None or part.soc == soc)
            and (periods is None or part.periods == periods)
        )

    shown = [] if enabled is None else ["on" if enabled else "off"]
    shown += [] if soc is None else [f"{soc} %"]
    shown += [] if periods is None else [f"{len(periods)} periods"]
    return ControlWrite(
        part="peak_shaving",
        what=f"peak shaving ({', '.join(shown) or 'unchanged'})",
        send=send,
        applied=applied,
        also=("soc_levels",) if soc is not None else (),
    )


async def _keep_levels(client: Sigen, sid: str, soc: int) -> None:
    """Give the SOC levels' ``peakShavingSOC`` the peak-shaving SOC too, unless it has it.

    Whether the cloud's two values are one is unknown (§7.7 of the API notes): when
    they are, the levels already read ``soc`` and nothing more is written.
    """
    levels = await client.battery.get_soc_levels(station_id=sid)
    if levels.peak_shaving is not None and levels.peak_shaving != soc:
        await client.battery.set_soc_levels(peak_shaving=soc, station_id=sid)


def peak_shaving_soc(value: int) -> ControlWrite:
    """The one peak-shaving SOC number: the peak-shaving setting's SOC and the levels' one.

    A station with the peak-shaving setting gets it there and in the SOC levels (kept
    in step); one without it only in the SOC levels (§7.1's ``peakShavingSOC``).
    """

    async def send(client: Sigen, sid: str, data: ControlsData) -> object:
        if data.peak_shaving is None:
            return await client.battery.set_soc_levels(peak_shaving=value, station_id=sid)
        await client.grid.set_peak_shaving(soc=value, station_id=sid)
        await _keep_levels(client, sid, value)
        return None

    def applied(data: ControlsData) -> bool:
        levels, shaving = data.soc_levels, data.peak_shaving
        return (levels is None or levels.peak_shaving == value) and (
            shaving is None or shaving.soc == value
        )

    return ControlWrite(
        part="soc_levels",
        what=f"{SOC_LABELS['peak_shaving']} of {value} %",
        send=send,
        applied=applied,
        also=("peak_shaving",),
    )
