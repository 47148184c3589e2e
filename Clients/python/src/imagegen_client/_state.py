"""The life of a connection, as a state machine: a :class:`Phase` names each state, and each state
holds what is known and valid in it (the goaway reason, the server's connection-level error, the
error that closed it). Transitions are methods that return the next state; nothing here does I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Optional, Union

from .errors import RpcError, StatusCode

__all__ = ["Phase", "Open", "Draining", "Failed", "Broken", "Closed", "ConnectionState"]


class Phase(enum.Enum):
    """The name of a connection's state."""

    OPEN = "open"          #: calls may start
    DRAINING = "goaway"    #: the server sent goaway: running calls go on, no new ones
    FAILED = "failed"      #: the server sent a connection-level status: every call ended with it
    BROKEN = "broken"      #: a write failed: nothing more is written; the reader ends the connection
    CLOSED = "closed"      #: ended, by either side or lost


@dataclass(frozen=True)
class _Base:
    """What every state answers; the subclasses override what differs."""

    phase: ClassVar[Phase]

    @property
    def goaway(self) -> Optional[str]:
        """The reason of the server's goaway, if it sent one."""
        return None

    @property
    def fatal(self) -> Optional[RpcError]:
        """The connection-level status the server ended the calls with, if it sent one."""
        return None

    @property
    def writable(self) -> bool:
        """Whether frames may still be written."""
        return True

    def refusal(self) -> Optional[RpcError]:
        """Why no call may start now (UNAVAILABLE), or None when one may."""
        return None

    def with_goaway(self, reason: str) -> "ConnectionState":
        return Draining(reason)

    def with_fatal(self, error: RpcError) -> "ConnectionState":
        return Failed(error, self.goaway)

    def with_write_failure(self) -> "ConnectionState":
        return Broken(self.fatal, self.goaway)

    def closed(self, error: RpcError) -> "Closed":
        """The end, with ``error`` for the open calls unless the server said why first."""
        fatal = self.fatal
        if fatal is not None:
            error = RpcError(StatusCode.UNAVAILABLE, f"{fatal.code.name}: {fatal.message}")
        return Closed(error, self.goaway)


class _KeepsGoaway(_Base):
    """A state reached from any other: it keeps the goaway reason, if the server sent one."""

    goaway_reason: Optional[str]

    @property
    def goaway(self) -> Optional[str]:
        return self.goaway_reason


@dataclass(frozen=True)
class Open(_Base):
    """Connected; calls may start."""

    phase: ClassVar[Phase] = Phase.OPEN


@dataclass(frozen=True)
class Draining(_Base):
    """The server sent goaway: the running calls go on; a new call needs a new connection."""

    phase: ClassVar[Phase] = Phase.DRAINING
    reason: str

    @property
    def goaway(self) -> Optional[str]:
        return self.reason

    def refusal(self) -> Optional[RpcError]:
        shown = f" ({self.reason})" if self.reason else ""
        return RpcError(StatusCode.UNAVAILABLE, f"the server sent goaway{shown}: no new calls on this connection")


@dataclass(frozen=True)
class Failed(_KeepsGoaway):
    """The server sent a connection-level status (call id 0): every call ended with ``error``."""

    phase: ClassVar[Phase] = Phase.FAILED
    error: RpcError
    goaway_reason: Optional[str]

    @property
    def fatal(self) -> Optional[RpcError]:
        return self.error

    def refusal(self) -> Optional[RpcError]:
        return RpcError(StatusCode.UNAVAILABLE, f"connection closed: {self.error.code.name}: {self.error.message}")

    def with_goaway(self, reason: str) -> "ConnectionState":
        return Failed(self.error, reason)

    def with_fatal(self, error: RpcError) -> "ConnectionState":
        return self  # the first one says why


@dataclass(frozen=True)
class Broken(_KeepsGoaway):
    """A write failed, perhaps in the middle of a frame: nothing more may be written. The reader
    ends the connection once it has read what the server sent (perhaps a status that says why)."""

    phase: ClassVar[Phase] = Phase.BROKEN
    fatal_error: Optional[RpcError]
    goaway_reason: Optional[str]

    @property
    def fatal(self) -> Optional[RpcError]:
        return self.fatal_error

    @property
    def writable(self) -> bool:
        return False

    def refusal(self) -> Optional[RpcError]:
        return RpcError(StatusCode.UNAVAILABLE, "connection lost: a write to the server failed")

    def with_goaway(self, reason: str) -> "ConnectionState":
        return Broken(self.fatal_error, reason)

    def with_fatal(self, error: RpcError) -> "ConnectionState":
        return self if self.fatal_error is not None else Broken(error, self.goaway_reason)

    def with_write_failure(self) -> "ConnectionState":
        return self


@dataclass(frozen=True)
class Closed(_KeepsGoaway):
    """Ended: every call ended with ``error``; nothing is read or written any more."""

    phase: ClassVar[Phase] = Phase.CLOSED
    error: RpcError
    goaway_reason: Optional[str]

    @property
    def writable(self) -> bool:
        return False

    def refusal(self) -> Optional[RpcError]:
        return RpcError(StatusCode.UNAVAILABLE, f"connection closed: {self.error.message}")

    def with_goaway(self, reason: str) -> "ConnectionState":
        return self

    def with_fatal(self, error: RpcError) -> "ConnectionState":
        return self

    def with_write_failure(self) -> "ConnectionState":
        return self

    def closed(self, error: RpcError) -> "Closed":
        return self


ConnectionState = Union[Open, Draining, Failed, Broken, Closed]
