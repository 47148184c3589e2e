"""The shared framing (_framing.FrameDecoder) on its own: any split of the bytes gives the same
frames (checked byte by byte, in every chunk size up to 9, and all at once, as NIO's
ByteToMessageDecoderVerifier does for the server), and each protocol error is refused with its code."""

from __future__ import annotations

from typing import List

import pytest

from imagegen_client import RpcError, StatusCode, frame_pb2
from imagegen_client._framing import FrameDecoder, cancel_frame, encode, ping_frame, pong_frame, start_frame

Frame = frame_pb2.Frame

FRAMES = [
    start_frame(1, "a.B/C", b"\x00" * 300, 1500, {"Authorization": "Bearer t"}),
    Frame(call_id=1, message=b"m" * 70_000),
    Frame(call_id=1, status=frame_pb2.CallStatus(code=5, message="gone 🌍")),
    cancel_frame(2),
    ping_frame(7),
    pong_frame(0, 8),
    Frame(call_id=0, goaway=frame_pb2.GoAway(reason="bye")),
]
WIRE = b"".join(encode(frame) for frame in FRAMES)


def decode_in_chunks(data: bytes, size: int) -> List[Frame]:
    decoder = FrameDecoder()
    frames: List[Frame] = []
    for offset in range(0, len(data), size):
        frames.extend(decoder.frames(data[offset:offset + size]))
    assert decoder.end_of_stream().message == "connection closed by the server"  # nothing left over
    return frames


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 9, 4096, len(WIRE)])
def test_any_split_gives_the_same_frames(size: int) -> None:
    assert decode_in_chunks(WIRE, size) == FRAMES


def test_start_frame_lowercases_metadata_and_omits_a_zero_timeout() -> None:
    assert dict(FRAMES[0].start.metadata) == {"authorization": "Bearer t"}
    assert FRAMES[0].start.timeout_ms == 1500
    unbounded = start_frame(1, "a.B/C", b"", 0, None).start
    assert "timeout_ms" not in [field.name for field, _ in unbounded.ListFields()]
    assert start_frame(1, "a.B/C", b"", 2**40, None).start.timeout_ms == 0xFFFFFFFF


@pytest.mark.parametrize("wire, limit, code, words", [
    (b"\x00\x00\x00\x00", 100, StatusCode.INTERNAL, "length 0"),
    ((101).to_bytes(4, "big"), 100, StatusCode.RESOURCE_EXHAUSTED, "101 bytes, above the client's limit of 100"),
    ((3).to_bytes(4, "big") + b"\xff\xff\xff", 100, StatusCode.INTERNAL, "does not decode"),
])
def test_protocol_errors(wire: bytes, limit: int, code: StatusCode, words: str) -> None:
    decoder = FrameDecoder(limit)
    good = encode(ping_frame(1))
    with pytest.raises(RpcError) as info:
        for _ in decoder.frames(good + wire):
            pass
    assert info.value.code == code and words in info.value.message


def test_the_limit_is_checked_on_the_header_before_the_body_arrives() -> None:
    decoder = FrameDecoder(1000)
    with pytest.raises(RpcError) as info:
        list(decoder.frames((2_000_000).to_bytes(4, "big")))
    assert info.value.code == StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("cut", [1, 3, 4, 10])
def test_end_of_stream_in_the_middle_of_a_frame(cut: int) -> None:
    decoder = FrameDecoder()
    assert list(decoder.frames(encode(FRAMES[2])[:cut])) == []
    error = decoder.end_of_stream()
    assert error.code == StatusCode.UNAVAILABLE
    assert error.message == "connection closed by the server in the middle of a frame"


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        FrameDecoder(0)
