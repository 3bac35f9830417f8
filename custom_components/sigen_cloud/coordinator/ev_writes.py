"""The writes of the EV coordinator: one per charger setting or command, each with its check.

A write is sent inside the station's write lock (the controls coordinator's), then the
charger is read back and ``applied`` tells from the read-back whether the cloud did it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .control_writes import same

if TYPE_CHECKING:
    from ..models import ChargerData
    from ..sigen import Sigen

type Send = Callable[[Sigen, str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EvWrite:
    """One write to a charger.

    ``send`` writes through the library (client, station id, serial); ``applied``
    checks the charger's read-back; ``what`` names the write in the log; ``slow``: the
    read-back also reads the parts read less often (the mode, the V2X session).
    """

    what: str
    send: Send
    applied: Callable[[ChargerData], bool]
    slow: bool = False


def ac_current(amps: int) -> EvWrite:
    """Set the AC charger's charging current (whole A; the library checks the range)."""

    async def send(client: Sigen, sid: str, _serial: str) -> None:
        await client.ev.set_ac_current(amps, station_id=sid)

    return EvWrite(
        what=f"the AC charger's charging current of {amps} A",
        send=send,
        applied=lambda d: d.ac_current is not None and same(d.ac_current.current, amps),
    )


def ac_dlm(enabled: bool) -> EvWrite:
    """Switch the AC charger's dynamic load management on or off."""

    async def send(client: Sigen, sid: str, _serial: str) -> None:
        await client.ev.set_ac_dlm(enabled, station_id=sid)

    return EvWrite(
        what=f"the AC charger's dynamic load management ({'on' if enabled else 'off'})",
        send=send,
        applied=lambda d: d.ac_current is not None and d.ac_current.dlm is enabled,
    )


def dc_mode(mode: str) -> EvWrite:
    """Switch the DC charge mode (``fast``, ``pv_surplus``, ``v2x``)."""

    async def send(client: Sigen, sid: str, serial: str) -> None:
        await client.ev.set_dc_mode(serial, mode, station_id=sid)

    return EvWrite(
        what=f"the DC charge mode {mode!r}",
        send=send,
        applied=lambda d: d.dc_mode is not None and d.dc_mode.mode == mode,
        slow=True,
    )


def charging(start: bool) -> EvWrite:
    """Start or stop charging the car on a DC charger."""

    async def send(client: Sigen, sid: str, serial: str) -> None:
        if start:
            await client.ev.start_charging(serial, station_id=sid)
        else:
            await client.ev.stop_charging(serial, station_id=sid)

    def applied(data: ChargerData) -> bool:
        state = data.dc_state
        return state is not None and (state.run_state_name == "charging") is start

    return EvWrite(
        what="starting to charge" if start else "stopping charging", send=send, applied=applied
    )


def v2x_start(duration: int, power: float | None) -> EvWrite:
    """Discharge the car into the home for ``duration`` minutes, at most ``power`` kW."""

    async def send(client: Sigen, sid: str, serial: str) -> None:
        await client.ev.start_v2x_discharge(serial, duration, power, station_id=sid)

    shown = "" if power is None else f" at up to {power:g} kW"
    return EvWrite(
        what=f"a V2X discharge of {duration} min{shown}",
        send=send,
        applied=lambda d: d.v2x is not None and bool(d.v2x.timed or d.v2x.discharging),
        slow=True,
    )


def v2x_stop() -> EvWrite:
    """Stop the V2X discharge."""

    async def send(client: Sigen, sid: str, serial: str) -> None:
        await client.ev.stop_v2x_discharge(serial, station_id=sid)

    return EvWrite(
        what="stopping the V2X discharge",
        send=send,
        applied=lambda d: d.v2x is None or not (d.v2x.timed or d.v2x.discharging),
        slow=True,
    )
