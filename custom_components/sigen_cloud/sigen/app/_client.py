"""``SigenAppClient``: the app API for one account, its areas as attributes.

The client owns the HTTP session and the transport, and exposes one object per area of
the API (``stations``, ``modes``, ``smart_loads``, ``battery``, ``grid``, ``control``, ``ev``,
``forecast``, ``tariff``, ``schedule``);
a new area is one attribute here.
It also remembers the home station and the modes and smart loads it last read, so that
a station id may be left out and a mode or load be found by name.
"""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from .._auth import TokenStateOwner
from .._http import SessionOwner, normalize_base_url
from .._redact import mask_email
from ..const import APP_DEFAULT_PROFILE_ID, DEFAULT_REQUEST_TIMEOUT, DEFAULT_USER_AGENT
from ..errors import SigenError, SigenValidationError
from ..models import (
    CurrentMode,
    EnergyFlow,
    OperationalMode,
    SmartLoad,
    SmartLoadConsumption,
    StationInfo,
)
from ..regions import get_region
from ._transport import AppTransport
from .battery import BatteryApi
from .control import ControlApi
from .devices import AlarmsApi, DevicesApi
from .ev import EvApi
from .forecast import ForecastApi
from .grid import GridApi
from .history import HistoryApi
from .modes import ModesApi, check_mode, find_by_name, label_of
from .schedule import ScheduleApi
from .smart_loads import SmartLoadsApi, path_of
from .stations import StationsApi
from .tariff import TariffApi

#: A station id as the caller may give it (the cloud's ids are numbers).
type StationId = str | int


class SigenAppClient(SessionOwner, TokenStateOwner):
    """Client of the end-user ("app") API for one Sigen account.

    ``region`` is a key of :data:`~..regions.REGIONS` (``eu``, ``apac``, ``aus``,
    ``us``, ``jp``, ``cn``); ``base_url`` overrides the region's host (for the
    simulator), ``nb_base_url`` the northbound host (default: the region's, or
    ``base_url`` when that is given). ``session`` is an :class:`aiohttp.ClientSession`
    to reuse and is never closed here; without one the client creates its own, closed
    by :meth:`close` or ``async with``.
    """

    def __init__(
        self,
        username: str,
        password: str,
        region: str = "eu",
        *,
        base_url: str | None = None,
        nb_base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        """Check the arguments; nothing is sent before the first call."""
        if not isinstance(username, str) or not username.strip():
            raise SigenValidationError("The Sigen account's e-mail address (username) is empty")
        if not isinstance(password, str) or not password:
            raise SigenValidationError("The Sigen account's password is empty")
        shard = get_region(region)
        if not isinstance(request_timeout, int | float) or request_timeout <= 0:
            raise SigenValidationError("request_timeout must be a positive number of seconds")
        super().__init__(session)
        self.username = username.strip()
        self._password = password
        self.region = shard.key
        self.base_url = normalize_base_url(base_url or shard.app_base_url)
        if nb_base_url is not None:
            self.nb_base_url = normalize_base_url(nb_base_url)
        else:
            self.nb_base_url = self.base_url if base_url is not None else shard.nb_base_url
        self._transport = AppTransport(
            self.http_session,
            self.base_url,
            self.username,
            password,
            client_server=shard.client_server,
            user_agent=user_agent,
            request_timeout=float(request_timeout),
        )
        self._token_keeper = self._transport.tokens
        self.stations = StationsApi(self._transport)
        self.modes = ModesApi(self._transport)
        self.smart_loads = SmartLoadsApi(self._transport)
        self.history = HistoryApi(self._transport, self)
        self.battery = BatteryApi(self._transport, self)
        self.grid = GridApi(self._transport, self)
        self.control = ControlApi(self._transport, self)
        self.ev = EvApi(self._transport, self)
        self.forecast = ForecastApi(self._transport, self)
        self.tariff = TariffApi(self._transport, self)
        self.schedule = ScheduleApi(self._transport, self)
        self.alarms = AlarmsApi(self._transport, self)
        self.devices = DevicesApi(self._transport, self)

        self.station: StationInfo | None = None
        self.station_id: str | None = None
        self._modes: dict[str, list[OperationalMode]] = {}
        self._loads: dict[str, list[SmartLoad]] = {}
        self._system_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {mask_email(self.username)} {self.base_url}>"

    async def async_login(self) -> None:
        """Log in (one attempt) without reading anything else.

        A later call needs no new login. This tries again after the cloud refused the
        credentials. A region that does not hold the account refuses it exactly like a
        wrong password (:func:`~..discovery.find_region` tries every region).
        """
        await self._transport.tokens.ensure(explicit=True)

    @property
    def user_agent(self) -> str:
        """The User-Agent every request sends (settable)."""
        return self._transport.user_agent

    @user_agent.setter
    def user_agent(self, value: str) -> None:
        self._transport.user_agent = value

    @property
    def request_timeout(self) -> float:
        """Seconds one request may take (settable)."""
        return self._transport.request_timeout

    @request_timeout.setter
    def request_timeout(self, value: float) -> None:
        self._transport.request_timeout = value

    @property
    def web_app_url(self) -> str:
        """The web app of this client's server.

        ``https://app-<region>.sigencloud.com/`` for a region's API host, the server
        itself for any other ``base_url``.
        """
        return self._transport.origin + "/"

    @property
    def account_id(self) -> str:
        """A stable id of the account: the login's user id, else the home station's id.

        Known after the home station was read; never the e-mail address.
        """
        if self._transport.login.user_id is not None:
            return self._transport.login.user_id
        if self.station_id is not None:
            return self.station_id
        raise SigenError("The account id is known only after async_initialize()")

    @property
    def operational_modes(self) -> list[OperationalMode]:
        """The home station's modes as last read (empty before they were read)."""
        return list(self._modes.get(self.station_id or "", []))

    @property
    def home_smart_loads(self) -> list[SmartLoad]:
        """The home station's smart loads as last read (``smart_loads`` is the area)."""
        return list(self._loads.get(self.station_id or "", []))

    def _station(self, station_id: StationId | None) -> str:
        """``station_id`` checked, or the home station's id when it is ``None``."""
        if station_id is None:
            if self.station_id is None:
                raise SigenError(
                    "No station id yet: call async_initialize() (or get_station_info()) "
                    "first, or pass station_id"
                )
            return self.station_id
        if isinstance(station_id, bool) or not isinstance(station_id, str | int):
            raise SigenValidationError(f"A station id must be a string or int, got {station_id!r}")
        text = str(station_id).strip()
        if not text:
            raise SigenValidationError("The station id is empty")
        return text

    def _known_changed(self, station_id: str) -> None:
        """Called after a station's modes or smart loads were read or switched."""

    # ------------------------------------------------------------------ stations

    async def get_station_info(self) -> StationInfo:
        """Read the account's home station and remember it as the default station."""
        station = await self.stations.get_home()
        known = self._system_ids.get(station.station_id)
        if station.system_id is None and known is not None:
            station = replace(station, system_id=known)
        self.station = station
        self.station_id = station.station_id
        return station

    async def get_energy_flow(self, station_id: StationId | None = None) -> EnergyFlow:
        """Live power flow: kW, grid + = import, battery + = discharge."""
        return await self.stations.get_energy_flow(self._station(station_id))

    # ------------------------------------------------------------------ modes

    async def get_operational_modes(
        self, station_id: StationId | None = None
    ) -> list[OperationalMode]:
        """All modes: the default ones, then the custom energy profiles (mode 9).

        The list is remembered: :meth:`get_current_mode` names the current mode from it.
        """
        sid = self._station(station_id)
        modes = await self.modes.get_all(sid)
        self._modes[sid] = modes
        self._known_changed(sid)
        return list(modes)

    async def get_current_mode(self, station_id: StationId | None = None) -> CurrentMode:
        """The current mode (value, profile id), one request.

        Its label comes from the station's modes as last read
        (:meth:`get_operational_modes`); ``None`` when they were not read yet.
        """
        sid = self._station(station_id)
        return await self.modes.get_current(sid, self._modes.get(sid, ()))

    async def set_operational_mode(
        self,
        mode: int | OperationalMode,
        profile_id: int = APP_DEFAULT_PROFILE_ID,
        *,
        station_id: StationId | None = None,
    ) -> None:
        """Switch the station's mode.

        A default mode's value with ``profile_id=-1``, or 9 with a custom profile's id
        (an :class:`~..models.OperationalMode` gives both).
        """
        if isinstance(mode, OperationalMode):
            profile_id = mode.profile_id
            mode = mode.value
        check_mode(mode, profile_id)
        sid = self._station(station_id)
        label = label_of(self._modes.get(sid, ()), mode, profile_id)
        await self.modes.switch(sid, mode, profile_id, label=label)

    def mode_by_label(self, label: str) -> OperationalMode:
        """The home station's mode with this label.

        Case-insensitive; the method-name form ``"sigen_ai_mode"`` works too.
        """
        modes = self.operational_modes
        found = find_by_name(modes, label, lambda item: item.label)
        if found is not None:
            return found
        if not modes:
            raise SigenValidationError(
                f"Unknown operational mode {label!r}: no modes are known yet; call "
                "async_initialize() or get_operational_modes() first"
            )
        known = ", ".join(repr(item.label) for item in modes)
        raise SigenValidationError(f"Unknown operational mode {label!r}; known modes: {known}")

    # ------------------------------------------------------------------ smart loads

    async def get_smart_loads(self, station_id: StationId | None = None) -> list[SmartLoad]:
        """The station's smart loads (name, path, power kW, on/off), remembered."""
        sid = self._station(station_id)
        loads = await self.smart_loads.get_all(sid)
        self._loads[sid] = loads
        self._known_changed(sid)
        return list(loads)

    def smart_load_by_name(self, name: str) -> SmartLoad:
        """The home station's smart load with this name (case-insensitive)."""
        loads = self.home_smart_loads
        found = find_by_name(loads, name, lambda item: item.name)
        if found is not None:
            return found
        if not loads:
            raise SigenValidationError(
                f"Unknown smart load {name!r}: the station has no smart loads known yet; "
                "call async_initialize() or get_smart_loads() first"
            )
        known = ", ".join(repr(item.name) for item in loads)
        raise SigenValidationError(f"Unknown smart load {name!r}; known smart loads: {known}")

    async def get_smart_load_consumption(
        self, load_path: int | SmartLoad, station_id: StationId | None = None
    ) -> SmartLoadConsumption:
        """Energy used by a smart load today, this month and in total (kWh)."""
        sid = self._station(station_id)
        return await self.smart_loads.get_consumption(sid, path_of(load_path))

    async def set_smart_load_state(
        self,
        load_path: int | SmartLoad,
        state: bool | int,
        *,
        station_id: StationId | None = None,
    ) -> None:
        """Switch a smart load on (``True``/1) or off (``False``/0)."""
        path = path_of(load_path)
        if state not in (True, False, 0, 1) or not isinstance(state, int):
            raise SigenValidationError(
                f"A smart load's state must be True/False or 1/0, got {state!r}"
            )
        on = bool(state)
        sid = self._station(station_id)
        await self.smart_loads.switch(sid, path, on=on)
        loads = self._loads.get(sid)
        if loads is not None:
            self._loads[sid] = [
                replace(item, on=on) if item.path == path else item for item in loads
            ]
