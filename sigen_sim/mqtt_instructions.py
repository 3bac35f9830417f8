"""What the app's clients send the cloud: subscription requests and instructions.

:class:`InstructionHandler` takes every message the publisher receives on
``openapi/subscription/+`` and ``openapi/instruction/+``, records it once (a broker
redelivery is skipped, see :mod:`sigen_sim.mqtt_side`), checks its token and applies
it: subscriptions, battery commands, mode switches. What it did with each message is in
:attr:`InstructionHandler.instructions` as ``(topic, accepted, reason)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiomqtt

    from .mqtt_side import MqttSide

_LOGGER = logging.getLogger(__name__)

KINDS = ("period", "change", "alarm")
MODES = {"MSC": 0, "FFG": 5, "VPP": 6, "NBI": 8}
COMMAND_MODES = ("charge", "discharge", "idle", "selfConsumption", "selfConsumption-grid")
MAX_COMMANDS = 24
HISTORY = 10_000
POWER_KEYS = ("chargingPower", "pvPower", "maxSellPower", "maxPurchasePower")

Received = dict[str, Any] | list[Any] | str


def _power_problem(item: dict[str, Any]) -> str | None:
    """Why a command's power limits are not acceptable (None when they are)."""
    for key in POWER_KEYS:
        value = item.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            return f"{key} must be a non-negative number"
    return None


def command_problem(item: Any) -> str | None:
    """Why a battery command item is not acceptable (None when it is)."""
    if not isinstance(item, dict):
        return "not an object"
    if not isinstance(item.get("systemId"), str):
        return "no systemId"
    if item.get("activeMode") not in COMMAND_MODES:
        return f"unknown activeMode {item.get('activeMode')!r}"
    start, duration = item.get("startTime"), item.get("duration")
    if isinstance(start, bool) or not isinstance(start, int) or start > 100_000_000_000:
        return "startTime must be integer epoch seconds"
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        return "duration must be a positive number of minutes"
    return _power_problem(item)


class InstructionHandler:
    """Messages from the app's clients, for one MQTT side."""

    def __init__(self, side: MqttSide) -> None:
        """Handle what ``side``'s publisher receives."""
        self.side = side
        self.sim = side.sim
        self.received: list[tuple[str, Received]] = []
        self.redelivered = 0  # redeliveries by the broker, skipped
        self._seen: deque[tuple[int, bytes]] = deque(maxlen=1024)
        # What was done with each request or instruction: (topic, accepted, reason),
        # bounded, so long runs and load tests do not grow.
        self.instructions: deque[tuple[str, bool, str]] = deque(maxlen=HISTORY)

    def is_redelivery(self, message: aiomqtt.Message) -> bool:
        """A QoS 1 message the broker sent before (same packet id and payload)."""
        if message.qos == 0 or not message.mid:
            return False
        raw = message.payload
        payload = bytes(raw) if isinstance(raw, bytes | bytearray) else str(raw).encode()
        key = (message.mid, hashlib.sha256(payload).digest())
        if key in self._seen:
            self.redelivered += 1
            _LOGGER.debug("Simulator: skipped a redelivery on %s", message.topic)
            return True
        self._seen.append(key)
        return False

    async def handle(self, topic: str, payload: Any) -> None:
        """Record one message, check its token and act on it."""
        data: Received
        text = payload.decode(errors="replace") if isinstance(payload, bytes | bytearray) else ""
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        self.received.append((topic, data))
        if not isinstance(data, dict):
            self.note(topic, False, "payload is not a JSON object")
            return
        token = data.get("accessToken")
        if not isinstance(token, str) or not self.sim.tokens.nb_token_valid(token):
            self.note(topic, False, "invalid or expired accessToken")
            return
        if topic.startswith("openapi/subscription/"):
            self._subscribe(topic.rsplit("/", 1)[1], data)
        elif topic == "openapi/instruction/command":
            self._apply_commands(topic, data)
        elif topic == "openapi/instruction/mode":
            self._switch_mode(topic, data)
        else:
            self.note(topic, False, "unknown topic")

    def note(self, topic: str, accepted: bool, reason: str) -> None:
        """Remember what was done with a message (a refusal is logged too)."""
        self.instructions.append((topic, accepted, reason))
        if not accepted:
            _LOGGER.warning("Simulator ignored a message on %s: %s", topic, reason)

    def _subscribe(self, kind: str, data: dict[str, Any]) -> None:
        topic = f"openapi/subscription/{kind}"
        ids = data.get("systemIdList")
        if kind not in KINDS or not isinstance(ids, list):
            self.note(topic, False, "unknown kind or no systemIdList")
            return
        known = [i for i in ids if isinstance(i, str) and self.sim.station_by_system_id(i)]
        side = self.side
        side.subscriptions[kind].update(known)
        side.publisher.subscribed(kind, known)
        self.note(topic, True, f"subscribed {known}")
        if kind in ("period", "change") and side.initial_push_delay is not None:
            side.publisher.expect_initial_push(kind, known)
            side.spawn(side.publisher.initial_push(kind, known), f"sigen-sim-mqtt-initial-{kind}")

    def _command_batches(self, topic: str, commands: list[Any]) -> dict[str, list[Any]] | None:
        """The commands by system, or None (noted) when the whole batch is refused."""
        by_system: dict[str, list[dict[str, Any]]] = {}
        for index, item in enumerate(commands):
            problem = command_problem(item)
            if problem is None and not self.sim.onboarded(item["systemId"]):
                problem = f"system {item['systemId']} is not onboarded"
            if problem is not None:
                self.note(topic, False, f"commands[{index}]: {problem}")
                return None  # the whole batch is refused, as the cloud does with bad input
            by_system.setdefault(item["systemId"], []).append(item)
        for system_id, items in by_system.items():
            if len(items) > MAX_COMMANDS:
                self.note(topic, False, f"{len(items)} commands for {system_id} (max 24)")
                return None
        return by_system

    def _apply_commands(self, topic: str, data: dict[str, Any]) -> None:
        commands = data.get("commands")
        if not isinstance(commands, list) or not commands:
            self.note(topic, False, "no commands list")
            return
        by_system = self._command_batches(topic, commands)
        if by_system is None:
            return
        for system_id, items in by_system.items():
            station = self.sim.station_by_system_id(system_id)
            assert station is not None
            station.apply_battery_commands(items)
        self.note(topic, True, f"applied {len(commands)} command(s)")

    def _switch_mode(self, topic: str, data: dict[str, Any]) -> None:
        system_id, mode = data.get("systemId"), data.get("mode")
        station = self.sim.station_by_system_id(system_id) if isinstance(system_id, str) else None
        if station is None or not self.sim.onboarded(str(system_id)):
            self.note(topic, False, f"unknown or not onboarded system {system_id!r}")
            return
        if not isinstance(mode, str) or mode.upper() not in MODES:
            self.note(topic, False, f"unknown mode {mode!r}")
            return
        station.set_mode(MODES[mode.upper()])
        self.note(topic, True, f"mode {mode.upper()}")
