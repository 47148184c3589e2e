"""One TCP connection speaking the imagegen wire protocol (Proto/README.md).

A reader thread reads length-prefixed :class:`Frame` messages and hands them to the open calls by
``call_id`` (each call has its own queue); writers share a lock so frames never interleave. Nothing
here knows about particular services: :mod:`imagegen_client.client` builds on it.
"""

from __future__ import annotations

import collections
import itertools
import socket
import struct
import threading
import time
import queue
from typing import Dict, Mapping, Optional, Tuple, Union

from google.protobuf.message import DecodeError

from .errors import RpcError, StatusCode
from .proto import frame_pb2

__all__ = ["Transport", "Call", "Status", "DEFAULT_MAX_FRAME_BYTES"]

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")
_MAX_WIRE_LENGTH = 0xFFFFFFFF


class Status(Tuple[int, str]):
    """The end of a call: ``(code, message)`` as numbers and text from the wire."""

    __slots__ = ()

    def __new__(cls, code: int, message: str = "") -> "Status":
        return super().__new__(cls, (int(code), message))

    @property
    def code(self) -> int:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]

    def error(self) -> RpcError:
        """The :class:`RpcError` for a non-OK status."""
        return RpcError(self.code, self.message)


Event = Union[bytes, Status]


class CallTimeout(Exception):
    """Raised by :meth:`Call.receive` when the deadline passes before the next event."""


class _PingWaiter:
    __slots__ = ("event", "answered")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.answered = False


class Call:
    """One open call on a :class:`Transport`: a queue of response messages (``bytes``) that ends
    with exactly one :class:`Status`. Created by :meth:`Transport.start_call`."""

    __slots__ = ("call_id", "method", "_transport", "_queue", "__weakref__")

    def __init__(self, transport: "Transport", call_id: int, method: str) -> None:
        self.call_id = call_id
        self.method = method
        self._transport = transport
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

    def abandon(self) -> None:
        """Cancels the call from a finalizer (``__del__``): takes no lock that the current thread
        may hold; the cancel is sent now or by the next thread that touches the connection."""
        self._transport._abandon(self.call_id)

    def cancel(self, code: int = StatusCode.CANCELLED, message: str = "cancelled by the client") -> bool:
        """Sends ``cancel`` to the server unless the call already ended, and ends it locally with
        ``code``/``message``. Never blocks (safe from ``__del__``); returns whether it was open."""
        return self._transport._cancel(self.call_id, Status(code, message))


class Transport:
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
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self.host = host
        self.port = port
        self.max_frame_bytes = max_frame_bytes
        try:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout:
            raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {host}:{port}: timed out") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {host}:{port}: {reason}") from None
        sock.settimeout(None)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self._sock = sock
        self._reader_file = sock.makefile("rb", buffering=64 * 1024)
        self._lock = threading.Lock()  # guards the state below
        self._write_lock = threading.Lock()  # one frame at a time on the socket
        self._pending: "collections.deque[bytes]" = collections.deque()  # frames written by whoever holds the lock next
        self._abandoned: "collections.deque[int]" = collections.deque()  # calls dropped by finalizers
        self._calls: Dict[int, Call] = {}
        self._call_ids = itertools.count(1)
        self._nonces = itertools.count(1)
        self._pings: Dict[int, _PingWaiter] = {}
        self._closed: Optional[RpcError] = None  # why the connection ended, once it has
        self._fatal: Optional[RpcError] = None  # a connection-level status from the server
        self._goaway: Optional[str] = None
        self._closing_locally = False
        self._write_failed = False
        self._reader = threading.Thread(
            target=self._read_loop, name=f"imagegen-reader {host}:{port}", daemon=True)
        self._reader.start()

    # ---- state -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("goaway" if self._goaway is not None else "open")
        return f"<Transport {self.host}:{self.port} {state}, {len(self._calls)} open calls>"

    @property
    def closed(self) -> bool:
        """True once the connection has ended (closed by either side or lost)."""
        return self._closed is not None

    @property
    def goaway_reason(self) -> Optional[str]:
        """The reason of the server's ``goaway``, or None if it sent none."""
        return self._goaway

    @property
    def usable(self) -> bool:
        """True while new calls may be started: not closed, no connection-level error, no goaway."""
        return self._closed is None and self._fatal is None and self._goaway is None

    @property
    def open_calls(self) -> int:
        """How many calls are open on this connection."""
        self._reap()
        with self._lock:
            return len(self._calls)

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
        frame = frame_pb2.Frame()
        start = frame.start
        start.method = method
        start.request = request
        if timeout_ms:
            start.timeout_ms = min(int(timeout_ms), 0xFFFFFFFF)
        if metadata:
            for key, value in metadata.items():
                start.metadata[key.lower()] = value
        with self._lock:
            self._check_open_locked()
            call_id = next(self._call_ids)
            call = Call(self, call_id, method)
            self._calls[call_id] = call
        self._reap()
        frame.call_id = call_id
        data = frame.SerializeToString()
        if len(data) > min(self.max_frame_bytes, _MAX_WIRE_LENGTH):
            # the server would end the whole connection; fail only this call
            self._cancel(call_id, Status(
                StatusCode.RESOURCE_EXHAUSTED,
                f"the request frame of {len(data)} bytes is above the limit of {self.max_frame_bytes} bytes"),
                send=False)
            return call
        self._send(_HEADER.pack(len(data)) + data)
        return call

    def _check_open_locked(self) -> None:
        if self._closed is not None:
            raise RpcError(StatusCode.UNAVAILABLE, f"connection closed: {self._closed.message}")
        if self._fatal is not None:
            raise RpcError(
                StatusCode.UNAVAILABLE,
                f"connection closed: {self._fatal.code.name}: {self._fatal.message}")
        if self._goaway is not None:
            reason = f" ({self._goaway})" if self._goaway else ""
            raise RpcError(StatusCode.UNAVAILABLE, f"the server sent goaway{reason}: no new calls on this connection")

    def _cancel(self, call_id: int, status: Status, *, send: bool = True) -> bool:
        with self._lock:
            call = self._calls.pop(call_id, None)
            alive = self._closed is None
        self._reap()
        if call is None:
            return False
        call._deliver(status)
        if send and alive:
            frame = frame_pb2.Frame(call_id=call_id)
            frame.cancel.SetInParent()
            self._send_soon(self._encode(frame))
        return True

    def _abandon(self, call_id: int) -> None:
        self._abandoned.append(call_id)
        self._reap()

    def _reap(self) -> None:
        """Cancels the calls that finalizers abandoned. Never blocks on the state lock: when
        another frame of this thread or another thread holds it, that holder reaps after
        releasing it (every locked region on a hot path is followed by a call here)."""
        while self._abandoned:
            if not self._lock.acquire(blocking=False):
                return
            try:
                calls = []
                while True:
                    try:
                        call_id = self._abandoned.popleft()
                    except IndexError:
                        break
                    call = self._calls.pop(call_id, None)
                    if call is not None:
                        calls.append(call)
                alive = self._closed is None
            finally:
                self._lock.release()
            for call in calls:
                call._deliver(Status(StatusCode.CANCELLED, "cancelled by the client"))
                if alive:
                    frame = frame_pb2.Frame(call_id=call.call_id)
                    frame.cancel.SetInParent()
                    self._send_soon(self._encode(frame))

    # ---- ping --------------------------------------------------------------------------------

    def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Sends ``ping`` and waits for the ``pong``; returns the round trip in seconds.

        Raises:
            RpcError: DEADLINE_EXCEEDED when no pong arrives within ``timeout`` seconds;
                UNAVAILABLE when the connection has ended.
        """
        waiter = _PingWaiter()
        with self._lock:
            if self._closed is not None:
                raise RpcError(StatusCode.UNAVAILABLE, f"connection closed: {self._closed.message}")
            nonce = next(self._nonces)
            self._pings[nonce] = waiter
        began = time.monotonic()
        self._send(self._encode(frame_pb2.Frame(call_id=0, ping=frame_pb2.Ping(nonce=nonce))))
        waiter.event.wait(timeout)
        elapsed = time.monotonic() - began
        with self._lock:
            self._pings.pop(nonce, None)
            closed = self._closed
        if waiter.answered:
            return elapsed
        if closed is not None:
            raise RpcError(StatusCode.UNAVAILABLE, f"connection closed: {closed.message}")
        raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"no pong within {timeout} s")

    # ---- writing -----------------------------------------------------------------------------

    @staticmethod
    def _encode(frame: frame_pb2.Frame) -> bytes:
        data = frame.SerializeToString()
        return _HEADER.pack(len(data)) + data

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
                while True:
                    try:
                        data = self._pending.popleft()
                    except IndexError:
                        break
                    self._write_locked(data)
            finally:
                self._write_lock.release()

    def _write_locked(self, data: bytes) -> None:
        if self._closed is not None or self._write_failed:
            return
        try:
            self._sock.sendall(data)
        except OSError:
            # The peer closed or reset the connection. The reader ends every call once it has read
            # what is left (perhaps a connection-level status that says why).
            self._write_failed = True
        except BaseException:
            # e.g. KeyboardInterrupt in the middle of a frame: the byte stream is corrupt now
            self._write_failed = True
            self._end(RpcError(StatusCode.UNAVAILABLE, "connection abandoned: a write was interrupted"))
            raise

    # ---- reading -----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        error: RpcError
        try:
            error = self._read_frames()
        except OSError as failure:
            if self._closing_locally:
                error = RpcError(StatusCode.UNAVAILABLE, "connection closed by the client")
            else:
                error = RpcError(StatusCode.UNAVAILABLE, f"connection lost: {failure.strerror or failure}")
        except Exception as failure:  # a bug here must still end every call
            error = RpcError(StatusCode.INTERNAL, f"client reader failed: {failure!r}")
        self._end(error)

    def _read_frames(self) -> RpcError:
        """Reads and dispatches frames until the connection ends; returns why it ended."""
        read = self._reader_file.read
        limit = self.max_frame_bytes
        while True:
            header = read(4)
            if len(header) < 4:
                if self._closing_locally:
                    return RpcError(StatusCode.UNAVAILABLE, "connection closed by the client")
                if header:
                    return RpcError(StatusCode.UNAVAILABLE, "connection closed by the server in the middle of a frame")
                return RpcError(StatusCode.UNAVAILABLE, "connection closed by the server")
            (length,) = _HEADER.unpack(header)
            if length == 0:
                return RpcError(StatusCode.INTERNAL, "protocol error: the server sent a frame of length 0")
            if length > limit:
                return RpcError(
                    StatusCode.RESOURCE_EXHAUSTED,
                    f"the server sent a frame of {length} bytes, above the client's limit of {limit} bytes")
            body = read(length)
            if len(body) < length:
                if self._closing_locally:
                    return RpcError(StatusCode.UNAVAILABLE, "connection closed by the client")
                return RpcError(StatusCode.UNAVAILABLE, "connection closed by the server in the middle of a frame")
            frame = frame_pb2.Frame()
            try:
                frame.ParseFromString(body)
            except DecodeError as failure:
                return RpcError(StatusCode.INTERNAL, f"protocol error: a frame from the server does not decode: {failure}")
            self._dispatch(frame)

    def _dispatch(self, frame: frame_pb2.Frame) -> None:
        kind = frame.WhichOneof("kind")
        call_id = frame.call_id
        if kind == "message":
            with self._lock:
                call = self._calls.get(call_id)
            self._reap()
            if call is not None:  # messages for unknown calls are ignored (they may cross a cancel)
                call._deliver(frame.message)
        elif kind == "status":
            status = Status(frame.status.code, frame.status.message)
            if call_id == 0:
                self._connection_status(status)
                return
            with self._lock:
                call = self._calls.pop(call_id, None)
            self._reap()
            if call is not None:
                call._deliver(status)
        elif kind == "ping":
            pong = frame_pb2.Frame(call_id=call_id, pong=frame_pb2.Ping(nonce=frame.ping.nonce))
            self._send_soon(self._encode(pong))
        elif kind == "pong":
            with self._lock:
                waiter = self._pings.pop(frame.pong.nonce, None)
            if waiter is not None:
                waiter.answered = True
                waiter.event.set()
        elif kind == "goaway":
            with self._lock:
                self._goaway = frame.goaway.reason
        # start, cancel, or a kind this client does not know: nothing to do

    def _connection_status(self, status: Status) -> None:
        """A ``status`` with call id 0: a connection-level error; every open call ends with it."""
        error = status.error() if status.code != 0 else RpcError(StatusCode.UNAVAILABLE, status.message or "connection ended by the server")
        with self._lock:
            if self._fatal is None:
                self._fatal = error
            calls = list(self._calls.values())
            self._calls.clear()
        for call in calls:
            call._deliver(Status(error.code, error.message))

    def _end(self, error: RpcError) -> None:
        """Ends the connection once: every open call ends with ``error`` (UNAVAILABLE unless the
        server sent a connection-level status first), pings fail, the socket closes."""
        with self._lock:
            if self._closed is not None:
                return
            if self._fatal is not None:
                error = RpcError(StatusCode.UNAVAILABLE, f"{self._fatal.code.name}: {self._fatal.message}")
            self._closed = error
            calls = list(self._calls.values())
            self._calls.clear()
            pings = list(self._pings.values())
            self._pings.clear()
        for call in calls:
            call._deliver(Status(error.code, error.message))
        for waiter in pings:
            waiter.event.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection; open calls end with UNAVAILABLE "connection closed by the client"."""
        self._closing_locally = True
        self._end(RpcError(StatusCode.UNAVAILABLE, "connection closed by the client"))
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5.0)
        try:
            self._reader_file.close()
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
