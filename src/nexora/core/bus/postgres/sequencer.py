"""The sequencer: committed outbox rows get gap-free positions, one transaction at a time."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.db import Database
from nexora.core.observability import (
    get_logger,
)

SEQUENCED_CHANNEL = "nexora_sequenced"
SEQUENCER_LOCK = 0x6E78_7365_7100  # arbitrary, stable advisory-lock key ("nxseq")
SEQUENCE_BATCH = 5000
MAX_ERROR_LENGTH = 2000

log = get_logger("nexora.bus")

_SEQUENCE_SQL = text(
    """
    UPDATE core.outbox o SET position = s.pos
    FROM (
        SELECT q.id, nextval('core.outbox_position_seq') AS pos
        FROM (SELECT id FROM core.outbox WHERE position IS NULL ORDER BY id LIMIT :limit FOR UPDATE) q
    ) s
    WHERE o.id = s.id
    """
)


async def sequence_once(session: AsyncSession, limit: int = SEQUENCE_BATCH) -> int:
    """Give positions to committed, unsequenced outbox rows. Returns how many were stamped."""
    locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    if not locked:
        return 0
    result = await session.execute(_SEQUENCE_SQL, {"limit": limit})
    count = result.rowcount or 0  # type: ignore[attr-defined]
    if count:
        await session.execute(text(f"NOTIFY {SEQUENCED_CHANNEL}"))
    return int(count)


async def sequence_pending(db: Database, on_progress: Callable[[], None]) -> None:
    """Run :func:`sequence_once` until nothing is left, calling ``on_progress`` after each pass that
    stamped rows (so readers start on the first rows while the rest are sequenced)."""
    while True:
        async with db.unit_of_work() as session:
            count = await sequence_once(session)
        if count:
            on_progress()
        if count < SEQUENCE_BATCH:
            return
