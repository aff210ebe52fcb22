"""Outbound calls to providers: timeouts, retries with backoff and jitter, circuit breakers, SSRF guard.

Pure kernel helpers with no I/O of their own (except DNS resolution in :func:`check_destination`).
Connectors wrap every provider call in :meth:`Resilience.call` so that one slow or throttling
provider cannot stall a worker, and check every configured URL with :func:`check_destination`
so that a connector cannot be pointed at the platform's own network.
"""

from __future__ import annotations

import ipaddress
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from nexora.core.errors import UpstreamUnavailable, ValidationFailed

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(ValidationFailed):
    """A URL points at a private, loopback or link-local address that is not allow-listed."""

    type_slug = "destination-refused"
    title = "Destination refused"


class CircuitOpen(UpstreamUnavailable):
    """The endpoint failed repeatedly; calls are refused until its reset time has passed."""

    type_slug = "circuit-open"
    title = "Endpoint temporarily disabled"


class Throttled(Exception):
    """Raised by a call that the provider throttled (HTTP 429, AWS ``Throttling``); retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDR strings (or single addresses) as networks; raises :class:`ValidationFailed` on a bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValidationFailed(f"'{value}' is not a network in CIDR notation (e.g. 10.0.0.0/8)") from None
    return networks


def _is_internal(address: Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_address(address: Address, allowed: Iterable[Network]) -> None:
    """Refuse an internal address unless one of the ``allowed`` networks contains it."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if _is_internal(address) and not any(address in network for network in allowed):
        raise DestinationRefused(
            f"the address {address} is private, loopback or link-local; "
            "allow its network in NEXORA_DISCOVERY_ALLOWED_NETWORKS to reach it"
        )


def check_destination(url: str, allowed: Iterable[Network], *, resolve: bool = True) -> None:
    """Refuse ``url`` when its host is (or resolves to) an internal address outside ``allowed``.

    Only ``http`` and ``https`` are accepted. Every resolved address must pass, so a name that
    resolves to both a public and a private address is refused.
    """
    networks = list(allowed)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("the URL must be an absolute http:// or https:// URL")
    host = parts.hostname
    try:
        check_address(ipaddress.ip_address(host), networks)
        return
    except ValueError:
        pass
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        raise UpstreamUnavailable(f"the host '{host}' cannot be resolved") from None
    for info in infos:
        check_address(ipaddress.ip_address(info[4][0]), networks)


@dataclass
class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_seconds`` lets one call try."""

    failure_threshold: int = 5
    reset_seconds: float = 60.0
    failures: int = 0
    opened_at: float | None = None
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def before(self, name: str) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            if self.clock() - self.opened_at < self.reset_seconds:
                raise CircuitOpen(f"calls to {name} are paused after repeated failures; they resume shortly")
            # Half-open: let this call through; a failure re-opens the circuit.
            self.opened_at = None
            self.failures = self.failure_threshold - 1

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self.opened_at = self.clock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.clock() - self.opened_at < self.reset_seconds


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 20.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (1-based), at least ``retry_after``."""
        ceiling = min(self.backoff_max_seconds, self.backoff_seconds * (2 ** (attempt - 1)))
        jittered = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
        if retry_after is not None:
            return min(self.backoff_max_seconds, max(jittered, retry_after))
        return jittered


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
        self.retries = 0
        self._sleep = sleep
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def breaker(self, endpoint: str) -> CircuitBreaker:
        with self._lock:
            found = self._breakers.get(endpoint)
            if found is None:
                found = CircuitBreaker(self.failure_threshold, self.reset_seconds)
                self._breakers[endpoint] = found
            return found

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
        ``answered`` is true (the endpoint answered, e.g. "not found"); other failures do.
        """
        breaker = self.breaker(endpoint)
        attempt = 0
        while True:
            attempt += 1
            breaker.before(endpoint)
            try:
                result = operation()
            except Exception as error:
                classified = classify(error)
                if isinstance(classified, Throttled):
                    if attempt >= self.policy.attempts:
                        raise UpstreamUnavailable(
                            f"{endpoint} kept throttling requests after {attempt} attempts"
                        ) from error
                    with self._lock:
                        self.retries += 1
                    self._sleep(self.policy.delay(attempt, classified.retry_after))
                    continue
                if answered is not None and answered(error):
                    breaker.succeeded()
                else:
                    breaker.failed()
                if classified is error:
                    raise
                raise classified from error
            breaker.succeeded()
            return result
