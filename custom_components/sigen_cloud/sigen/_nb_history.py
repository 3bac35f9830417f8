"""The northbound history (``/openapi/systems/{systemId}/v1/history``, API notes §7.18(d)).

With ``level=Lifetime`` the cloud ignores the date and answers the live lifetime totals
per Sankey node (``FROM_SOLAR``, ``TO_LOAD``, ``FROM_GRID``, ``TO_GRID``,
``TO_BATTERY``, ``FROM_BATTERY``, …), kWh. They dip for about 30 minutes after local
midnight and an answer can lack a node: publish them through
:func:`~.models.history.merge_lifetime_totals`. The system id is the app's
``stationCode``; dates go as ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from ._envelope import Reply
from .errors import SigenAPIError
from .models._history_read import read_lifetime_totals

#: ``level`` of the lifetime totals.
LIFETIME_LEVEL: Final = "Lifetime"

type Request = Callable[..., Awaitable[Reply]]


async def lifetime_totals(request: Request, system_id: str) -> dict[str, float]:
    """Node id → lifetime kWh of ``system_id``, sent through ``request`` (a transport's)."""
    params: dict[str, Any] = {
        "systemId": system_id,
        "date": datetime.now(UTC).date().isoformat(),  # ignored for Lifetime, but required
        "level": LIFETIME_LEVEL,
    }
    reply = await request(
        "GET",
        f"openapi/systems/{quote(system_id, safe='')}/v1/history",
        what=f"Reading the northbound lifetime totals of {system_id}",
        params=params,
    )
    try:
        return read_lifetime_totals(reply.data)
    except SigenAPIError as err:
        raise reply.error(str(err)) from None
