"""aiomqtt's client made safe to cancel, or to fail, at any moment while it connects.

Everything here depends on internals of aiomqtt 2.5 (tested with 2.5.1; the manifest
and pyproject.toml pin ``aiomqtt>=2.5.0,<2.6``) and paho-mqtt 2.1 (tested with 2.1.0,
which Home Assistant pins): aiomqtt's ``_connected`` and ``_disconnected`` futures, its
``_lock``, ``_misc_task`` and ``_loop``, its paho callbacks ``_on_disconnect`` and
``_on_socket_register_write``, and paho's ``_sock_recv`` and ``_sock_close``. Each
override below names what it works around; check them all before raising the pin.

Import side effect: the ``<package>.paho`` logger (the one every connection hands to
paho) gets a filter that turns paho's error line about a dropped connection into a
debug line (:class:`_DroppedConnectionIsDebug`). It is installed at import so that it
holds for every client, the simulator's included, however made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Final, Self

import aiomqtt

if TYPE_CHECKING:
    from types import TracebackType

    import paho.mqtt.client as paho
    from aiomqtt.types import PahoSocket

# The package's logger name ("sigen.mqtt"), whatever the module's own name is.
_PACKAGE: Final = __name__.rpartition(".")[0]
PAHO_LOGGER: Final = logging.getLogger(f"{_PACKAGE}.paho")


class _DroppedConnectionIsDebug(logging.Filter):
    """Paho's error line about a connection the broker dropped, as a debug line.

    paho logs it as an error ("failed to receive on socket: [Errno 104] Connection reset
    by peer"); the listener reports each loss once itself, as a warning with the time
    of the next try. paho's other errors (an exception in a callback) stay errors.
    """

    _PREFIXES: Final = ("failed to receive on socket", "timeout on socket")

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote paho's dropped-connection error to debug; keep every record."""
        if (
            record.levelno == logging.ERROR
            and isinstance(record.msg, str)
            and record.msg.startswith(self._PREFIXES)
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


PAHO_LOGGER.addFilter(_DroppedConnectionIsDebug())


class ConnectionLostError(aiomqtt.MqttError):
    """The connection died before the broker's CONNACK.

    ``cause`` is what the socket raised (a TLS alert, a reset), ``None`` when it was
    simply closed.
    """

    def __init__(self, cause: OSError | None) -> None:
        """Keep the socket's error and say that it came before the CONNACK."""
        self.cause = cause
        reason = str(cause) if cause is not None else "the broker closed the connection"
        super().__init__(f"{reason} (before answering the CONNECT)")


class HardenedClient(aiomqtt.Client):
    """aiomqtt's client, safe to cancel (or to fail) at any moment while it connects.

    Used by :class:`~sigen.mqtt.SigenMQTT` for every connection, and by the simulator's
    cloud side, whose connection dies with every broker restart of the fault tests.

    The connect runs in its own task that the caller's cancellation does not reach;
    any failure or cancellation closes the socket and ends the misc task before the
    error propagates, and leaving the context (even when the disconnect is
    interrupted) waits until both are gone. A connection that dies before the CONNACK
    fails the connect at once with what the socket said (:class:`ConnectionLostError`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make aiomqtt's client and keep the error of a failing socket read.

        Works around paho's ``Client._sock_recv`` callers: a read error is logged and
        reported only as "connection lost", so a TLS alert (which names the
        certificate problem) is lost. The receive function is wrapped to keep the
        error for :class:`ConnectionLostError`.
        """
        super().__init__(*args, **kwargs)
        self._socket_error: OSError | None = None
        paho_client = self._client
        # paho has no public hook for the socket's read error: wrap its reader.
        receive = paho_client._sock_recv  # noqa: SLF001

        def recording_receive(bufsize: int) -> bytes:
            try:
                return receive(bufsize)
            except BlockingIOError:
                raise
            except OSError as err:
                self._socket_error = err
                raise

        paho_client._sock_recv = recording_receive  # type: ignore[method-assign]  # noqa: SLF001

    async def __aenter__(self) -> Self:
        """Connect; on cancellation or failure leave nothing open behind.

        Works around ``aiomqtt.Client.__aenter__``, which runs paho's blocking
        ``connect`` (TCP, TLS) in an executor thread and then awaits the CONNACK on the
        shared ``_connected`` future. Cancelled there, the thread still finishes the
        connect (registers the reader, starts ``_misc_task``) and nobody calls
        ``__aexit__``; the await cancels ``_connected`` itself; a timed-out or negative
        CONNACK leaves the socket open. Here the connect runs as its own task: a
        cancellation fails ``_connected`` instead (so aiomqtt stops waiting), waits
        for the task (at most the rest of paho's connect), closes everything and
        re-raises.
        """
        enter = asyncio.ensure_future(super().__aenter__())
        try:
            # (asyncio.wait, not shield: it never cancels ``enter`` and, unlike shield on
            # Python 3.14, reports nothing to the loop when ``enter`` fails afterwards.)
            await asyncio.wait([enter])
            return enter.result()
        except asyncio.CancelledError:
            if not enter.done() and not self._connected.done():
                self._connected.set_exception(aiomqtt.MqttError("connection attempt cancelled"))
            await _finish(enter)
            await self._abandon()
            raise
        except BaseException:
            await self._abandon()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect, then make sure the socket and the misc task are gone.

        Works around ``aiomqtt.Client.__aexit__``, which only *schedules* the misc
        task's cancellation, and leaves the socket open when the disconnect is itself
        cancelled or fails. A drop outside a publish or the message loop also leaves
        its reason unread in ``_disconnected`` ("Future exception was never
        retrieved"); the caller reports the disconnection itself, so it is marked read.
        """
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            await self._abandon()
            disconnected = self._disconnected
            if disconnected.done() and not disconnected.cancelled():
                disconnected.exception()

    def _on_socket_register_write(
        self, client: paho.Client, userdata: Any, sock: PahoSocket
    ) -> None:
        """Watch the socket for writing, with the descriptor it has when that happens.

        Works around ``aiomqtt.Client._on_socket_register_write``: paho calls it from
        any thread, and aiomqtt schedules ``loop.add_writer`` with the descriptor taken
        *now*; when the connection dies in between, the scheduled call raised
        "OSError: Bad file descriptor" inside a loop callback. Here the descriptor is
        read when the call runs, and a closed socket counts as the disconnection it is.
        """
        loop = self._loop

        def write() -> None:
            try:
                client.loop_write()
            except Exception as err:  # a broken connection, as in aiomqtt
                self._fail(err)

        def register() -> None:
            fileno = sock.fileno()
            if fileno < 0:
                return
            try:
                loop.add_writer(fileno, write)
            except (OSError, ValueError) as err:
                self._fail(err)

        loop.call_soon_threadsafe(register)

    def _fail(self, err: BaseException) -> None:
        """Report a broken connection through aiomqtt's ``_disconnected`` future."""
        if not self._disconnected.done():
            self._disconnected.set_exception(err)

    def _on_disconnect(self, *args: Any, **kwargs: Any) -> None:
        """Paho's disconnection callback, safe before the CONNACK.

        Works around ``aiomqtt.Client._on_disconnect``, which calls
        ``self._connected.exception()``: on a connect future cancelled by the caller
        that *raises* ``CancelledError`` inside a loop callback (the socket reader or
        the misc task), and before the CONNACK it ignores the loss, so the connect
        waits its whole timeout. Here a cancelled connect is left alone and a loss
        before the CONNACK fails the connect at once (:class:`ConnectionLostError`).
        """
        if self._connected.cancelled():
            return
        if not self._connected.done():
            error = ConnectionLostError(self._socket_error)
            self._loop.call_soon_threadsafe(_fail_future, self._connected, error)
            return
        super()._on_disconnect(*args, **kwargs)

    async def _abandon(self) -> None:
        """Close the socket if still open (no DISCONNECT sent) and end the misc task.

        paho's own socket close unregisters the writer, calls aiomqtt's
        ``_on_socket_close`` (which removes the reader and cancels the misc task) and
        closes the socket; paho has no public way to drop a connection without sending
        a DISCONNECT. The lock aiomqtt may still hold after a failed connect is
        released, so that the client can be entered again.
        """
        self._client._sock_close()  # noqa: SLF001  (see the docstring)
        task = self._misc_task
        if task is not None and not task.done():
            task.cancel()
            await _finish(task)
        if self._lock.locked():
            self._lock.release()


def _fail_future(future: asyncio.Future[Any], error: BaseException) -> None:
    """Fail ``future`` unless it already has its outcome (run in the loop's thread)."""
    if not future.done():
        future.set_exception(error)


async def _finish(future: asyncio.Future[Any]) -> None:
    """Wait until ``future`` is done, through further cancellations, and retrieve its result.

    Only for short clean-ups the caller must not skip; the caller re-raises its
    ``CancelledError`` afterwards.
    """
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([future])
    if not future.cancelled():
        future.exception()  # retrieved: never "exception was never retrieved"
