"""What a call means above the transport, shared by :class:`~.client.Client` and
:class:`~.aio.AsyncClient`: deadlines, the auth header, decoding responses, and the life of a
response stream (:class:`StreamCore`). Nothing here does I/O."""

from __future__ import annotations

import enum
import math
import time
from typing import Dict, Generic, Optional, Type, TypeVar, Union

from google.protobuf.message import DecodeError, Message

from ._connection import CANCELLED_BY_CLIENT, CallBase, Event, Status
from .errors import RpcError, StatusCode

__all__ = ["DEADLINE_GRACE", "M", "StreamCore", "StreamPhase", "UnaryCore", "decode", "deadline",
           "deadline_error", "prepare"]

M = TypeVar("M", bound=Message)

#: Seconds the client waits past a call's timeout for the server's DEADLINE_EXCEEDED before it
#: gives up locally (and cancels the call).
DEADLINE_GRACE = 0.5


class Prepared:
    """A call ready to start: the request's bytes, ``timeout_ms`` for the server, the metadata."""

    __slots__ = ("request", "timeout_ms", "metadata")

    def __init__(self, request: bytes, timeout_ms: int, metadata: Optional[Dict[str, str]]) -> None:
        self.request = request
        self.timeout_ms = timeout_ms
        self.metadata = metadata


def prepare(request: Union[Message, bytes], timeout: Optional[float], token: Optional[str]) -> Prepared:
    """Checks the timeout and serializes the request; raises DEADLINE_EXCEEDED for a timeout <= 0."""
    if timeout is not None and timeout <= 0:
        raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"deadline of {timeout:g} s exceeded before the call started")
    data = request if isinstance(request, (bytes, bytearray)) else request.SerializeToString()
    timeout_ms = 0 if timeout is None else max(1, min(0xFFFFFFFF, math.ceil(timeout * 1000)))
    metadata = {"authorization": f"Bearer {token}"} if token else None
    return Prepared(bytes(data), timeout_ms, metadata)


def deadline(timeout: Optional[float]) -> Optional[float]:
    """The :func:`time.monotonic` value past which the client gives up on a call."""
    return None if timeout is None else time.monotonic() + timeout + DEADLINE_GRACE


def deadline_error(timeout: Optional[float]) -> RpcError:
    """DEADLINE_EXCEEDED, for a call the server did not end in time (the caller cancels it)."""
    shown = "no" if timeout is None else f"{timeout:g} s"
    return RpcError(StatusCode.DEADLINE_EXCEEDED, f"deadline of {shown} exceeded (no answer from the server)")


def decode(response_type: Type[M], data: bytes, method: str) -> M:
    """The response message, or INTERNAL when it does not decode."""
    try:
        return response_type.FromString(data)
    except DecodeError as error:
        raise RpcError(
            StatusCode.INTERNAL,
            f"{method}: the response does not decode as {response_type.DESCRIPTOR.full_name}: {error}") from None


class UnaryCore(Generic[M]):
    """Folds a unary call's events: keeps the first response, returns it at an OK status."""

    __slots__ = ("method", "response_type", "_response")

    def __init__(self, method: str, response_type: Type[M]) -> None:
        self.method = method
        self.response_type = response_type
        self._response: Optional[bytes] = None

    def take(self, event: Event) -> Optional[M]:
        """None while the call goes on; the response at its OK end; raises for any other end."""
        if isinstance(event, bytes):
            if self._response is None:
                self._response = event
            return None
        if event.code != StatusCode.OK:
            raise event.error()
        if self._response is None:
            raise RpcError(StatusCode.INTERNAL, f"{self.method}: the server ended the call OK without a response")
        return decode(self.response_type, self._response, self.method)


class StreamPhase(enum.Enum):
    """Where a response stream is: reading, ended with a status, or closed by its reader."""

    OPEN = "open"
    ENDED = "ended"
    CLOSED = "closed"


class StreamCore(Generic[M]):
    """The life of a server-streaming call, for both stream types: :attr:`status` is set in
    ENDED (OK or not), and in CLOSED when the call had ended or was cancelled first."""

    def __init__(self, method: str, response_type: Type[M], timeout: Optional[float]) -> None:
        self._method = method
        self._response_type = response_type
        self._timeout = timeout
        self._deadline = deadline(timeout)
        self._phase = StreamPhase.OPEN
        self.status: Optional[Status] = None
        """The final status once the stream has ended (OK or not)."""

    @property
    def method(self) -> str:
        """The full method name."""
        return self._method

    @property
    def phase(self) -> StreamPhase:
        return self._phase

    @property
    def done(self) -> bool:
        """True once the call has ended (or was cancelled or closed)."""
        return self._phase is not StreamPhase.OPEN

    def _should_stop(self) -> bool:
        """Before reading: True when iteration stops; raises the error a stream ended with."""
        if self._phase is StreamPhase.CLOSED:
            return True
        if self._phase is StreamPhase.ENDED and self.status is not None:
            if self.status.code == StatusCode.OK:
                return True
            raise self.status.error()
        return False

    def _ended(self, status: Status) -> None:
        self._phase = StreamPhase.ENDED
        self.status = status

    def _failed(self, error: RpcError) -> RpcError:
        self._ended(Status(error.code, error.message))
        return error

    def _take(self, event: Event) -> Optional[M]:
        """The next message, or None at an OK end; raises :class:`RpcError` at any other end
        (the caller cancels the call when the message does not decode)."""
        if isinstance(event, bytes):
            try:
                return decode(self._response_type, event, self._method)
            except RpcError as error:
                raise self._failed(error) from None
        self._ended(event)
        if event.code == StatusCode.OK:
            return None
        raise event.error()

    def _message(self, call: "CallBase", event: Event) -> Optional[M]:
        """:meth:`_take`, cancelling the call when its message does not decode."""
        try:
            return self._take(event)
        except RpcError as error:
            call.cancel(error.code, error.message)  # a no-op when the call has ended
            raise

    def _cancelled(self) -> None:
        self._ended(CANCELLED_BY_CLIENT)

    def _closed(self) -> None:
        self._phase = StreamPhase.CLOSED
