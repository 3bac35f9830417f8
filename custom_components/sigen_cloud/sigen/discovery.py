"""Finding the region (shard) of Sigenergy's cloud that holds an account.

A shard that does not hold an account answers its login with "authentication failed",
exactly like a wrong password. :func:`find_region` therefore logs in on every shard at
once, one attempt each, and reports what each answered::

    async with await find_region(username, password) as search:
        if search.client is None:
            raise SystemExit(f"no region accepted the account: {search}")
        await search.client.async_initialize()  # no second login
        print(search.region, await search.client.get_energy_flow())

Only the shard holding the account can count a failed login towards its lock, so one
search costs that account at most one failed login.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from ._http import AsyncClosing
from ._redact import mask_email
from .client import Sigen
from .errors import (
    SigenAccountLockedError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenValidationError,
)
from .regions import REGIONS, get_region

_LOGGER = logging.getLogger(__name__)

#: What one shard answered to one login: it ``accepted`` the credentials, ``refused``
#: them (a wrong password, or not the account's shard), said the account is
#: ``locked``, could not be reached (``unreachable``), or ``failed`` otherwise (a rate
#: limit, a server error, an answer that makes no sense).
RegionOutcome = Literal["accepted", "refused", "locked", "unreachable", "failed"]


@dataclass(frozen=True, slots=True)
class RegionAttempt:
    """The answer of one shard to one login (``error``: why it did not accept)."""

    region: str
    outcome: RegionOutcome
    error: SigenError | None = None


@dataclass(slots=True)
class RegionSearch(AsyncClosing):
    """The answers of the shards :func:`find_region` tried, in the order given.

    ``client`` is logged in on the shard that accepted the account (the first in that
    order when several did); it is the caller's: close it, or the search (``close()``
    or ``async with``), when done. The other clients are already closed.
    """

    attempts: tuple[RegionAttempt, ...]
    client: Sigen | None = None

    def _regions(self, outcome: RegionOutcome) -> tuple[str, ...]:
        return tuple(a.region for a in self.attempts if a.outcome == outcome)

    @property
    def region(self) -> str | None:
        """The shard of :attr:`client`: the one that accepted the account, if any."""
        return None if self.client is None else self.client.region

    @property
    def accepted(self) -> tuple[str, ...]:
        """The shards that accepted the credentials.

        More than one is unusual: the same e-mail address registered on several shards.
        """
        return self._regions("accepted")

    @property
    def refused(self) -> tuple[str, ...]:
        """The shards that refused the credentials (wrong password or wrong shard)."""
        return self._regions("refused")

    @property
    def unreachable(self) -> tuple[str, ...]:
        """The shards that could not be reached or did not answer in time."""
        return self._regions("unreachable")

    @property
    def failed(self) -> tuple[str, ...]:
        """The shards that answered with something else (rate limit, server error)."""
        return self._regions("failed")

    @property
    def locked(self) -> bool:
        """Whether a shard said the account is locked (too many failed logins)."""
        return any(a.outcome == "locked" for a in self.attempts)

    def attempt(self, region: str) -> RegionAttempt:
        """The answer of the shard ``region`` (:class:`KeyError` if it was not tried)."""
        key = get_region(region).key
        for attempt in self.attempts:
            if attempt.region == key:
                return attempt
        raise KeyError(region)

    async def close(self) -> None:
        """Close :attr:`client` (its HTTP session too if it created it)."""
        if self.client is not None:
            await self.client.close()

    def __str__(self) -> str:
        parts = [
            f"{outcome} by {', '.join(regions)}"
            for outcome, regions in (
                ("accepted", self.accepted),
                ("refused", self.refused),
                ("locked", self._regions("locked")),
                ("unreachable", self._regions("unreachable")),
                ("failed", self.failed),
            )
            if regions
        ]
        return "; ".join(parts) or "no region tried"


async def _attempt(client: Sigen) -> RegionAttempt:
    """One login on the client's shard, its outcome classified."""
    region = client.region
    try:
        await client.async_login()
    except SigenAccountLockedError as err:
        return RegionAttempt(region, "locked", err)
    except SigenAuthError as err:
        return RegionAttempt(region, "refused", err)
    except SigenConnectionError as err:
        return RegionAttempt(region, "unreachable", err)
    except SigenError as err:
        return RegionAttempt(region, "failed", err)
    return RegionAttempt(region, "accepted")


async def find_region(
    username: str,
    password: str,
    *,
    regions: Iterable[str] | None = None,
    session: aiohttp.ClientSession | None = None,
    base_url: str | None = None,
    **client_kwargs: Any,
) -> RegionSearch:
    """Tell which shard holds the account: log in on every shard in ``regions`` at once.

    ``regions`` defaults to all six. Each shard gets exactly one login attempt and
    nothing else (no station reads), so the shard holding the account sees at most one
    failed login. The shard that accepted hands back its logged-in
    :class:`~sigen.client.Sigen` as :attr:`RegionSearch.client` (call
    ``async_initialize()`` on it: no second login).

    ``session`` is shared by every client (and never closed here); without one each
    client makes its own. With ``base_url`` (a test server, the simulator) every shard
    is tried on that one server, told apart by the ``client-server`` header.
    ``client_kwargs`` go to every :class:`~sigen.client.Sigen` (``user_agent``,
    ``request_timeout``, ``nb_base_url``).

    Raises :class:`~sigen.errors.SigenValidationError` for an empty e-mail or
    password, an unknown region or an empty ``regions``, before anything is sent.
    """
    keys = list(dict.fromkeys(get_region(r).key for r in (REGIONS if regions is None else regions)))
    if not keys:
        raise SigenValidationError("find_region needs at least one region to try")
    clients = [
        Sigen(username, password, key, base_url=base_url, session=session, **client_kwargs)
        for key in keys
    ]
    _LOGGER.debug("Looking for the region of %s on %s", mask_email(username), ", ".join(keys))
    keep: Sigen | None = None
    try:
        results = await asyncio.gather(*(_attempt(c) for c in clients), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        attempts = tuple(r for r in results if isinstance(r, RegionAttempt))
        keep = next(
            (c for c, a in zip(clients, attempts, strict=True) if a.outcome == "accepted"), None
        )
    finally:
        for client in clients:
            if client is not keep:
                await client.close()
    search = RegionSearch(attempts, keep)
    _LOGGER.debug("Region of %s: %s", mask_email(username), search)
    return search


__all__ = ["RegionAttempt", "RegionOutcome", "RegionSearch", "find_region"]
