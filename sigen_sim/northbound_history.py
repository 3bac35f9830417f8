"""The northbound history: ``GET /openapi/systems/{systemId}/v1/history`` (§7.18(d)).

Query ``date=YYYY-MM-DD`` (the ``YYYYMMDD`` form is "param illegal", as one client
found) and ``level=Day|Month|Year|Lifetime`` (any case). The answer is
``sankeyData.nodes[{id, value}]`` in kWh plus ``links``. ``Lifetime`` ignores the
date and gives the live totals since commissioning, which lack the day before for
``SimConfig.nb_lifetime_dip_minutes`` after local midnight (and lack a node in the
first minutes of that). Day, Month and Year give that period's totals up to now; a
date before commissioning is code 1201 "access restriction", as one client reports.
One call per ``nb_rate_limit_interval`` per system, like the other northbound queries.
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from .app_api import bearer_token, unauthorized
from .model.history import NODE_IDS, ZERO_NODES

if TYPE_CHECKING:
    from .model import SimStation
    from .simulator import Simulator

HISTORY_PATH: Final = "/openapi/systems/{system_id}/v1/history"
LEVELS: Final = ("day", "month", "year", "lifetime")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def sankey(nodes: dict[str, float]) -> dict[str, Any]:
    """The ``data`` object: the nodes (kWh) and no links."""
    return {
        "sankeyData": {
            "nodes": [{"id": node, "value": value} for node, value in nodes.items()],
            "links": [],
        }
    }


def iso_day(text: str) -> date | None:
    """A ``YYYY-MM-DD`` date, else ``None`` (``YYYYMMDD`` too: "param illegal")."""
    text = text.strip()
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class NorthboundHistoryRoutes:
    """``v1/history``; one instance per simulator."""

    def __init__(self, sim: Simulator) -> None:
        """The northbound history of ``sim``."""
        self.sim = sim

    def register(self, app: web.Application) -> None:
        """Add the route to ``app``."""
        app.router.add_get(HISTORY_PATH, self.history)

    def _env(self, data: Any = None, code: int = 0, msg: str = "success") -> web.Response:
        """The northbound envelope (with ``timestamp``; ``data`` as a string if so set)."""
        if self.sim.config.nb_double_encode_all and isinstance(data, dict | list):
            data = json.dumps(data)
        return web.json_response(
            {"code": code, "msg": msg, "timestamp": int(self.sim.clock.now()), "data": data}
        )

    async def history(self, request: web.Request) -> web.Response:
        """``GET systems/{id}/v1/history?date=&level=``."""
        if self.sim.tokens.lookup(bearer_token(request), "nb") is None:
            return unauthorized()
        station = self.sim.station_by_system_id(request.match_info["system_id"])
        if station is None:
            return self._env(None, 1106, "station not found")
        level = request.query.get("level", "").strip().lower()
        day = iso_day(request.query.get("date", ""))
        if level not in LEVELS or day is None:
            return self._env(None, 1000, "param illegal")
        archive = self.sim.history
        if not self.sim.nb_rate_ok("history", station.system_id) or (
            level != "lifetime" and day < archive.commissioning
        ):
            return self._env(None, 1201, "access restriction")
        if level == "lifetime":
            return self._env(sankey(archive.lifetime(station)))
        return self._env(sankey(self.period_nodes(station, level, day)))

    def period_nodes(self, station: SimStation, level: str, day: date) -> dict[str, float]:
        """The totals of the day, month or year of ``day`` (up to now), per node."""
        first, last = day, day
        if level == "month":
            first = day.replace(day=1)
            last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        elif level == "year":
            first, last = date(day.year, 1, 1), date(day.year, 12, 31)
        totals = self.sim.history.period_totals(station, first, min(last, self.sim.history.today()))
        nodes = {node: round(value, 2) for node, value in zip(NODE_IDS, totals, strict=True)}
        nodes.update(dict.fromkeys(ZERO_NODES, 0.0))
        return nodes
