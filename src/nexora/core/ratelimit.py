"""Rate limits and sign-in throttling on top of ``limits`` (Redis when configured, process memory otherwise)."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from nexora.core.errors import RateLimited
from nexora.core.observability import get_logger

log = get_logger("nexora.ratelimit")

REDIS_TIMEOUT_SECONDS = 0.5
WARNING_INTERVAL_SECONDS = 60.0


def storage_uri(redis_url: str | None) -> str:
    if not redis_url:
        return "async+memory://"
    return "async+" + redis_url if not redis_url.startswith("async+") else redis_url


def _storage(redis_url: str | None, *, wrap_exceptions: bool = False) -> Storage:
    options: dict[str, Any] = {"wrap_exceptions": wrap_exceptions}
    if redis_url:
        # redis-py (a dependency anyway) with short timeouts: a Redis that hangs must not hang requests.
        options |= {
            "implementation": "redispy",
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        }
    storage = storage_from_string(storage_uri(redis_url), **options)
    assert isinstance(storage, Storage)
    return storage


def _key(*values: str) -> str:
    # Identifiers are hashed so that e-mail addresses do not appear as cache keys.
    return hashlib.sha256("\n".join(value.lower() for value in values).encode()).hexdigest()[:32]


async def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, *identifiers: str) -> int:
    stats = await limiter.get_window_stats(item, *identifiers)
    return max(1, math.ceil(stats.reset_time - time.time()))


async def _seconds_left(storage: Storage, key: str) -> int:
    return max(1, math.ceil(await storage.get_expiry(key) - time.time()))


class LoginThrottle:
    """Sign-in throttling that someone who only knows an e-mail cannot turn against its owner.

    * Every attempt from an address counts against ``ip_limit`` (e.g. ``30/minute``).
    * Failures are counted per account **and** source address: after ``max_failures`` within
      ``window_seconds`` of the first one, that address is locked out of that account (even the right
      password is refused from there) until the window ends. Other addresses are not affected.
    * Failures of an account from all addresses together slow it down instead of locking it: beyond
      ``delay_after`` failures within the window, each further failure makes every attempt on the
      account wait 1, 2, 4 ... up to ``max_delay_seconds`` (429 with Retry-After). The wait ends by itself.
    * A successful sign-in clears the account's failures and its wait.

    Failures are plain counters expiring with their window (not moving windows): they are cleared on
    success, and clearing a moving window of the in-memory store races its expiry task.
    """

    def __init__(
        self,
        redis_url: str | None,
        *,
        max_failures: int,
        window_seconds: int,
        ip_limit: str,
        delay_after: int = 5,
        max_delay_seconds: int = 30,
    ) -> None:
        self._shared = _storage(redis_url, wrap_exceptions=True) if redis_url else None
        # Process memory: the only store without Redis, and the stand-in while Redis cannot be reached
        # (a sign-in must neither fail nor go unthrottled because the shared store is down).
        self._local = _storage(None)
        self._warned_at = float("-inf")
        self.per_address: RateLimitItem = parse(ip_limit)
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.delay_after = delay_after
        self.max_delay_seconds = max_delay_seconds

    async def check(self, email: str, address: str | None) -> None:
        """Raise :class:`RateLimited` if the address is over its limit, locked out of the account, or the
        account is waiting after failures."""
        await self._with_store(self._check, email, address)

    async def record_failure(self, email: str, address: str | None) -> None:
        await self._with_store(self._record_failure, email, address)

    async def reset(self, email: str, address: str | None) -> None:
        await self._with_store(self._reset, email, address)

    async def _with_store(
        self, step: Callable[[Storage, str, str | None], Awaitable[None]], email: str, address: str | None
    ) -> None:
        if self._shared is not None:
            try:
                await step(self._shared, email, address)
                return
            except StorageError as error:
                now = time.monotonic()
                if now - self._warned_at >= WARNING_INTERVAL_SECONDS:
                    self._warned_at = now
                    log.warning(
                        "sign-in throttle store unavailable; throttling in process memory",
                        error=type(error.storage_error).__name__,
                    )
        await step(self._local, email, address)

    async def _check(self, storage: Storage, email: str, address: str | None) -> None:
        limiter = MovingWindowRateLimiter(storage)
        if address and not await limiter.hit(self.per_address, "login-ip", _key(address)):
            raise RateLimited(
                "too many sign-in attempts from this address; wait and try again",
                retry_after=await _retry_after(limiter, self.per_address, "login-ip", _key(address)),
            )
        pair = self._pair_key(email, address)
        if await storage.get(pair) >= self.max_failures:
            raise RateLimited(
                "this account is temporarily locked for this address after repeated failed sign-ins; wait and try"
                " again",
                retry_after=await _seconds_left(storage, pair),
            )
        wait = self._wait_key(email)
        if await storage.get(wait) > 0:
            raise RateLimited(
                "repeated failed sign-ins for this account: wait before trying again",
                retry_after=await _seconds_left(storage, wait),
            )

    async def _record_failure(self, storage: Storage, email: str, address: str | None) -> None:
        await storage.incr(self._pair_key(email, address), self.window_seconds)
        failures = await storage.incr(self._account_key(email), self.window_seconds)
        beyond = failures - self.delay_after
        if beyond > 0:
            wait = self._wait_key(email)
            await storage.clear(wait)
            await storage.incr(wait, min(self.max_delay_seconds, 2 ** min(beyond - 1, 30)))

    async def _reset(self, storage: Storage, email: str, address: str | None) -> None:
        for key in (self._pair_key(email, address), self._account_key(email), self._wait_key(email)):
            await storage.clear(key)

    @staticmethod
    def _pair_key(email: str, address: str | None) -> str:
        return f"nexora/login-failures/{_key(email, address or '')}"

    @staticmethod
    def _account_key(email: str) -> str:
        return f"nexora/login-account-failures/{_key(email)}"

    @staticmethod
    def _wait_key(email: str) -> str:
        return f"nexora/login-wait/{_key(email)}"


class ApiRateLimit:
    """Requests allowed per principal (a user or an API key) and per tenant, in moving windows.

    With Redis the windows are shared by every API process. When Redis cannot be reached the request is
    let through and a warning logged (at most once a minute): an outage of the limiter's store must
    not become an outage of the API.
    """

    def __init__(self, redis_url: str | None, *, per_principal: str, per_tenant: str) -> None:
        self.limiter = MovingWindowRateLimiter(_storage(redis_url, wrap_exceptions=True))
        self.per_principal: RateLimitItem = parse(per_principal)
        self.per_tenant: RateLimitItem = parse(per_tenant)
        self._warned_at = float("-inf")

    async def hit(self, principal_id: str, tenant_id: str) -> None:
        """Count one request; raise :class:`RateLimited` when the principal or its tenant is over its limit."""
        checks = (
            (self.per_principal, "api-principal", principal_id, "this user or API key"),
            (self.per_tenant, "api-tenant", tenant_id, "this tenant"),
        )
        try:
            for item, scope, identifier, who in checks:
                if not await self.limiter.hit(item, scope, identifier):
                    raise RateLimited(
                        f"too many requests for {who}; wait and try again",
                        retry_after=await _retry_after(self.limiter, item, scope, identifier),
                    )
        except StorageError as error:
            self._warn(error)

    def _warn(self, error: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            log.warning(
                "rate-limit store unavailable; letting requests through",
                error=type(error.storage_error).__name__,
            )
