"""What :class:`~.client.Client` and :class:`~.aio.AsyncClient` have alike: the address, the
auth token (never shown), the connection options, how a request is prepared, and the streaming
methods of ``ImageGeneration`` (each client makes its own kind of stream)."""

from __future__ import annotations

import os
from typing import Any, Generic, Iterable, Optional, Tuple, Type, TypeVar, Union

from google.protobuf.message import Message

from . import _requests
from ._calls import Prepared, prepare
from ._framing import DEFAULT_MAX_FRAME_BYTES
from ._requests import Request
from .proto import generation_pb2
from .storyboard import StoryboardSource

__all__ = ["ClientBase", "parse_address"]

Self = TypeVar("Self", bound="ClientBase[Any]")
#: The client's stream of ``ProgressEvent``: ``ResponseStream`` or ``AsyncResponseStream``.
EventStream = TypeVar("EventStream")


def parse_address(address: str) -> Tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) as ``(host, port)``; ValueError otherwise."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class ClientBase(Generic[EventStream]):
    """The settings of a client; the token defaults to ``IMAGEGEN_AUTH_TOKEN``."""

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
        self._set_up()

    def _set_up(self) -> None:
        """The client's own state (the thread client connects here)."""

    def _events(self, request: Request[generation_pb2.ProgressEvent], timeout: Optional[float]) -> EventStream:
        raise NotImplementedError

    @classmethod
    def from_address(cls: Type[Self], address: str, token: Optional[str] = None, **options: Any) -> Self:
        """A client for ``HOST:PORT`` (IPv6 hosts in brackets)."""
        host, port = parse_address(address)
        return cls(host, port, token, **options)

    def __repr__(self) -> str:
        auth = "token set" if self.__token else "no token"
        return f"{type(self).__name__}(host={self.host!r}, port={self.port}, {auth})"

    __str__ = __repr__

    @property
    def has_token(self) -> bool:
        """Whether an auth token is sent with every call."""
        return self.__token is not None

    def _prepare(self, request: Union[Message, bytes], timeout: Optional[float]) -> Prepared:
        return prepare(request, timeout, self.__token)

    # ---- imagegen.v1.ImageGeneration: the streams ------------------------------------------

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
        delivery: Optional[str] = None,
        batch_deadline_seconds: float = 0.0,
    ) -> EventStream:
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
            delivery: ``"online"``, ``"batch"`` or ``"auto"`` for every style of this job; None
                keeps each style's configured delivery.
            batch_deadline_seconds: this job's batches must be done this long after it started;
                0 keeps each style's ``batchDeadlineSeconds``.

        Returns:
            the job's :class:`ProgressEvent` stream (``ResponseStream``, or ``AsyncResponseStream``
            whose call starts when iterated). Cancelling the stream only detaches.

        Raises:
            StoryboardError: before anything is sent, when the storyboard does not validate.
            ValueError: before anything is sent, for an unknown ``delivery`` or a negative,
                infinite or NaN ``batch_deadline_seconds``.
        """
        request = _requests.start_generation(
            project_dir, storyboard, styles, force, max_concurrency, detach, request_id, delivery,
            batch_deadline_seconds)
        return self._events(request, timeout)

    def watch(self, job_id: str, after_seq: int = 0, timeout: Optional[float] = None) -> EventStream:
        """``WatchJob``: replays a job's events with ``seq > after_seq``, then follows it live.

        ``after_seq=0`` replays the job's current run from its start. Seqs increase by 1 within a
        run of the server; a job resumed after a server restart goes on with higher seqs, and an
        ``after_seq`` from before the restart fails with ``OUT_OF_RANGE`` (the message names the
        ``after_seq`` to use).
        """
        return self._events(_requests.watch(job_id, after_seq), timeout)
