"""What one connection knows, whichever way it does I/O: its state (:mod:`._state`), its open calls
by id, its pings, and what each frame from the server means for them. The thread-based
:class:`~._transport.Transport` and the asyncio :class:`~._async_transport.AsyncTransport` add the
socket; this part is shared, so both behave alike."""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any, Callable, ContextManager, Dict, Generic, List, Mapping, Optional, Protocol, Tuple, TypeVar, Union


from . import _framing
from ._state import Closed, ConnectionState, Open
from .errors import RpcError, StatusCode
from .proto import frame_pb2

__all__ = ["Status", "Event", "Connection", "CallBase", "CallTimeout", "connect_failure", "read_failure"]


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


#: What a call receives: a serialized response message, then exactly one :class:`Status`.
Event = Union[bytes, Status]

CANCELLED_BY_CLIENT = Status(StatusCode.CANCELLED, "cancelled by the client")


class CallTimeout(Exception):
    """Raised by a call's ``receive`` when the deadline passes before the next event."""


def connect_failure(host: str, port: int, error: BaseException) -> RpcError:
    """UNAVAILABLE "cannot connect to host:port: why", for either transport's connect error."""
    if isinstance(error, (socket.timeout, asyncio.TimeoutError)):
        return RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {host}:{port}: timed out")
    reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
    return RpcError(StatusCode.UNAVAILABLE, f"cannot connect to {host}:{port}: {reason}")


def read_failure(failure: Exception) -> RpcError:
    """Why the connection ended when reading from it raised ``failure``."""
    if isinstance(failure, RpcError):  # a protocol error, from the FrameDecoder
        return failure
    if isinstance(failure, OSError):
        return RpcError(StatusCode.UNAVAILABLE, f"connection lost: {failure.strerror or failure}")
    # a bug here must still end every call
    return RpcError(StatusCode.INTERNAL, f"client reader failed: {failure!r}")


class CallBase:
    """One open call of a :class:`Connection`; the subclass holds its queue of events (what
    ``receive`` returns: response messages, then exactly one :class:`Status`)."""

    __slots__ = ("call_id", "method", "_connection", "__weakref__")

    def __init__(self, connection: "Connection[Any, Any]", call_id: int, method: str) -> None:
        self.call_id = call_id
        self.method = method
        self._connection = connection

    def cancel(self, code: int = StatusCode.CANCELLED, message: str = "cancelled by the client") -> bool:
        """Sends ``cancel`` to the server unless the call already ended, and ends it locally with
        ``code``/``message``. Never blocks (safe from ``__del__``); returns whether it was open."""
        return self._connection._cancel(self.call_id, Status(code, message))

    def abandon(self) -> None:
        """Cancels the call from a finalizer (``__del__``), which may run on any thread and
        inside any code: the cancel is handed to the connection, which sends it soon."""
        self._connection._abandon(self.call_id)

    def _deliver(self, event: Event) -> None:
        """Queues an event for ``receive`` (called by the connection, on its reader)."""
        raise NotImplementedError


class PingWaiter(Protocol):
    """Who waits for a pong."""

    def answer(self) -> None: ...

    def fail(self) -> None: ...


C = TypeVar("C", bound=CallBase)
P = TypeVar("P", bound=PingWaiter)


class Connection(Generic[C, P]):
    """One connection's calls, pings and state. Subclasses write the frames (:meth:`_send_soon`)
    and say which lock guards the state (a thread lock, or none on an event loop)."""

    def __init__(self, host: str, port: int, max_frame_bytes: int, lock: ContextManager[Any]) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self.host = host
        self.port = port
        self.max_frame_bytes = max_frame_bytes
        self._lock = lock
        self._state: ConnectionState = Open()
        self._calls: Dict[int, C] = {}
        self._call_ids = itertools.count(1)
        self._nonces = itertools.count(1)
        self._pings: Dict[int, P] = {}

    # ---- hooks -------------------------------------------------------------------------------

    def _send_soon(self, data: bytes) -> None:
        """Writes one frame without waiting (safe from the reader)."""
        raise NotImplementedError

    def _after_lock(self) -> None:
        """Runs after each region that held the lock (the thread transport reaps abandoned calls)."""

    def _abandon(self, call_id: int) -> None:
        """Cancels a call dropped by a finalizer, without taking the lock now."""
        raise NotImplementedError

    # ---- state -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} {self._state.phase.value}, {len(self._calls)} open calls>"

    @property
    def state(self) -> ConnectionState:
        """The connection's state."""
        return self._state

    @property
    def closed(self) -> bool:
        """True once the connection has ended (closed by either side or lost)."""
        return isinstance(self._state, Closed)

    @property
    def goaway_reason(self) -> Optional[str]:
        """The reason of the server's ``goaway``, or None if it sent none."""
        return self._state.goaway

    @property
    def usable(self) -> bool:
        """True while new calls may be started: not closed, no connection-level error, no goaway."""
        return self._state.refusal() is None

    @property
    def open_calls(self) -> int:
        """How many calls are open on this connection."""
        self._after_lock()
        with self._lock:
            return len(self._calls)

    # ---- calls -------------------------------------------------------------------------------

    def _open_call(
        self, method: str, request: bytes, timeout_ms: int, metadata: Optional[Mapping[str, str]],
        call_type: Callable[[Any, int, str], C],
    ) -> Tuple[C, Optional[bytes]]:
        """Registers a call (``call_type(self, call_id, method)``) and returns it with the frame to
        send, or with None when the frame is above the limit (the call has ended locally then:
        the server would end the whole connection).

        Raises:
            RpcError: UNAVAILABLE when the connection has ended or the server sent goaway.
        """
        with self._lock:
            refusal = self._state.refusal()
            if refusal is not None:
                raise refusal
            call_id = next(self._call_ids)
            call = call_type(self, call_id, method)
            self._calls[call_id] = call
        self._after_lock()
        data = _framing.encode(_framing.start_frame(call_id, method, request, timeout_ms, metadata))
        if len(data) - 4 > min(self.max_frame_bytes, _framing.MAX_WIRE_LENGTH):
            self._cancel(call_id, Status(
                StatusCode.RESOURCE_EXHAUSTED,
                f"the request frame of {len(data) - 4} bytes is above the limit of {self.max_frame_bytes} bytes"),
                send=False)
            return call, None
        return call, data

    def _cancel(self, call_id: int, status: Status, *, send: bool = True) -> bool:
        """Ends a call locally with ``status`` and sends ``cancel``; False if it had ended."""
        with self._lock:
            call = self._calls.pop(call_id, None)
            writable = self._state.writable
        self._after_lock()
        if call is None:
            return False
        call._deliver(status)
        if send and writable:
            self._send_soon(_framing.encode(_framing.cancel_frame(call_id)))
        return True

    def _cancel_all(self, call_ids: List[int]) -> None:
        """Cancels calls that finalizers dropped; the caller holds the lock."""
        calls = [call for call in (self._calls.pop(call_id, None) for call_id in call_ids) if call is not None]
        writable = self._state.writable
        for call in calls:
            call._deliver(CANCELLED_BY_CLIENT)
            if writable:
                self._send_soon(_framing.encode(_framing.cancel_frame(call.call_id)))

    # ---- ping --------------------------------------------------------------------------------

    def _add_ping(self, waiter: P) -> Tuple[int, bytes]:
        """Registers a ping; returns its nonce and frame. Raises UNAVAILABLE once closed."""
        with self._lock:
            if isinstance(self._state, Closed):
                raise RpcError(StatusCode.UNAVAILABLE, f"connection closed: {self._state.error.message}")
            nonce = next(self._nonces)
            self._pings[nonce] = waiter
        self._after_lock()
        return nonce, _framing.encode(_framing.ping_frame(nonce))

    def _ping_failure(self, nonce: int, timeout: Optional[float]) -> RpcError:
        """Why a ping got no pong: the connection ended, or the time ran out."""
        with self._lock:
            self._pings.pop(nonce, None)
            state = self._state
        self._after_lock()
        if isinstance(state, Closed):
            return RpcError(StatusCode.UNAVAILABLE, f"connection closed: {state.error.message}")
        return RpcError(StatusCode.DEADLINE_EXCEEDED, f"no pong within {timeout} s")

    # ---- frames from the server --------------------------------------------------------------

    def _dispatch(self, frame: frame_pb2.Frame) -> None:
        kind = frame.WhichOneof("kind")
        if kind == "message":
            with self._lock:
                call = self._calls.get(frame.call_id)
            self._after_lock()
            if call is not None:  # messages for unknown calls are ignored (they may cross a cancel)
                call._deliver(frame.message)
        elif kind == "status":
            self._status(frame.call_id, Status(frame.status.code, frame.status.message))
        elif kind == "ping":
            self._send_soon(_framing.encode(_framing.pong_frame(frame.call_id, frame.ping.nonce)))
        elif kind == "pong":
            with self._lock:
                waiter = self._pings.pop(frame.pong.nonce, None)
            self._after_lock()
            if waiter is not None:
                waiter.answer()
        elif kind == "goaway":
            with self._lock:
                self._state = self._state.with_goaway(frame.goaway.reason)
            self._after_lock()
        # start, cancel, or a kind this client does not know: nothing to do

    def _status(self, call_id: int, status: Status) -> None:
        if call_id == 0:
            self._connection_status(status)
            return
        with self._lock:
            call = self._calls.pop(call_id, None)
        self._after_lock()
        if call is not None:
            call._deliver(status)

    def _connection_status(self, status: Status) -> None:
        """A ``status`` with call id 0: a connection-level error; every open call ends with it."""
        error = status.error() if status.code != 0 else RpcError(
            StatusCode.UNAVAILABLE, status.message or "connection ended by the server")
        with self._lock:
            self._state = self._state.with_fatal(error)  # the first one is kept, for the close
            calls = list(self._calls.values())
            self._calls.clear()
        self._after_lock()
        for call in calls:
            call._deliver(Status(error.code, error.message))

    def _write_failed(self) -> None:
        with self._lock:
            self._state = self._state.with_write_failure()
        self._after_lock()

    def _end(self, error: RpcError) -> bool:
        """Ends the connection once: every open call ends with ``error`` (UNAVAILABLE "CODE:
        message" when the server sent a connection-level status first), pings fail. Returns
        whether this call ended it (the caller then closes the socket)."""
        with self._lock:
            if isinstance(self._state, Closed):
                return False
            self._state = closed = self._state.closed(error)
            calls = list(self._calls.values())
            self._calls.clear()
            pings = list(self._pings.values())
            self._pings.clear()
        for call in calls:
            call._deliver(Status(closed.error.code, closed.error.message))
        for waiter in pings:
            waiter.fail()
        return True
