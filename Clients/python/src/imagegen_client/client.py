"""The imagegen client: generic unary and server-streaming calls, and typed methods for
``imagegen.v1.Health`` and ``imagegen.v1.ImageGeneration``."""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Generic, Iterable, Iterator, List, Optional, Type, TypeVar, Union

from google.protobuf.message import DecodeError, Message

from ._transport import DEFAULT_MAX_FRAME_BYTES, Call, CallTimeout, Status, Transport
from .errors import RpcError, StatusCode
from .proto import generation_pb2, health_pb2
from .storyboard import StoryboardSource, load_storyboard

__all__ = ["Client", "ResponseStream", "DEADLINE_GRACE", "HEALTH_CHECK", "GENERATION_SERVICE", "Methods"]

M = TypeVar("M", bound=Message)

#: Seconds the client waits past a call's timeout for the server's DEADLINE_EXCEEDED before it
#: gives up locally (and cancels the call).
DEADLINE_GRACE = 0.5

HEALTH_CHECK = "imagegen.v1.Health/Check"
GENERATION_SERVICE = "imagegen.v1.ImageGeneration"


class Methods:
    """Full method names of ``imagegen.v1.ImageGeneration``."""

    START_GENERATION = f"{GENERATION_SERVICE}/StartGeneration"
    WATCH_JOB = f"{GENERATION_SERVICE}/WatchJob"
    GET_STATUS = f"{GENERATION_SERVICE}/GetStatus"
    CANCEL_GENERATION = f"{GENERATION_SERVICE}/CancelGeneration"
    PAUSE_GENERATION = f"{GENERATION_SERVICE}/PauseGeneration"
    RESUME_GENERATION = f"{GENERATION_SERVICE}/ResumeGeneration"
    LIST_JOBS = f"{GENERATION_SERVICE}/ListJobs"

    ALL = (START_GENERATION, WATCH_JOB, GET_STATUS, CANCEL_GENERATION, PAUSE_GENERATION,
           RESUME_GENERATION, LIST_JOBS)


def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else time.monotonic() + timeout + DEADLINE_GRACE


def _receive(call: Call, deadline: Optional[float], timeout: Optional[float]) -> Union[bytes, Status]:
    """The next event of ``call``; past the deadline, cancels it and raises DEADLINE_EXCEEDED."""
    try:
        return call.receive(deadline)
    except CallTimeout:
        message = f"deadline of {timeout:g} s exceeded (no answer from the server)"
        call.cancel(StatusCode.DEADLINE_EXCEEDED, message)
        raise RpcError(StatusCode.DEADLINE_EXCEEDED, message) from None


def _decode(response_type: Type[M], data: bytes, method: str) -> M:
    try:
        return response_type.FromString(data)
    except DecodeError as error:
        raise RpcError(
            StatusCode.INTERNAL,
            f"{method}: the response does not decode as {response_type.DESCRIPTOR.full_name}: {error}") from None


class ResponseStream(Generic[M], Iterator[M]):
    """The responses of a server-streaming call, as an iterator.

    Iteration ends normally when the call ends OK and raises :class:`RpcError` when it ends with
    another status. :meth:`cancel` (or :meth:`close`, leaving a ``with`` block, or dropping the
    last reference before the end) sends ``cancel`` to the server. Meant for one consuming thread;
    :meth:`cancel` may be called from any thread.
    """

    def __init__(self, call: Call, response_type: Type[M], timeout: Optional[float]) -> None:
        self._call = call
        self._response_type = response_type
        self._timeout = timeout
        self._deadline = _deadline(timeout)
        self._done = False
        self._closed = False
        self.status: Optional[Status] = None
        """The final status once the stream has ended (OK or not)."""

    @property
    def method(self) -> str:
        """The full method name."""
        return self._call.method

    @property
    def done(self) -> bool:
        """True once the call has ended (or was cancelled or closed)."""
        return self._done

    def __iter__(self) -> "ResponseStream[M]":
        return self

    def __next__(self) -> M:
        if self._closed:
            raise StopIteration
        if self._done and self.status is not None:
            if self.status.code == StatusCode.OK:
                raise StopIteration
            raise self.status.error()
        try:
            event = _receive(self._call, self._deadline, self._timeout)
        except RpcError as error:
            self._done = True
            self.status = Status(error.code, error.message)
            raise
        except BaseException:  # KeyboardInterrupt while waiting: stop the call
            self.cancel()
            raise
        if isinstance(event, bytes):
            try:
                return _decode(self._response_type, event, self._call.method)
            except RpcError as error:
                self._call.cancel(error.code, error.message)
                self._done = True
                self.status = Status(error.code, error.message)
                raise
        self._done = True
        self.status = event
        if event.code == StatusCode.OK:
            raise StopIteration
        raise event.error()

    def cancel(self) -> bool:
        """Cancels the call (sends ``cancel``) unless it has ended; the next :meth:`__next__` then
        raises :class:`RpcError` CANCELLED. Returns whether the call was still open."""
        if self._done:
            return False
        if not self._call.cancel():
            return False  # it ended already: its final status is queued for __next__
        self._done = True
        self.status = Status(StatusCode.CANCELLED, "cancelled by the client")
        return True

    def close(self) -> None:
        """Like a generator's ``close()``: cancels the call if it is open; iteration then stops."""
        self.cancel()
        self._closed = True

    def __enter__(self) -> "ResponseStream[M]":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._done:
                self._call.abandon()  # never blocks: the garbage collector may run anywhere
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "done" if self._done else "open"
        return f"<ResponseStream {self._call.method} call {self._call.call_id} {state}>"


class Client:
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

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7420,
        token: Optional[str] = None,
        *,
        connect_timeout: Optional[float] = 10.0,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self.host = host
        self.port = int(port)
        if token is None:
            token = os.environ.get("IMAGEGEN_AUTH_TOKEN") or None
        self.__token = token or None
        self.connect_timeout = connect_timeout
        self.max_frame_bytes = max_frame_bytes
        self._lock = threading.Lock()
        self._closed = False
        self._transport: Optional[Transport] = self._connect()

    @classmethod
    def from_address(cls, address: str, token: Optional[str] = None, **options: object) -> "Client":
        """A client for ``HOST:PORT`` (IPv6 hosts in brackets)."""
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected HOST:PORT, got {address!r}")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return cls(host, int(port), token, **options)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        auth = "token set" if self.__token else "no token"
        return f"Client(host={self.host!r}, port={self.port}, {auth})"

    __str__ = __repr__

    @property
    def has_token(self) -> bool:
        """Whether an auth token is sent with every call."""
        return self.__token is not None

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
        if timeout is not None and timeout <= 0:
            raise RpcError(StatusCode.DEADLINE_EXCEEDED, f"deadline of {timeout:g} s exceeded before the call started")
        data = request if isinstance(request, (bytes, bytearray)) else request.SerializeToString()
        timeout_ms = 0 if timeout is None else max(1, min(0xFFFFFFFF, math.ceil(timeout * 1000)))
        metadata = {"authorization": f"Bearer {self.__token}"} if self.__token else None
        return self.connection.start_call(method, bytes(data), timeout_ms=timeout_ms, metadata=metadata)

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
        deadline = _deadline(timeout)
        response: Optional[bytes] = None
        try:
            while True:
                event = _receive(call, deadline, timeout)
                if isinstance(event, bytes):
                    if response is None:
                        response = event
                    continue
                if event.code != StatusCode.OK:
                    raise event.error()
                if response is None:
                    raise RpcError(StatusCode.INTERNAL, f"{method}: the server ended the call OK without a response")
                return _decode(response_type, response, method)
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

    # ---- imagegen.v1.Health ----------------------------------------------------------------

    def health(self, service: str = "", timeout: Optional[float] = 10.0) -> int:
        """``Health/Check``: the serving status (``HealthCheckResponse.SERVING`` = 1,
        ``NOT_SERVING`` = 2) of the server (``service`` empty) or of a service by name."""
        request = health_pb2.HealthCheckRequest(service=service)
        return int(self.unary(HEALTH_CHECK, request, health_pb2.HealthCheckResponse, timeout).status)

    # ---- imagegen.v1.ImageGeneration -------------------------------------------------------

    def start_generation(
        self,
        project_dir: str,
        storyboard: Optional[StoryboardSource] = None,
        styles: Iterable[str] = (),
        force: bool = False,
        max_concurrency: int = 0,
        detach: bool = False,
        request_id: str = "",
        timeout: Optional[float] = None,
    ) -> ResponseStream[generation_pb2.ProgressEvent]:
        """``StartGeneration``: starts (or attaches to) the job rendering a project's storyboard.

        Args:
            project_dir: the project, relative to or inside the server's projects root.
            storyboard: a ``Storyboard`` message, a dict in the JSON form or the path of a JSON
                file (validated with :func:`load_storyboard` before sending); None lets the
                server read ``storyboard.json`` in the project.
            styles: the styles to render; empty for every configured style.
            force: regenerate beats whose images are done and current.
            max_concurrency: cap on requests in flight per style; 0 for the server's default.
            detach: the stream ends OK after the first (accepted) event; the job keeps running.
            request_id: an optional idempotency key.

        Returns:
            the job's :class:`ProgressEvent` stream. Cancelling the stream only detaches.

        Raises:
            StoryboardError: before anything is sent, when the storyboard does not validate.
        """
        request = generation_pb2.StartGenerationRequest(
            project_dir=os.fspath(project_dir), detach=detach, request_id=request_id)
        if storyboard is not None:
            request.storyboard.CopyFrom(load_storyboard(storyboard))
        if isinstance(styles, str):
            styles = [styles]
        request.styles.extend(styles)
        request.options.force = force
        request.options.max_concurrency = max_concurrency
        return self.server_stream(Methods.START_GENERATION, request, generation_pb2.ProgressEvent, timeout)

    def watch(
        self, job_id: str, after_seq: int = 0, timeout: Optional[float] = None
    ) -> ResponseStream[generation_pb2.ProgressEvent]:
        """``WatchJob``: replays a job's events with ``seq > after_seq``, then follows it live.

        ``after_seq=0`` replays the job's current run from its start. Seqs increase by 1 within a
        run of the server; a job resumed after a server restart goes on with higher seqs, and an
        ``after_seq`` from before the restart fails with ``OUT_OF_RANGE`` (the message names the
        ``after_seq`` to use).
        """
        request = generation_pb2.WatchJobRequest(job_id=job_id, after_seq=after_seq)
        return self.server_stream(Methods.WATCH_JOB, request, generation_pb2.ProgressEvent, timeout)

    def get_status(
        self,
        job_id: Optional[str] = None,
        project_dir: Optional[str] = None,
        include_beats: bool = False,
        timeout: Optional[float] = 30.0,
    ) -> generation_pb2.JobStatus:
        """``GetStatus``: the status of a job, or of a project (from its files when no job runs).
        Give exactly one of ``job_id`` and ``project_dir``."""
        if (job_id is None) == (project_dir is None):
            raise ValueError("give exactly one of job_id and project_dir")
        request = generation_pb2.GetStatusRequest(include_beats=include_beats)
        if job_id is not None:
            request.job_id = job_id
        else:
            request.project_dir = os.fspath(project_dir)  # type: ignore[arg-type]
        return self.unary(Methods.GET_STATUS, request, generation_pb2.JobStatus, timeout)

    def cancel(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``CancelGeneration``: stops a job; returns its status."""
        return self.unary(Methods.CANCEL_GENERATION, generation_pb2.JobRequest(job_id=job_id),
                          generation_pb2.JobStatus, timeout)

    def pause(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``PauseGeneration``: pauses a job (requests in flight finish); returns its status."""
        return self.unary(Methods.PAUSE_GENERATION, generation_pb2.JobRequest(job_id=job_id),
                          generation_pb2.JobStatus, timeout)

    def resume(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``ResumeGeneration``: resumes a paused job; returns its status."""
        return self.unary(Methods.RESUME_GENERATION, generation_pb2.JobRequest(job_id=job_id),
                          generation_pb2.JobStatus, timeout)

    def list_jobs(self, timeout: Optional[float] = 30.0) -> List[generation_pb2.JobStatus]:
        """``ListJobs``: the status of every job the server knows."""
        response = self.unary(Methods.LIST_JOBS, generation_pb2.ListJobsRequest(),
                              generation_pb2.ListJobsResponse, timeout)
        return list(response.jobs)
