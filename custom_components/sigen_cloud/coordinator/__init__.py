"""The coordinators of Sigen Cloud, one per cadence and kind of data.

* :class:`SigenAccountCoordinator` (entry, 10 min): the stations, and their runtimes;
* :class:`SigenLiveCoordinator` (station, 60 s): the energy flow;
* :class:`SigenSettingsCoordinator` (station, 10 min and after a write): the modes;
* :class:`SigenSmartLoadCoordinator` (station, 10 min and after a switch): smart loads;
* :class:`SigenControlsCoordinator` (station, 10 min and after a write): the battery and
  grid settings and the manual control, written one at a time;
* :class:`SigenForecastCoordinator` (station, hourly and after a tariff write): the AI
  forecast, the tariff plan and the price summary;
* :class:`SigenEvCoordinator` (station with chargers, 2 min, 30 s while a car is
  plugged in): the EV chargers, written with the controls' write lock;
* :class:`SigenScheduleCoordinator` (station, 10 min and after a write): the TOU
  charge/discharge schedule, written with the controls' write lock;
* :class:`SigenDevicesCoordinator` (app station, 5 min): the alarm list, and every 30
  minutes the device tree (issue 18);
* :class:`SigenPushCoordinator` (station, no polling): what MQTT pushes.
"""

from .account import SigenAccountCoordinator
from .base import NorthboundAccess, SigenCoordinator
from .controls import SigenControlsCoordinator
from .devices import SigenDevicesCoordinator
from .ev import SigenEvCoordinator
from .forecast import SigenForecastCoordinator
from .live import SigenLiveCoordinator, SigenSmartLoadCoordinator
from .push import SigenPushCoordinator
from .schedule import SigenScheduleCoordinator
from .settings import NB_REST_MODES, SigenSettingsCoordinator

__all__ = [
    "NB_REST_MODES",
    "NorthboundAccess",
    "SigenAccountCoordinator",
    "SigenControlsCoordinator",
    "SigenCoordinator",
    "SigenDevicesCoordinator",
    "SigenEvCoordinator",
    "SigenForecastCoordinator",
    "SigenLiveCoordinator",
    "SigenPushCoordinator",
    "SigenScheduleCoordinator",
    "SigenSettingsCoordinator",
    "SigenSmartLoadCoordinator",
]
