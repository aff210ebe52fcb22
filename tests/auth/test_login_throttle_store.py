"""Sign-in throttling keeps working, in process memory, while its shared Redis store cannot be reached."""

from __future__ import annotations

import os
import socket

import pytest

from nexora.core.errors import RateLimited
from nexora.core.ratelimit import LoginThrottle

REDIS_URL = os.environ.get("NEXORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


def throttle(redis_url: str | None) -> LoginThrottle:
    return LoginThrottle(redis_url, max_failures=3, window_seconds=60, ip_limit="100/minute", delay_after=50)


async def test_an_unreachable_redis_neither_fails_a_sign_in_nor_lifts_the_lockout() -> None:
    down = throttle(f"redis://127.0.0.1:{closed_port()}/0")

    await down.check("owner@example.com", "198.51.100.7")  # no exception: the attempt goes on
    for _ in range(3):
        await down.record_failure("owner@example.com", "198.51.100.7")

    with pytest.raises(RateLimited, match="locked for this address"):
        await down.check("owner@example.com", "198.51.100.7")
    await down.check("owner@example.com", "203.0.113.9")  # another address is not locked out
    await down.reset("owner@example.com", "198.51.100.7")
    await down.check("owner@example.com", "198.51.100.7")


async def test_with_redis_up_the_lockout_is_shared_by_every_process() -> None:
    first, second = throttle(REDIS_URL), throttle(REDIS_URL)
    email = f"shared-{closed_port()}@example.com"

    for _ in range(3):
        await first.record_failure(email, "198.51.100.8")

    with pytest.raises(RateLimited):
        await second.check(email, "198.51.100.8")
    await second.reset(email, "198.51.100.8")
