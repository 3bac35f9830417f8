"""The base of every polling coordinator: one error mapping, one rate-limit slow-down.

Each coordinator of Sigen Cloud polls one kind of data at its own cadence. What a
failure means is the same for all of them:

* a refused password: ``ConfigEntryAuthFailed`` (Home Assistant's reauthentication);
* a rate limit: the last data stays, and the coordinator polls less often until the
  cloud answers again (logged once each way); before the first data, an
  ``UpdateFailed`` with ``retry_after``;
* anything else: a translated ``UpdateFailed`` (entities unavailable, logged once).

How a refresh sends its requests depends on whether someone waits for it. The first
data (the entry's set-up, a new station) is waited for: all its requests go out at
once, so that their round trips overlap (issue 21: one round trip to every entity).
Later refreshes run in the background: their requests go one after another, and the
entry's slower coordinators take turns through one lock (the *lane*), so that a
10-minute burst of reads runs on the connection the entry keeps alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, cast

from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from ..const import DOMAIN, LOGGER, RATE_LIMIT_BACKOFF
from ..helpers import async_unblock_reauth
from ..sigen import (
    NBSystem,
    NorthboundClient,
    SigenAPIError,
    SigenAuthError,
    SigenConnectionError,
    SigenError,
    SigenRateLimitError,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..data import SigenConfigEntry
    from ..sigen import Sigen

# The northbound mode query, later refreshes: a few systems at a time, not all at
# once. The first data asks every system at once: the cloud limits the query per
# system (once per 5 minutes), and 50 stations four at a time took 13 round trips.
NB_QUERIES_AT_ONCE = 4


async def gather_all[T](aws: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently; raise the first failure once every call has finished."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast("list[T]", results)


class SigenCoordinator[T](DataUpdateCoordinator[T], ABC):
    """A coordinator polling the app API every ``interval``, with the shared error mapping.

    Subclasses fetch in :meth:`_async_fetch` and let the library's errors through.
    """

    config_entry: SigenConfigEntry
    interval: ClassVar[timedelta]

    def __init__(self, hass: HomeAssistant, entry: SigenConfigEntry, client: Sigen) -> None:
        """Set up the coordinator; nothing is fetched before the first refresh."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=self.interval
        )
        self.client = client
        # The entry's lane (see the module's docstring); None: this one does not queue.
        self.lane: asyncio.Lock | None = None
        # A refresh right after the first data that completes it (see waited_for).
        self.completing = False
        self._rate_limited = False

    @abstractmethod
    async def _async_fetch(self) -> T:
        """Fetch this coordinator's data (the library's errors pass through)."""

    @property
    def waited_for(self) -> bool:
        """Whether this refresh brings the first data (or completes it): reads at once."""
        return self.data is None or self.completing

    async def _async_both[A, B](
        self, first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]]
    ) -> tuple[A, B]:
        """Two reads: together for the first data, else one after the other."""
        if self.waited_for:
            return await asyncio.gather(first(), second())
        return await first(), await second()

    async def _async_each[R](self, calls: Sequence[Callable[[], Awaitable[R]]]) -> list[R]:
        """Reads: together for the first data, else one after another.

        Together, the first failure is raised once every read has finished (as
        :func:`gather_all`); one after another, at once (the rest is not sent).
        """
        if self.waited_for:
            return await gather_all(call() for call in calls)
        return [await call() for call in calls]

    async def _async_each_settled[R](
        self,
        calls: Sequence[Callable[[], Awaitable[R]]],
        settled: Callable[[BaseException], bool],
    ) -> list[R | BaseException]:
        """As :meth:`_async_each`, but a library error ``settled`` accepts is a result."""
        if self.waited_for:
            together = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
            for result in together:
                if isinstance(result, BaseException) and not (
                    isinstance(result, SigenError) and settled(result)
                ):
                    raise result
            return together
        results: list[R | BaseException] = []
        for call in calls:
            try:
                results.append(await call())
            except SigenError as err:
                if not settled(err):
                    raise
                results.append(err)
        return results

    async def _async_update_data(self) -> T:
        """Fetch, and map the library's errors to what Home Assistant expects."""
        try:
            if self.lane is None or self.waited_for:
                data = await self._async_fetch()
            else:
                async with self.lane:
                    data = await self._async_fetch()
        except SigenRateLimitError as err:
            return self._slow_down(err)
        except SigenAuthError as err:
            async_unblock_reauth(self.hass, self.config_entry)
            await self._async_stop_entry_polling()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="update_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except SigenError as err:
            raise _update_failed(err) from err
        if self._rate_limited:
            self._rate_limited = False
            self.update_interval = self.interval
            LOGGER.info("The Sigen cloud answers again; polling every %s", self.interval)
        return data

    async def _async_stop_entry_polling(self) -> None:
        """The account's credentials are refused: the entry's other coordinators stop.

        Each would otherwise ask the cloud once more with the refused session and log
        its own "Authentication failed" (one line per coordinator, a dozen per station);
        the reauthentication reloads the entry, which starts them again. This one stops
        by itself (Home Assistant schedules no refresh after an authentication failure).
        """
        runtime = getattr(self.config_entry, "runtime_data", None)
        if runtime is None:  # the first refresh of the set-up: nothing else runs yet
            return
        for coordinator in runtime.coordinators():
            if coordinator is not self and coordinator.update_interval is not None:
                await coordinator.async_shutdown()

    def _slow_down(self, err: SigenRateLimitError) -> T:
        """Keep the last data and poll less often until the cloud answers again."""
        # Wait what the cloud asks for, and at least twice the normal interval: being
        # limited means we asked too often.
        seconds = err.retry_after or RATE_LIMIT_BACKOFF.total_seconds()
        delay = max(timedelta(seconds=seconds), 2 * self.interval)
        if self.data is None:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_rate_limited",
                translation_placeholders={"seconds": str(int(delay.total_seconds()))},
                retry_after=delay.total_seconds(),
            ) from err
        if not self._rate_limited:
            LOGGER.warning(
                "The Sigen cloud asks us to slow down (%s); polling every %s until it answers",
                err,
                delay,
            )
        self._rate_limited = True
        self.update_interval = delay
        return self.data


def _update_failed(err: SigenError) -> UpdateFailed:
    """A translated ``UpdateFailed`` for a failure of the cloud."""
    key = "update_failed"
    if isinstance(err, SigenConnectionError):
        key = "update_cannot_connect"
    elif isinstance(err, SigenAPIError):
        key = "update_api_error"
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


class NorthboundAccess:
    """The developer (northbound) API as the coordinators use it: it only adds.

    Its failures never fail an update: they are logged once (and once when it answers
    again) for the whole entry, and the caller keeps what it knew. A few mode queries
    run at a time across the entry's stations.
    """

    def __init__(
        self, client: NorthboundClient, check: asyncio.Task[list[NBSystem]] | None = None
    ) -> None:
        """Wrap the entry's northbound client.

        ``check`` is the system list read with a restored token at set-up (issue 21),
        beside the app API's first reads: its answer is the first system list, and a
        refusal (:attr:`refused`) turns the developer API off for the entry.
        """
        self.client = client
        self.check = check
        self.refused: SigenAuthError | None = None
        self._failed = False
        self._gate = asyncio.Semaphore(NB_QUERIES_AT_ONCE)

    async def async_checked(self) -> list[NBSystem] | None:
        """The restored token's system list (``None``: no check, failed or refused)."""
        if (check := self.check) is None:
            return None
        try:
            return await check
        except SigenAuthError as err:
            self.refused = err
        except SigenError as err:
            LOGGER.debug("The northbound system list could not be read at start-up: %s", err)
        return None

    async def get_systems(self) -> list[NBSystem] | None:
        """The northbound system list; ``None`` when it could not be read."""
        if self.check is not None:
            # Failed, it is not sent again now: the list may be read once per 5 minutes.
            systems = await self.async_checked()
            self.check = None
            return systems
        if self.refused is not None:
            return None
        try:
            systems = await self.client.get_systems()
        except SigenRateLimitError:
            return None
        except SigenError as err:
            self._failure(err)
            return None
        self._success()
        return systems

    async def query_mode(self, system_id: str, *, at_once: bool = False) -> int | None:
        """A system's northbound mode value; ``None`` when it could not be read.

        ``at_once`` (the first data) skips the gate: the limit is per system. It does
        not wait for the restored token's check (a token the cloud no longer takes is
        renewed by the library, as at any time).
        """
        if self.refused is not None:
            return None
        async with contextlib.nullcontext() if at_once else self._gate:
            try:
                value = await self.client.query_mode(system_id)
            except SigenRateLimitError:
                LOGGER.debug("Northbound mode of a system not queried: rate limited")
                return None
            except SigenError as err:
                # Refused credentials are the restored token's check's to report.
                started = self.check is not None or self.refused is not None
                if not (started and isinstance(err, SigenAuthError)):
                    self._failure(err)
                return None
        self._success()
        return value

    def _failure(self, err: SigenError) -> None:
        if not self._failed:
            self._failed = True
            LOGGER.warning("The Sigen developer (northbound) API failed: %s", err)

    def _success(self) -> None:
        if self._failed:
            self._failed = False
            LOGGER.info("The Sigen developer (northbound) API answers again")
