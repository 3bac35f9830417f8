"""A simulator of the Sigen cloud: app API, northbound API, MQTT (see docs/architecture.md).

>>> async with Simulator(SimConfig(stations=1)) as sim:
...     print(sim.api_url)
"""

from __future__ import annotations

from .faults import FaultInjector, FaultRule
from .model import SimStation
from .request_log import LoggedRequest, RequestLog
from .simulator import SimConfig, Simulator

__all__ = [
    "FaultInjector",
    "FaultRule",
    "LoggedRequest",
    "RequestLog",
    "SimConfig",
    "SimStation",
    "Simulator",
]
