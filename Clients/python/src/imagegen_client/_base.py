"""What :class:`~.client.Client` and :class:`~.aio.AsyncClient` hold alike: the address, the
auth token (never shown), the connection options, and how a request is prepared."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Type, TypeVar, Union

from google.protobuf.message import Message

from ._calls import Prepared, prepare
from ._framing import DEFAULT_MAX_FRAME_BYTES

__all__ = ["ClientBase", "parse_address"]

Self = TypeVar("Self", bound="ClientBase")


def parse_address(address: str) -> Tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) as ``(host, port)``; ValueError otherwise."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class ClientBase:
    """The settings of a client; the token defaults to ``IMAGEGEN_AUTH_TOKEN``."""

    def __init__(
        self,
        host: str,
        port: int,
        token: Optional[str],
        connect_timeout: Optional[float],
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self.host = host
        self.port = int(port)
        if token is None:
            token = os.environ.get("IMAGEGEN_AUTH_TOKEN") or None
        self.__token = token or None
        self.connect_timeout = connect_timeout
        self.max_frame_bytes = max_frame_bytes

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
