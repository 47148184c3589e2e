"""How ``follow`` decides to watch again (``_reattach.Reattach``): which statuses, how long it
waits, when it gives up, and when it follows the current run from its start. The end-to-end
follow across servers runs in the Swift suite ("Coordination: starts and watchers across
servers"), against real servers and PostgreSQL."""

from __future__ import annotations

from typing import List

import pytest

from imagegen_client import RpcError, StatusCode
from imagegen_client._reattach import Reattach
from imagegen_client.proto import generation_pb2


def event(seq: int, final: bool = False) -> generation_pb2.ProgressEvent:
    message = generation_pb2.ProgressEvent(seq=seq, job_id="job-1")
    if final:
        message.finished.state = generation_pb2.COMPLETED
    else:
        message.message = "hello"
    return message


def test_waits_double_to_four_seconds_then_an_event_starts_over() -> None:
    state = Reattach("job-1", 0, 120.0)
    unavailable = RpcError(StatusCode.UNAVAILABLE, "owner gone")
    delays: List[float] = [state.delay_after(unavailable) for _ in range(7)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert not state.seen(event(7))
    assert state.after_seq == 7
    assert state.delay_after(unavailable) == 0.25
    assert state.seen(event(8, final=True))


def test_falling_behind_after_an_event_watches_again_at_once() -> None:
    state = Reattach("job-1", 3, 120.0)
    behind = RpcError(StatusCode.RESOURCE_EXHAUSTED, "behind")
    for seq in (4, 9, 15):
        state.seen(event(seq))
        assert state.delay_after(behind) == 0.0


def test_refused_with_no_event_since_the_last_watch_is_waited_out_then_raised() -> None:
    state = Reattach("job-1", 3, 120.0)
    refused = RpcError(StatusCode.RESOURCE_EXHAUSTED, "too many connections")
    # before any event, and again after a watch again that brought none
    assert [state.delay_after(refused) for _ in range(3)] == [0.25, 0.5, 1.0]
    state.seen(event(4))
    assert state.delay_after(refused) == 0.0
    assert state.delay_after(refused) == 0.25
    short = Reattach("job-2", 0, 0.0)
    with pytest.raises(RpcError) as raised:
        short.delay_after(refused)
    assert raised.value.code == StatusCode.RESOURCE_EXHAUSTED and "job-2 still refused" in raised.value.message


@pytest.mark.parametrize("code", [StatusCode.NOT_FOUND, StatusCode.INVALID_ARGUMENT, StatusCode.FAILED_PRECONDITION,
                                  StatusCode.CANCELLED, StatusCode.PERMISSION_DENIED])
def test_other_statuses_are_raised(code: StatusCode) -> None:
    error = RpcError(code, "no")
    with pytest.raises(RpcError) as raised:
        Reattach("job-1", 0, 120.0).delay_after(error)
    assert raised.value is error


def test_an_outage_longer_than_the_window_is_raised_naming_the_job() -> None:
    state = Reattach("job-9", 0, 0.0)
    with pytest.raises(RpcError) as raised:
        state.delay_after(RpcError(StatusCode.UNAVAILABLE, "owner gone"))
    assert raised.value.code == StatusCode.UNAVAILABLE
    assert "owner gone" in raised.value.message and "job-9 still unavailable" in raised.value.message


def test_a_seq_of_an_earlier_run_follows_the_current_run_from_its_start() -> None:
    out_of_range = RpcError(StatusCode.OUT_OF_RANGE, "earlier run")
    # the seq asked for, before any event
    state = Reattach("job-1", 40, 120.0)
    assert state.may_rewind(out_of_range)
    assert state.rewinds(out_of_range, last_seq=90) and state.after_seq == 0
    assert not state.may_rewind(out_of_range)  # once
    # after an outage, from the last seq seen
    state = Reattach("job-1", 0, 120.0)
    state.seen(event(12))
    assert not state.may_rewind(out_of_range)
    state.delay_after(RpcError(StatusCode.UNAVAILABLE, "moved"))
    assert state.rewinds(out_of_range, last_seq=300) and state.after_seq == 0
    # a seq beyond the job's events is not rewound
    state = Reattach("job-1", 500, 120.0)
    assert not state.rewinds(out_of_range, last_seq=90) and state.after_seq == 500


@pytest.mark.parametrize("job_id, window", [("", 10.0), ("job-1", -1.0), ("job-1", float("nan")), ("job-1", float("inf"))])
def test_bad_arguments_are_refused(job_id: str, window: float) -> None:
    with pytest.raises(ValueError):
        Reattach(job_id, 0, window)
