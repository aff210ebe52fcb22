"""Streamed responses that still fail cleanly.

Once a streamed response has sent its status line, an error can only cut the connection. The first
chunk usually carries the first query, which is where bad filters fail (a NUL character, a value
PostgreSQL refuses), so :func:`primed` produces it before the response starts: such an error becomes
an ordinary problem+json response.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")


async def primed(chunks: AsyncIterator[T]) -> AsyncIterator[T]:
    """``chunks`` with its first chunk already produced (its errors raised here, in the handler)."""
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        return _empty()
    return _chain(first, chunks)


async def _empty() -> AsyncIterator[T]:
    return
    yield


async def _chain(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for chunk in rest:
        yield chunk
