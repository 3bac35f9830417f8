"""The end-user ("app") API of Sigenergy's cloud, as the mySigen app uses it.

:class:`SigenAppClient` owns one :class:`~._transport.AppTransport` and exposes the
API's areas as attributes, one small stateless class each (:mod:`.stations`,
:mod:`.modes`, :mod:`.smart_loads`, :mod:`.battery`, :mod:`.grid`, :mod:`.control`,
:mod:`.history`, :mod:`.ev`, :mod:`.forecast`, :mod:`.tariff`). A new endpoint goes
into its area's module.
"""

from ._client import SigenAppClient, StationId
from ._transport import AppTransport
from .battery import BatteryApi
from .control import ControlApi
from .devices import AlarmsApi, DevicesApi
from .ev import EvApi
from .forecast import ForecastApi
from .grid import GridApi
from .history import HistoryApi
from .modes import ModesApi
from .smart_loads import SmartLoadsApi
from .stations import StationsApi
from .tariff import TariffApi

__all__ = [
    "AlarmsApi",
    "AppTransport",
    "BatteryApi",
    "ControlApi",
    "DevicesApi",
    "EvApi",
    "ForecastApi",
    "GridApi",
    "HistoryApi",
    "ModesApi",
    "SigenAppClient",
    "SmartLoadsApi",
    "StationId",
    "StationsApi",
    "TariffApi",
]
