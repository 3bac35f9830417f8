"""What the cloud pushes to the app's clients: ``period``, ``change`` and ``alarm`` messages.

:class:`Publisher` decides what to send and when (see :mod:`sigen_sim.mqtt_side`): the
telemetry after a subscription request and every ``SimConfig.telemetry_interval``, in
the configured shape; change messages when the system values change; alarms on demand.
The payload shapes are in :mod:`sigen_sim.mqtt_payloads`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from .model.devices import record_alarm
from .mqtt_payloads import (
    PARTIAL_KEYS,
    alarm_message,
    change_message,
    malformed_telemetry,
    system_values,
    telemetry_message,
    telemetry_values,
)

if TYPE_CHECKING:
    from .mqtt_side import MqttSide

_LOGGER = logging.getLogger(__name__)

Send = Callable[[str, Any], Awaitable[bool]]


class Publisher:
    """The cloud's pushes for one MQTT side; ``send`` publishes one message (QoS 1)."""

    def __init__(self, side: MqttSide, send: Send) -> None:
        """Push through ``send`` for the subscriptions ``side`` holds."""
        self.side = side
        self.sim = side.sim
        self._send = send
        self._last_periodic: float | None = None
        # system id -> the system values last published to it (for publish-on-change)
        self._last_change: dict[str, dict[str, str]] = {}
        # systems whose first change message is scheduled (the ticker leaves them alone)
        self._change_pending: set[str] = set()
        # system id -> the telemetry values its subscribers know (the captured shape
        # sends only what differs; a period subscription request forgets them)
        self._telemetry_known: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ subscriptions

    def subscribed(self, kind: str, system_ids: list[str]) -> None:
        """A subscription request for ``kind`` came in for these (known) systems."""
        if kind == "period":
            for system_id in system_ids:  # a new subscriber: its next message is a full one
                self._telemetry_known.pop(system_id, None)

    def expect_initial_push(self, kind: str, system_ids: list[str]) -> None:
        """An initial push is scheduled: the ticker leaves these systems' changes to it."""
        if kind == "change":
            self._change_pending.update(system_ids)

    def forget(self, system_id: str) -> None:
        """The system left the account: nothing of it is remembered."""
        self._last_change.pop(system_id, None)
        self._telemetry_known.pop(system_id, None)

    async def initial_push(self, kind: str, system_ids: list[str]) -> None:
        """The first message after a subscription request (``side.initial_push_delay`` later)."""
        try:
            await asyncio.sleep(self.side.initial_push_delay or 0.0)
            for system_id in system_ids:
                if kind == "period":
                    await self.publish_telemetry(system_id)
                elif self.sim.onboarded(system_id) and self.sim.station_by_system_id(system_id):
                    # Sent even when unchanged: the client asked again (e.g. it restarted).
                    await self.publish_change(system_id, {})
        finally:
            if kind == "change":
                self._change_pending.difference_update(system_ids)

    # ------------------------------------------------------------------ period

    def telemetry_payload(self, system_id: str, *, full: bool = False) -> Any:
        """The ``period`` payload of a system: a list with one item, or (fault) bytes.

        In the captured shape (``SimConfig.telemetry_shape``) ``value`` carries only the
        fields that differ from what the subscribers know; everything the first time,
        after a subscription request, or with ``full``. The official shape always
        carries every field.
        """
        station = self.sim.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        if self.sim.faults.telemetry_malformed:
            return malformed_telemetry(system_id)
        values = telemetry_values(station)
        known = self._telemetry_known.get(system_id)
        if self.sim.config.telemetry_shape == "captured" and known is not None and not full:
            values = {key: value for key, value in values.items() if known.get(key) != value}
        if self.sim.faults.telemetry_partial:
            values = {k: v for k, v in values.items() if k in PARTIAL_KEYS}
        return telemetry_message(system_id, values, self.sim.clock.now())

    async def publish_telemetry(self, system_id: str | None = None, *, full: bool = False) -> None:
        """Publish one ``period`` message now.

        For ``system_id`` (if onboarded and online), or for every subscribed, onboarded
        and online system. ``full``: every field, also in the captured shape (which
        otherwise sends only what changed since the last message).
        """
        subscribed = self.side.subscriptions["period"]
        targets = sorted(subscribed) if system_id is None else [system_id]
        for target in targets:
            station = self.sim.station_by_system_id(target)
            if not self.sim.onboarded(target) or (station is not None and station.offline):
                continue  # an offline station's device has nothing to send
            topic = f"openapi/period/{self.sim.app_key}/{target}"
            payload = self.telemetry_payload(target, full=full)
            if await self._send(topic, payload) and isinstance(payload, list):
                # What the subscribers know now (a partial message leaves the rest
                # unknown: it is sent again next time).
                self._telemetry_known.setdefault(target, {}).update(payload[0]["value"])

    # ------------------------------------------------------------------ change

    async def publish_change(self, system_id: str, values: dict[str, str]) -> None:
        """Publish a ``change`` message (``values`` empty: the station's current values).

        Sent on demand whether or not the system is subscribed or onboarded. The
        station's own values, once published, are what later ticks compare with.
        """
        station = self.sim.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        current = system_values(station)
        payload = change_message(system_id, dict(values) or current)
        topic = f"openapi/change/{self.sim.app_key}/{system_id}"
        if await self._send(topic, payload) and (not values or dict(values) == current):
            self._last_change[system_id] = current

    async def publish_changes(self) -> None:
        """Publish a ``change`` message for each subscribed, onboarded system.

        Only for those whose system values differ from the last ones published to it.
        """
        for system_id in sorted(self.side.subscriptions["change"]):
            station = self.sim.station_by_system_id(system_id)
            if (
                station is None
                or not self.sim.onboarded(system_id)
                or system_id in self._change_pending
            ):
                continue
            if system_values(station) != self._last_change.get(system_id):
                await self.publish_change(system_id, {})

    # ------------------------------------------------------------------ alarm

    async def publish_alarms(
        self,
        system_id: str,
        alarms: Sequence[tuple[str, str]],
        *,
        texts: Sequence[str | None] = (),
    ) -> None:
        """Publish one ``alarm`` message carrying several ``(code, status)`` alarms, in order.

        Their ``changeTime`` is now, one millisecond apart, in the order given. ``texts``
        gives alarms, in the same order, an ``alarmName`` (``None``: none).
        """
        now = self.sim.clock.now()
        payload = alarm_message(system_id, alarms, now, texts)
        # the app API's alarm list shows the same alarms (sigen_sim/model/devices.py)
        station = self.sim.station_by_system_id(system_id)
        if station is not None:
            for i, (code, status) in enumerate(alarms):
                name = texts[i] if i < len(texts) else None
                record_alarm(station, code, status, now + i / 1000, name=name)
        await self._send(f"openapi/alarm/{self.sim.app_key}/{system_id}", payload)

    # ------------------------------------------------------------------ timing

    def start_clock(self) -> None:
        """The telemetry interval counts from now (the side starts)."""
        self._last_periodic = self.sim.clock.now()

    async def on_time_advanced(self) -> None:
        """Publish when an interval has passed, and system values that changed."""
        await self._maybe_periodic()
        await self.publish_changes()

    async def _maybe_periodic(self) -> None:
        interval = self.sim.config.telemetry_interval
        now = self.sim.clock.now()
        if interval <= 0 or self._last_periodic is None:
            return
        if now - self._last_periodic >= interval:
            self._last_periodic = now
            await self.publish_telemetry()

    async def tick(self) -> None:
        """Run the periodic publishing while simulated time runs by itself.

        Every telemetry interval a ``period`` message; at every tick (at most a second
        apart), the system values that changed.
        """
        while True:
            scale = self.sim.clock.time_scale
            interval = self.sim.config.telemetry_interval
            try:
                if scale > 0 and interval > 0:
                    await self._maybe_periodic()
                await self.publish_changes()
            except Exception:
                _LOGGER.exception("Simulator: the periodic publishing failed")
            if scale > 0 and interval > 0:
                await asyncio.sleep(min(1.0, max(0.01, interval / scale / 4)))
            else:
                await asyncio.sleep(1.0)
