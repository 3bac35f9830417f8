"""The original ``sigen`` library's surface of :class:`~.client.Sigen`, kept in one place.

Users of the original library call, and this layer keeps working over the area objects
of :class:`~.app.SigenAppClient`:

- ``async_initialize()`` (login, home station, modes, smart loads) and the alias
  ``fetch_station_info()``;
- ``get_operational_mode()``, the current mode's *label* (it reads the station's modes
  first when they are not known yet, as the original did);
- the methods made at run time from the account's modes and smart loads,
  ``set_operational_mode_<label>()``, ``enable_smart_load_<name>()`` and
  ``disable_smart_load_<name>()``, bound to the instance with ``setattr`` and listed by
  ``dir()``; ``__getattr__`` explains a missing one. Typed code calls
  ``set_operational_mode(mode)`` and ``set_smart_load_state(load, state)`` instead;
- the northbound proxies ``init_northbound()``, ``nb_query_mode()``, ``nb_switch_mode()``.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .app import SigenAppClient
from .app.modes import describe
from .const import NBMode
from .errors import SigenAPIError, SigenAuthError, SigenError, SigenRateLimitError
from .models import (
    DISABLE_LOAD_PREFIX,
    ENABLE_LOAD_PREFIX,
    MODE_METHOD_PREFIX,
    OperationalMode,
    SmartLoad,
    StationInfo,
    match_system,
)
from .northbound import NorthboundClient

if TYPE_CHECKING:
    from .app import StationId

_LOGGER = logging.getLogger(__name__)

_DYNAMIC_PREFIXES = (MODE_METHOD_PREFIX, ENABLE_LOAD_PREFIX, DISABLE_LOAD_PREFIX)


class OriginalApi(SigenAppClient):
    """:class:`~.app.SigenAppClient` with the original library's calls on top."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As :class:`~.app.SigenAppClient`; no runtime-made methods yet."""
        super().__init__(*args, **kwargs)
        self._dynamic_names: set[str] = set()
        self._northbound: NorthboundClient | None = None

    async def close(self) -> None:
        """Close the northbound client and the HTTP session if this client created it."""
        if self._northbound is not None:
            northbound, self._northbound = self._northbound, None
            await northbound.close()
        await super().close()

    async def async_initialize(self) -> None:
        """Log in, read the home station, its modes and smart loads.

        This makes the methods ``set_operational_mode_<label>``,
        ``enable_smart_load_<name>`` and ``disable_smart_load_<name>``.
        """
        await self.async_login()
        await self.get_station_info()
        await self.get_operational_modes()
        try:
            await self.get_smart_loads()
        except SigenRateLimitError:
            raise
        except SigenAPIError as err:
            _LOGGER.warning("The station's smart loads could not be read: %s", err)

    async def fetch_station_info(self) -> StationInfo:
        """Alias of :meth:`get_station_info` (the original library's name)."""
        return await self.get_station_info()

    async def get_operational_mode(self, station_id: StationId | None = None) -> str:
        """The current mode's label (``"Unknown mode <n>"`` when the label is unknown).

        Reads the station's modes first when they were not read yet (two requests then),
        as the original library did; :meth:`get_current_mode` never does.
        """
        sid = self._station(station_id)
        if sid not in self._modes:
            await self.get_operational_modes(sid)
        return describe(await self.get_current_mode(sid))

    # ------------------------------------------------------------------ runtime-made

    def _known_changed(self, station_id: str) -> None:
        """Remake the runtime methods when the home station's lists were read."""
        if station_id == self.station_id:
            self._install_dynamic_methods()

    def _install_dynamic_methods(self) -> None:
        """(Re)create ``set_operational_mode_*`` and ``enable/disable_smart_load_*``."""
        for name in self._dynamic_names:
            self.__dict__.pop(name, None)
        self._dynamic_names = set()
        for mode in self.operational_modes:
            self._add_dynamic(
                mode.method_name,
                _mode_method(mode),
                alternative=f"{mode.method_name}_{mode.profile_id}" if mode.is_profile else None,
                what=f"mode {mode.label!r}",
            )
        for load in self.home_smart_loads:
            for on, name in ((True, load.enable_method_name), (False, load.disable_method_name)):
                self._add_dynamic(
                    name,
                    _load_method(load, on=on),
                    alternative=f"{name}_{load.path}",
                    what=f"smart load {load.name!r}",
                )

    def _add_dynamic(
        self,
        name: str,
        function: Callable[..., Awaitable[None]],
        *,
        alternative: str | None,
        what: str,
    ) -> None:
        """Bind ``function`` as ``name`` (or ``alternative`` when taken)."""
        if name in _DYNAMIC_PREFIXES:
            _LOGGER.warning("No method for the %s: its name has no usable characters", what)
            return
        for candidate in (name, alternative):
            if candidate is None:
                continue
            if candidate in self._dynamic_names or hasattr(type(self), candidate):
                continue
            function.__name__ = candidate
            function.__qualname__ = f"{type(self).__name__}.{candidate}"
            setattr(self, candidate, types.MethodType(function, self))
            self._dynamic_names.add(candidate)
            return
        _LOGGER.warning("No method for the %s: the name %s is already taken", what, name)

    @property
    def dynamic_method_names(self) -> list[str]:
        """Names of the methods created from the account's modes and smart loads."""
        return sorted(self._dynamic_names)

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | self._dynamic_names)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # Only reached for missing attributes: explain the dynamic methods' names.
            if name.startswith(_DYNAMIC_PREFIXES) and "_dynamic_names" in self.__dict__:
                known = ", ".join(self.dynamic_method_names) or "none yet"
                hint = "" if self.__dict__.get("station_id") else " Call async_initialize() first."
                raise AttributeError(
                    f"Sigen has no method {name!r}: it is made from the account's modes and "
                    f"smart loads. Known: {known}.{hint}",
                    name=name,
                    obj=self,
                )
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self
            )

    # ------------------------------------------------------------------ northbound

    @property
    def northbound(self) -> NorthboundClient | None:
        """The northbound client made by :meth:`init_northbound`, if any."""
        return self._northbound

    async def init_northbound(self) -> NorthboundClient:
        """Log in to the northbound API with this account (``nb_base_url``)."""
        if self._northbound is None:
            self._northbound = NorthboundClient(
                self.nb_base_url,
                self.username,
                self._password,
                session=self.http_session(),
                user_agent=self.user_agent,
                request_timeout=self.request_timeout,
            )
        await self._northbound.login()
        return self._northbound

    async def _nb(self) -> NorthboundClient:
        """The northbound client, logged in on first use."""
        if self._northbound is None:
            return await self.init_northbound()
        return self._northbound

    async def nb_system_id(self) -> str:
        """The home station's northbound/MQTT system id, confirmed by the system list.

        The app API's ``stationCode`` is the system id; it is looked up in the
        northbound ``/openapi/system`` list once. A station without ``stationCode`` is
        found in that list by name and capacities (:func:`~.models.match_system`);
        ``stationSnCode`` is never used. The result is kept (``station.system_id``).
        When the list cannot be read (rate limit, error) a known ``stationCode`` is
        used unconfirmed; without one the error is raised.
        """
        station = self.station
        if station is None:
            raise SigenError(
                "No system id: call async_initialize() first (the home station's "
                "stationCode is the default) or pass system_id"
            )
        known = self._system_ids.get(station.station_id)
        if known is not None:
            return known
        try:
            systems = await (await self._nb()).get_systems()
        except SigenAuthError:
            raise
        except SigenError as err:
            if station.station_code is None:
                raise
            _LOGGER.debug(
                "The northbound system list could not be read (%s); using the home "
                "station's stationCode unconfirmed",
                err,
            )
            return station.station_code
        system = match_system(station, systems)
        if system is None:
            return _unconfirmed_system_id(station, len(systems))
        self._system_ids[station.station_id] = system.system_id
        if self.station is station:
            self.station = replace(station, system_id=system.system_id)
        return system.system_id

    async def _nb_target(self, system_id: str | None) -> tuple[NorthboundClient, str]:
        """The northbound client and the system to address (the home one by default)."""
        if system_id is None:
            system_id = await self.nb_system_id()
        return await self._nb(), system_id

    async def nb_query_mode(self, system_id: str | None = None) -> int:
        """The northbound mode (an :class:`~.const.NBMode` value) of the home station.

        Or of ``system_id`` when given.
        """
        nb, target = await self._nb_target(system_id)
        return await nb.query_mode(target)

    async def nb_switch_mode(self, mode: NBMode | int, system_id: str | None = None) -> None:
        """Switch the northbound mode over REST (``PUT /openapi/instruction/settings``).

        Any :class:`~.const.NBMode` is sent; a mode the cloud refuses raises
        :class:`~.errors.SigenAPIError` with the cloud's code and message.
        """
        nb, target = await self._nb_target(system_id)
        await nb.switch_mode(target, mode)


def _unconfirmed_system_id(station: StationInfo, system_count: int) -> str:
    """The home station's stationCode when no northbound system matched it, else raise."""
    if station.station_code is not None:
        _LOGGER.warning(
            "The northbound system list (%d systems) does not show the home "
            "station's stationCode %s; using it anyway",
            system_count,
            station.station_code,
        )
        return station.station_code
    raise SigenError(
        "The home station's northbound system id is unknown: its station data "
        f"has no stationCode and none of the {system_count} northbound systems "
        "matches its name and capacities; pass system_id"
    )


def _mode_method(mode: OperationalMode) -> Callable[..., Awaitable[None]]:
    """A method that switches to ``mode`` (bound to the client at run time)."""

    async def set_mode(self: SigenAppClient, *, station_id: StationId | None = None) -> None:
        await self.set_operational_mode(mode.value, mode.profile_id, station_id=station_id)

    set_mode.__doc__ = f"Switch the station to the operational mode {mode.label!r}."
    return set_mode


def _load_method(load: SmartLoad, *, on: bool) -> Callable[..., Awaitable[None]]:
    """A method that switches ``load`` on or off (bound to the client at run time)."""

    async def switch(self: SigenAppClient, *, station_id: StationId | None = None) -> None:
        await self.set_smart_load_state(load.path, on, station_id=station_id)

    switch.__doc__ = f"Switch the smart load {load.name!r} {'on' if on else 'off'}."
    return switch
