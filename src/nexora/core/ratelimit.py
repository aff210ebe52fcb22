"""Rate limits and lockouts on top of ``limits`` (Redis when configured, process memory otherwise)."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from nexora.core.errors import RateLimited


def storage_uri(redis_url: str | None) -> str:
    if not redis_url:
        return "async+memory://"
    return "async+" + redis_url if not redis_url.startswith("async+") else redis_url


def _key(value: str) -> str:
    # Identifiers are hashed so that e-mail addresses do not appear as cache keys.
    return hashlib.sha256(value.lower().encode()).hexdigest()[:32]


class LoginThrottle:
    """Per-address attempt limit and per-account lockout after repeated failures.

    * Every attempt from an address counts against ``ip_limit`` (e.g. ``30/minute``).
    * Each failed attempt for an account counts against ``max_failures`` per ``window_seconds``;
      once exhausted, the account is locked (even the right password is refused) until the oldest
      failure leaves the window. A successful login clears the account's failures.
    """

    def __init__(self, redis_url: str | None, *, max_failures: int, window_seconds: int, ip_limit: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri(redis_url)))
        self.failures: RateLimitItem = parse(f"{max_failures} per {window_seconds} second")
        self.per_address: RateLimitItem = parse(ip_limit)

    async def check(self, email: str, address: str | None) -> None:
        """Raise :class:`RateLimited` if the address is over its limit or the account is locked."""
        if address and not await self.limiter.hit(self.per_address, "login-ip", _key(address)):
            raise RateLimited(
                "too many sign-in attempts from this address; wait and try again",
                retry_after=await self._retry_after(self.per_address, "login-ip", _key(address)),
            )
        if not await self.limiter.test(self.failures, "login-account", _key(email)):
            raise RateLimited(
                "this account is temporarily locked after repeated failed sign-ins; wait and try again",
                retry_after=await self._retry_after(self.failures, "login-account", _key(email)),
            )

    async def record_failure(self, email: str) -> None:
        await self.limiter.hit(self.failures, "login-account", _key(email))

    async def reset(self, email: str) -> None:
        await self.limiter.clear(self.failures, "login-account", _key(email))

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
