"""The asyncio client against the REAL imagegen-interop-server (and a scripted fake): unary calls,
streams, every way of cancelling (observed at the server), deadlines, auth, reconnecting, and
the connection after goaway — the matrix the thread-based client passes in test_interop.py and
test_transport.py (the service's methods: test_async_service.py)."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from typing import Any, Awaitable, Callable, Dict

import pytest

from aio_helpers import collect, raises, run
from conftest import COUNT, ECHO, FAIL, LARGE, ONE_THEN_HANG, SLEEP, ServerProcess
from fakeserver import FakeServer
from imagegen_client import (
    SERVING, AsyncClient, Phase, StatusCode, StoryboardError, frame_pb2)
from imagegen_client.proto import generation_pb2

CallStatus = frame_pb2.CallStatus
CallStart = frame_pb2.CallStart
TOKEN = "s3cret-async-token-Zq9"

# ---- unary and streams ---------------------------------------------------------------------


def test_unary_health_echo_and_every_status(server: ServerProcess) -> None:
    async def body() -> None:
        async with server.async_client() as client:
            assert await client.health() == SERVING
            await raises(StatusCode.NOT_FOUND, lambda: client.health("no.such.Service"))
            request = CallStatus(code=7, message="hello, wörld 🌍")
            assert await client.unary(ECHO, request, CallStatus) == request
            for code in range(1, 17):
                error = await raises(StatusCode(code), lambda: client.unary(
                    FAIL, CallStatus(code=code, message=f"code {code}"), CallStatus))
                assert error.message == f"code {code}" and str(error) == f"{StatusCode(code).name}: code {code}"
            await raises(StatusCode.UNIMPLEMENTED, lambda: client.unary("test.v1.Test/Nope", CallStatus(), CallStatus))
            assert 0 <= await client.ping(timeout=5) < 5
    run(body())


@pytest.mark.parametrize("count", [0, 1, 1000])
def test_stream_in_order(server: ServerProcess, count: int) -> None:
    async def body() -> None:
        async with server.async_client() as client:
            stream = client.server_stream(COUNT, CallStatus(code=count), CallStatus, timeout=20)
            received = await collect(stream)
            assert [m.code for m in received] == list(range(count))
            assert [m.message for m in received] == [f"message {i}" for i in range(count)]
            assert stream.done and stream.status is not None and stream.status.code == StatusCode.OK
            assert (await client.connection()).open_calls == 0
            await raises(StatusCode.UNIMPLEMENTED, lambda: collect(client.server_stream("nope.v1.Nope/S", CallStatus(), CallStatus)))
    run(body())


def test_100_concurrent_calls_share_one_connection(server: ServerProcess) -> None:
    async def body() -> None:
        async with server.async_client() as client:
            connection = await client.connection()
            began = time.monotonic()
            results = await asyncio.gather(*[
                client.unary(ECHO, CallStatus(code=i, message=f"echo {i}"), CallStatus) if i % 2
                else client.unary(SLEEP, CallStatus(code=300), CallStatus, timeout=20) for i in range(100)])
            assert time.monotonic() - began < 10  # the sleeps ran at once
            for index, result in enumerate(results):
                assert result.message == (f"echo {index}" if index % 2 else "slept")
            assert await client.connection() is connection and connection.open_calls == 0
    run(body())


# ---- cancellation, observed at the server ------------------------------------------------------

async def _cancel_by_break(client: AsyncClient) -> None:
    async for message in client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus):
        assert message.message == "first"
        break


async def _cancel_by_aclose(client: AsyncClient) -> None:
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert (await stream.__anext__()).message == "first"
    await stream.aclose()
    assert await collect(stream) == []  # closed: iteration stops
    assert stream.status is not None and stream.status.code == StatusCode.CANCELLED


async def _cancel_by_async_with(client: AsyncClient) -> None:
    async with client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus) as stream:
        assert (await stream.__anext__()).message == "first"


async def _cancel_by_method(client: AsyncClient) -> None:
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
    assert (await stream.__anext__()).message == "first"
    assert stream.cancel() is True
    await raises(StatusCode.CANCELLED, stream.__anext__)


async def _cancel_by_task(client: AsyncClient) -> None:
    first = asyncio.Event()

    async def consume() -> None:
        async for message in client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus):
            assert message.message == "first"
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _cancel_by_unary_task(client: AsyncClient) -> None:
    task = asyncio.create_task(client.unary(SLEEP, CallStatus(code=60_000), CallStatus))
    while (await client.connection()).open_calls == 0:
        await asyncio.sleep(0)  # until the call is open (no I/O needed: the loop turns once)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _cancel_by_deadline(client: AsyncClient) -> None:
    stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus, timeout=0.2)
    assert (await stream.__anext__()).message == "first"
    await raises(StatusCode.DEADLINE_EXCEEDED, stream.__anext__)


CANCELLERS: Dict[str, Callable[[AsyncClient], Awaitable[None]]] = {
    "break": _cancel_by_break, "aclose": _cancel_by_aclose, "async with": _cancel_by_async_with,
    "cancel()": _cancel_by_method, "task cancelled": _cancel_by_task, "unary task cancelled": _cancel_by_unary_task,
    "deadline": _cancel_by_deadline,
}


@pytest.mark.parametrize("way", list(CANCELLERS))
def test_every_way_of_cancelling_frees_the_call_at_the_server(start_server, way: str) -> None:
    # 4 calls allowed per connection: 12 hanging calls in a row go through only if each one's
    # cancel reached the server (the server frees the slot when the handler has stopped)
    server = start_server("--max-calls-per-connection", "4")

    async def body() -> None:
        async with server.async_client() as client:
            connection = await client.connection()
            for n in range(12):
                await CANCELLERS[way](client)
                gc.collect()
                assert (await client.unary(ECHO, CallStatus(code=n), CallStatus, timeout=20)).code == n
            assert await client.connection() is connection
            assert connection.open_calls == 0
    run(body())


# ---- deadlines ---------------------------------------------------------------------------------


def test_deadlines(server: ServerProcess) -> None:
    async def body() -> None:
        async with server.async_client() as client:
            began = time.monotonic()
            await raises(StatusCode.DEADLINE_EXCEEDED, lambda: client.unary(SLEEP, CallStatus(code=10_000), CallStatus, timeout=0.2))
            assert time.monotonic() - began < 2.5  # the server ends it at 0.2 s
            await raises(StatusCode.DEADLINE_EXCEEDED, lambda: client.unary(ECHO, CallStatus(), CallStatus, timeout=0))
            assert (await client.unary(SLEEP, CallStatus(code=10), CallStatus, timeout=5)).message == "slept"
    run(body())


def test_local_deadline_when_the_server_never_answers_sends_cancel() -> None:
    fake = FakeServer()

    async def body() -> None:
        async with AsyncClient("127.0.0.1", fake.port, token="") as client:
            began = time.monotonic()
            error = await raises(StatusCode.DEADLINE_EXCEEDED, lambda: client.unary(ECHO, CallStatus(), CallStatus, timeout=0.2))
            elapsed = time.monotonic() - began
            assert 0.6 <= elapsed < 2.0, elapsed  # the timeout and the grace of 0.5 s
            assert "deadline of 0.2 s exceeded" in error.message
    try:
        run(body())
        start = fake.read_frame()
        assert start.WhichOneof("kind") == "start" and start.start.timeout_ms == 200
        cancel = fake.read_frame()
        assert cancel.WhichOneof("kind") == "cancel" and cancel.call_id == start.call_id
    finally:
        fake.close()


# ---- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("token, works", [(None, False), ("wrong-" + TOKEN, False), (TOKEN, True), ("env", True)])
def test_auth(start_server, monkeypatch, token: Any, works: bool) -> None:
    server = start_server(token=TOKEN)
    monkeypatch.delenv("IMAGEGEN_AUTH_TOKEN", raising=False)
    if token == "env":
        monkeypatch.setenv("IMAGEGEN_AUTH_TOKEN", TOKEN)
        token = None

    async def body() -> None:
        client = AsyncClient(server.host, server.port, token=token)
        assert TOKEN not in repr(client) and TOKEN not in str(client)
        async with client:
            if works:
                assert await client.health() == SERVING
                assert [m.code async for m in client.server_stream(COUNT, CallStatus(code=3), CallStatus)] == [0, 1, 2]
                return
            error = await raises(StatusCode.UNAUTHENTICATED, client.health)
            assert TOKEN not in str(error) and TOKEN not in repr(error)
            await raises(StatusCode.UNAUTHENTICATED, lambda: collect(client.server_stream(COUNT, CallStatus(code=3), CallStatus)))
    run(body())


# ---- connections: limits, loss, errors, goaway, reconnecting ---------------------------------------


def test_frame_above_client_limit_then_reconnect(server: ServerProcess) -> None:
    async def body() -> None:
        async with server.async_client(max_frame_bytes=64 * 1024) as client:
            first = await client.connection()
            assert len((await client.unary(LARGE, CallStatus(code=60_000), CallStart)).request) == 60_000
            error = await raises(StatusCode.RESOURCE_EXHAUSTED, lambda: client.unary(LARGE, CallStatus(code=100_000), CallStart, timeout=10))
            assert "limit" in error.message
            # a request above the limit fails alone, unsent
            await raises(StatusCode.RESOURCE_EXHAUSTED, lambda: client.unary(ECHO, CallStatus(message="x" * 70_000), CallStatus))
            assert await client.health() == SERVING  # the next call connected again
            assert await client.connection() is not first and first.closed
    run(body())


def test_connection_level_error_ends_calls_and_the_next_call_reconnects(start_server) -> None:
    server = start_server()

    async def body() -> None:
        async with server.async_client() as client:
            connection = await client.connection()
            stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
            assert (await stream.__anext__()).message == "first"
            bad = frame_pb2.Frame(call_id=5, message=b"x").SerializeToString()
            connection._send_soon(len(bad).to_bytes(4, "big") + bad)  # a frame a client may not send
            error = await raises(StatusCode.INVALID_ARGUMENT, stream.__anext__)
            assert "message" in error.message
            await raises(StatusCode.UNAVAILABLE, lambda: connection.start_call(ECHO, b""))
            assert await client.health() == SERVING
            assert await client.connection() is not connection
    run(body())


def test_server_killed_mid_stream_is_unavailable(start_server) -> None:
    server = start_server()

    async def body() -> None:
        client = server.async_client()
        stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
        assert (await stream.__anext__()).message == "first"
        server.process.kill()
        server.wait()
        await raises(StatusCode.UNAVAILABLE, stream.__anext__)
        await raises(StatusCode.UNAVAILABLE, client.health)  # reconnecting fails: nobody listens
        await client.aclose()
        await raises(StatusCode.UNAVAILABLE, client.health)  # closed
    run(body())


def test_sigterm_goaway_lets_the_open_unary_call_finish(start_server) -> None:
    server = start_server("--shutdown-grace", "5")

    async def body() -> None:
        async with server.async_client() as client:
            connection = await client.connection()
            stream = client.server_stream(ONE_THEN_HANG, CallStatus(), CallStatus)
            assert (await stream.__anext__()).message == "first"
            sleeper = asyncio.create_task(client.unary(SLEEP, CallStatus(code=700), CallStatus, timeout=10))
            while connection.open_calls < 2:
                await asyncio.sleep(0)
            await client.ping()  # the Sleep call's start has reached the server before the signal
            server.signal(signal.SIGTERM)
            error = await raises(StatusCode.UNAVAILABLE, stream.__anext__)
            assert error.message == "server shutting down"
            assert (await sleeper).message == "slept"
            assert connection.goaway_reason == "server shutting down"
            await raises(StatusCode.UNAVAILABLE, lambda: connection.start_call(ECHO, b""))
            await raises(StatusCode.UNAVAILABLE, client.health)
        assert server.wait() == 0
    run(body())


def test_a_bad_storyboard_is_refused_before_anything_is_sent() -> None:
    fake = FakeServer()

    async def body() -> None:
        async with AsyncClient.from_address(f"127.0.0.1:{fake.port}", token="") as client:
            bad = {"shots": [{"id": "1", "beats": [{"id": "1.1", "prompt": ""}]}]}
            with pytest.raises(StoryboardError) as info:
                client.start_generation("film", bad)
            assert "shot 1, beat 1.1: prompt is empty" in str(info.value)
            stream = client.watch("j1", after_seq=4)
            assert "not started" in repr(stream)
            await stream.__aenter__()  # starts the call
            await stream.aclose()
    try:
        run(body())
        first = fake.read_frame()  # the watch is the first call on the wire
        assert first.call_id == 1 and first.start.method == "imagegen.v1.ImageGeneration/WatchJob"
        assert generation_pb2.WatchJobRequest.FromString(first.start.request).after_seq == 4
        assert fake.read_frame().WhichOneof("kind") == "cancel"
    finally:
        fake.close()


def test_after_goaway_open_calls_finish_and_the_next_call_uses_a_new_connection() -> None:
    fake = FakeServer()

    async def body() -> None:
        client = AsyncClient("127.0.0.1", fake.port, token="")
        stream = client.server_stream("a.B/C", b"", CallStatus)
        first = asyncio.ensure_future(stream.__anext__())
        old = await client.connection()
        await asyncio.get_running_loop().run_in_executor(None, fake.read_frame)  # the start
        fake.send(frame_pb2.Frame(call_id=0, goaway=frame_pb2.GoAway(reason="maintenance")))
        fake.send(frame_pb2.Frame(call_id=1, message=CallStatus(message="x").SerializeToString()))
        assert (await first).message == "x"
        assert old.goaway_reason == "maintenance" and old.state.phase is Phase.DRAINING and not old.usable
        error = await raises(StatusCode.UNAVAILABLE, lambda: old.start_call("a.B/C", b""))
        assert "maintenance" in error.message
        new = await client.connection()  # the fake's listener queues this connection
        assert new is not old and not old.closed  # the old one stays open for its running call
        fake.send(frame_pb2.Frame(call_id=1, status=CallStatus()))
        assert await collect(stream) == []
        await client.aclose()
        assert old.closed and new.closed
    try:
        run(body())
    finally:
        fake.close()
