"""Status codes and the exception every failed call raises."""

from __future__ import annotations

import enum
from typing import Tuple, Union

__all__ = ["StatusCode", "RpcError", "StoryboardError", "status_code"]


class StatusCode(enum.IntEnum):
    """gRPC's status codes, with gRPC's numbers and names (see Proto/README.md)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


def status_code(value: int) -> StatusCode:
    """Maps a numeric code from the wire to a :class:`StatusCode`; unknown numbers map to UNKNOWN."""
    try:
        return StatusCode(value)
    except ValueError:
        return StatusCode.UNKNOWN


class RpcError(Exception):
    """A call ended with a status other than OK (from the server, or decided by the client:
    a dropped connection is UNAVAILABLE, a local deadline DEADLINE_EXCEEDED).

    Attributes:
        code: the :class:`StatusCode`.
        message: the UTF-8 text that explains it, for people.
    """

    def __init__(self, code: Union[StatusCode, int], message: str = "") -> None:
        self.code: StatusCode = code if isinstance(code, StatusCode) else status_code(int(code))
        self.message: str = message
        super().__init__(self.code, message)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}" if self.message else self.code.name

    def __repr__(self) -> str:
        return f"RpcError({self.code.name}, {self.message!r})"

    def __reduce__(self) -> Tuple[type, Tuple[int, str]]:  # keep pickling (e.g. across processes) working
        return (type(self), (int(self.code), self.message))


class StoryboardError(ValueError):
    """A storyboard does not validate; the message names the shot and beat, e.g.
    ``shot 2, beat 2.3: prompt is empty``."""
