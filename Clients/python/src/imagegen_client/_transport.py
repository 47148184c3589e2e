"""One TCP connection speaking the imagegen wire protocol (Proto/README.md), with threads.

A reader thread feeds what it reads to the shared :class:`~._framing.FrameDecoder` and hands the
frames to the open calls by ``call_id`` (each call has its own queue); writers share a lock so
frames never interleave. The calls, pings and the connection's state machine are the shared
:class:`~._connection.Connection`. Nothing here knows about particular services:
:mod:`imagegen_client.client` builds on it.
"""

from __future__ import annotations

import collections
import queue
import socket
import threading
import time
from typing import Mapping, Optional

from ._connection import CallBase, CallTimeout, Connection, Event, Status, connect_failure, read_failure
from ._framing import DEFAULT_MAX_FRAME_BYTES, FrameDecoder
from .errors import RpcError, StatusCode

__all__ = ["Transport", "Call", "Status", "CallTimeout", "DEFAULT_MAX_FRAME_BYTES", "open_socket"]

_READ_SIZE = 64 * 1024


def open_socket(host: str, port: int, timeout: Optional[float]) -> socket.socket:
    """A connected TCP socket (no Nagle delay), or UNAVAILABLE "cannot connect to host:port: why"."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:  # socket.timeout too
        raise connect_failure(host, port, error) from None
    sock.settimeout(None)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    return sock


class _PingWaiter:
    __slots__ = ("event", "answered")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.answered = False

    def answer(self) -> None:
        self.answered = True
        self.event.set()

    def fail(self) -> None:
        self.event.set()


class Call(CallBase):
    """One open call on a :class:`Transport`: a queue of response messages (``bytes``) that ends
    with exactly one :class:`Status`. Created by :meth:`Transport.start_call`."""

    __slots__ = ("_queue",)

    def __init__(self, transport: "Transport", call_id: int, method: str) -> None:
        super().__init__(transport, call_id, method)
        self._queue: "queue.SimpleQueue[Event]" = queue.SimpleQueue()

    def _deliver(self, event: Event) -> None:
        self._queue.put(event)

    def receive(self, deadline: Optional[float] = None) -> Event:
        """The next event: a serialized response message, or the final :class:`Status`.

        ``deadline`` is a :func:`time.monotonic` value; raises :class:`CallTimeout` when it passes.
        """
        if deadline is None:
            return self._queue.get()
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=remaining)
        except queue.Empty:
            raise CallTimeout() from None


class Transport(Connection[Call, _PingWaiter]):
    """One connection to an imagegen server.

    Thread-safe: any number of threads may open calls, read them and ping at once.

    Args:
        host, port: the server address.
        connect_timeout: seconds to wait for the TCP connection.
        max_frame_bytes: the largest frame accepted from the server; a larger one is a protocol
            error that ends every open call with RESOURCE_EXHAUSTED and closes the connection.
            A request frame above it fails that call alone with RESOURCE_EXHAUSTED, unsent (the
            server's limit is 16 MiB unless it was started with ``--max-frame-bytes``).

    Raises:
        RpcError: UNAVAILABLE when the connection cannot be made.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: Optional[float] = 10.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._state_lock = threading.Lock()  # guards the shared Connection's state
        super().__init__(host, port, max_frame_bytes, self._state_lock)
        self._decoder = FrameDecoder(max_frame_bytes)
        self._sock = open_socket(host, port, connect_timeout)
        self._write_lock = threading.Lock()  # one frame at a time on the socket
        self._pending: "collections.deque[bytes]" = collections.deque()  # frames written by whoever holds the lock next
        self._abandoned: "collections.deque[int]" = collections.deque()  # calls dropped by finalizers
        self._reader = threading.Thread(
            target=self._read_loop, name=f"imagegen-reader {host}:{port}", daemon=True)
        self._reader.start()

    # ---- calls -------------------------------------------------------------------------------

    def start_call(
        self,
        method: str,
        request: bytes,
        *,
        timeout_ms: int = 0,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Call:
        """Opens a call: sends ``start`` with a new call id and returns its :class:`Call`.

        Raises:
            RpcError: UNAVAILABLE when the connection has ended or the server sent goaway.
        """
        call, data = self._open_call(method, request, timeout_ms, metadata, Call)
        if data is not None:
            self._send(data)
        return call

    def _abandon(self, call_id: int) -> None:
        self._abandoned.append(call_id)
        self._reap()

    def _after_lock(self) -> None:
        self._reap()

    def _reap(self) -> None:
        """Cancels the calls that finalizers abandoned. Never blocks on the state lock: when
        another frame of this thread or another thread holds it, that holder reaps after
        releasing it (every locked region on a hot path is followed by a call here)."""
        while self._abandoned:
            if not self._state_lock.acquire(blocking=False):
                return
            try:
                call_ids = []
                while self._abandoned:
                    call_ids.append(self._abandoned.popleft())
                self._cancel_all(call_ids)
            finally:
                self._state_lock.release()

    # ---- ping --------------------------------------------------------------------------------

    def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Sends ``ping`` and waits for the ``pong``; returns the round trip in seconds.

        Raises:
            RpcError: DEADLINE_EXCEEDED when no pong arrives within ``timeout`` seconds;
                UNAVAILABLE when the connection has ended.
        """
        waiter = _PingWaiter()
        nonce, data = self._add_ping(waiter)
        began = time.monotonic()
        self._send(data)
        waiter.event.wait(timeout)
        if waiter.answered:
            return time.monotonic() - began
        raise self._ping_failure(nonce, timeout)

    # ---- writing -----------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """Writes one frame, waiting for the write lock."""
        with self._write_lock:
            self._write_locked(data)
        self._flush_pending()

    def _send_soon(self, data: bytes) -> None:
        """Writes one frame now if the socket is free, otherwise leaves it to the thread that holds
        the write lock (it flushes pending frames after releasing). Never blocks on the lock, so it
        is safe from the reader thread and from ``__del__``."""
        self._pending.append(data)
        self._flush_pending()

    def _flush_pending(self) -> None:
        while self._pending:
            if not self._write_lock.acquire(blocking=False):
                return  # the holder flushes after it releases
            try:
                while self._pending:
                    self._write_locked(self._pending.popleft())
            finally:
                self._write_lock.release()

    def _write_locked(self, data: bytes) -> None:
        if not self._state.writable:
            return
        try:
            self._sock.sendall(data)
        except OSError:
            # The peer closed or reset the connection. The reader ends every call once it has read
            # what is left (perhaps a connection-level status that says why).
            self._write_failed()
        except BaseException:
            # e.g. KeyboardInterrupt in the middle of a frame: the byte stream is corrupt now
            self._write_failed()
            self._close_with(RpcError(StatusCode.UNAVAILABLE, "connection abandoned: a write was interrupted"))
            raise

    # ---- reading -----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        error: RpcError
        try:
            error = self._read_frames()
        except Exception as failure:
            error = read_failure(failure)
        self._close_with(error)

    def _read_frames(self) -> RpcError:
        """Reads and dispatches frames until the server closes the connection; returns why it ended."""
        while True:
            data = self._sock.recv(_READ_SIZE)
            if not data:
                return self._decoder.end_of_stream()
            for frame in self._decoder.frames(data):
                self._dispatch(frame)

    def _close_with(self, error: RpcError) -> None:
        if self._end(error):
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; open calls end with UNAVAILABLE "connection closed by the client"."""
        self._close_with(RpcError(StatusCode.UNAVAILABLE, "connection closed by the client"))
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5.0)
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
