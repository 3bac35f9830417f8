"""The simulator's MQTT side: certificates, a mosquitto broker and the cloud's publisher.

:class:`MqttSide` (created by :class:`~sigen_sim.simulator.Simulator` when
``SimConfig(mqtt=True)``) starts a real mosquitto with TLS (:mod:`sigen_sim.broker`) and
connects a privileged publisher client to it that behaves like Sigen's cloud:

* it listens on ``openapi/subscription/+`` for subscription requests
  ``{"accessToken", "systemIdList"}`` and from then on publishes, for subscribed and
  onboarded systems, ``period`` telemetry (a list payload with string values) to
  ``openapi/period/{app_key}/{system_id}`` every ``SimConfig.telemetry_interval``
  simulated seconds, on demand (:meth:`publish_telemetry`), and once shortly after a
  subscription request. Its shape is ``SimConfig.telemetry_shape``: ``"captured"`` (the
  default, as a real capture shows) has the ``"PV power"`` key and, after a full first
  message, only the fields that changed; ``"official"`` the documented ``pvPowerW`` and
  every field in every message. A period subscription request makes the next message a
  full one again. An offline station (``station.offline``) sends no telemetry;
  ``change`` (system data: ``station.system_values()``) to
  ``openapi/change/{app_key}/{system_id}`` once shortly after a ``change``
  subscription request and then whenever those values change (checked at every tick
  and every ``advance``; the real cloud sends change messages on change), and on
  demand (:meth:`publish_change`); ``alarm`` messages on demand;
* it listens on ``openapi/instruction/+``: battery commands
  (``openapi/instruction/command``, ``{"accessToken", "commands": [...]}``) are checked
  and applied to the station model; mode switches (``openapi/instruction/mode``,
  ``{"accessToken", "systemId", "mode": "MSC|FFG|VPP|NBI"}``) change its mode;
* everything clients send is recorded in :attr:`received` as ``(topic, payload)``, once:
  QoS 1 is "at least once" between the broker and the cloud too, and after a broker
  restart mosquitto sends again what it had sent the publisher without seeing the
  acknowledgement. Like a careful cloud, the publisher skips such a redelivery (same
  packet id, same payload) and counts it in :attr:`redelivered`;
* tokens are checked with ``sim.tokens.nb_token_valid``; a northbound login sets the
  broker password of the app key (:meth:`set_password`), which cuts the connections
  using the older one; with ``SimConfig.nb_one_token_per_key=False`` (every unexpired
  token a valid password), ``mqtt_refuse_persistent_sessions`` or
  ``mqtt_refused_client_ids``, the app's clients go through the gate of
  :mod:`sigen_sim.mqtt_gate`, which checks the token and the session itself;
* faults: malformed and partial telemetry (``sim.faults``), dropping the clients,
  stopping/restarting the broker (the publisher reconnects by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
import ssl
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiomqtt

from sigen.mqtt import HardenedClient

from .broker import BrokerError, MosquittoBroker, free_port
from .certs import CertBundle, generate_certs, load_or_generate_certs
from .mqtt_gate import IDENTIFIER_REJECTED, NOT_AUTHORISED, ConnectPacket, MqttGate, Verdict

if TYPE_CHECKING:
    from .simulator import Simulator

_LOGGER = logging.getLogger(__name__)

KINDS = ("period", "change", "alarm")
ACL_TASK = "sigen-sim-mqtt-acl"
MODES = {"MSC": 0, "FFG": 5, "VPP": 6, "NBI": 8}
COMMAND_MODES = ("charge", "discharge", "idle", "selfConsumption", "selfConsumption-grid")
MAX_COMMANDS = 24
READY_TIMEOUT = 15.0
HISTORY = 10_000
# Fields kept by the "partial payload" fault.
PARTIAL_KEYS = ("storageSOC%", "gridActivePowerW")


class MqttSide:
    """The broker plus the cloud's publisher (see module doc and docs/architecture.md)."""

    def __init__(self, sim: Simulator, *, require_client_cert: bool) -> None:
        self.sim = sim
        self.require_client_cert = require_client_cert
        self._directory = Path(tempfile.mkdtemp(prefix="sigen-sim-mqtt-"))
        self.certs: CertBundle
        self.certs_reused = False  # True: a valid set found in SimConfig.cert_dir
        if sim.config.cert_dir:
            self.certs, self.certs_reused = load_or_generate_certs(sim.config.cert_dir)
        else:
            self.certs = generate_certs(self._directory / "certs")
        config = sim.config
        gated = (
            not config.nb_one_token_per_key
            or config.mqtt_refuse_persistent_sessions
            or bool(config.mqtt_refused_client_ids)
        )
        self.broker = MosquittoBroker(
            self.certs,
            self._directory / "broker",
            require_client_cert=require_client_cert,
            port=None if gated else config.mqtt_port or None,
        )
        self.broker.set_app_systems(sim.app_key, [s.system_id for s in sim.stations])
        self.host: str = self.broker.host
        self.port: int = self.broker.port
        self.newest_token: str | None = None  # the last login's token (the broker password)
        # The front door for the app's clients, when mosquitto alone cannot do it.
        self.gate: MqttGate | None = None
        if gated:
            self.port = config.mqtt_port or free_port(self.host)
            self.gate = MqttGate(
                host=self.host,
                port=self.port,
                upstream_host=self.broker.host,
                upstream_port=self.broker.port,
                server_context=self._server_context(),
                upstream_context=self._tls_context(),
                decide=self._admit,
            )
        self.received: list[tuple[str, dict[str, Any] | list[Any] | str]] = []
        self.redelivered = 0  # redeliveries by the broker, skipped (see module doc)
        self._seen: deque[tuple[int, bytes]] = deque(maxlen=1024)
        # kind -> system ids the app asked for (with a valid token)
        self.subscriptions: dict[str, set[str]] = {kind: set() for kind in KINDS}
        # What was done with each request or instruction: (topic, accepted, reason), and
        # what the side published (bounded, so long runs and load tests do not grow).
        self.instructions: deque[tuple[str, bool, str]] = deque(maxlen=HISTORY)
        self.published: deque[tuple[str, Any]] = deque(maxlen=HISTORY)
        self.published_count = 0  # all messages published (the deque keeps the last ones)
        # Seconds after a period subscription request until the first push (None: never).
        self.initial_push_delay: float | None = 1.0
        self._client: aiomqtt.Client | None = None
        self._ready = asyncio.Event()
        self._acl_lock = asyncio.Lock()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._last_periodic: float | None = None
        # system id -> the system values last published to it (for publish-on-change)
        self._last_change: dict[str, dict[str, str]] = {}
        # systems whose first change message is scheduled (the ticker leaves them alone)
        self._change_pending: set[str] = set()
        # system id -> the telemetry values its subscribers know (the captured shape
        # sends only what differs; a period subscription request forgets them)
        self._telemetry_known: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the broker and the publisher; returns once the publisher is subscribed."""
        await self.broker.start()
        if self.gate is not None:
            self.gate.upstream_port = self.broker.port
            await self.gate.start()
        self._stopping = False
        self._last_periodic = self.sim.clock.now()
        self._runner = asyncio.create_task(self._run(), name="sigen-sim-mqtt-publisher")
        self._spawn(self._tick(), "sigen-sim-mqtt-ticker")
        await self._wait_ready()

    async def stop(self) -> None:
        """Stop the publisher and the broker; remove the broker files and the
        certificates (unless they live in ``SimConfig.cert_dir``).
        """
        self._stopping = True
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._runner = None
        self._tasks.clear()
        self._client = None
        self._ready.clear()
        try:
            if self.gate is not None:
                await self.gate.stop()
            await self.broker.stop()
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)

    async def stop_broker(self) -> None:
        """Fault: the broker goes away (the publisher keeps trying to reconnect)."""
        self._ready.clear()
        await self.broker.stop()

    async def start_broker(self) -> None:
        """Bring the broker back; returns once the publisher is connected again."""
        await self.broker.start()
        await self._wait_ready()

    async def restart_broker(self, down_for: float = 0.0) -> None:
        """Fault: restart mosquitto (same port), down for ``down_for`` real seconds."""
        await self.stop_broker()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.start_broker()

    async def drop_clients(self) -> None:
        """Fault: disconnect the app's clients (they may reconnect at once)."""
        await self.broker.kick(self.sim.app_key)

    async def set_password(self, app_key: str, token: str) -> None:
        """Northbound login hook: the broker accepts ``token`` as ``app_key``'s password.

        With one token per key (the default) the older token is refused from now on and
        the connections that used it are cut (mosquitto does that when a password
        changes; the gate kicks them); otherwise every unexpired token stays valid.
        """
        self.newest_token = token
        if self.gate is None:
            await self.broker.set_password(app_key, token)
        elif self.sim.config.nb_one_token_per_key:
            await self.broker.kick(app_key)

    def _admit(self, connect: ConnectPacket) -> Verdict:
        """The gate's policy for one CONNECT (see :mod:`sigen_sim.mqtt_gate`)."""
        config = self.sim.config
        if connect.client_id in config.mqtt_refused_client_ids or (
            config.mqtt_refuse_persistent_sessions and not connect.clean_session
        ):
            return IDENTIFIER_REJECTED
        if connect.username != self.sim.app_key:
            return None  # mosquitto decides
        token = (connect.password or b"").decode("utf-8", errors="replace")
        valid = self.sim.tokens.nb_token_valid(token)
        if config.nb_one_token_per_key:
            valid = valid and token == self.newest_token
        internal = self.broker.password_of(self.sim.app_key)
        if not valid or internal is None:
            return NOT_AUTHORISED
        return internal.encode()

    # ------------------------------------------------------------------ stations

    def station_added(self, system_id: str) -> None:
        """Simulator hook: the app key may now subscribe to the new system's topics.

        The configuration files change at once; the running broker gets the change in
        the background (``await acl_synced()`` to wait for it).
        """
        self._change_acl(self.broker.grant_app_system(self.sim.app_key, system_id))

    def station_removed(self, system_id: str) -> None:
        """Simulator hook: the system's topics are withdrawn and its subscriptions end."""
        for systems in self.subscriptions.values():
            systems.discard(system_id)
        self._last_change.pop(system_id, None)
        self._telemetry_known.pop(system_id, None)
        self._change_acl(self.broker.revoke_app_system(self.sim.app_key, system_id))

    async def acl_synced(self) -> None:
        """Wait until the broker applied every station change made so far."""
        while pending := [t for t in self._tasks if t.get_name() == ACL_TASK]:
            await asyncio.wait(pending)

    def _change_acl(self, commands: list[dict[str, object]]) -> None:
        if commands and self.broker.running:
            self._spawn(self._send_acl(commands), ACL_TASK)

    async def _send_acl(self, commands: list[dict[str, object]]) -> None:
        async with self._acl_lock:  # in order, one at a time
            try:
                await self.broker.control(commands)
            except (BrokerError, aiomqtt.MqttError, OSError, TimeoutError, ValueError) as err:
                _LOGGER.warning(
                    "Simulator: the broker did not take an ACL change (%s); it applies at "
                    "its next start",
                    err,
                )

    async def _wait_ready(self) -> None:
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await self._ready.wait()
        except TimeoutError:
            raise RuntimeError(
                f"the simulator's MQTT publisher could not connect:\n{self.broker.log_tail()}"
            ) from None

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _server_context(self) -> ssl.SSLContext:
        """The gate's TLS: the broker's certificate; a client certificate when required."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certs.server_cert_path, self.certs.server_key_path)
        if self.require_client_cert:
            context.load_verify_locations(cafile=str(self.certs.ca_path))
            context.verify_flags &= ~ssl.VERIFY_X509_STRICT
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.certs.ca_path))
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT  # our CA has no keyUsage, as Sigen's
        if self.require_client_cert:
            context.load_cert_chain(self.certs.client_cert_path, self.certs.client_key_path)
        return context

    async def _run(self) -> None:
        """The publisher: connect, listen to requests and instructions, reconnect."""
        context = self._tls_context()
        while not self._stopping:
            try:
                async with HardenedClient(
                    self.broker.host,
                    self.broker.port,
                    username=self.broker.publisher_username,
                    password=self.broker.publisher_password,
                    identifier="sigen-sim-publisher",
                    clean_session=False,  # requests sent while we reconnect are kept
                    tls_context=context,
                    timeout=10,
                    keepalive=10,
                ) as client:
                    await client.subscribe("openapi/subscription/+", qos=1)
                    await client.subscribe("openapi/instruction/+", qos=1)
                    self._client = client
                    self._ready.set()
                    async for message in client.messages:
                        if self._is_redelivery(message):
                            continue
                        try:
                            await self._handle(str(message.topic), message.payload)
                        except Exception:
                            _LOGGER.exception("Simulator: handling %s failed", message.topic)
            except aiomqtt.MqttError as err:
                _LOGGER.debug("Simulator publisher disconnected: %s", err)
            finally:
                self._client = None
                self._ready.clear()
            if not self._stopping:
                await asyncio.sleep(0.05)

    # ------------------------------------------------------------- from clients

    def _is_redelivery(self, message: aiomqtt.Message) -> bool:
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

    async def _handle(self, topic: str, payload: Any) -> None:
        data: dict[str, Any] | list[Any] | str
        text = payload.decode(errors="replace") if isinstance(payload, bytes | bytearray) else ""
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        self.received.append((topic, data))
        if not isinstance(data, dict):
            self._note(topic, False, "payload is not a JSON object")
            return
        token = data.get("accessToken")
        if not isinstance(token, str) or not self.sim.tokens.nb_token_valid(token):
            self._note(topic, False, "invalid or expired accessToken")
            return
        if topic.startswith("openapi/subscription/"):
            self._subscribe(topic.rsplit("/", 1)[1], data)
        elif topic == "openapi/instruction/command":
            self._apply_commands(topic, data)
        elif topic == "openapi/instruction/mode":
            self._switch_mode(topic, data)
        else:
            self._note(topic, False, "unknown topic")

    def _note(self, topic: str, accepted: bool, reason: str) -> None:
        self.instructions.append((topic, accepted, reason))
        if not accepted:
            _LOGGER.warning("Simulator ignored a message on %s: %s", topic, reason)

    def _subscribe(self, kind: str, data: dict[str, Any]) -> None:
        topic = f"openapi/subscription/{kind}"
        ids = data.get("systemIdList")
        if kind not in KINDS or not isinstance(ids, list):
            self._note(topic, False, "unknown kind or no systemIdList")
            return
        known = [i for i in ids if isinstance(i, str) and self.sim.station_by_system_id(i)]
        self.subscriptions[kind].update(known)
        if kind == "period":
            for system_id in known:  # a new subscriber: its next message is a full one
                self._telemetry_known.pop(system_id, None)
        self._note(topic, True, f"subscribed {known}")
        if kind in ("period", "change") and self.initial_push_delay is not None:
            if kind == "change":
                self._change_pending.update(known)
            self._spawn(self._initial_push(kind, known), f"sigen-sim-mqtt-initial-{kind}")

    async def _initial_push(self, kind: str, system_ids: list[str]) -> None:
        try:
            await asyncio.sleep(self.initial_push_delay or 0.0)
            for system_id in system_ids:
                if kind == "period":
                    await self.publish_telemetry(system_id)
                elif self.sim.onboarded(system_id) and self.sim.station_by_system_id(system_id):
                    # Sent even when unchanged: the client asked again (e.g. it restarted).
                    await self.publish_change(system_id, {})
        finally:
            if kind == "change":
                self._change_pending.difference_update(system_ids)

    def _apply_commands(self, topic: str, data: dict[str, Any]) -> None:
        commands = data.get("commands")
        if not isinstance(commands, list) or not commands:
            self._note(topic, False, "no commands list")
            return
        by_system: dict[str, list[dict[str, Any]]] = {}
        for index, item in enumerate(commands):
            problem = _command_problem(item, self.sim.clock.now())
            if problem is None and not self.sim.onboarded(item["systemId"]):
                problem = f"system {item['systemId']} is not onboarded"
            if problem is not None:
                self._note(topic, False, f"commands[{index}]: {problem}")
                return  # the whole batch is refused, as the cloud does with bad input
            by_system.setdefault(item["systemId"], []).append(item)
        for system_id, items in by_system.items():
            if len(items) > MAX_COMMANDS:
                self._note(topic, False, f"{len(items)} commands for {system_id} (max 24)")
                return
        for system_id, items in by_system.items():
            station = self.sim.station_by_system_id(system_id)
            assert station is not None
            station.apply_battery_commands(items)
        self._note(topic, True, f"applied {len(commands)} command(s)")

    def _switch_mode(self, topic: str, data: dict[str, Any]) -> None:
        system_id, mode = data.get("systemId"), data.get("mode")
        station = self.sim.station_by_system_id(system_id) if isinstance(system_id, str) else None
        if station is None or not self.sim.onboarded(str(system_id)):
            self._note(topic, False, f"unknown or not onboarded system {system_id!r}")
            return
        if not isinstance(mode, str) or mode.upper() not in MODES:
            self._note(topic, False, f"unknown mode {mode!r}")
            return
        station.set_mode(MODES[mode.upper()])
        self._note(topic, True, f"mode {mode.upper()}")

    # ------------------------------------------------------------------ to clients

    async def _publish(self, topic: str, payload: Any) -> bool:
        """Publish with QoS 1; False when the broker is down or the publish failed."""
        client = self._client
        if client is None:
            _LOGGER.debug("Simulator: broker down, not publishing to %s", topic)
            return False
        body = payload if isinstance(payload, bytes) else json.dumps(payload)
        try:
            await client.publish(topic, body, qos=1)
        except aiomqtt.MqttError as err:
            _LOGGER.debug("Simulator: publishing to %s failed: %s", topic, err)
            return False
        self.published.append((topic, payload))
        self.published_count += 1
        return True

    def _telemetry_payload(self, system_id: str, *, full: bool = False) -> Any:
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
            return b'[{"deviceType": "system", "systemId": "' + system_id.encode() + b'", "val'
        values = station.telemetry_values()
        known = self._telemetry_known.get(system_id)
        if self.sim.config.telemetry_shape == "captured" and known is not None and not full:
            values = {key: value for key, value in values.items() if known.get(key) != value}
        if self.sim.faults.telemetry_partial:
            values = {k: v for k, v in values.items() if k in PARTIAL_KEYS}
        return [
            {
                "deviceType": "system",
                "systemId": system_id,
                "snCode": system_id,
                "statisticsTime": int(self.sim.clock.now()),
                "value": values,
            }
        ]

    async def publish_telemetry(self, system_id: str | None = None, *, full: bool = False) -> None:
        """Publish one ``period`` message now: for ``system_id`` (if onboarded and
        online), or for every subscribed, onboarded and online system.

        ``full``: every field, also in the captured shape (which otherwise sends only
        what changed since the last message, see :meth:`_telemetry_payload`).
        """
        targets = sorted(self.subscriptions["period"]) if system_id is None else [system_id]
        for target in targets:
            station = self.sim.station_by_system_id(target)
            if not self.sim.onboarded(target) or (station is not None and station.offline):
                continue  # an offline station's device has nothing to send
            topic = f"openapi/period/{self.sim.app_key}/{target}"
            payload = self._telemetry_payload(target, full=full)
            if await self._publish(topic, payload) and isinstance(payload, list):
                # What the subscribers know now (a partial message leaves the rest
                # unknown: it is sent again next time).
                self._telemetry_known.setdefault(target, {}).update(payload[0]["value"])

    async def publish_change(self, system_id: str, values: dict[str, str]) -> None:
        """Publish a ``change`` message (``values`` empty: the station's current values).

        Sent on demand whether or not the system is subscribed or onboarded. The
        station's own values, once published, are what later ticks compare with.
        """
        station = self.sim.station_by_system_id(system_id)
        if station is None:
            raise KeyError(f"No simulated system {system_id!r}")
        current = station.system_values()
        payload = [
            {"deviceType": "system", "systemId": system_id, "value": dict(values) or current}
        ]
        topic = f"openapi/change/{self.sim.app_key}/{system_id}"
        if await self._publish(topic, payload) and (not values or dict(values) == current):
            self._last_change[system_id] = current

    async def publish_changes(self) -> None:
        """Publish a ``change`` message for each subscribed, onboarded system whose
        system values differ from the last ones published to it.
        """
        for system_id in sorted(self.subscriptions["change"]):
            station = self.sim.station_by_system_id(system_id)
            if (
                station is None
                or not self.sim.onboarded(system_id)
                or system_id in self._change_pending
            ):
                continue
            if station.system_values() != self._last_change.get(system_id):
                await self.publish_change(system_id, {})

    async def publish_alarm(
        self, system_id: str, code: str, status: str, text: str | None = None
    ) -> None:
        """Publish an ``alarm`` message (status ``generation`` or ``recovery``).

        ``text`` adds an ``alarmName``, as the app API's alarm list carries (the
        documented push has only the code).
        """
        await self.publish_alarms(system_id, [(code, status)], texts=[text])

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
        now_ms = int(self.sim.clock.now() * 1000)
        payload: list[dict[str, Any]] = []
        for i, (code, status) in enumerate(alarms):
            item: dict[str, Any] = {"systemId": system_id, "alarmCode": code}
            text = texts[i] if i < len(texts) else None
            if text is not None:
                item["alarmName"] = text
            payload.append({**item, "status": status, "changeTime": now_ms + i})
        await self._publish(f"openapi/alarm/{self.sim.app_key}/{system_id}", payload)

    # ------------------------------------------------------------------ period

    async def on_time_advanced(self, seconds: float) -> None:
        """Hook of ``Simulator.advance``: publish when an interval has passed, and
        system values that changed.
        """
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

    async def _tick(self) -> None:
        """While simulated time runs by itself, publish every telemetry interval; at
        every tick (at most a second apart), publish system values that changed.
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


def _command_problem(item: Any, now: float) -> str | None:
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
    for key in ("chargingPower", "pvPower", "maxSellPower", "maxPurchasePower"):
        value = item.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            return f"{key} must be a non-negative number"
    return None
