"""Reading the log: one entry, filtered pages, and a streamed NDJSON export of a time range."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit import encoding
from nexora.audit.models import Entry
from nexora.core.db import Database
from nexora.core.errors import NotFound, ValidationFailed
from nexora.core.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class EntryFilter:
    """Exact matches on actor, action, target and outcome; ``since <= occurred_at < until``."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in encoding.OUTCOMES:
            raise ValidationFailed(f"outcome must be one of {list(encoding.OUTCOMES)}")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValidationFailed("'since' must be earlier than 'until'")

    def apply(self, query: Select[Any]) -> Select[Any]:
        for column, value in (
            (Entry.actor, self.actor),
            (Entry.action, self.action),
            (Entry.target, self.target),
            (Entry.outcome, self.outcome),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.since is not None:
            query = query.where(Entry.occurred_at >= self.since)
        if self.until is not None:
            query = query.where(Entry.occurred_at < self.until)
        return query


def entry_view(entry: Entry) -> dict[str, Any]:
    """An entry as the API and the NDJSON export show it (payload parsed, hashes in hex)."""
    return {
        "log": str(entry.tenant_id),
        "seq": entry.seq,
        "event_id": str(entry.event_id),
        "occurred_at": encoding.timestamp(entry.occurred_at),
        "recorded_at": encoding.timestamp(entry.recorded_at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "source": entry.source,
        "source_address": entry.source_address,
        "request_id": entry.request_id,
        "payload": json.loads(entry.payload),
        "leaf_hash": entry.leaf_hash.hex(),
    }


async def get_entry(session: AsyncSession, log: uuid.UUID, seq: int) -> Entry:
    entry = await session.get(Entry, (log, seq))
    if entry is None:
        raise NotFound(f"the log has no entry {seq}")
    return entry


async def list_entries(
    session: AsyncSession, log: uuid.UUID, filters: EntryFilter, *, limit: int, cursor: str | None
) -> tuple[list[Entry], str | None]:
    """Matching entries, newest first, and the cursor of the next page (``None`` on the last)."""
    query = filters.apply(select(Entry).where(Entry.tenant_id == log)).order_by(Entry.seq.desc()).limit(limit + 1)
    after = decode_cursor(cursor)
    if after:
        before = after.get("before")
        if not isinstance(before, int) or isinstance(before, bool):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page")
        query = query.where(Entry.seq < before)
    entries: list[Entry] = list((await session.scalars(query)).all())
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = encode_cursor({"before": entries[-1].seq})
    return entries, next_cursor


async def export_entries(
    db: Database, log: uuid.UUID, filters: EntryFilter, *, chunk: int = 1000
) -> AsyncIterator[bytes]:
    """Matching entries, oldest first, one JSON document per line, read in one snapshot."""
    async with db.unit_of_work(log) as session:
        query = filters.apply(select(Entry).where(Entry.tenant_id == log)).order_by(Entry.seq)
        result = await session.stream_scalars(query.execution_options(yield_per=chunk))
        entry: Entry
        async for entry in result:
            yield json.dumps(entry_view(entry), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
