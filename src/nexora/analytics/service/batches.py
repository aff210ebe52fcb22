"""Ingesting a stream of records (a file, an upload, a bus event, an S3 object) as one batch.

Records are read one at a time (a 1 GB file never sits in memory), parsed by their source's parser and
processed in chunks of ``chunk_size``, each chunk in its own transaction together with its rejects
and the batch's counters, so the counters always match what was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import SOURCES, ActivityEvent, Reject
from nexora.analytics.ingest import PARSERS, read_records
from nexora.analytics.models import Batch, RejectedRecord
from nexora.analytics.service.components import AnalyticsComponents, components_of
from nexora.analytics.service.pipeline import ChunkResult, process_chunk, save_models
from nexora.core.bus import publish
from nexora.core.errors import NotFound, ValidationFailed
from nexora.core.ids import utcnow
from nexora.core.runtime import Runtime

SOURCE = "nexora.analytics"
MAX_STORED_REJECTS = 10_000  # per batch; beyond this rejects are counted, not listed
REJECTS_IN_SUMMARY = 100
YIELD_EVERY = 200  # records parsed between chances for the chunk in flight to progress


@dataclass
class BatchSummary:
    id: uuid.UUID
    source: str
    origin: str
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    attributed: int = 0
    alerts: int = 0
    rejects: list[Reject] = field(default_factory=list)  # the first ones, for the caller to show

    def add(self, chunk: ChunkResult, skipped: int) -> None:
        self.accepted += chunk.accepted
        self.duplicates += chunk.duplicates
        self.rejected += len(chunk.rejects)
        self.skipped += skipped
        self.attributed += chunk.attributed
        self.alerts += chunk.alerts
        room = REJECTS_IN_SUMMARY - len(self.rejects)
        if room > 0:
            self.rejects.extend(chunk.rejects[:room])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "source": self.source,
            "origin": self.origin,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "attributed": self.attributed,
            "alerts": self.alerts,
            "rejects": [{"position": r.position, "reason": r.reason} for r in self.rejects],
        }


def add_rejects(session: AsyncSession, tenant_id: uuid.UUID, batch_id: uuid.UUID, rejects: Iterable[Reject]) -> None:
    """Keep why each record was refused, under its batch (positions and reasons only, never content)."""
    session.add_all(
        RejectedRecord(tenant_id=tenant_id, batch_id=batch_id, position=r.position[:500], reason=r.reason[:1000])
        for r in rejects
    )


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValidationFailed(f"unknown activity source '{source}'; choose from {list(SOURCES)}")
    return source


def parsed(
    source: str, records: Iterable[tuple[str, Any] | Reject]
) -> Iterator[tuple[str, ActivityEvent | Reject | None]]:
    """``(position, event)`` per record; a ``Reject`` for what could not be read; ``None`` for a record
    the source says to skip (e.g. a Kubernetes audit stage other than ResponseComplete)."""
    parse = PARSERS[source]  # type: ignore[index]
    for item in records:
        if isinstance(item, Reject):
            yield item.position, item
            continue
        position, record = item
        outcome = parse(record, position)
        yield position, outcome if isinstance(outcome, ActivityEvent | Reject) else None


async def start_batch(
    session: AsyncSession, tenant_id: uuid.UUID, source: str, origin: str, actor: str | None
) -> BatchSummary:
    batch = Batch(tenant_id=tenant_id, source=source, origin=origin[:1000], created_by=actor)
    session.add(batch)
    await session.flush()
    return BatchSummary(batch.id, source, batch.origin)


async def _store_chunk(
    session: AsyncSession,
    components: AnalyticsComponents,
    tenant_id: uuid.UUID,
    summary: BatchSummary,
    events: list[ActivityEvent],
    positions: list[str],
    rejects: list[Reject],
    skipped: int,
) -> ChunkResult:
    chunk = await process_chunk(session, components, tenant_id, summary.id, events, positions)
    chunk.rejects = rejects + chunk.rejects
    stored = summary.rejected
    room = max(0, MAX_STORED_REJECTS - stored)
    add_rejects(session, tenant_id, summary.id, chunk.rejects[:room])
    await session.execute(
        update(Batch)
        .where(Batch.id == summary.id)
        .values(
            accepted=Batch.accepted + chunk.accepted,
            duplicates=Batch.duplicates + chunk.duplicates,
            rejected=Batch.rejected + len(chunk.rejects),
            skipped=Batch.skipped + skipped,
            attributed=Batch.attributed + chunk.attributed,
            alerts=Batch.alerts + chunk.alerts,
        )
    )
    summary.add(chunk, skipped)
    return chunk


async def ingest_items(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    summary: BatchSummary,
    items: Iterable[tuple[str, ActivityEvent | Reject | None]],
    *,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Process parsed records chunk by chunk, each chunk its own transaction, in order.

    Reading and parsing the next chunk overlaps with the previous chunk's transaction: the chunk is stored
    by a task while the loop goes on parsing, yielding every :data:`YIELD_EVERY` records so the task's
    round trips progress (the database works on them meanwhile). At most one chunk is in flight, so chunks
    commit in file order and a failure stops the batch at that chunk.
    """
    components = components_of(runtime)
    size = components.settings.chunk_size
    events: list[ActivityEvent] = []
    positions: list[str] = []
    rejects: list[Reject] = []
    skipped = 0
    in_flight: asyncio.Task[None] | None = None

    async def store(chunk: tuple[list[ActivityEvent], list[str], list[Reject], int]) -> None:
        async with runtime.db.unit_of_work(tenant_id) as session:
            await _store_chunk(session, components, tenant_id, summary, *chunk)
        if progress is not None:
            progress(summary)

    async def flush() -> None:
        nonlocal events, positions, rejects, skipped, in_flight
        if in_flight is not None:
            await in_flight
        in_flight = asyncio.create_task(store((events, positions, rejects, skipped)))
        events, positions, rejects, skipped = [], [], [], 0

    try:
        for count, (position, outcome) in enumerate(items, start=1):
            if isinstance(outcome, ActivityEvent):
                events.append(outcome)
                positions.append(position)
            elif isinstance(outcome, Reject):
                rejects.append(outcome)
            else:
                skipped += 1
            if len(events) + len(rejects) + skipped >= size:
                await flush()
            elif count % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # the chunk in flight advances; the API serves others
        if events or rejects or skipped:
            await flush()
        if in_flight is not None:
            await in_flight
    except BaseException:
        if in_flight is not None and not in_flight.done():
            in_flight.cancel()
            with contextlib.suppress(BaseException):
                await in_flight
        raise
    return summary


async def finish_batch(runtime: Runtime, tenant_id: uuid.UUID, summary: BatchSummary, status: str = "done") -> None:
    async with runtime.db.unit_of_work(tenant_id) as session:
        await session.execute(update(Batch).where(Batch.id == summary.id).values(status=status, finished_at=utcnow()))
        await save_models(session, components_of(runtime), tenant_id)
        await publish(
            session,
            "analytics.batch_finished",
            {
                "batch_id": str(summary.id),
                "source": summary.source,
                "origin": summary.origin,
                "accepted": summary.accepted,
                "duplicates": summary.duplicates,
                "rejected": summary.rejected,
                "attributed": summary.attributed,
                "alerts": summary.alerts,
            },
            source=SOURCE,
            subject=str(summary.id),
            tenant_id=tenant_id,
        )


async def ingest_stream(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    source: str,
    stream: IO[bytes],
    *,
    name: str,
    origin: str,
    actor: str | None = None,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Read, parse, store and score every record of ``stream`` as one batch; a failure marks it failed
    (the chunks already committed stay; sending the same file again adds only what is missing)."""
    check_source(source)
    components = components_of(runtime)
    async with runtime.db.unit_of_work(tenant_id) as session:
        summary = await start_batch(session, tenant_id, source, origin, actor)
    records = read_records(stream, name, max_record_bytes=components.settings.max_record_bytes)
    try:
        await ingest_items(runtime, tenant_id, summary, parsed(source, records), progress=progress)
    except BaseException:
        async with runtime.db.unit_of_work(tenant_id) as session:
            await session.execute(
                update(Batch).where(Batch.id == summary.id).values(status="failed", finished_at=utcnow())
            )
        raise
    await finish_batch(runtime, tenant_id, summary)
    return summary


async def get_batch(session: AsyncSession, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> Batch:
    batch = await session.get(Batch, batch_id)
    if batch is None or batch.tenant_id != tenant_id:
        raise NotFound("batch not found")
    return batch


async def list_batches(session: AsyncSession, tenant_id: uuid.UUID, limit: int = 50) -> list[Batch]:
    query = select(Batch).where(Batch.tenant_id == tenant_id).order_by(Batch.started_at.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def list_rejects(
    session: AsyncSession, tenant_id: uuid.UUID, batch_id: uuid.UUID, *, limit: int, after: int | None
) -> list[RejectedRecord]:
    await get_batch(session, tenant_id, batch_id)
    clauses = [RejectedRecord.tenant_id == tenant_id, RejectedRecord.batch_id == batch_id]
    if after is not None:
        clauses.append(RejectedRecord.id > after)
    query = select(RejectedRecord).where(*clauses).order_by(RejectedRecord.id).limit(limit)
    return list((await session.execute(query)).scalars())
