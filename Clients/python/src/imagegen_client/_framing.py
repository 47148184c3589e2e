"""The wire format, without I/O: frames as 4-byte big-endian lengths followed by a protobuf
``Frame`` (Proto/README.md). Both transports (threads and asyncio) encode and decode with this."""

from __future__ import annotations

import struct
from typing import Iterator, Mapping, Optional

from google.protobuf.message import DecodeError

from .errors import RpcError, StatusCode
from .proto import frame_pb2

__all__ = ["DEFAULT_MAX_FRAME_BYTES", "MAX_WIRE_LENGTH", "FrameDecoder", "encode", "start_frame",
           "cancel_frame", "ping_frame", "pong_frame"]

DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
MAX_WIRE_LENGTH = 0xFFFFFFFF
_HEADER = struct.Struct(">I")


def encode(frame: frame_pb2.Frame) -> bytes:
    """The frame as it goes on the wire: its length, then its bytes."""
    data = frame.SerializeToString()
    return _HEADER.pack(len(data)) + data


def start_frame(
    call_id: int, method: str, request: bytes, timeout_ms: int, metadata: Optional[Mapping[str, str]]
) -> frame_pb2.Frame:
    """``start`` for a call: metadata keys are sent lower-case; a ``timeout_ms`` of 0 sends none."""
    frame = frame_pb2.Frame(call_id=call_id)
    start = frame.start
    start.method = method
    start.request = request
    if timeout_ms:
        start.timeout_ms = min(int(timeout_ms), MAX_WIRE_LENGTH)
    for key, value in (metadata or {}).items():
        start.metadata[key.lower()] = value
    return frame


def cancel_frame(call_id: int) -> frame_pb2.Frame:
    frame = frame_pb2.Frame(call_id=call_id)
    frame.cancel.SetInParent()
    return frame


def ping_frame(nonce: int) -> frame_pb2.Frame:
    return frame_pb2.Frame(call_id=0, ping=frame_pb2.Ping(nonce=nonce))


def pong_frame(call_id: int, nonce: int) -> frame_pb2.Frame:
    return frame_pb2.Frame(call_id=call_id, pong=frame_pb2.Ping(nonce=nonce))


class FrameDecoder:
    """Turns the bytes read from the server, in chunks of any size, into frames.

    :meth:`next_frame` raises :class:`RpcError` for a protocol error (a frame of length 0: INTERNAL; above
    ``max_frame_bytes``: RESOURCE_EXHAUSTED; one that does not decode: INTERNAL); the connection
    must end with it. :meth:`end_of_stream` says why the connection ended when the server closed it.
    """

    __slots__ = ("max_frame_bytes", "_buffer")

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Adds bytes read from the server."""
        self._buffer += data

    def next_frame(self) -> Optional[frame_pb2.Frame]:
        """The next complete frame, or None until more bytes are fed."""
        if len(self._buffer) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(self._buffer)
        self._check_length(length)
        end = _HEADER.size + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[_HEADER.size:end])
        del self._buffer[:end]
        return self._parse(body)

    def frames(self, data: bytes) -> Iterator[frame_pb2.Frame]:
        """Feeds ``data`` and yields the frames it completes, in order (raising at a bad one)."""
        self.feed(data)
        frame = self.next_frame()
        while frame is not None:
            yield frame
            frame = self.next_frame()

    def _check_length(self, length: int) -> None:
        if length == 0:
            raise RpcError(StatusCode.INTERNAL, "protocol error: the server sent a frame of length 0")
        if length > self.max_frame_bytes:
            raise RpcError(
                StatusCode.RESOURCE_EXHAUSTED,
                f"the server sent a frame of {length} bytes, above the client's limit of {self.max_frame_bytes} bytes")

    @staticmethod
    def _parse(body: bytes) -> frame_pb2.Frame:
        frame = frame_pb2.Frame()
        try:
            frame.ParseFromString(body)
        except DecodeError as failure:
            raise RpcError(
                StatusCode.INTERNAL, f"protocol error: a frame from the server does not decode: {failure}") from None
        return frame

    def end_of_stream(self) -> RpcError:
        """Why the connection ended when the server closed it after the bytes fed so far."""
        if self._buffer:
            return RpcError(StatusCode.UNAVAILABLE, "connection closed by the server in the middle of a frame")
        return RpcError(StatusCode.UNAVAILABLE, "connection closed by the server")
