"""Outbound calls to providers: retries with backoff and jitter (tenacity), circuit breakers (pybreaker).

Connectors wrap every provider call in :meth:`Resilience.call` so that one slow or throttling
provider cannot stall a worker. Destinations are checked by :mod:`nexora.core.outbound`: the
pre-flight :func:`check_destination` here, and the connection-time guard of its client adapters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import pybreaker
import tenacity
from tenacity.wait import wait_base

from nexora.core.errors import UpstreamUnavailable
from nexora.core.outbound import Address, DestinationRefused, Network, OutboundGuard, parse_networks

T = TypeVar("T")

__all__ = [
    "Address",
    "CircuitOpen",
    "DestinationRefused",
    "Network",
    "Resilience",
    "RetryPolicy",
    "Throttled",
    "check_destination",
    "parse_networks",
]


class CircuitOpen(UpstreamUnavailable):
    """The endpoint failed repeatedly; calls are refused until its reset time has passed."""

    type_slug = "circuit-open"
    title = "Endpoint temporarily disabled"


class Throttled(Exception):
    """Raised by a call that the provider throttled (HTTP 429, AWS ``Throttling``); retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def check_destination(url: str, allowed: Iterable[Network], *, resolve: bool = True) -> None:
    """Refuse ``url`` when its host is (or resolves to) an internal address outside ``allowed``.

    Only ``http`` and ``https`` are accepted. Every resolved address must pass, so a name that
    resolves to both a public and a private address is refused. A pre-flight check for a clear early
    error: the connection itself is guarded by the clients of :mod:`nexora.core.outbound`.
    """
    OutboundGuard(allowed).check_url(url, resolve=resolve)


class _WaitRetryAfter(wait_base):
    """``backoff``, but at least the ``Retry-After`` of the last :class:`Throttled`, and at most ``longest``."""

    def __init__(self, backoff: wait_base, longest: float) -> None:
        self.backoff = backoff
        self.longest = longest

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        delay = self.backoff(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, Throttled) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return min(self.longest, delay)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 20.0

    def wait(self) -> wait_base:
        """Exponential backoff with jitter: retry ``n`` waits between half and all of ``backoff * 2**(n-1)``.

        Half the ceiling is fixed and half is random, so retries spread out without collapsing to
        zero; the ceiling stops at ``backoff_max_seconds``; a ``Retry-After`` lengthens the wait.
        """
        half, half_max = self.backoff_seconds / 2, self.backoff_max_seconds / 2
        backoff = tenacity.wait_exponential(multiplier=half, max=half_max) + tenacity.wait_random_exponential(
            multiplier=half, max=half_max
        )
        return _WaitRetryAfter(backoff, self.backoff_max_seconds)


class Resilience:
    """Retries throttled calls and keeps one circuit breaker per endpoint name (thread-safe)."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._sleep = sleep
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}
        self._lock = threading.Lock()

    def breaker(self, endpoint: str) -> pybreaker.CircuitBreaker:
        with self._lock:
            found = self._breakers.get(endpoint)
            if found is None:
                # The call that trips the breaker still raises its own error, not a breaker error.
                found = pybreaker.CircuitBreaker(
                    fail_max=self.failure_threshold,
                    reset_timeout=self.reset_seconds,
                    name=endpoint,
                    throw_new_error_on_trip=False,
                )
                self._breakers[endpoint] = found
            return found

    def is_open(self, endpoint: str) -> bool:
        """Whether calls to ``endpoint`` are currently refused (or would be until a trial call succeeds)."""
        return self.breaker(endpoint).current_state == pybreaker.STATE_OPEN

    def call(
        self,
        endpoint: str,
        operation: Callable[[], T],
        *,
        classify: Callable[[Exception], Exception],
        answered: Callable[[Exception], bool] | None = None,
    ) -> T:
        """Run ``operation``, retrying while ``classify`` maps its error to :class:`Throttled`.

        ``classify`` turns a provider exception into ``Throttled`` (retry) or any other exception
        (raised at once). Throttling does not count against the circuit, nor does an error for which
        ``answered`` is true (the endpoint answered, e.g. "not found"); other failures do. An open
        circuit raises :class:`CircuitOpen` without calling ``operation``.
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=self.policy.wait(),
            retry=tenacity.retry_if_exception_type(Throttled),
            sleep=self._sleep,
        )
        try:
            return retrying(lambda: self._attempt(endpoint, operation, classify, answered))
        except tenacity.RetryError as exhausted:
            raise UpstreamUnavailable(
                f"{endpoint} kept throttling requests after {self.policy.attempts} attempts"
            ) from exhausted.last_attempt.exception()

    def _attempt(
        self,
        endpoint: str,
        operation: Callable[[], T],
        classify: Callable[[Exception], Exception],
        answered: Callable[[Exception], bool] | None,
    ) -> T:
        """One call through the endpoint's breaker; raises the classified error of a failed call."""
        classified: Exception | None = None
        answer: Exception | None = None
        try:
            # ``calling()`` holds the breaker's lock only around its bookkeeping, not around the call,
            # so concurrent reads of one endpoint still run in parallel.
            with self.breaker(endpoint).calling():
                try:
                    return operation()
                except Exception as error:
                    classified = classify(error)
                    if not isinstance(classified, Throttled) and not (answered is not None and answered(error)):
                        raise
                    answer = error  # the endpoint answered: a success as far as the circuit is concerned
        except pybreaker.CircuitBreakerError:
            raise CircuitOpen(f"calls to {endpoint} are paused after repeated failures; they resume shortly") from None
        except Exception as error:
            if classified is None or classified is error:
                raise
            raise classified from error
        assert answer is not None
        assert classified is not None
        if classified is answer:
            raise answer
        raise classified from answer
