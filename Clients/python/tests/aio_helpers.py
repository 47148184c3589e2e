"""Helpers for the asyncio client's tests: each test runs its coroutine on a new event loop."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Coroutine, List, TypeVar

import pytest

from imagegen_client import AsyncResponseStream, RpcError, StatusCode

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T], limit: float = 60) -> T:
    """Runs a test's coroutine on a new event loop, failing it after ``limit`` seconds."""
    return asyncio.run(asyncio.wait_for(coroutine, limit))


async def raises(code: StatusCode, action: Callable[[], Awaitable[Any]]) -> RpcError:
    with pytest.raises(RpcError) as info:
        await action()
    assert info.value.code == code, info.value
    return info.value


async def collect(stream: AsyncResponseStream[T]) -> List[T]:
    return [item async for item in stream]
