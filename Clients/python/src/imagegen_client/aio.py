"""The asyncio client: :class:`AsyncClient`, the twin of :class:`~.client.Client` on an event loop.

>>> async with AsyncClient("127.0.0.1", 7420) as client:
...     async for event in client.start_generation("projects/demo", "storyboard.json"):
...         print(event)

Same methods, arguments, deadlines, token and errors (:class:`~.errors.RpcError` with the same
codes and messages) as the thread-based client; the framing, the connection's state machine and
the requests are the same code (:mod:`._framing`, :mod:`._connection`, :mod:`._requests`).
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, List, Optional, Type, Union

from google.protobuf.message import Message

from . import _requests
from ._async_transport import AsyncCall, AsyncTransport
from ._base import ClientBase
from ._reattach import DEFAULT_WINDOW, Reattach
from ._calls import M, Prepared, StreamCore, UnaryCore, deadline, deadline_error
from ._connection import CallTimeout, Event
from ._requests import Methods, Request
from .errors import RpcError, StatusCode
from .proto import generation_pb2

ProgressEvent = generation_pb2.ProgressEvent

__all__ = ["AsyncClient", "AsyncResponseStream", "AsyncCall", "AsyncTransport"]


async def _receive(call: AsyncCall, deadline_at: Optional[float], timeout: Optional[float]) -> Event:
    """The next event of ``call``; past the deadline, cancels it and raises DEADLINE_EXCEEDED."""
    try:
        return await call.receive(deadline_at)
    except CallTimeout:
        error = deadline_error(timeout)
        call.cancel(error.code, error.message)
        raise error from None


class AsyncResponseStream(StreamCore[M], AsyncIterator[M]):
    """The responses of a server-streaming call, for ``async for``.

    The call starts at the first ``__anext__`` (or on entering ``async with``). Iteration ends
    when the call ends OK and raises :class:`RpcError` otherwise. Cancelling the task that
    iterates, :meth:`cancel`, :meth:`aclose`, leaving ``async with``, or breaking out of
    ``async for`` (dropping the stream) sends ``cancel`` to the server.
    """

    def __init__(
        self, client: "AsyncClient", method: str, prepared: Prepared, response_type: Type[M], timeout: Optional[float],
    ) -> None:
        super().__init__(method, response_type, timeout)
        self._client = client
        self._prepared = prepared
        self._call: Optional[AsyncCall] = None

    async def _started(self) -> AsyncCall:
        if self._call is None:
            transport = await self._client.connection()
            self._call = self._client._open(transport, self.method, self._prepared)
            await transport.drain()
        return self._call

    def __aiter__(self) -> "AsyncResponseStream[M]":
        return self

    async def __anext__(self) -> M:
        if self._should_stop():
            raise StopAsyncIteration
        try:
            call = await self._started()
            event = await _receive(call, self._deadline, self._timeout)
        except RpcError as error:
            raise self._failed(error)
        except BaseException:  # the task was cancelled while waiting: stop the call
            self.cancel()
            raise
        message = self._message(call, event)
        if message is None:
            raise StopAsyncIteration
        return message

    def cancel(self) -> bool:
        """Cancels the call (sends ``cancel``) unless it has ended; the next ``__anext__`` then
        raises :class:`RpcError` CANCELLED. Returns whether the call was still open."""
        if self.done:
            return False
        if self._call is not None and not self._call.cancel():
            return False  # it ended already: its final status is queued for __anext__
        self._cancelled()
        return True

    async def aclose(self) -> None:
        """Cancels the call if it is open; iteration then stops."""
        self.cancel()
        self._closed()

    async def __aenter__(self) -> "AsyncResponseStream[M]":
        try:
            await self._started()
        except RpcError as error:
            raise self._failed(error)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            if not self.done and self._call is not None:
                self._call.abandon()  # the loop sends the cancel: a finalizer may run anywhere
        except Exception:
            pass

    def __repr__(self) -> str:
        call = "not started" if self._call is None else f"call {self._call.call_id}"
        return f"<AsyncResponseStream {self.method} {call} {self.phase.value}>"


class AsyncClient(ClientBase[AsyncResponseStream[generation_pb2.ProgressEvent]]):
    """An asyncio client of an imagegen server over one multiplexed TCP connection.

    Use it from one event loop. It connects on ``async with`` (or :meth:`connect`, or the first
    call); when the connection drops or the server sends goaway, the open calls fail UNAVAILABLE
    and the next call connects again. Arguments as for :class:`~.client.Client`.
    """

    def _set_up(self) -> None:
        self._lock = asyncio.Lock()
        self._closed = False
        self._transport: Optional[AsyncTransport] = None
        self._retired: List[AsyncTransport] = []  # after goaway: open for their running calls

    async def connect(self) -> "AsyncClient":
        """Connects now; raises :class:`RpcError` UNAVAILABLE when the server cannot be reached."""
        await self.connection()
        return self

    async def connection(self) -> AsyncTransport:
        """The current connection, connecting again if the last one ended or received goaway."""
        async with self._lock:
            if self._closed:
                raise RpcError(StatusCode.UNAVAILABLE, "the client is closed")
            transport = self._transport
            if transport is None or not transport.usable:
                if transport is not None:
                    await self._retire(transport)
                self._transport = transport = await AsyncTransport.connect(
                    self.host, self.port, connect_timeout=self.connect_timeout, max_frame_bytes=self.max_frame_bytes)
            return transport

    async def _retire(self, transport: AsyncTransport) -> None:
        self._retired = [old for old in self._retired if not old.closed]
        if transport.closed or transport.goaway_reason is None:
            await transport.aclose()
        else:
            self._retired.append(transport)

    async def aclose(self) -> None:
        """Closes the connections; open calls end with UNAVAILABLE."""
        async with self._lock:
            self._closed = True
            transports = [t for t in (self._transport, *self._retired) if t is not None]
            self._transport, self._retired = None, []
        for transport in transports:
            await transport.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def ping(self, timeout: Optional[float] = 10.0) -> float:
        """Round trip of a ``ping``/``pong`` on the connection, in seconds."""
        return await (await self.connection()).ping(timeout)

    # ---- generic calls ---------------------------------------------------------------------

    def _open(self, transport: AsyncTransport, method: str, prepared: Prepared) -> AsyncCall:
        return transport.open_call(method, prepared.request, timeout_ms=prepared.timeout_ms, metadata=prepared.metadata)

    async def unary(
        self, method: str, request: Union[Message, bytes], response_type: Type[M], timeout: Optional[float] = None,
    ) -> M:
        """Calls a unary method and returns its response; see :meth:`Client.unary`."""
        prepared = self._prepare(request, timeout)
        transport = await self.connection()
        call = self._open(transport, method, prepared)
        deadline_at = deadline(timeout)
        core = UnaryCore(method, response_type)
        try:
            await transport.drain()
            while True:
                response = core.take(await _receive(call, deadline_at, timeout))
                if response is not None:
                    return response
        except BaseException:
            call.cancel()  # a no-op when the call has ended; stops it when the task is cancelled
            raise

    def server_stream(
        self, method: str, request: Union[Message, bytes], response_type: Type[M], timeout: Optional[float] = None,
    ) -> AsyncResponseStream[M]:
        """A server-streaming call as an :class:`AsyncResponseStream`; ``timeout`` bounds the
        whole stream, counted from now."""
        return AsyncResponseStream(self, method, self._prepare(request, timeout), response_type, timeout)

    async def _unary(self, request: Request[M], timeout: Optional[float]) -> M:
        return await self.unary(request.method, request.message, request.response_type, timeout)

    def _events(self, request: Request[ProgressEvent], timeout: Optional[float]) -> AsyncResponseStream[ProgressEvent]:
        return self.server_stream(request.method, request.message, request.response_type, timeout)

    async def follow(
        self, job_id: str, after_seq: int = 0, reattach_for: float = DEFAULT_WINDOW
    ) -> AsyncIterator[ProgressEvent]:
        """Yields job ``job_id``'s events through its final one, watching again after the last
        one yielded on RESOURCE_EXHAUSTED after events (at once) and, for up to ``reattach_for``
        seconds of outage with growing waits, on UNAVAILABLE or RESOURCE_EXHAUSTED before any
        event; see :meth:`Client.follow`."""
        state = Reattach(job_id, after_seq, reattach_for)
        while True:
            try:
                async with self.watch(state.job_id, state.after_seq) as stream:
                    async for event in stream:
                        final = state.seen(event)
                        yield event
                        if final:
                            return
                return
            except RpcError as error:
                if state.may_rewind(error):
                    try:
                        last_seq = (await self.get_status(job_id=state.job_id)).last_seq
                    except RpcError as status_error:
                        await asyncio.sleep(state.delay_after(status_error))
                        continue
                    if not state.rewinds(error, last_seq):
                        raise
                    continue
                await asyncio.sleep(state.delay_after(error))

    # ---- the typed unary methods, as Client's, awaited (the streams: ClientBase) ----------

    async def health(self, service: str = "", timeout: Optional[float] = 10.0) -> int:
        """``Health/Check``: ``SERVING`` (1) or ``NOT_SERVING`` (2); see :meth:`Client.health`."""
        return int((await self._unary(_requests.health(service), timeout)).status)

    async def get_status(
        self,
        job_id: Optional[str] = None,
        project_dir: Optional[str] = None,
        include_beats: bool = False,
        timeout: Optional[float] = 30.0,
    ) -> generation_pb2.JobStatus:
        """``GetStatus`` of a job or a project (exactly one of them); ``coordination_problem`` is
        set while the answering server cannot coordinate."""
        return await self._unary(_requests.get_status(job_id, project_dir, include_beats), timeout)

    async def cancel(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``CancelGeneration``: stops a job; returns its status."""
        return await self._unary(_requests.job(Methods.CANCEL_GENERATION, job_id), timeout)

    async def pause(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``PauseGeneration``: pauses a job; returns its status."""
        return await self._unary(_requests.job(Methods.PAUSE_GENERATION, job_id), timeout)

    async def resume(self, job_id: str, timeout: Optional[float] = 30.0) -> generation_pb2.JobStatus:
        """``ResumeGeneration``: resumes a paused job; returns its status."""
        return await self._unary(_requests.job(Methods.RESUME_GENERATION, job_id), timeout)

    async def list_jobs(self, timeout: Optional[float] = 30.0) -> List[generation_pb2.JobStatus]:
        """``ListJobs``: the status of every job the server knows."""
        return list((await self._unary(_requests.list_jobs(), timeout)).jobs)

    async def list_servers(self, timeout: Optional[float] = 30.0) -> generation_pb2.ListServersResponse:
        """``ListServers``: the servers sharing the coordination database (the answering one
        first), each with the jobs it leases; ``coordinated`` is false when it has no database, and
        ``coordination_problem`` (as in ``JobStatus``) says why it cannot coordinate now, if it cannot."""
        return await self._unary(_requests.list_servers(), timeout)
