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
  ``change`` (system data: ``mqtt_payloads.system_values(station)``) to
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

This module holds the life cycle (certificates, broker, gate, the publisher's
connection); what is pushed is :mod:`sigen_sim.mqtt_publisher` (shapes in
:mod:`sigen_sim.mqtt_payloads`), what clients send is :mod:`sigen_sim.mqtt_instructions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import tempfile
from collections import deque
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiomqtt

from sigen.mqtt import HardenedClient

from .broker import BrokerError, MosquittoBroker, free_port
from .certs import CertBundle, generate_certs, load_or_generate_certs
from .mqtt_access import BrokerAccess
from .mqtt_gate import MqttGate
from .mqtt_instructions import HISTORY, KINDS, InstructionHandler, Received
from .mqtt_publisher import Publisher
from .tls import client_context, server_context

if TYPE_CHECKING:
    from .simulator import Simulator

_LOGGER = logging.getLogger(__name__)

ACL_TASK = "sigen-sim-mqtt-acl"
READY_TIMEOUT = 15.0


class MqttSide:
    """The broker plus the cloud's publisher (see module doc and docs/architecture.md)."""

    def __init__(self, sim: Simulator, *, require_client_cert: bool) -> None:
        """The MQTT side of ``sim`` (nothing runs until :meth:`start`)."""
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
        self.access = BrokerAccess(sim, self.broker)
        # The front door for the app's clients, when mosquitto alone cannot do it.
        self.gate: MqttGate | None = None
        if gated:
            self.port = config.mqtt_port or free_port(self.host)
            self.gate = MqttGate(
                host=self.host,
                port=self.port,
                upstream_host=self.broker.host,
                upstream_port=self.broker.port,
                server_context=server_context(self.certs, require_client_cert=require_client_cert),
                upstream_context=client_context(
                    self.certs, require_client_cert=require_client_cert
                ),
                decide=self.access.admit,
            )
        # kind -> system ids the app asked for (with a valid token)
        self.subscriptions: dict[str, set[str]] = {kind: set() for kind in KINDS}
        # What the side published (bounded, so long runs and load tests do not grow).
        self.published: deque[tuple[str, Any]] = deque(maxlen=HISTORY)
        self.published_count = 0  # all messages published (the deque keeps the last ones)
        # Seconds after a period subscription request until the first push (None: never).
        self.initial_push_delay: float | None = 1.0
        self.publisher = Publisher(self, self._publish)
        self.handler = InstructionHandler(self)
        self._client: aiomqtt.Client | None = None
        self._ready = asyncio.Event()
        self._acl_lock = asyncio.Lock()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ from clients

    @property
    def received(self) -> list[tuple[str, Received]]:
        """Everything clients sent, once each, as ``(topic, payload)``."""
        return self.handler.received

    @property
    def instructions(self) -> deque[tuple[str, bool, str]]:
        """What was done with each request or instruction: ``(topic, accepted, reason)``."""
        return self.handler.instructions

    @property
    def redelivered(self) -> int:
        """Redeliveries by the broker, skipped (see module doc)."""
        return self.handler.redelivered

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the broker and the publisher; returns once the publisher is subscribed."""
        await self.broker.start()
        if self.gate is not None:
            self.gate.upstream_port = self.broker.port
            await self.gate.start()
        self._stopping = False
        self.publisher.start_clock()
        self._runner = asyncio.create_task(self._run(), name="sigen-sim-mqtt-publisher")
        self.spawn(self.publisher.tick(), "sigen-sim-mqtt-ticker")
        await self._wait_ready()

    async def stop(self) -> None:
        """Stop the publisher and the broker.

        Removes the broker files and the certificates (unless they live in
        ``SimConfig.cert_dir``).
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
        the connections that used it are cut; otherwise every unexpired token stays
        valid (see :mod:`sigen_sim.mqtt_access`).
        """
        await self.access.login(app_key, token, gated=self.gate is not None)

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
        self.publisher.forget(system_id)
        self._change_acl(self.broker.revoke_app_system(self.sim.app_key, system_id))

    async def acl_synced(self) -> None:
        """Wait until the broker applied every station change made so far."""
        while pending := [t for t in self._tasks if t.get_name() == ACL_TASK]:
            await asyncio.wait(pending)

    def _change_acl(self, commands: list[dict[str, object]]) -> None:
        if commands and self.broker.running:
            self.spawn(self._send_acl(commands), ACL_TASK)

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

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` in a task of this side (cancelled at :meth:`stop`)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ the connection

    async def _run(self) -> None:
        """The publisher: connect, listen to requests and instructions, reconnect."""
        context = client_context(self.certs, require_client_cert=self.require_client_cert)
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
                        if self.handler.is_redelivery(message):
                            continue
                        try:
                            await self.handler.handle(str(message.topic), message.payload)
                        except Exception:
                            _LOGGER.exception("Simulator: handling %s failed", message.topic)
            except aiomqtt.MqttError as err:
                _LOGGER.debug("Simulator publisher disconnected: %s", err)
            finally:
                self._client = None
                self._ready.clear()
            if not self._stopping:
                await asyncio.sleep(0.05)

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

    # ------------------------------------------------------------------ to clients

    async def publish_telemetry(self, system_id: str | None = None, *, full: bool = False) -> None:
        """Publish one ``period`` message now (see :meth:`Publisher.publish_telemetry`)."""
        await self.publisher.publish_telemetry(system_id, full=full)

    async def publish_change(self, system_id: str, values: dict[str, str]) -> None:
        """Publish a ``change`` message (``values`` empty: the station's current values)."""
        await self.publisher.publish_change(system_id, values)

    async def publish_changes(self) -> None:
        """Publish a ``change`` message for each subscribed system whose values changed."""
        await self.publisher.publish_changes()

    async def publish_alarm(
        self, system_id: str, code: str, status: str, text: str | None = None
    ) -> None:
        """Publish an ``alarm`` message (status ``generation`` or ``recovery``).

        ``text`` adds an ``alarmName``, as the app API's alarm list carries (the
        documented push has only the code).
        """
        await self.publisher.publish_alarms(system_id, [(code, status)], texts=[text])

    async def publish_alarms(
        self,
        system_id: str,
        alarms: Sequence[tuple[str, str]],
        *,
        texts: Sequence[str | None] = (),
    ) -> None:
        """Publish one ``alarm`` message carrying several ``(code, status)`` alarms, in order."""
        await self.publisher.publish_alarms(system_id, alarms, texts=texts)

    async def on_time_advanced(self, seconds: float) -> None:
        """Hook of ``Simulator.advance``: what is due after simulated time moved on."""
        await self.publisher.on_time_advanced()
