"""The end-user ("app") REST API of the simulated cloud (§1 and §5 of the API notes).

One route module per area, mirroring the library's areas; each turns the station model
into the cloud's JSON beside its routes:

* :mod:`.auth`: login (password and refresh-token grants), the password decryption;
* :mod:`.stations`: the home station and a station's energy flow;
* :mod:`.modes`: the mode list, the current mode and the switch;
* :mod:`.smart_loads`: device cards, a load's detail and consumption, the switch;
* :mod:`.battery`: SOC levels, backup reserve, battery export, battery power limits;
* :mod:`.grid`: grid export/import limitation, PV limit, grid connection current limit;
* :mod:`.control`: instant manual control (read, display, start, stop);
* :mod:`.schedule`: the TOU charge/discharge schedule (read, batch save);
* :mod:`.peak_shaving`: the peak-shaving schedule (read, whole write);
* :mod:`.history`: statistics, a day's energy rows and power series;
* :mod:`.ev` (reads) and :mod:`.ev_writes`: the AC and DC chargers, V2X;
* :mod:`.devices`: the device tree and the alarm list;
* :mod:`.forecast`: Sigen's AI forecast; :mod:`.tariff`: the tariff, prices, spike loads;
* :mod:`._common`: reading requests and the envelope answers; :mod:`._settings`: the
  settings areas' value types, reads and checked writes.

:class:`AppApi` is the context they share: which shard a request is for, whether its
token is good, which station an id names. A new area is a module with a routes class
(``__init__(api)``, ``register(app)``) added to :data:`AREAS`, or, for the owner's
settings and controls of §7, to :data:`SETTING_AREAS` (chargers, forecast and prices:
:data:`EV_AND_PRICE_AREAS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._common import (
    NOT_APPLIED,
    SHARD_HOST,
    SHARDS,
    bearer_token,
    envelope,
    param_illegal,
    read_form,
    read_text,
    to_int,
    unauthorized,
)
from .auth import BASIC_CLIENT, AuthRoutes, decrypt_password
from .battery import BatteryRoutes
from .control import ManualControlRoutes
from .devices import DeviceRoutes
from .ev_writes import EvWriteRoutes
from .forecast import ForecastRoutes
from .grid import GridRoutes
from .history import HistoryRoutes
from .modes import ModeRoutes
from .peak_shaving import PeakShavingRoutes
from .schedule import ScheduleRoutes
from .smart_loads import SmartLoadRoutes
from .stations import StationRoutes
from .tariff import TariffRoutes

if TYPE_CHECKING:
    from aiohttp import web

    from ..model import SimStation
    from ..simulator import Simulator

__all__ = [
    "AREAS",
    "BASIC_CLIENT",
    "EV_AND_PRICE_AREAS",
    "NOT_APPLIED",
    "SCHEDULE_AREAS",
    "SETTING_AREAS",
    "SHARDS",
    "AppApi",
    "bearer_token",
    "decrypt_password",
    "envelope",
    "param_illegal",
    "read_form",
    "read_text",
    "unauthorized",
]

#: The route classes of the app API, in registration order.
AREAS = (AuthRoutes, StationRoutes, ModeRoutes, SmartLoadRoutes, HistoryRoutes, DeviceRoutes)
#: The owner's battery and grid settings and manual control (§7 of the API notes).
SETTING_AREAS = (BatteryRoutes, GridRoutes, ManualControlRoutes, PeakShavingRoutes)
#: EV chargers, the AI forecast, prices and spike loads (§7.10-§7.15; issue 20).
EV_AND_PRICE_AREAS = (EvWriteRoutes, ForecastRoutes, TariffRoutes)
#: The TOU charge/discharge schedule (§7.8; issue 18).
SCHEDULE_AREAS = (ScheduleRoutes,)


class AppApi:
    """The app API's shared route context; one instance per simulator."""

    def __init__(self, sim: Simulator) -> None:
        """The app API of ``sim``."""
        self.sim = sim

    def register(self, app: web.Application) -> None:
        """Add every area's routes to ``app``."""
        for area in (*AREAS, *SETTING_AREAS, *EV_AND_PRICE_AREAS, *SCHEDULE_AREAS):
            area(self).register(app)

    def request_shard(self, request: web.Request) -> str:
        """The shard a request is for.

        Its ``client-server`` header, else the shard of the host name it asked for
        (``api-<shard>.sigencloud.com``), else the account's own shard (a client that
        sends neither).
        """
        header = request.headers.get("client-server", "").strip().lower()
        if header:
            return header
        match = SHARD_HOST.fullmatch(request.headers.get("Host", "").strip().lower())
        if match is not None:
            return match.group(1)
        return self.sim.shard

    def authorized(self, request: web.Request) -> bool:
        """Whether the request's bearer token may use the app API.

        The app token, or (as one client reports) a northbound password-login token; an
        app token only on the shard that issued it, and only the account's shard.
        """
        token = self.sim.tokens.lookup(bearer_token(request), "app", "nb")
        if token is None:
            return False
        shard = self.request_shard(request)
        return shard == self.sim.shard and token.shard in ("", shard)

    def station(self, raw: Any) -> SimStation | None:
        """The station whose ``stationId`` is ``raw`` (an int or a numeric string)."""
        sid = to_int(raw)
        if sid is None:
            return None
        return self.sim.station_by_id(sid)
