"""Transport edge cases against a scripted fake server (no Swift binary needed): connection-level
status, server pings, unknown call ids, goaway, local deadlines, dropped connections, bad frames."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from imagegen_client import Client, RpcError, StatusCode, Transport, frame_pb2

from fakeserver import FakeServer

Frame = frame_pb2.Frame
ECHO = "test.v1.Test/Echo"


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.close()


def client_for(fake: FakeServer) -> Client:
    return Client("127.0.0.1", fake.port, token="t0k3n")


def test_start_frame_and_metadata(fake) -> None:
    client = client_for(fake)
    stream = client.server_stream("pkg.S/M", frame_pb2.CallStatus(code=1), frame_pb2.CallStatus, timeout=5)
    frame = fake.read_frame()
    assert frame.call_id == 1 and frame.WhichOneof("kind") == "start"
    assert frame.start.method == "pkg.S/M"
    assert frame.start.timeout_ms == 5000
    assert dict(frame.start.metadata) == {"authorization": "Bearer t0k3n"}
    assert frame_pb2.CallStatus.FromString(frame.start.request).code == 1
    fake.send(Frame(call_id=1, message=frame_pb2.CallStatus(message="a").SerializeToString()))
    fake.send(Frame(call_id=1, message=frame_pb2.CallStatus(message="b").SerializeToString()))
    fake.send(Frame(call_id=1, status=frame_pb2.CallStatus(code=0)))
    assert [m.message for m in stream] == ["a", "b"]
    client.close()


def test_connection_level_status_fails_every_call(fake) -> None:
    client = client_for(fake)
    connection = client.connection
    first = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    second = client.server_stream("a.B/D", b"", frame_pb2.CallStatus)
    fake.read_frame(), fake.read_frame()
    fake.send(Frame(call_id=0, status=frame_pb2.CallStatus(code=3, message="protocol error: bad frame")))
    for stream in (first, second):
        with pytest.raises(RpcError) as info:
            next(stream)
        assert info.value.code == StatusCode.INVALID_ARGUMENT
        assert info.value.message == "protocol error: bad frame"
    fake.close()
    deadline = time.monotonic() + 5
    while not connection.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(RpcError) as info:
        connection.start_call("a.B/E", b"")
    assert info.value.code == StatusCode.UNAVAILABLE
    client.close()


def test_answers_server_ping_and_ignores_unknown_calls(fake) -> None:
    client = client_for(fake)
    stream = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    assert fake.read_frame().call_id == 1
    fake.send(Frame(call_id=0, ping=frame_pb2.Ping(nonce=4242)))
    pong = fake.read_frame()
    assert pong.WhichOneof("kind") == "pong" and pong.pong.nonce == 4242 and pong.call_id == 0
    fake.send(Frame(call_id=99, message=b"\x08\x01"))
    fake.send(Frame(call_id=99, status=frame_pb2.CallStatus(code=5)))
    fake.send(Frame(call_id=1, message=frame_pb2.CallStatus(message="mine").SerializeToString()))
    fake.send(Frame(call_id=1, status=frame_pb2.CallStatus()))
    assert [m.message for m in stream] == ["mine"]
    client.close()


def test_client_ping(fake) -> None:
    client = client_for(fake)
    result = {}
    thread = threading.Thread(target=lambda: result.update(rtt=client.ping(timeout=5)))
    thread.start()
    ping = fake.read_frame()
    assert ping.WhichOneof("kind") == "ping" and ping.call_id == 0
    fake.send(Frame(call_id=0, pong=frame_pb2.Ping(nonce=ping.ping.nonce + 1000)))  # not ours
    fake.send(Frame(call_id=0, pong=frame_pb2.Ping(nonce=ping.ping.nonce)))
    thread.join(5)
    assert result["rtt"] >= 0
    with pytest.raises(RpcError) as info:
        client.ping(timeout=0.2)  # nobody answers
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    client.close()


def test_goaway_refuses_new_calls_open_calls_finish(fake) -> None:
    client = client_for(fake)
    connection = client.connection
    stream = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    fake.read_frame()
    fake.send(Frame(call_id=0, goaway=frame_pb2.GoAway(reason="maintenance")))
    fake.send(Frame(call_id=1, message=frame_pb2.CallStatus(message="x").SerializeToString()))
    assert next(stream).message == "x"
    assert connection.goaway_reason == "maintenance" and not connection.usable
    with pytest.raises(RpcError) as info:
        connection.start_call("a.B/C", b"")
    assert info.value.code == StatusCode.UNAVAILABLE and "maintenance" in info.value.message
    fake.send(Frame(call_id=1, status=frame_pb2.CallStatus()))
    assert list(stream) == []
    client.close()


def test_local_deadline_sends_cancel(fake) -> None:
    client = client_for(fake)
    began = time.monotonic()
    with pytest.raises(RpcError) as info:
        client.unary("a.B/Slow", b"", frame_pb2.CallStatus, timeout=0.2)
    elapsed = time.monotonic() - began
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    assert 0.2 <= elapsed < 2
    start = fake.read_frame()
    assert start.start.timeout_ms == 200
    cancel = fake.read_frame()
    assert cancel.call_id == start.call_id and cancel.WhichOneof("kind") == "cancel"
    # a late answer for the abandoned call is ignored
    fake.send(Frame(call_id=start.call_id, status=frame_pb2.CallStatus(code=4)))
    with pytest.raises(RpcError) as info:
        client.unary("a.B/Slow", b"", frame_pb2.CallStatus, timeout=0)
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    client.close()


def test_dropped_connection_is_unavailable_not_end_of_stream(fake) -> None:
    client = client_for(fake)
    stream = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    unary_result = {}

    def unary() -> None:
        try:
            client.unary("a.B/U", b"", frame_pb2.CallStatus)
        except RpcError as error:
            unary_result["error"] = error

    thread = threading.Thread(target=unary)
    thread.start()
    fake.read_frame(), fake.read_frame()
    fake.send(Frame(call_id=1, message=frame_pb2.CallStatus(message="one").SerializeToString()))
    fake.close()
    assert next(stream).message == "one"
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.UNAVAILABLE
    thread.join(5)
    assert unary_result["error"].code == StatusCode.UNAVAILABLE
    client.close()


@pytest.mark.parametrize("body, length, code", [
    (b"", 0, StatusCode.INTERNAL),
    (b"\xff\xff\xff", None, StatusCode.INTERNAL),
    (b"", 2_000_000, StatusCode.RESOURCE_EXHAUSTED),
])
def test_bad_frames_from_server(fake, body, length, code) -> None:
    transport = Transport("127.0.0.1", fake.port, max_frame_bytes=1_000_000)
    call = transport.start_call("a.B/C", b"")
    fake.read_frame()
    fake.send_raw(body, length)
    status = call.receive(time.monotonic() + 5)
    assert status.code == code, status
    assert transport.closed
    transport.close()


def test_connect_refused() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(RpcError) as info:
        Client("127.0.0.1", port, connect_timeout=2)
    assert info.value.code == StatusCode.UNAVAILABLE
    assert "cannot connect" in info.value.message


def test_close_ends_open_calls(fake) -> None:
    client = client_for(fake)
    stream = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    fake.read_frame()
    client.close()
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.UNAVAILABLE
    with pytest.raises(RpcError):
        client.health()


def test_error_api() -> None:
    error = RpcError(5, "no such job")
    assert error.code is StatusCode.NOT_FOUND and error.message == "no such job"
    assert str(error) == "NOT_FOUND: no such job"
    assert RpcError(99, "x").code == StatusCode.UNKNOWN
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert copy.code == error.code and copy.message == error.message
    assert [c.name for c in StatusCode][0] == "OK" and StatusCode.UNAUTHENTICATED == 16


def test_finalizer_cancel_never_blocks(fake) -> None:
    client = client_for(fake)
    connection = client.connection
    stream = client.server_stream("a.B/C", b"", frame_pb2.CallStatus)
    assert fake.read_frame().call_id == 1
    with connection._lock:  # as if the garbage collector ran while this thread held the lock
        stream.__del__()
        assert list(connection._abandoned) == [1]  # deferred
    other = client.server_stream("a.B/D", b"", frame_pb2.CallStatus)  # the next call reaps it
    assert not connection._abandoned
    cancel = fake.read_frame()
    assert cancel.call_id == 1 and cancel.WhichOneof("kind") == "cancel"
    assert fake.read_frame().start.method == "a.B/D"
    assert connection.open_calls == 1
    with connection._write_lock:  # another thread is writing: the cancel waits, never blocks
        assert other.cancel()
    assert connection._pending
    connection._flush_pending()  # what the writing thread does after releasing the lock
    assert fake.read_frame().WhichOneof("kind") == "cancel"
    client.close()
