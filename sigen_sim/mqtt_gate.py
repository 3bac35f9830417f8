"""A TLS front door for the simulator's broker: what the cloud may do and mosquitto cannot.

mosquitto keeps one password per user (its dynamic-security plugin, like its password
file, holds one hash per user name, and changing it disconnects the user's clients),
and it cannot refuse a persistent session: it answers CONNACK 2 ("identifier
rejected", MQTT 3.1.1) only for an empty or malformed client id, and its
``clientid_prefixes`` answers 5 ("not authorised"). When a
:class:`~sigen_sim.simulator.SimConfig` asks for one of those behaviours
(``nb_one_token_per_key=False``, ``mqtt_refuse_persistent_sessions``,
``mqtt_refused_client_ids``), the app's clients connect to this gate instead of
mosquitto:

* TLS with the simulator's server certificate (and the client certificate required,
  with mutual TLS), as mosquitto does;
* it reads the client's CONNECT and asks ``decide`` (the MQTT side's policy) what to do:
  refuse with a CONNACK return code (the connection then ends), forward it with
  another password (the app key's internal broker password, once the gate has checked
  the token itself), or forward it unchanged;
* then it opens a TLS connection to mosquitto, sends the CONNECT, and copies bytes both
  ways until either side ends; mosquitto's ACL, kicks and restarts work as before.

Only the simulator's own clients (publisher, dynamic-security control) still connect
to mosquitto directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds for the client's CONNECT (and for reaching mosquitto)
MAX_CONNECT_SIZE = 65_536
CHUNK = 65_536
# MQTT 3.1.1 CONNACK return codes and their MQTT 5 reason codes.
IDENTIFIER_REJECTED = 2
BAD_USERNAME_OR_PASSWORD = 4
NOT_AUTHORISED = 5
_V5_CODES = {IDENTIFIER_REJECTED: 0x85, BAD_USERNAME_OR_PASSWORD: 0x86, NOT_AUTHORISED: 0x87}


class ProtocolError(ValueError):
    """The first packet is not a well-formed CONNECT."""


@dataclass(frozen=True, slots=True)
class ConnectPacket:
    """What the gate needs from a CONNECT (and where its password sits)."""

    protocol_level: int  # 3 (3.1), 4 (3.1.1) or 5
    clean_session: bool
    client_id: str
    username: str | None
    password: bytes | None
    flags: int
    flags_offset: int  # index of the connect flags byte in the variable header
    password_offset: int  # where the password field starts (the end when it has none)
    body: bytes  # variable header and payload, as received

    def with_password(self, password: bytes) -> bytes:
        """The whole CONNECT packet (fixed header included) with ``password`` instead."""
        flags = self.flags | 0x40
        body = bytearray(self.body[: self.password_offset])
        body[self.flags_offset] = flags
        body += len(password).to_bytes(2, "big") + password
        return bytes([0x10]) + encode_length(len(body)) + bytes(body)


# A decision: a CONNACK return code (3.1.1 numbering) to refuse with, a password to
# forward instead of the client's, or None to forward the CONNECT unchanged.
type Verdict = int | bytes | None


def encode_length(length: int) -> bytes:
    """MQTT's variable-length "remaining length" encoding."""
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def parse_connect(body: bytes) -> ConnectPacket:
    """Parse the variable header and payload of a CONNECT (raises :class:`ProtocolError`)."""
    pos = 0

    def take(count: int) -> bytes:
        nonlocal pos
        if pos + count > len(body):
            raise ProtocolError("CONNECT shorter than its fields")
        chunk = body[pos : pos + count]
        pos += count
        return chunk

    def field() -> bytes:
        return take(int.from_bytes(take(2), "big"))

    def skip_properties() -> None:
        length, shift = 0, 0
        for _ in range(4):
            byte = take(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        take(length)

    if field() not in (b"MQTT", b"MQIsdp"):
        raise ProtocolError("not an MQTT CONNECT")
    level = take(1)[0]
    flags_offset = pos
    flags = take(1)[0]
    take(2)  # keep alive
    if level == 5:
        skip_properties()
    client_id = field().decode("utf-8", errors="replace")
    if flags & 0x04:  # will
        if level == 5:
            skip_properties()
        field()
        field()
    username = field().decode("utf-8", errors="replace") if flags & 0x80 else None
    password_offset = pos
    password = field() if flags & 0x40 else None
    return ConnectPacket(
        protocol_level=level,
        clean_session=bool(flags & 0x02),
        client_id=client_id,
        username=username,
        password=password,
        flags=flags,
        flags_offset=flags_offset,
        password_offset=password_offset,
        body=body,
    )


def connack(protocol_level: int, code: int) -> bytes:
    """A refusing CONNACK with the 3.1.1 return ``code`` (its reason code in MQTT 5)."""
    if protocol_level == 5:
        return bytes([0x20, 3, 0, _V5_CODES.get(code, 0x80), 0])
    return bytes([0x20, 2, 0, code])


async def read_connect(reader: asyncio.StreamReader) -> ConnectPacket:
    """Read the first packet; it must be a CONNECT."""
    first = await reader.readexactly(1)
    if first[0] != 0x10:
        raise ProtocolError("the first packet is not a CONNECT")
    length, shift = 0, 0
    for _ in range(4):
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    else:
        raise ProtocolError("malformed remaining length")
    if length > MAX_CONNECT_SIZE:
        raise ProtocolError("CONNECT too large")
    return parse_connect(await reader.readexactly(length))


class MqttGate:
    """The front door (see module doc); ``port`` is what the app's clients connect to."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        upstream_host: str,
        upstream_port: int,
        server_context: ssl.SSLContext,
        upstream_context: ssl.SSLContext,
        decide: Callable[[ConnectPacket], Verdict],
    ) -> None:
        """A gate on ``host:port`` in front of the broker; ``decide`` judges each CONNECT."""
        self.host = host
        self.port = port
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self._server_context = server_context
        self._upstream_context = upstream_context
        self._decide = decide
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.refused: list[tuple[str, int]] = []  # (client id, CONNACK code) of each refusal

    async def start(self) -> None:
        """Listen (TLS) on ``host:port``."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, self.host, self.port, ssl=self._server_context
            )

    async def stop(self) -> None:
        """Stop listening and end every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if server is not None:
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                packet = await read_connect(reader)
            verdict = self._decide(packet)
            if isinstance(verdict, int):
                self.refused.append((packet.client_id, verdict))
                _LOGGER.debug(
                    "Simulator gate: CONNACK %d for client id %s", verdict, packet.client_id
                )
                writer.write(connack(packet.protocol_level, verdict))
                await writer.drain()
                return
            raw = (
                packet.with_password(verdict)
                if isinstance(verdict, bytes)
                else bytes([0x10]) + encode_length(len(packet.body)) + packet.body
            )
            async with asyncio.timeout(CONNECT_TIMEOUT):
                up_reader, upstream = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port, ssl=self._upstream_context
                )
            self._writers.add(upstream)
            upstream.write(raw)
            await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as err:
            _LOGGER.debug("Simulator gate: connection ended (%s)", err or type(err).__name__)
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._writers.discard(end)
                    end.close()
            self._tasks.discard(task)


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy until ``source`` ends, then end ``target`` (which ends the other direction)."""
    try:
        while data := await source.read(CHUNK):
            target.write(data)
            await target.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            target.close()
