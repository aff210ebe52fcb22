"""Politeness towards providers: a few requests at a time and a minimum interval between them, per verifier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """At most ``concurrency`` requests in flight, and request starts at least ``interval`` seconds apart.

    ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        concurrency: int,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._interval = max(0.0, interval)
        self._next = 0.0
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the slots for the duration of a request, starting no sooner than the interval allows."""
        with self._slots:
            with self._lock:
                now = self._clock()
                start = max(now, self._next)
                self._next = start + self._interval
            if start > now:
                self._sleep(start - now)
            yield


class Limits:
    """One :class:`RateLimiter` per verifier name, created on first use."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self._concurrency = concurrency
        self._interval = interval
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> RateLimiter:
        with self._lock:
            limiter = self._limiters.get(name)
            if limiter is None:
                limiter = self._limiters[name] = RateLimiter(self._concurrency, self._interval)
            return limiter
