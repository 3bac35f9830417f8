"""Per-station EV chargers: read every 2 minutes, every 30 s while a car is plugged in.

The account coordinator lists a station's chargers (``list_chargers``) when it reads
the station, and creates this coordinator only for a station that lists any. Each
poll reads every listed charger: the AC charger's current setting and its power (the
energy flow's EV power less the DC chargers'), the DC charger's state; the energy
totals, the charge modes and the V2X session at most every 2 minutes (and after a write
that changes them). A listed charger whose first read the cloud refuses (an AC serial
the home station names without an AC charger answers code 1000) gets no device; it
is tried again when the station is listed again.

Writes share the station's write lock with the controls coordinator (one write at a
time per station, the polls included) and are read back: a write the cloud accepted but
did not apply is logged once, as a warning.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, override

from homeassistant.util import dt as dt_util

from ..const import EV_INTERVAL, EV_PLUGGED_INTERVAL, LOGGER
from ..models import ChargerData, EvData
from ..sigen import SigenError
from .base import SigenCoordinator
from .controls import not_reported

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, Sequence

    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry, StationRuntime
    from ..sigen import Charger, Sigen, StationInfo
    from .ev_writes import EvWrite


async def _optional[T](read: Callable[[], Awaitable[T]]) -> T | None:
    """A read whose refusal by the cloud means "not reported" (``None``)."""
    try:
        return await read()
    except SigenError as err:
        if not not_reported(err):
            raise
        return None


class SigenEvCoordinator(SigenCoordinator[EvData]):
    """The EV chargers of one app API station; ``listed`` are the chargers it lists."""

    interval = EV_INTERVAL

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        client: Sigen,
        station_id: str,
        write_lock: asyncio.Lock,
    ) -> None:
        """Poll the chargers of ``station_id``; writes hold ``write_lock`` (the station's)."""
        super().__init__(hass, entry, client)
        self.station_id = station_id
        self.listed: tuple[Charger, ...] = ()
        self._lock = write_lock
        self._refused: set[str] = set()
        self._slow_at: datetime | None = None

    def set_chargers(self, chargers: Sequence[Charger]) -> bool:
        """The chargers the station lists now; whether they changed.

        Chargers refused before are tried again.
        """
        before = {(c.serial, c.kind) for c in self.listed}
        self.listed = tuple(chargers)
        self._refused.clear()
        return before != {(c.serial, c.kind) for c in self.listed}

    def charger(self, serial: str) -> ChargerData | None:
        """A charger's latest data (``None``: not listed, or it does not answer)."""
        return None if self.data is None else self.data.chargers.get(serial)

    async def _async_fetch(self) -> EvData:
        """Every listed charger; one that never answered and is refused has no data."""
        now = dt_util.utcnow()
        slow = self._slow_at is None or now - self._slow_at >= EV_INTERVAL
        known = {} if self.data is None else self.data.chargers
        wanted = [c for c in self.listed if c.serial not in self._refused]
        # DC chargers first: the AC charger's power is the rest of the station's.
        wanted.sort(key=lambda c: c.kind != "dc")
        async with self._lock:
            results = await self._async_each_settled(
                [self._reader(c, known.get(c.serial), slow=slow) for c in wanted], not_reported
            )
            chargers: dict[str, ChargerData] = {}
            for charger, result in zip(wanted, results, strict=True):
                if not isinstance(result, BaseException):
                    chargers[charger.serial] = result
                elif charger.serial in known:
                    raise result
                else:
                    LOGGER.debug(
                        "%s charger %s of station %s does not answer (%s); not added",
                        charger.kind.upper(),
                        charger.serial,
                        self.station_id,
                        result,
                    )
                    self._refused.add(charger.serial)
            chargers = await self._with_ac_power(chargers)
        if slow:
            self._slow_at = now
        return EvData(chargers)

    def _reader(
        self, charger: Charger, previous: ChargerData | None, *, slow: bool
    ) -> Callable[[], Awaitable[ChargerData]]:
        async def read() -> ChargerData:
            return await self._read(charger, previous, slow=slow)

        return read

    async def _read(
        self, charger: Charger, previous: ChargerData | None, *, slow: bool
    ) -> ChargerData:
        """One charger's reads (the less frequent ones only when ``slow``)."""
        ev, sid, sn = self.client.ev, self.station_id, charger.serial
        if charger.kind == "ac":
            current = await ev.get_ac_current(station_id=sid)
            mode = previous.ac_mode if previous is not None else None
            if slow or previous is None:
                mode = await _optional(lambda: ev.get_ac_charge_mode(sn, station_id=sid))
            power = None if previous is None else previous.power
            return ChargerData(charger, power=power, ac_current=current, ac_mode=mode)
        state = await ev.get_dc_state(sn, station_id=sid)
        data = previous or ChargerData(charger)
        data = replace(data, charger=charger, dc_state=state, power=state.power)
        if slow or previous is None:
            data = replace(
                data,
                dc_totals=await _optional(lambda: ev.get_dc_totals(sn, station_id=sid)),
                dc_mode=await _optional(lambda: ev.get_dc_mode(sn, station_id=sid)),
                v2x=await _optional(lambda: ev.get_v2x_session(sn, station_id=sid)),
            )
        return data

    async def _with_ac_power(self, chargers: dict[str, ChargerData]) -> dict[str, ChargerData]:
        """The AC charger's power: the station's EV power less the DC chargers' (kW)."""
        ac = [data for data in chargers.values() if data.kind == "ac"]
        if not ac:
            return chargers
        flow = await self.client.get_energy_flow(station_id=self.station_id)
        if flow.ev_power is None:
            return chargers
        dc = sum(data.power or 0.0 for data in chargers.values() if data.kind == "dc")
        power = round(flow.ev_power - dc, 3) + 0.0
        return {**chargers, **{data.serial: replace(data, power=power) for data in ac}}

    @override
    async def _async_update_data(self) -> EvData:
        """Poll faster while a car is plugged in (unless the cloud asked us to slow down)."""
        data = await super()._async_update_data()
        if not self._rate_limited:
            self.update_interval = EV_PLUGGED_INTERVAL if data.car_plugged else EV_INTERVAL
        return data

    async def async_write(self, serial: str, write: EvWrite) -> None:
        """Write to a charger, then read it back; one write at a time per station.

        The library's errors pass through (nothing changed in the data then). When the
        read-back fails, a refresh follows.
        """
        charger = next((c for c in self.listed if c.serial == serial), None)
        if charger is None:
            msg = f"Station {self.station_id} lists no charger {serial}"
            raise SigenError(msg)
        read_back_failed = False
        async with self._lock:
            await write.send(self.client, self.station_id, serial)
            previous = self.charger(serial)
            try:
                fresh = await self._read(charger, previous, slow=write.slow)
            except SigenError as err:
                LOGGER.debug("Reading back charger %s after %s failed: %s", serial, write.what, err)
                read_back_failed = True
            else:
                known = {} if self.data is None else self.data.chargers
                self.async_set_updated_data(EvData({**known, serial: fresh}))
                if not write.applied(fresh):
                    LOGGER.warning(
                        "The Sigen cloud accepted %s on charger %s of station %s but did not "
                        "apply it; what it reports is shown",
                        write.what,
                        serial,
                        self.station_id,
                    )
        if read_back_failed:
            await self.async_request_refresh()


def may_have_chargers(info: StationInfo) -> bool:
    """Whether a station may have chargers worth listing.

    A station that says it has no EV (``hasEv`` false) and names no DC charger is not
    asked: its ``acSnList`` names an AC serial even without an AC charger.
    """
    return info.has_ev is not False or bool(info.dc_sn_list)


async def async_update_chargers(
    hass: HomeAssistant,
    entry: SigenConfigEntry,
    client: Sigen,
    runtime: StationRuntime,
    *,
    refresh: bool,
) -> None:
    """List a station's chargers; create its EV coordinator when it first lists any.

    A new coordinator gets its first data with the station's others (``refresh``
    false: a new station) or at once. A failed list keeps what is known; a changed
    one is read at once.
    """
    info = runtime.info
    if info is None or runtime.controls is None:
        return
    chargers: list[Charger] = []
    if may_have_chargers(info):
        try:
            chargers = await client.ev.list_chargers(station_id=runtime.station_id)
        except SigenError as err:
            LOGGER.debug(
                "The chargers of station %s could not be listed: %s", runtime.station_id, err
            )
            return
    ev = runtime.ev
    if ev is None:
        if not chargers:
            return
        LOGGER.debug("Station %s lists %d charger(s)", runtime.station_id, len(chargers))
        ev = runtime.ev = SigenEvCoordinator(
            hass, entry, client, runtime.station_id, runtime.controls.write_lock
        )
        ev.set_chargers(chargers)
        if refresh:
            await ev.async_refresh()
    elif ev.set_chargers(chargers) and refresh:
        await ev.async_refresh()
