"""How ``follow`` watches a job again: after the last event seen when the stream is cut off
(RESOURCE_EXHAUSTED: the watcher fell behind; at once when an event came since the last watch)
or the server answers UNAVAILABLE (the job's run moved to another server, which takes it over
within a lease, or the server was briefly away), with waits growing from 0.25 s to 4 s, for at
most ``window`` seconds of outage. RESOURCE_EXHAUSTED with no event since the last watch (the
server refuses the connection or watcher for a limit of its own) is waited out the same way. A seq of an
earlier run of the job (before a restart or a take-over) is answered OUT_OF_RANGE: the current
run is then followed from its start."""

from __future__ import annotations

import time
from typing import Optional

from .errors import RpcError, StatusCode
from .proto import generation_pb2

FIRST_DELAY = 0.25
LONGEST_DELAY = 4.0
#: The longest outage followed by default: the default lease (15 s) and a heartbeat, many times over.
DEFAULT_WINDOW = 120.0


class Reattach:
    """The state of one ``follow``: the job, the last seq seen, and the current outage."""

    def __init__(self, job_id: str, after_seq: int, window: float) -> None:
        if not job_id:
            raise ValueError("follow needs a job id")
        if not window >= 0 or window == float("inf"):
            raise ValueError(f"reattach_for must be a finite number of seconds >= 0, got {window!r}")
        self.job_id = job_id
        self.after_seq = after_seq
        self.window = window
        self._outage_start: Optional[float] = None
        self._next_delay = FIRST_DELAY
        # the seq watched from may be of an earlier run: the one asked for, until an event is
        # seen, and each one watched from again after an outage (the run may have moved)
        self._may_rewind = after_seq > 0
        # whether an event came since the last watch: falling behind again is then progress
        self._progressed = False

    def seen(self, event: generation_pb2.ProgressEvent) -> bool:
        """Records ``event``; True when it is the job's final event."""
        self.after_seq = max(self.after_seq, event.seq)
        self._may_rewind = False
        self._progressed = True
        self._outage_start = None
        self._next_delay = FIRST_DELAY
        return event.HasField("finished")

    def delay_after(self, error: RpcError) -> float:
        """Seconds to wait before watching again after ``error``; re-raises it when it is not one
        to watch again after, or once the outage has lasted the whole window."""
        progressed, self._progressed = self._progressed, False
        if error.code == StatusCode.RESOURCE_EXHAUSTED and progressed:
            return 0.0
        if error.code not in (StatusCode.UNAVAILABLE, StatusCode.RESOURCE_EXHAUSTED):
            raise error
        now = time.monotonic()
        if self._outage_start is None:
            self._outage_start = now
        if now - self._outage_start >= self.window:
            raise RpcError(
                error.code,
                f"{error.message} (job {self.job_id} still {_name(error.code)} after watching it again for {self.window:g} s)")
        delay = self._next_delay
        self._next_delay = min(self._next_delay * 2, LONGEST_DELAY)
        self._may_rewind = self.after_seq > 0
        return delay

    def rewinds(self, error: RpcError, last_seq: int) -> bool:
        """After OUT_OF_RANGE for a seq that may be of an earlier run, and the job's ``last_seq``
        now (from GetStatus): True (watch from the current run's start) unless the seq is beyond
        the job's events."""
        if error.code != StatusCode.OUT_OF_RANGE or not self._may_rewind or self.after_seq >= last_seq:
            return False
        self._may_rewind = False
        self.after_seq = 0
        return True

    def may_rewind(self, error: RpcError) -> bool:
        """Whether ``error`` may be answered by following the current run from its start (then
        ask GetStatus and :meth:`rewinds`)."""
        return error.code == StatusCode.OUT_OF_RANGE and self._may_rewind


def _name(code: StatusCode) -> str:
    return "unavailable" if code == StatusCode.UNAVAILABLE else "refused"
