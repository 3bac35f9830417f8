"""Shared by the settings areas' tests (battery, grid, control): a fake transport with
queued answers, a fake home station, and the fixtures' envelopes (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sigen.models import StationInfo

from .test_app_areas import FakeTransport

__all__ = ["HOME", "FakeHome", "FakeTransport", "envelope", "fixture", "make", "sent"]

FIXTURES = Path(__file__).parent / "fixtures"
HOME = "20240523012345"
OK = {"code": 0, "msg": "success", "data": True}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def envelope(data: Any) -> dict[str, Any]:
    """An answer of the app API around ``data``."""
    return {"code": 0, "msg": "success", "data": data}


class FakeHome:
    """Stands in for the client: the home station, read on demand (counted)."""

    def __init__(self, station_id: str | None = HOME) -> None:
        self.station_id = station_id
        self.reads = 0

    async def get_station_info(self) -> StationInfo:
        self.reads += 1
        self.station_id = HOME
        return StationInfo.from_dict({"stationId": HOME})


def make[T](area: type[T], *bodies: Any, home: FakeHome | None = None) -> tuple[T, FakeTransport]:
    """An area on a fake transport answering ``bodies`` in turn (a write answers ``OK``)."""
    transport = FakeTransport(*(OK if body == "ok" else body for body in bodies))
    return area(transport, FakeHome() if home is None else home), transport  # type: ignore[call-arg]


def sent(transport: FakeTransport) -> list[tuple[str, str, Any]]:
    """The requests sent: method, path and JSON body (``None`` for a read)."""
    return [(method, path, kwargs.get("json")) for method, path, kwargs in transport.calls]
