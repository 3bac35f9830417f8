"""One connection's session: subscribe, receive and dispatch, until a deadline or a break.

Subscribing (QoS 1) takes every exact topic ``openapi/{period,change,alarm}/{app_key}/
{system_id}`` (no wildcards) in one SUBSCRIBE, and once the broker granted them
(SUBACK) publishes the subscription requests ``openapi/subscription/{period,change,
alarm}`` ``{"accessToken", "systemIdList"}``: in this order the first push the cloud
sends in answer to a request cannot reach the broker before our subscription and be
lost.

Every message is parsed and handed to the callbacks (sync or async), one object per
system or alarm; a callback that raises is logged with its traceback and the session
goes on; a malformed message is skipped with one log line. The session ends by itself
when the token is due for renewal (:class:`RefreshDue`) or when systems awaiting
approval should be onboarded again (:class:`RecheckOnboarding`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiomqtt

from .._parse import parse_reason_code
from ..errors import SigenMQTTError
from ..telemetry import AlarmEvent, SystemData, TelemetryData

_LOGGER = logging.getLogger(__name__.rpartition(".")[0])

TOPIC_KINDS: Final = ("period", "change", "alarm")
SUBSCRIPTION_TOPIC: Final = "openapi/subscription/{kind}"
DATA_TOPIC: Final = "openapi/{kind}/{app_key}/{system_id}"

type Callback[T] = Callable[[T], Awaitable[None] | None]
type Handlers = Mapping[str, Callable[[Any], Awaitable[None]]]


class RefreshDue(Exception):
    """The token is about to expire: log in again and reconnect."""


class RecheckOnboarding(Exception):
    """Systems await approval: onboard again and renew the subscription requests."""


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When a session ends by itself, in the event loop's time (``None``: never)."""

    refresh: float | None  # the token is renewed
    recheck: float | None  # the onboarding of waiting systems is tried again

    @classmethod
    def start(
        cls, now: float, refresh_delay: float | None, recheck_interval: float | None
    ) -> Deadlines:
        """The deadlines of a session starting at ``now``.

        The token refresh waits at least a second: a cloud handing out absurdly short
        tokens is not hammered.
        """
        return cls(
            None if refresh_delay is None else now + max(refresh_delay, 1.0),
            None if recheck_interval is None else now + recheck_interval,
        )

    @property
    def wake(self) -> float | None:
        """The first deadline, if any."""
        return min((t for t in (self.refresh, self.recheck) if t is not None), default=None)

    def passed(self, now: float) -> Exception | None:
        """The signal of a deadline that has passed at ``now`` (the refresh first)."""
        if self.refresh is not None and now >= self.refresh:
            return RefreshDue()
        if self.recheck is not None and now >= self.recheck:
            return RecheckOnboarding()
        return None


async def subscribe(
    client: aiomqtt.Client, app_key: str, system_ids: Sequence[str], token: str
) -> list[str]:
    """Subscribe to every system's topics, then request the data (see the module doc).

    Every exact topic in one SUBSCRIBE first, then the three requests in flight
    together (QoS 1, each acknowledged): 2 round trips, not 3 + 3 x N. Returns the
    systems whose topics the broker refused; raises :class:`SigenMQTTError` when it
    refused them all (or answered for fewer topics than asked).
    """
    wanted = [(kind, system_id) for kind in TOPIC_KINDS for system_id in system_ids]
    topics = [
        (DATA_TOPIC.format(kind=kind, app_key=app_key, system_id=system_id), 1)
        for kind, system_id in wanted
    ]
    granted = list(await client.subscribe(topics))
    refused = sorted(
        {
            system_id
            for (_kind, system_id), code in zip(wanted, granted, strict=False)
            if parse_reason_code(code) >= 128
        }
    )
    if len(granted) != len(wanted) or len(refused) == len(system_ids):
        raise SigenMQTTError(
            "the broker refused the subscription to the data of system(s) "
            f"{', '.join(refused or system_ids)} (are they onboarded for this app key?)"
        )
    body = json.dumps({"accessToken": token, "systemIdList": list(system_ids)})
    await asyncio.gather(
        *(client.publish(SUBSCRIPTION_TOPIC.format(kind=kind), body, qos=1) for kind in TOPIC_KINDS)
    )
    return refused


async def receive(
    client: aiomqtt.Client, dispatcher: Dispatcher, handlers: Handlers, deadlines: Deadlines
) -> None:
    """Dispatch the messages until the connection breaks or a deadline passes."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(deadlines.wake):
            async for message in client.messages:
                await dispatcher.dispatch(str(message.topic), message.payload, handlers)
    except TimeoutError:
        signal = deadlines.passed(loop.time())
        if signal is not None:
            raise signal from None
        raise


class Dispatcher:
    """Turns messages into parsed objects for the callbacks.

    Keeps the newest merged values per system (the cloud may send only what changed).
    """

    def __init__(self) -> None:
        """Start with no values; the first message of each kind logs its field names."""
        self.latest_telemetry: dict[str, TelemetryData] = {}
        self.latest_system: dict[str, SystemData] = {}
        self._fields_logged: set[str] = set()

    def handlers(
        self,
        on_telemetry: Callback[TelemetryData],
        on_system: Callback[SystemData] | None,
        on_alarm: Callback[AlarmEvent] | None,
    ) -> Handlers:
        """The handler of each topic kind, for these callbacks."""
        return {
            "period": lambda payload: self.telemetry(payload, on_telemetry),
            "change": lambda payload: self.system(payload, on_system),
            "alarm": lambda payload: self.alarm(payload, on_alarm),
        }

    async def dispatch(self, topic: str, payload: Any, handlers: Handlers) -> None:
        """Hand one message to the handler of its topic; never raises (but cancellation)."""
        parts = topic.split("/")
        kind = parts[1] if len(parts) == 4 else ""
        handler = handlers.get(kind)
        if handler is None:
            _LOGGER.debug("Ignoring a message on an unexpected topic")
            return
        if kind not in self._fields_logged:
            self._fields_logged.add(kind)
            _LOGGER.debug("First %s message; fields: %s", kind, _field_names(payload))
        try:
            await handler(payload)
        except asyncio.CancelledError:
            raise
        except Exception:  # parsers do not raise; this is a safety net
            _LOGGER.exception("Skipping a %s message that could not be handled", kind)

    async def telemetry(self, payload: Any, callback: Callback[TelemetryData]) -> None:
        """Telemetry of each system in the message, merged with its previous values."""
        for data in TelemetryData.from_mqtt_payload(payload):
            previous = self.latest_telemetry.get(data.system_id)
            merged = previous.merge(data) if previous is not None else data
            self.latest_telemetry[data.system_id] = merged
            await call(callback, merged, "telemetry")

    async def system(self, payload: Any, callback: Callback[SystemData] | None) -> None:
        """A system change of each system in the message, merged likewise."""
        for data in SystemData.from_mqtt_payload(payload):
            previous = self.latest_system.get(data.system_id)
            merged = previous.merge(data) if previous is not None else data
            self.latest_system[data.system_id] = merged
            if callback is not None:
                await call(callback, merged, "system")

    async def alarm(self, payload: Any, callback: Callback[AlarmEvent] | None) -> None:
        """Each alarm in the message."""
        for event in AlarmEvent.from_mqtt_payload(payload):
            if callback is not None:
                await call(callback, event, "alarm")


async def call[T](callback: Callback[T], value: T, what: str) -> None:
    """Run a user callback (sync or async); log, never raise, what it raises."""
    try:
        result = callback(value)
        if inspect.isawaitable(result):
            await result
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("The %s callback raised an exception (the listener goes on)", what)


def _field_names(payload: Any) -> list[str]:
    """The raw field names of a message (for the first-message debug log)."""
    try:
        data = json.loads(payload) if isinstance(payload, bytes | bytearray | str) else payload
    except (ValueError, RecursionError):
        return ["<not JSON>"]
    names: set[str] = set()
    items = data if isinstance(data, list) else [data]
    for item in items[:10]:
        if isinstance(item, Mapping):
            names.update(str(k) for k in item)
            value = item.get("value")
            if isinstance(value, Mapping):
                names.update(f"value.{k}" for k in value)
    return sorted(names)[:100]
