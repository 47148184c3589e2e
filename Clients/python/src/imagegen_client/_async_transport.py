"""One TCP connection speaking the imagegen wire protocol (Proto/README.md), on an asyncio event loop.

The twin of :mod:`._transport`: a reader task feeds the shared :class:`~._framing.FrameDecoder`
and the shared :class:`~._connection.Connection` routes the frames to the calls' queues. Everything
runs on the loop's thread, so the state needs no lock and a frame is written whole by one
``write``; only a finalizer (``__del__``) may run elsewhere, and it hands its cancel to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Mapping, Optional

from ._connection import CANCELLED_BY_CLIENT, CallBase, CallTimeout, Connection, Event, connect_failure, read_failure
from ._framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder
from .errors import RpcError, StatusCode

__all__ = ["AsyncTransport", "AsyncCall"]

_READ_SIZE = 64 * 1024


class _AsyncPing:
    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: "asyncio.Future[bool]" = asyncio.get_running_loop().create_future()

    def answer(self) -> None:
        if not self.future.done():
            self.future.set_result(True)

    def fail(self) -> None:
        if not self.future.done():
            self.future.set_result(False)


class AsyncCall(CallBase):
    """One open call on an :class:`AsyncTransport`: response messages (``bytes``), then exactly
    one :class:`Status`."""

    __slots__ = ("_queue",)

    def __init__(self, transport: "AsyncTransport", call_id: int, method: str) -> None:
        super().__init__(transport, call_id, method)
        self._queue: "asyncio.Queue[Event]" = asyncio.Queue()

    def _deliver(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def receive(self, deadline: Optional[float] = None) -> Event:
        """The next event; ``deadline`` is a :func:`time.monotonic` value, past which
        :class:`CallTimeout` is raised."""
        if deadline is None:
            return await self._queue.get()
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                return self._queue.get_nowait()
            return await asyncio.wait_for(self._queue.get(), remaining)
        except (asyncio.QueueEmpty, asyncio.TimeoutError):
            raise CallTimeout() from None


class AsyncTransport(Connection[AsyncCall, _AsyncPing]):
    """One connection to an imagegen server, for one event loop. Open it with :meth:`connect`."""

    def __init__(
        self, host: str, port: int, max_frame_bytes: int,
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(host, port, max_frame_bytes, contextlib.nullcontext())
        self._loop = asyncio.get_running_loop()
        self._decoder = FrameDecoder(max_frame_bytes)
        self._reader = reader
        self._writer = writer
        self._reader_task = self._loop.create_task(self._read_loop(), name=f"imagegen-reader {host}:{port}")

    @classmethod
    async def connect(
        cls, host: str, port: int, *,
        connect_timeout: Optional[float] = 10.0, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> "AsyncTransport":
        """Connects (asyncio sets TCP_NODELAY); UNAVAILABLE "cannot connect to host:port: why"."""
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
        except (OSError, asyncio.TimeoutError) as error:
            raise connect_failure(host, port, error) from None
        return cls(host, port, max_frame_bytes, reader, writer)

    # ---- calls -------------------------------------------------------------------------------

    def open_call(
        self, method: str, request: bytes, *, timeout_ms: int = 0, metadata: Optional[Mapping[str, str]] = None,
    ) -> AsyncCall:
        """Opens a call and writes its ``start`` (await :meth:`drain` for the bytes to leave).

        Raises:
            RpcError: UNAVAILABLE when the connection has ended or the server sent goaway.
        """
        call, data = self._open_call(method, request, timeout_ms, metadata, AsyncCall)
        if data is not None:
            self._send_soon(data)
        return call

    async def start_call(
        self, method: str, request: bytes, *, timeout_ms: int = 0, metadata: Optional[Mapping[str, str]] = None,
    ) -> AsyncCall:
        """:meth:`open_call`, then waits until the connection takes more bytes."""
        call = self.open_call(method, request, timeout_ms=timeout_ms, metadata=metadata)
        await self.drain()
        return call

    async def drain(self) -> None:
        """Waits while the socket's send buffer is full (a failed write marks the connection)."""
        if not self._state.writable:
            return
        try:
            await self._writer.drain()
        except (ConnectionError, OSError):
            self._write_failed()

    def _abandon(self, call_id: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the connection is gone
            self._loop.call_soon_threadsafe(self._cancel, call_id, CANCELLED_BY_CLIENT)

    # ---- ping --------------------------------------------------------------------------------

    async def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Round trip of a ``ping``/``pong`` in seconds; DEADLINE_EXCEEDED or UNAVAILABLE otherwise."""
        waiter = _AsyncPing()
        nonce, data = self._add_ping(waiter)
        began = time.monotonic()
        self._send_soon(data)
        with contextlib.suppress(asyncio.TimeoutError):
            if await asyncio.wait_for(asyncio.shield(waiter.future), timeout):
                return time.monotonic() - began
        raise self._ping_failure(nonce, timeout)

    # ---- writing and reading -----------------------------------------------------------------

    def _send_soon(self, data: bytes) -> None:
        if not self._state.writable:
            return
        try:
            self._writer.write(data)
        except (ConnectionError, OSError, RuntimeError):
            self._write_failed()

    async def _read_loop(self) -> None:
        error: RpcError
        try:
            error = await self._read_frames()
        except asyncio.CancelledError:  # by aclose, which has ended the connection already
            error = RpcError(StatusCode.UNAVAILABLE, "connection closed by the client")
        except Exception as failure:
            error = read_failure(failure)
        self._close_with(error)

    async def _read_frames(self) -> RpcError:
        while True:
            data = await self._reader.read(_READ_SIZE)
            if not data:
                return self._decoder.end_of_stream()
            for frame in self._decoder.frames(data):
                self._dispatch(frame)

    def _close_with(self, error: RpcError) -> None:
        if self._end(error):
            self._writer.close()

    async def aclose(self) -> None:
        """Closes the connection; open calls end with UNAVAILABLE "connection closed by the client"."""
        self._close_with(RpcError(StatusCode.UNAVAILABLE, "connection closed by the client"))
        self._reader_task.cancel()
        # asyncio.wait does not raise what the reader ended with, but a cancellation of aclose()
        # itself still reaches its caller (a suppress(CancelledError) here would swallow it).
        await asyncio.wait([self._reader_task])
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> "AsyncTransport":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
