"""The connection's state machine (_state) on its own: every transition from every state, what
each state refuses and allows, and which error the open calls end with when it closes."""

from __future__ import annotations

from typing import Callable, List, Tuple

import pytest

from imagegen_client import Phase, RpcError, StatusCode
from imagegen_client._state import Broken, Closed, ConnectionState, Draining, Failed, Open

FATAL = RpcError(StatusCode.INVALID_ARGUMENT, "a client may not send message frames")
LOST = RpcError(StatusCode.UNAVAILABLE, "connection closed by the server")

STATES: List[Tuple[str, ConnectionState]] = [
    ("open", Open()),
    ("draining", Draining("server shutting down")),
    ("failed", Failed(FATAL, None)),
    ("failed after goaway", Failed(FATAL, "bye")),
    ("broken", Broken(None, None)),
    ("broken after fatal", Broken(FATAL, "bye")),
    ("closed", Closed(LOST, "bye")),
]
IDS = [name for name, _ in STATES]


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=IDS)
def test_only_open_takes_new_calls_and_closed_and_broken_write_nothing(state: ConnectionState) -> None:
    refusal = state.refusal()
    assert (refusal is None) == (state.phase is Phase.OPEN)
    if refusal is not None:
        assert refusal.code == StatusCode.UNAVAILABLE and refusal.message
    assert state.writable == (state.phase not in (Phase.BROKEN, Phase.CLOSED))


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=IDS)
def test_goaway_keeps_the_phase_past_open_and_remembers_the_reason(state: ConnectionState) -> None:
    after = state.with_goaway("later")
    if state.phase in (Phase.OPEN, Phase.DRAINING):
        assert after == Draining("later")
    elif state.phase is Phase.CLOSED:
        assert after is state
    else:
        assert after.phase is state.phase and after.goaway == "later" and after.fatal is state.fatal


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=IDS)
def test_the_first_fatal_status_is_kept(state: ConnectionState) -> None:
    other = RpcError(StatusCode.INTERNAL, "second")
    after = state.with_fatal(other)
    if state.phase is Phase.CLOSED:
        assert after is state
    elif state.fatal is not None:
        assert after.fatal is FATAL
    else:
        assert after.fatal is other and after.goaway == state.goaway
        assert after.phase is (Phase.BROKEN if state.phase is Phase.BROKEN else Phase.FAILED)


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=IDS)
def test_a_failed_write_stops_writing_and_keeps_what_is_known(state: ConnectionState) -> None:
    after = state.with_write_failure()
    assert not after.writable and after.refusal() is not None
    assert after.goaway == state.goaway and after.fatal is state.fatal


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=IDS)
def test_closing_ends_the_calls_with_the_servers_reason_when_it_gave_one(state: ConnectionState) -> None:
    closed = state.closed(LOST)
    assert closed.phase is Phase.CLOSED and not closed.writable and closed.goaway == state.goaway
    if state.phase is Phase.CLOSED:
        assert closed is state
    elif state.fatal is not None:
        assert closed.error.code == StatusCode.UNAVAILABLE
        assert closed.error.message == "INVALID_ARGUMENT: a client may not send message frames"
    else:
        assert closed.error is LOST
    assert closed.closed(RpcError(StatusCode.UNAVAILABLE, "again")) is closed  # once


REFUSALS: List[Tuple[Callable[[], ConnectionState], str]] = [
    (lambda: Draining("server shutting down"), "the server sent goaway (server shutting down): no new calls on this connection"),
    (lambda: Draining(""), "the server sent goaway: no new calls on this connection"),
    (lambda: Failed(FATAL, None), "connection closed: INVALID_ARGUMENT: a client may not send message frames"),
    (lambda: Broken(None, None), "connection lost: a write to the server failed"),
    (lambda: Closed(LOST, None), "connection closed: connection closed by the server"),
]


@pytest.mark.parametrize("make, message", REFUSALS)
def test_refusals_say_why(make: Callable[[], ConnectionState], message: str) -> None:
    refusal = make().refusal()
    assert refusal is not None and refusal.message == message
