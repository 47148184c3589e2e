"""The client against the real imagegen-interop-server: calls, streams, status codes, deadlines,
cancellation, limits and concurrency."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from conftest import COUNT, ECHO, FAIL, LARGE, ONE_THEN_HANG, SLEEP, SLEEP_IGNORING, THROW_PLAIN
from imagegen_client import (
    SERVING, Client, Methods, RpcError, StatusCode, frame_pb2, generation_pb2)

CallStatus = frame_pb2.CallStatus
CallStart = frame_pb2.CallStart


MIB = 1024 * 1024


def test_health(client: Client) -> None:
    assert client.health() == SERVING
    assert client.health("imagegen.v1.Health") == SERVING
    with pytest.raises(RpcError) as info:
        client.health("no.such.Service")
    assert info.value.code == StatusCode.NOT_FOUND


def test_echo(client: Client) -> None:
    request = CallStatus(code=7, message="hello, wörld 🌍")
    assert client.unary(ECHO, request, CallStatus) == request
    assert client.unary(ECHO, CallStatus(), CallStatus) == CallStatus()


def test_large_near_frame_limit(start_server) -> None:
    server = start_server("--max-frame-bytes", str(MIB))
    with server.client(max_frame_bytes=MIB) as client:
        size = MIB - 64
        response = client.unary(LARGE, CallStatus(code=size), CallStart, timeout=20)
        assert response.request == b"\xab" * size
        # a response above the server's limit: the server refuses to send it
        with pytest.raises(RpcError) as info:
            client.unary(LARGE, CallStatus(code=MIB), CallStart, timeout=20)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        # a request near the limit is accepted
        big = "x" * (MIB - 100)
        assert client.unary(ECHO, CallStatus(message=big), CallStatus, timeout=20).message == big
        assert client.health() == SERVING


def test_frame_above_client_limit(server) -> None:
    with server.client(max_frame_bytes=64 * 1024) as client:
        assert len(client.unary(LARGE, CallStatus(code=60_000), CallStart).request) == 60_000
        with pytest.raises(RpcError) as info:
            client.unary(LARGE, CallStatus(code=100_000), CallStart, timeout=10)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert "limit" in info.value.message
        assert client.health() == SERVING  # the next call connects again


@pytest.mark.parametrize("count", [0, 1, 1000])
def test_stream_in_order(client: Client, count: int) -> None:
    stream = client.server_stream(COUNT, CallStatus(code=count), CallStatus, timeout=20)
    received = list(stream)
    assert [m.code for m in received] == list(range(count))
    assert [m.message for m in received] == [f"message {i}" for i in range(count)]
    assert stream.done and stream.status.code == StatusCode.OK
    assert client.connection.open_calls == 0


TRICKY = "ünïcödé\ttab\nnew line 🎬 \"quotes\" 日本語"


@pytest.mark.parametrize("code", range(1, 17))
def test_status_round_trip(client: Client, code: int) -> None:
    message = f"code {code}: {TRICKY}"
    with pytest.raises(RpcError) as info:
        client.unary(FAIL, CallStatus(code=code, message=message), CallStatus)
    assert info.value.code == StatusCode(code)
    assert info.value.message == message
    assert str(info.value) == f"{StatusCode(code).name}: {message}"


def test_plain_handler_error_is_unknown(client: Client) -> None:
    with pytest.raises(RpcError) as info:
        client.unary(THROW_PLAIN, CallStatus(), CallStatus)
    assert info.value.code == StatusCode.UNKNOWN
    assert info.value.message == "plain failure from the handler"


def test_unimplemented(client: Client) -> None:
    with pytest.raises(RpcError) as info:
        client.unary("test.v1.Test/Nope", CallStatus(), CallStatus)
    assert info.value.code == StatusCode.UNIMPLEMENTED
    with pytest.raises(RpcError) as info:
        list(client.server_stream("nope.v1.Nope/Stream", CallStatus(), CallStatus))
    assert info.value.code == StatusCode.UNIMPLEMENTED


def _unimplemented(action) -> RpcError:
    with pytest.raises(RpcError) as info:
        result = action()
        if hasattr(result, "__next__"):
            next(result)
    assert info.value.code == StatusCode.UNIMPLEMENTED, info.value
    return info.value


def test_image_generation_methods_unimplemented(client: Client) -> None:
    storyboard = {"shots": [{"id": "1", "beats": [{"id": "1.1", "prompt": "a cat", "transition": "hard_cut"}]}]}
    actions = {
        Methods.START_GENERATION: lambda: client.start_generation(
            "demo", storyboard, styles=["ink"], force=True, max_concurrency=2, request_id="r1"),
        Methods.WATCH_JOB: lambda: client.watch("job-1", after_seq=3),
        Methods.GET_STATUS: lambda: client.get_status(job_id="job-1", include_beats=True),
        Methods.CANCEL_GENERATION: lambda: client.cancel("job-1"),
        Methods.PAUSE_GENERATION: lambda: client.pause("job-1"),
        Methods.RESUME_GENERATION: lambda: client.resume("job-1"),
        Methods.LIST_JOBS: lambda: client.list_jobs(),
        Methods.LIST_SERVERS: lambda: client.list_servers(),
    }
    assert set(actions) == set(Methods.ALL)
    for method, action in actions.items():
        error = _unimplemented(action)
        # the server names the method it does not know: the client sent the right name
        assert method in error.message, (method, error.message)
    _unimplemented(lambda: client.get_status(project_dir="demo"))
    assert client.health() == SERVING
    assert client.connection.open_calls == 0


def test_typed_requests_are_built_right(client: Client, monkeypatch) -> None:
    sent = []
    original = client._start

    def spy(method, request, timeout):
        sent.append((method, request))
        return original(method, request, timeout)

    monkeypatch.setattr(client, "_start", spy)
    with pytest.raises(RpcError):
        list(client.start_generation("p", {"shots": [{"id": "1", "beats": [{"id": "b", "prompt": "x"}]}]},
                                     styles=("a", "b"), max_concurrency=3, detach=True))
    method, request = sent[-1]
    assert method == "imagegen.v1.ImageGeneration/StartGeneration"
    assert isinstance(request, generation_pb2.StartGenerationRequest)
    assert request.project_dir == "p" and list(request.styles) == ["a", "b"] and request.detach
    assert request.options.max_concurrency == 3
    assert request.storyboard.shots[0].beats[0].transition == generation_pb2.CUT
    with pytest.raises(RpcError):
        client.get_status(project_dir="p")
    assert sent[-1][1].WhichOneof("target") == "project_dir"
    with pytest.raises(ValueError):
        client.get_status()


def test_timeout_deadline_exceeded(client: Client) -> None:
    began = time.monotonic()
    with pytest.raises(RpcError) as info:
        client.unary(SLEEP, CallStatus(code=10_000), CallStatus, timeout=0.2)
    elapsed = time.monotonic() - began
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 2.5  # the server ends it at 0.2 s; the client gives up at 0.7 s
    # a stream's deadline bounds the whole stream
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus, timeout=0.3)
    assert next(stream).message == "first"
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    assert client.unary(SLEEP, CallStatus(code=10), CallStatus, timeout=5).message == "slept"


def test_cancel_stream_after_first_message(client: Client) -> None:
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert next(stream).message == "first"
    assert stream.cancel() is True
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.CANCELLED
    assert client.connection.open_calls == 0
    # the connection still works
    assert client.unary(ECHO, CallStatus(message="after"), CallStatus).message == "after"
    assert client.health() == SERVING


def test_close_and_garbage_collect_stream_cancel(client: Client) -> None:
    connection = client.connection
    with client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus) as stream:
        assert next(stream).message == "first"
    assert list(stream) == []  # closed like a generator
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert next(stream).message == "first"
    del stream
    gc.collect()
    assert connection.open_calls == 0
    assert client.connection is connection
    assert client.unary(ECHO, CallStatus(message="still"), CallStatus).message == "still"


def test_cancel_from_another_thread(client: Client) -> None:
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert next(stream).message == "first"
    timer = threading.Timer(0.2, stream.cancel)
    timer.start()
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.CANCELLED
    timer.join()


def test_100_concurrent_calls_one_connection(client: Client) -> None:
    connection = client.connection
    results = [None] * 100
    errors = []

    def work(index: int) -> None:
        try:
            if index % 2:
                results[index] = client.unary(ECHO, CallStatus(code=index, message=f"echo {index}"), CallStatus)
            else:
                results[index] = client.unary(SLEEP, CallStatus(code=300), CallStatus, timeout=20)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(100)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert time.monotonic() - began < 10  # the sleeps ran at once
    for index, result in enumerate(results):
        if index % 2:
            assert result.code == index and result.message == f"echo {index}"
        else:
            assert result.message == "slept"
    assert client.connection is connection and connection.open_calls == 0


def test_20_clients_at_once(server) -> None:
    errors = []

    def work(index: int) -> None:
        try:
            with server.client() as client:
                assert client.health() == SERVING
                for n in range(5):
                    reply = client.unary(ECHO, CallStatus(code=n, message=f"client {index}"), CallStatus)
                    assert reply.message == f"client {index}" and reply.code == n
                assert [m.code for m in client.server_stream(COUNT, CallStatus(code=50), CallStatus)] == list(range(50))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_ping(client: Client) -> None:
    rtt = client.ping(timeout=5)
    assert 0 <= rtt < 5
    assert client.ping() >= 0


def test_too_many_calls_on_connection(start_server) -> None:
    server = start_server("--max-calls-per-connection", "2")
    with server.client() as client:
        streams = [client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus) for _ in range(2)]
        for stream in streams:
            assert next(stream).message == "first"
        with pytest.raises(RpcError) as info:
            client.unary(ECHO, CallStatus(), CallStatus)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        for stream in streams:
            stream.cancel()


def test_server_killed_mid_stream(start_server) -> None:
    server = start_server()
    client = server.client()
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert next(stream).message == "first"
    pending = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    server.process.kill()
    server.wait()
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.UNAVAILABLE
    with pytest.raises(RpcError) as info:
        list(pending)
    assert info.value.code == StatusCode.UNAVAILABLE
    with pytest.raises(RpcError) as info:
        client.health()  # reconnecting fails: nobody listens
    assert info.value.code == StatusCode.UNAVAILABLE
    client.close()


def test_sigterm_during_stream_goaway(start_server) -> None:
    import signal

    server = start_server("--shutdown-grace", "5")
    client = server.client()
    connection = client.connection
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert next(stream).message == "first"
    # an open unary call may finish
    result = {}
    sleeper = threading.Thread(
        target=lambda: result.update(reply=client.unary(SLEEP, CallStatus(code=700), CallStatus, timeout=10)))
    sleeper.start()
    time.sleep(0.2)
    server.signal(signal.SIGTERM)
    with pytest.raises(RpcError) as info:
        next(stream)
    assert info.value.code == StatusCode.UNAVAILABLE
    assert info.value.message == "server shutting down"
    sleeper.join(10)
    assert result["reply"].message == "slept"
    assert connection.goaway_reason == "server shutting down"
    with pytest.raises(RpcError) as info:
        connection.start_call(ECHO, b"")
    assert info.value.code == StatusCode.UNAVAILABLE
    with pytest.raises(RpcError) as info:
        client.health()  # a new connection is refused, or its calls answered "shutting down"
    assert info.value.code == StatusCode.UNAVAILABLE
    assert server.wait() == 0
    client.close()


def test_connection_level_error_from_server(start_server) -> None:
    server = start_server()
    with server.client() as client:
        connection = client.connection
        stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
        assert next(stream).message == "first"
        # a frame kind a client may not send: the server ends the connection with a status
        bad = frame_pb2.Frame(call_id=5, message=b"x").SerializeToString()
        connection._send(len(bad).to_bytes(4, "big") + bad)
        with pytest.raises(RpcError) as info:
            next(stream)
        assert info.value.code == StatusCode.INVALID_ARGUMENT
        assert "message" in info.value.message
        with pytest.raises(RpcError) as info:
            connection.start_call(ECHO, b"")
        assert info.value.code == StatusCode.UNAVAILABLE
        assert client.health() == SERVING  # a new connection
        assert client.connection is not connection


def test_request_above_limit_fails_alone(client: Client) -> None:
    small = Client(client.host, client.port, token="", max_frame_bytes=4096)
    with small:
        connection = small.connection
        stream = small.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
        assert next(stream).message == "first"
        with pytest.raises(RpcError) as info:
            small.unary(ECHO, CallStatus(message="x" * 5000), CallStatus)
        assert info.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert small.unary(ECHO, CallStatus(message="ok"), CallStatus).message == "ok"
        assert small.connection is connection and not connection.closed
        stream.cancel()


def test_dropped_streams_free_their_server_slots(start_server) -> None:
    # With 12 calls allowed per connection, 100 abandoned hanging streams only work if dropping
    # each one sends cancel (also while other threads are writing).
    server = start_server("--max-calls-per-connection", "12")
    errors = []
    with server.client() as client:
        def work(worker: int) -> None:
            try:
                for n in range(25):
                    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus, timeout=20)
                    assert next(stream).message == "first"
                    del stream  # garbage: cancels
                    assert client.unary(ECHO, CallStatus(code=n), CallStatus, timeout=20).code == n
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors[:3]
        assert client.connection.open_calls == 0


def test_deadline_ends_a_handler_that_ignores_cancellation(client: Client) -> None:
    began = time.monotonic()
    with pytest.raises(RpcError) as info:
        client.unary(SLEEP_IGNORING, CallStatus(code=3000), CallStatus, timeout=0.2)
    assert info.value.code == StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - began < 2.5
    assert client.unary(SLEEP_IGNORING, CallStatus(code=50), CallStatus, timeout=10).message == "done"
