"""A real mosquitto broker for the simulator: TLS on 127.0.0.1, passwords, ACL, persistence.

:class:`MosquittoBroker` writes a configuration into a private directory and runs
``/usr/sbin/mosquitto -c mosquitto.conf`` as a child process:

* one TLS listener on ``127.0.0.1`` and a free port (kept across restarts), with the
  simulator's server certificate; ``require_certificate true`` when mutual TLS is asked;
* ``allow_anonymous false``; users, passwords and ACLs come from mosquitto's
  dynamic-security plugin, whose JSON file is written here (passwords hashed in
  mosquitto's ``$7$`` PBKDF2-SHA512 format). :meth:`set_password` changes a password
  while the broker runs through the plugin's control topic and returns once the broker
  confirmed it (no reload, no race). The plugin (rather than ``acl_file``, which
  mosquitto only applies when delivering) checks subscriptions when they are made;
* ACL: each app key may subscribe only to its exact ``openapi/{period,change,alarm}/
  {key}/{system_id}`` filters (``subscribeLiteral``: a wildcard filter is refused with
  SUBACK 0x80) and publish only to ``openapi/subscription/#`` and
  ``openapi/instruction/#``; systems added or removed while the broker runs change the
  role at once (``addRoleACL``/``removeRoleACL``; the plugin then disconnects the
  role's clients, which reconnect and subscribe again); an internal privileged user
  (random password) may do everything: the simulator's publisher;
* persistence (queued QoS 1 messages of persistent sessions survive a restart) and a
  log file (:attr:`log_path`).

Start/stop/restart work by PID; readiness is a connect loop, not a sleep. The process
is also killed at interpreter exit if nobody stopped it. What the broker is told (the
configuration file, users, passwords, ACLs) is :mod:`sigen_sim.broker_config`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from .broker_config import (
    PUBLISHER_USERNAME,
    BrokerError,
    BrokerSecurity,
    Command,
    find_plugin,
    hash_password,
    mosquitto_conf,
)
from .certs import CertBundle, CertPair
from .tls import client_context

__all__ = ["BrokerError", "MosquittoBroker", "free_port", "hash_password"]

_LOGGER = logging.getLogger(__name__)

MOSQUITTO = "/usr/sbin/mosquitto"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 20000  # free ports are picked from here up to the ephemeral range


def _ephemeral_start() -> int:
    """The first port the kernel hands out on its own (Linux; else IANA's 49152)."""
    try:
        return int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing uses right now, below the kernel's ephemeral range.

    The broker keeps its port across restarts. A port from the ephemeral range (what
    binding port 0 gives) may be handed to any other socket of the machine while the
    broker is down, as the local port of an outgoing connection or another server's
    port 0, and mosquitto then cannot start again ("Address already in use": seen in a
    long outage run beside the test suite). Below the range, only a socket that asks for
    that very port can take it.
    """
    top = _ephemeral_start()
    if top - LOWEST_PORT >= 1000:
        rng = secrets.SystemRandom()
        for _ in range(50):
            port = rng.randrange(LOWEST_PORT, top)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        found: int = sock.getsockname()[1]
        return found


class MosquittoBroker:
    """One mosquitto process with TLS, a password file and an ACL (see module doc)."""

    def __init__(
        self,
        certs: CertBundle,
        directory: str | Path,
        *,
        require_client_cert: bool = False,
        server_cert: CertPair | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        executable: str = MOSQUITTO,
    ) -> None:
        """A broker whose files live in ``directory`` (nothing runs until :meth:`start`)."""
        self.certs = certs
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.require_client_cert = require_client_cert
        self.server_cert = server_cert or certs.server
        self.host = host
        self.port = port or free_port(host)
        self.executable = executable
        self.publisher_username = PUBLISHER_USERNAME
        self.publisher_password = secrets.token_urlsafe(24)
        self.config_path = self.directory / "mosquitto.conf"
        self.dynsec_path = self.directory / "dynamic-security.json"
        self.plugin_path = find_plugin()
        self.log_path = self.directory / "mosquitto.log"
        self.persistence_dir = self.directory / "data"
        self.persistence_dir.mkdir(exist_ok=True, mode=0o700)
        self.security = BrokerSecurity(self.publisher_username, self.publisher_password)
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False  # once started, the port never changes

    # ------------------------------------------------------------------ state

    @property
    def pid(self) -> int | None:
        """The process id of the running mosquitto (None when stopped)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the mosquitto process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the broker's log (for error messages and test failures)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------- configuration

    def set_app_systems(self, app_key: str, system_ids: Iterable[str]) -> None:
        """Grant ``app_key`` its exact period/change/alarm topics for ``system_ids``.

        Call before :meth:`start` (the simulator knows its stations by then); later
        changes go through :meth:`add_app_system` / :meth:`remove_app_system`.
        """
        self.security.set_app_systems(app_key, system_ids)
        self._write_files()

    def grant_app_system(self, app_key: str, system_id: str) -> list[Command]:
        """Add one system's topics to ``app_key``'s role in the configuration files.

        Returns the dynamic-security commands that apply the change to the running broker
        (``[]`` when nothing changed); :meth:`add_app_system` does both.
        """
        commands = self.security.grant(app_key, system_id)
        if commands:
            self._write_files()
        return commands

    def revoke_app_system(self, app_key: str, system_id: str) -> list[Command]:
        """Remove one system's topics from ``app_key``'s role (see :meth:`grant_app_system`)."""
        commands = self.security.revoke(app_key, system_id)
        if commands:
            self._write_files()
        return commands

    async def add_app_system(self, app_key: str, system_id: str) -> None:
        """Grant one more system's topics; effective when this returns (also while running)."""
        await self.control(self.grant_app_system(app_key, system_id))

    async def remove_app_system(self, app_key: str, system_id: str) -> None:
        """Withdraw one system's topics; effective when this returns (also while running)."""
        await self.control(self.revoke_app_system(app_key, system_id))

    async def control(self, commands: list[Command]) -> None:
        """Send dynamic-security commands to the running broker.

        Nothing when stopped: the configuration files already hold the change for its
        next start.
        """
        if commands and self.running:
            await self._control(commands)

    def _write_files(self) -> None:
        self._write(self.dynsec_path, json.dumps(self.security.dynsec(), indent=1))
        config = mosquitto_conf(
            dynsec_path=self.dynsec_path,
            persistence_dir=self.persistence_dir,
            log_path=self.log_path,
            host=self.host,
            port=self.port,
            certs=self.certs,
            server=self.server_cert,
            require_client_cert=self.require_client_cert,
            plugin_path=self.plugin_path,
        )
        self._write(self.config_path, config)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        tmp.replace(path)

    async def set_password(self, username: str, password: str) -> None:
        """Set (or change) a user's password; effective when this returns.

        While the broker runs this goes through the dynamic-security control topic
        (as the privileged user) and waits for the broker's answer.
        """
        commands = self.security.set_password(username, password)
        if commands is None:
            return
        self._write_files()
        if not self.running:
            return  # read at the next start
        await self._control(commands)

    def password_of(self, username: str) -> str | None:
        """The broker password of ``username`` (the simulator's gate forwards it)."""
        return self.security.passwords.get(username)

    async def kick(self, username: str) -> None:
        """Disconnect every client logged in as ``username`` (they may reconnect at once)."""
        if self.running and username in self.security.passwords:
            await self._control(
                [
                    {"command": "disableClient", "username": username},
                    {"command": "enableClient", "username": username},
                ]
            )

    async def _control(self, commands: list[Command]) -> None:
        """Send dynamic-security commands and wait for their answers."""
        import aiomqtt  # noqa: PLC0415  (only needed while running)

        context = client_context(self.certs, require_client_cert=self.require_client_cert)
        async with aiomqtt.Client(
            self.host,
            self.port,
            username=self.publisher_username,
            password=self.publisher_password,
            identifier=f"sim-broker-control-{secrets.token_hex(4)}",
            tls_context=context,
            timeout=START_TIMEOUT,
        ) as client:
            await client.subscribe(f"{CONTROL_TOPIC}/response", qos=1)
            await client.publish(CONTROL_TOPIC, json.dumps({"commands": commands}), qos=1)
            async with asyncio.timeout(START_TIMEOUT):
                async for message in client.messages:
                    responses = json.loads(message.payload).get("responses", [])
                    errors = [r.get("error") for r in responses if r.get("error")]
                    if errors:
                        raise BrokerError(f"mosquitto refused {commands[0]['command']}: {errors}")
                    return

    # --------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start mosquitto and wait until its port accepts connections."""
        if self.running:
            return
        self._write_files()
        for attempt in range(3):
            self._spawn()
            atexit.register(self.kill)
            try:
                await self._wait_ready()
            except BrokerError:
                self.kill()
                if attempt == 2 or self._started or "Address already in use" not in self.log_tail():
                    raise
                self.port = free_port(self.host)  # taken before the first start: move
                self._write_files()
            else:
                self._started = True
                _LOGGER.debug("mosquitto pid %s listening on %s:%s", self.pid, self.host, self.port)
                return

    def _spawn(self) -> None:
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._process = subprocess.Popen(
                [self.executable, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            os.close(log)

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                raise BrokerError(f"mosquitto exited at start:\n{self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise BrokerError(
                        f"mosquitto did not listen on {self.host}:{self.port}:\n{self.log_tail()}"
                    ) from None
                await asyncio.sleep(0.01)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def stop(self) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL); it saves its persistence file first."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            # A child process offers no event to await: poll it.
            while process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        self.kill()

    async def restart(self, down_for: float = 0.0) -> None:
        """Stop, stay down ``down_for`` seconds, start again on the same port."""
        await self.stop()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.start()

    def kill(self) -> None:
        """Stop the process now, synchronously (also used at interpreter exit)."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._process = None
        atexit.unregister(self.kill)
