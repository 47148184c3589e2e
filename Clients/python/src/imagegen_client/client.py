"""The imagegen client: generic unary and server-streaming calls, and typed methods for
``imagegen.v1.Health`` and ``imagegen.v1.ImageGeneration``."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List, Optional, Type, Union

from google.protobuf.message import Message

from . import _requests
from ._base import ClientBase, parse_address
from ._calls import DEADLINE_GRACE, M, StreamCore, UnaryCore, deadline, deadline_error
from ._reattach import DEFAULT_WINDOW, Reattach
from ._requests import GENERATION_SERVICE, HEALTH_CHECK, Methods, Request
from ._transport import Call, CallTimeout, Status, Transport
from .errors import RpcError, StatusCode
from .proto import generation_pb2

ProgressEvent = generation_pb2.ProgressEvent

__all__ = ["Client", "ResponseStream", "DEADLINE_GRACE", "HEALTH_CHECK", "GENERATION_SERVICE", "Methods",
           "parse_address"]


def _receive(call: Call, deadline_at: Optional[float], timeout: Optional[float]) -> Union[bytes, Status]:
    """The next event of ``call``; past the deadline, cancels it and raises DEADLINE_EXCEEDED."""
    try:
        return call.receive(deadline_at)
    except CallTimeout:
        error = deadline_error(timeout)
        call.cancel(error.code, error.message)
        raise error from None


class ResponseStream(StreamCore[M], Iterator[M]):
    """The responses of a server-streaming call, as an iterator.

    Iteration ends normally when the call ends OK and raises :class:`RpcError` when it ends with
    another status. :meth:`cancel` (or :meth:`close`, leaving a ``with`` block, or dropping the
    last reference before the end) sends ``cancel`` to the server. Meant for one consuming thread;
    :meth:`cancel` may be called from any thread.
    """

    def __init__(self, call: Call, response_type: Type[M], timeout: Optional[float]) -> None:
        super().__init__(call.method, response_type, timeout)
        self._call = call

    def __iter__(self) -> "ResponseStream[M]":
        return self

    def __next__(self) -> M:
        if self._should_stop():
            raise StopIteration
        try:
            event = _receive(self._call, self._deadline, self._timeout)
        except RpcError as error:
            raise self._failed(error)
        except BaseException:  # KeyboardInterrupt while waiting: stop the call
            self.cancel()
            raise
        message = self._message(self._call, event)
        if message is None:
            raise StopIteration
        return message

    def cancel(self) -> bool:
        """Cancels the call (sends ``cancel``) unless it has ended; the next :meth:`__next__` then
        raises :class:`RpcError` CANCELLED. Returns whether the call was still open."""
        if self.done or not self._call.cancel():
            return False  # it ended already: its final status is queued for __next__
        self._cancelled()
        return True

    def close(self) -> None:
        """Like a generator's ``close()``: cancels the call if it is open; iteration then stops."""
        self.cancel()
        self._closed()

    def __enter__(self) -> "ResponseStream[M]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self.done:
                self._call.abandon()  # never blocks: the garbage collector may run anywhere
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<ResponseStream {self.method} call {self._call.call_id} {self.phase.value}>"


class Client(ClientBase[ResponseStream[generation_pb2.ProgressEvent]]):
    """A client of an imagegen server over one multiplexed TCP connection.

    Thread-safe: share one client between threads; calls run concurrently on the connection.
    When the connection drops (or the server sends goaway), the open calls fail UNAVAILABLE and
    the next call connects again.

    Args:
        host, port: the server address.
        token: the server's auth token; defaults to ``IMAGEGEN_AUTH_TOKEN`` from the environment.
            Sent as ``authorization: Bearer <token>``; never shown by ``repr``.
        connect_timeout: seconds to wait for the TCP connection.
        max_frame_bytes: the largest frame accepted from the server (16 MiB by default).

    Raises:
        RpcError: UNAVAILABLE when the server cannot be reached.
    """

    def _set_up(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._transport: Optional[Transport] = self._connect()

    def _connect(self) -> Transport:
        return Transport(self.host, self.port, connect_timeout=self.connect_timeout,
                         max_frame_bytes=self.max_frame_bytes)

    @property
    def connection(self) -> Transport:
        """The current connection, connecting again if the last one ended or received goaway.

        Raises:
            RpcError: UNAVAILABLE if the client is closed or the server cannot be reached.
        """
        with self._lock:
            if self._closed:
                raise RpcError(StatusCode.UNAVAILABLE, "the client is closed")
            transport = self._transport
            if transport is None or not transport.usable:
                if transport is not None and (transport.closed or transport.goaway_reason is None):
                    transport.close()
                # a transport after goaway stays open for its running calls; it closes itself
                # when the server closes the connection
                self._transport = transport = self._connect()
            return transport

    def close(self) -> None:
        """Closes the connection; open calls end with UNAVAILABLE."""
        with self._lock:
            self._closed = True
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Round trip of a ``ping``/``pong`` on the connection, in seconds."""
        return self.connection.ping(timeout)

    # ---- generic calls ---------------------------------------------------------------------

    def _start(self, method: str, request: Union[Message, bytes], timeout: Optional[float]) -> Call:
        prepared = self._prepare(request, timeout)
        return self.connection.start_call(
            method, prepared.request, timeout_ms=prepared.timeout_ms, metadata=prepared.metadata)

    def unary(
        self,
        method: str,
        request: Union[Message, bytes],
        response_type: Type[M],
        timeout: Optional[float] = None,
    ) -> M:
        """Calls a unary method (``package.Service/Method``) and returns its response.

        ``timeout`` in seconds is sent to the server (``timeout_ms``) and enforced locally too,
        with a grace of :data:`DEADLINE_GRACE`.

        Raises:
            RpcError: the call's status when it is not OK.
        """
        call = self._start(method, request, timeout)
        deadline_at = deadline(timeout)
        core = UnaryCore(method, response_type)
        try:
            while True:
                response = core.take(_receive(call, deadline_at, timeout))
                if response is not None:
                    return response
        except BaseException:
            call.cancel()  # a no-op when the call has ended; stops it on KeyboardInterrupt
            raise

    def server_stream(
        self,
        method: str,
        request: Union[Message, bytes],
        response_type: Type[M],
        timeout: Optional[float] = None,
    ) -> ResponseStream[M]:
        """Starts a server-streaming call and returns its responses as a :class:`ResponseStream`.

        The call starts at once; errors (including UNIMPLEMENTED) are raised while iterating.
        ``timeout`` bounds the whole stream.
        """
        return ResponseStream(self._start(method, request, timeout), response_type, timeout)

    def _unary(self, request: Request[M], timeout: Optional[float]) -> M:
        return self.unary(request.method, request.message, request.response_type, timeout)

    def _events(self, request: Request[ProgressEvent], timeout: Optional[float]) -> ResponseStream[ProgressEvent]:
        return self.server_stream(request.method, request.message, request.response_type, timeout)

    def follow(self, job_id: str, after_seq: int = 0, reattach_for: float = DEFAULT_WINDOW) -> Iterator[ProgressEvent]:
        """Yields job ``job_id``'s events after ``after_seq`` through its final (``finished``) one,
        watching again after the last event yielded when the stream is cut off (RESOURCE_EXHAUSTED;
        at once when an event came since the last watch, else waited out as an outage) or the
        server answers UNAVAILABLE (the job's run moved to another server of the same
        coordination database, or the server was briefly away; the next call connects again),
        with waits from 0.25 s to 4 s, for at most ``reattach_for`` seconds of outage. A seq of an
        earlier run of the job (before a server restart or a take-over; the job goes on with higher
        seqs) is followed from the current run's start.

        Raises:
            RpcError: any other status; UNAVAILABLE (or RESOURCE_EXHAUSTED) once an outage
                outlasts ``reattach_for``.
        """
        state = Reattach(job_id, after_seq, reattach_for)
        while True:
            try:
                with self.watch(state.job_id, state.after_seq) as stream:
                    for event in stream:
                        final = state.seen(event)
                        yield event
                        if final:
                            return
                return
            except RpcError as error:
                if state.may_rewind(error):
                    try:
                        last_seq = (self.get_status(job_id=state.job_id)).last_seq
                    except RpcError as status_error:
                        time.sleep(state.delay_after(status_error))
                        continue
                    if not state.rewinds(error, last_seq):
                        raise
                    continue
                time.sleep(state.delay_after(error))

    # ---- imagegen.v1.Health ----------------------------------------------------------------

    def health(self, service: str = "", timeout: Optional[float] = 10.0) -> int:
        """``Health/Check``: the serving status (``HealthCheckResponse.SERVING`` = 1,
        ``NOT_SERVING`` = 2) of the server (``service`` empty) or of a service by name."""
        return int(self._unary(_requests.health(service), timeout).status)

    # ---- imagegen.v1.ImageGeneration (start_generation and watch: ClientBase) -------------

    def get_status(
        self,
        job_id: Optional[str] = None,
        project_dir: Optional[str] = None,
        include_beats: bool = False,
        timeout: Optional[float] = 30.0,
    ) -> generation_pb2.JobStatus:
        """``GetStatus``: the status of a job, or of a project (from its files when no job runs).
        Give exactly one of ``job_id`` and ``project_dir``. ``coordination_problem`` is set while
        the answering server cannot coordinate (no request of its jobs starts meanwhile)."""
        return self._unary(_requests.get_status(job_id, project_dir, include_beats), timeout)

    def cancel(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``CancelGeneration``: stops a job; returns its status."""
        return self._unary(_requests.job(Methods.CANCEL_GENERATION, job_id), timeout)

    def pause(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``PauseGeneration``: pauses a job (requests in flight finish); returns its status."""
        return self._unary(_requests.job(Methods.PAUSE_GENERATION, job_id), timeout)

    def resume(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``ResumeGeneration``: resumes a paused job; returns its status."""
        return self._unary(_requests.job(Methods.RESUME_GENERATION, job_id), timeout)

    def list_jobs(self, timeout: Optional[float] = 30.0) -> List[generation_pb2.JobStatus]:
        """``ListJobs``: the status of every job the server knows."""
        return list(self._unary(_requests.list_jobs(), timeout).jobs)

    def list_servers(self, timeout: Optional[float] = 30.0) -> generation_pb2.ListServersResponse:
        """``ListServers``: the servers sharing the coordination database (the answering one
        first), each with the jobs it leases; ``coordinated`` is false when it has no database, and
        ``coordination_problem`` (as in ``JobStatus``) says why it cannot coordinate now, if it cannot."""
        return self._unary(_requests.list_servers(), timeout)
