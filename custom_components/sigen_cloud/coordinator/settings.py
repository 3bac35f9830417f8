"""Per-station settings: the operational mode (app API) and the northbound mode.

Both are one setting of the system, its EMS work mode: northbound MSC (0) and FFG (5)
are the app's modes 0 and 5, and switching either switches the other. A write through
us shows at once in both (the coordinator records the accepted mode), and the refresh
right after confirms the operational mode; the northbound mode may be asked only once
per 5 minutes per system, so the one set through us stands until then.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..const import LOGGER, NB_MODE_MIN_INTERVAL, SLOW_REFRESH_INTERVAL
from ..models import AccountStation, StationSettings
from ..sigen import CurrentMode, NBMode, OperationalMode
from ..sigen.app.modes import with_label
from .base import NorthboundAccess, SigenCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import Sigen, SigenMQTT

# Modes the northbound REST API switches; the others go over MQTT.
NB_REST_MODES = frozenset({NBMode.MSC, NBMode.FFG})
# The profile id of the app's default (non-profile) modes.
DEFAULT_PROFILE_ID = -1


def _nb_mode(value: int) -> NBMode | None:
    """The northbound mode of an EMS work mode value (``None``: AI, TOU, a profile...)."""
    try:
        return NBMode(value)
    except ValueError:
        return None


class SigenSettingsCoordinator(SigenCoordinator[StationSettings]):
    """The modes of one station, every 10 minutes and right after a write through us.

    An app API station has operational modes and a current mode; with developer
    credentials every station with a system id also has a northbound mode, queried at
    most every 5 minutes (the cloud's limit). ``station`` is kept current by the
    account coordinator (a system id may be learned later).

    The list of modes changes only when the owner edits the energy profiles in the
    app: it is read with the first data, after each refresh of the account (every 30
    minutes, :meth:`account_refreshed`), and when the current mode is one the list
    does not have; the other refreshes read the current mode alone.
    """

    interval = SLOW_REFRESH_INTERVAL

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SigenConfigEntry,
        client: Sigen,
        northbound: NorthboundAccess | None,
        station: AccountStation,
    ) -> None:
        """Poll the settings of ``station``."""
        super().__init__(hass, entry, client)
        self.northbound = northbound
        self.station = station
        # When the northbound mode was last asked for (the 5-minute limit).
        self.nb_mode_checked_at: datetime | None = None
        self._modes_due = False
        # The (mode, profile id) not in the list for which the list was read again.
        self._unlisted: tuple[int, int] | None = None

    def account_refreshed(self, station: AccountStation, *, modes_due: bool = True) -> None:
        """The account was read again: its view of the station, and the list of modes.

        ``modes_due`` false: the list is being read anyway (a start-up from the last
        run's stations, whose first data went out before the station read).
        """
        self.station = station
        self._modes_due = self._modes_due or modes_due

    async def _async_fetch(self) -> StationSettings:
        """The operational modes and current mode, and the northbound mode when due."""
        (modes, current), (nb_mode, nb_mode_at) = await self._async_both(
            self._async_app_modes, self._async_nb_mode
        )
        return StationSettings(
            modes=modes, current_mode=current, nb_mode=nb_mode, nb_mode_at=nb_mode_at
        )

    async def _async_app_modes(self) -> tuple[tuple[OperationalMode, ...], CurrentMode | None]:
        """The current mode, and the list of modes first when it is due (see the class)."""
        if self.station.info is None:
            return (), None
        known = self.data
        if known is None or self._modes_due or not known.modes:
            return await self._async_modes_and_current()
        current = await self.client.get_current_mode(station_id=self.station.station_id)
        if current.label is not None:
            self._unlisted = None
        elif (current.mode, current.profile_id) != self._unlisted:
            # A mode the list does not have (a profile added in the app): read the list
            # again, once for this mode.
            self._unlisted = (current.mode, current.profile_id)
            return await self._async_modes_and_current()
        return known.modes, current

    async def _async_modes_and_current(self) -> tuple[tuple[OperationalMode, ...], CurrentMode]:
        """The list of modes and the current mode (labelled from that list).

        Together for the first data: the current mode's label is looked up once both
        are in, so that it does not wait for the list (issue 21).
        """
        sid = self.station.station_id
        client = self.client
        modes, current = await self._async_both(
            partial(client.get_operational_modes, station_id=sid),
            partial(client.get_current_mode, station_id=sid),
        )
        self._modes_due = False
        return tuple(modes), with_label(current, modes)

    async def async_query_nb_mode(self, *, at_once: bool = False) -> int | None:
        """Ask the cloud for the northbound mode if its limit allows it now, else ``None``.

        The cloud answers the query once per 5 minutes per system (§2.3): the one gate
        for the regular poll and ``release_control`` alike, so together they keep to it.
        """
        system_id = self.station.system_id
        now = dt_util.utcnow()
        last = self.nb_mode_checked_at
        if (
            self.northbound is None
            or not system_id
            or (last is not None and now - last < NB_MODE_MIN_INTERVAL)
        ):
            return None
        self.nb_mode_checked_at = now
        return await self.northbound.query_mode(system_id, at_once=at_once)

    async def _async_nb_mode(self) -> tuple[NBMode | None, datetime | None]:
        """The northbound mode if it may be asked for now, else the last one learned."""
        known = self.data or StationSettings()
        value = await self.async_query_nb_mode(at_once=self.waited_for)
        if value is None:
            return known.nb_mode, known.nb_mode_at
        mode = _nb_mode(value)
        if mode is None:
            LOGGER.debug("Northbound mode %s is none of %s", value, [m.name for m in NBMode])
        return mode, self.nb_mode_checked_at

    async def async_set_operational_mode(self, mode: OperationalMode) -> None:
        """Switch the app's operational mode; shown at once in both mode selects."""
        await self.client.set_operational_mode(
            mode.value, mode.profile_id, station_id=self.station.station_id
        )
        shown = replace(
            self._with_ems_mode(mode.value, profile=mode.is_profile),
            current_mode=CurrentMode(mode.value, mode.profile_id, mode.label),
        )
        self.async_set_updated_data(shown)
        await self.async_request_refresh()

    async def async_set_northbound_mode(self, mode: NBMode, mqtt: SigenMQTT | None) -> None:
        """Switch the northbound mode: MSC/FFG over REST, VPP/NBI over MQTT.

        The caller has checked the system id, and ``mqtt`` for the MQTT modes.
        """
        system_id = self.station.system_id
        assert system_id is not None
        if mode in NB_REST_MODES:
            assert self.northbound is not None
            await self.northbound.client.switch_mode(system_id, mode)
        else:
            assert mqtt is not None
            await mqtt.switch_mode(system_id, mode)
        self.async_set_updated_data(self._with_ems_mode(int(mode)))
        await self.async_request_refresh()

    def _with_ems_mode(self, value: int, *, profile: bool = False) -> StationSettings:
        """The settings with a new EMS work mode learned (set through us just now).

        A custom profile is no northbound mode; a northbound switch also shows as the
        app's mode of the same value (a TOU or AI mode is gone after it).
        """
        known = self.data or StationSettings()
        shown = replace(
            known, nb_mode=None if profile else _nb_mode(value), nb_mode_at=dt_util.utcnow()
        )
        current = known.current_mode
        if profile or (current is not None and current.mode == value and current.profile_id < 0):
            return shown
        label = next(
            (mode.label for mode in known.modes if mode.value == value and not mode.is_profile),
            None,
        )
        return replace(shown, current_mode=CurrentMode(value, DEFAULT_PROFILE_ID, label))
