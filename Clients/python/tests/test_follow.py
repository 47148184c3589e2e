"""``Client.follow`` and ``AsyncClient.follow`` against a scripted server: which calls they make
after each answer (the decisions themselves: test_reattach.py). The follow of a job that moves
between real servers runs in the Swift suite ("Coordination: starts and watchers across servers")."""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Tuple

import pytest

from aio_helpers import run
from fakeserver import FakeServer
from imagegen_client import AsyncClient, Client, RpcError, StatusCode, generation_pb2 as g
from test_generation import FakeService, events

Answer = Tuple[List[bytes], int, str]


def scripted(answers: List[Callable[[str, bytes], Answer]]):
    """Answers the n-th call with ``answers[n]`` (then NOT_FOUND), recording the calls."""
    lock = threading.Lock()
    count = [0]

    def handler(method: str, request: bytes) -> Answer:
        with lock:
            index = count[0]
            count[0] += 1
        if index >= len(answers):
            return [], StatusCode.NOT_FOUND, "script ended"
        return answers[index](method, request)

    return handler


def fails(code: StatusCode, text: str) -> Callable[[str, bytes], Answer]:
    return lambda method, request: ([], code, text)


def status(last_seq: int) -> Callable[[str, bytes], Answer]:
    return lambda method, request: ([g.JobStatus(job_id="j1", last_seq=last_seq).SerializeToString()], 0, "")


def streams(*seqs: int) -> Callable[[str, bytes], Answer]:
    chosen = [e for e in events() if e.seq in seqs]
    return lambda method, request: ([e.SerializeToString() for e in chosen], 0, "")


def calls(service: FakeService) -> List[Tuple[str, int]]:
    """Each call's method name and, for a watch, its after_seq."""
    out = []
    for method, request in service.calls:
        name = method.rsplit("/", 1)[-1]
        out.append((name, g.WatchJobRequest.FromString(request).after_seq if name == "WatchJob" else -1))
    return out


def follow_with(kind: str, port: int, after_seq: int, window: float = 120.0) -> List[int]:
    if kind == "sync":
        with Client("127.0.0.1", port, token="") as client:
            return [e.seq for e in client.follow("j1", after_seq=after_seq, reattach_for=window)]

    async def follow() -> List[int]:
        async with AsyncClient("127.0.0.1", port, token="") as client:
            return [e.seq async for e in client.follow("j1", after_seq=after_seq, reattach_for=window)]

    return run(follow())


CLIENTS = ["sync", "async"]


@pytest.mark.parametrize("kind", CLIENTS)
def test_an_unavailable_status_while_rewinding_is_waited_out_and_the_rewind_tried_again(kind: str) -> None:
    fake = FakeServer()
    service = FakeService(fake, scripted([
        fails(StatusCode.OUT_OF_RANGE, "seq 40 is of an earlier run"),
        fails(StatusCode.UNAVAILABLE, "job j1 is being taken over"),
        fails(StatusCode.OUT_OF_RANGE, "seq 40 is of an earlier run"),
        status(90),
        streams(1, 2, 3, 4, 5),
    ]))
    try:
        assert follow_with(kind, fake.port, after_seq=40) == [1, 2, 3, 4, 5]
        assert calls(service) == [("WatchJob", 40), ("GetStatus", -1), ("WatchJob", 40), ("GetStatus", -1), ("WatchJob", 0)]
    finally:
        fake.close()


@pytest.mark.parametrize("kind", CLIENTS)
def test_refused_before_any_event_backs_off_and_after_events_watches_again_at_once(kind: str) -> None:
    fake = FakeServer()
    refused = fails(StatusCode.RESOURCE_EXHAUSTED, "too many watchers")

    def behind(method: str, request: bytes) -> Answer:
        messages, _, _ = streams(1, 2)(method, request)
        return messages, StatusCode.RESOURCE_EXHAUSTED, "fell behind"

    service = FakeService(fake, scripted([refused, refused, behind, streams(3, 4, 5)]))
    try:
        started = time.monotonic()
        assert follow_with(kind, fake.port, after_seq=0) == [1, 2, 3, 4, 5]
        # the two refusals were waited out (0.25 s, then 0.5 s); falling behind was not
        assert time.monotonic() - started >= 0.75
        assert calls(service) == [("WatchJob", 0), ("WatchJob", 0), ("WatchJob", 0), ("WatchJob", 2)]
    finally:
        fake.close()


@pytest.mark.parametrize("kind", CLIENTS)
def test_refusals_that_outlast_the_window_are_raised(kind: str) -> None:
    fake = FakeServer()
    FakeService(fake, scripted([fails(StatusCode.RESOURCE_EXHAUSTED, "too many watchers")] * 50))
    try:
        with pytest.raises(RpcError) as raised:
            follow_with(kind, fake.port, after_seq=0, window=0.5)
        assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED
        assert "job j1 still refused after watching it again for 0.5 s" in raised.value.message
    finally:
        fake.close()
