"""Per-user token versions: what makes an access token die with its user's access.

Access tokens carry the user's ``token_version`` (claim ``tv``). Deactivating the user, changing their
roles or password, signing out and deleting them bump it, and :meth:`TokenVersions.is_current` refuses
a token whose version is not the current one. Looking the version up costs a database query, so each
process keeps a copy for ``token_version_cache_seconds`` and, with Redis configured, shares the
versions through Redis: a bump writes the new version there, so every API process sees it the next
time its short local copy runs out.

The database stays the authority. A cached version that differs from the token's is confirmed there
before the token is refused or accepted, so a version written to Redis by a transaction that then
rolled back, or a newer token from a fresh sign-in, is never judged by a stale copy. Redis being
down costs database queries, never a wrong answer beyond the local copy's lifetime.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from nexora.core.db import Database
from nexora.core.observability import get_logger

log = get_logger("nexora.auth")

# What the database answers for a deleted or disabled user: no token has this version.
NO_USER = -1
# Redis copies expire on their own, bounding how long a copy that missed a bump can live.
SHARED_SECONDS = 60
LOCAL_ENTRIES = 100_000
WARNING_INTERVAL_SECONDS = 60.0

Key = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class _Known:
    version: int
    until: float  # time.monotonic() after which the copy is stale
    confirmed: bool  # read from the database (not from Redis or an uncommitted bump)


class TokenVersions:
    """The token-version check with its two caches (process memory, then Redis when configured)."""

    def __init__(self, redis_url: str | None, *, local_seconds: float, shared_seconds: int = SHARED_SECONDS) -> None:
        self.local_seconds = local_seconds
        self.shared_seconds = shared_seconds
        self._local: OrderedDict[Key, _Known] = OrderedDict()
        self._redis: Redis | None = (
            Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5) if redis_url else None
        )
        self._warned_at = float("-inf")

    async def is_current(self, db: Database, tenant_id: uuid.UUID, user_id: uuid.UUID, version: int) -> bool:
        """Whether ``version`` is the user's current token version (False for deleted or disabled users)."""
        key = (tenant_id, user_id)
        known = self._fresh(key)
        if known is None:
            shared = await self._read_shared(key)
            if shared is not None:
                known = self._remember(key, shared, confirmed=False)
            else:
                known = self._remember(key, await self._read_database(db, key), confirmed=True)
                await self._write_shared(key, known.version, only_if_missing=True)
        if known.version == version:
            return True
        if known.confirmed:
            return False
        return self._remember(key, await self._read_database(db, key), confirmed=True).version == version

    async def bumped(self, tenant_id: uuid.UUID, user_id: uuid.UUID, version: int) -> None:
        """Share a new version (called by the bump, inside its transaction)."""
        key = (tenant_id, user_id)
        self._remember(key, version, confirmed=False)
        await self._write_shared(key, version)

    def forget(self) -> None:
        """Drop this process's copies (tests, and after a restore of the database)."""
        self._local.clear()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    # ---- the caches -----------------------------------------------------------------------------------

    def _fresh(self, key: Key) -> _Known | None:
        known = self._local.get(key)
        if known is None or known.until <= time.monotonic():
            return None
        return known

    def _remember(self, key: Key, version: int, *, confirmed: bool) -> _Known:
        known = _Known(version, time.monotonic() + self.local_seconds, confirmed)
        self._local[key] = known
        self._local.move_to_end(key)
        if len(self._local) > LOCAL_ENTRIES:
            self._local.popitem(last=False)
        return known

    @staticmethod
    def _shared_key(key: Key) -> str:
        return f"nexora:auth:token-version:{key[0]}:{key[1]}"

    async def _read_shared(self, key: Key) -> int | None:
        if self._redis is None:
            return None
        try:
            value = await self._redis.get(self._shared_key(key))
        except (RedisError, OSError) as error:
            self._warn("read", error)
            return None
        return int(value) if value is not None else None

    async def _write_shared(self, key: Key, version: int, *, only_if_missing: bool = False) -> None:
        # A reader only fills a missing copy: a bump written meanwhile must not be overwritten by what
        # the reader saw before that bump committed.
        if self._redis is None:
            return
        try:
            await self._redis.set(self._shared_key(key), version, ex=self.shared_seconds, nx=only_if_missing)
        except (RedisError, OSError) as error:
            self._warn("write", error)

    @staticmethod
    async def _read_database(db: Database, key: Key) -> int:
        async with db.engine.connect() as connection:
            version = await connection.scalar(
                text("SELECT auth.user_token_version(:tenant_id, :user_id)"),
                {"tenant_id": key[0], "user_id": key[1]},
            )
        return NO_USER if version is None else int(version)

    def _warn(self, action: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            log.warning(
                "redis unavailable for token versions; using the database", action=action, error=type(error).__name__
            )
