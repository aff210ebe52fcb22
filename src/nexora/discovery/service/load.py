"""The load: a run's records into the inventory, in batches, then the mark-and-sweep cleanup.

A load never holds one transaction for its whole duration: records are upserted in batches of
``load_batch_size`` (one transaction each, ``load_concurrency`` at a time; the statements are in
:mod:`.upsert`), and only a complete read is followed by the sweep, which deletes what the run did not
see and publishes ``nhi.removed``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import write_outbox
from nexora.core.ids import utcnow
from nexora.core.runtime import Runtime
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord
from nexora.discovery.service.events import build_events
from nexora.discovery.service.upsert import LoadResult, append_changes, deduplicated, upsert_edges, upsert_nhis

T = TypeVar("T")


async def load(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    run_id: uuid.UUID,
    collection: Collection,
    *,
    record_changes: bool,
    on_batch: Callable[[LoadResult], Awaitable[None]] | None = None,
) -> LoadResult:
    """Upsert the collection in batches (one transaction each); sweep only after a complete read.

    Batches hold distinct keys and load ``load_concurrency`` at a time, so the database works on one
    while Python prepares the next. After a load that changed many rows, the inventory tables'
    planner statistics should be refreshed (:func:`refresh_statistics`, once posture has run).
    """
    settings = runtime.settings.discovery
    now = utcnow()
    total = LoadResult()
    progress = asyncio.Lock()

    async def nhi_batch(batch: Sequence[NhiRecord]) -> None:
        async with runtime.db.unit_of_work(tenant_id) as session:
            done = await upsert_nhis(
                session,
                tenant_id=tenant_id,
                connector_id=connector_id,
                run_id=run_id,
                records=batch,
                now=now,
                record_changes=record_changes,
            )
        async with progress:
            total.add(done)
            if on_batch is not None:
                await on_batch(total)

    async def edge_batch(batch: Sequence[EdgeRecord]) -> None:
        async with runtime.db.unit_of_work(tenant_id) as session:
            done = await upsert_edges(
                session, tenant_id=tenant_id, connector_id=connector_id, run_id=run_id, edges=batch, now=now
            )
        total.add(done)

    # Each key in exactly one batch: a record is new or changed once per run, and concurrent
    # batches never wait on each other's rows.
    nhis = _chunks(deduplicated(collection.nhis), settings.load_batch_size)
    await _bounded([partial(nhi_batch, batch) for batch in nhis], settings.load_concurrency)
    unique_edges = list({(edge.source, edge.target, edge.kind): edge for edge in collection.edges}.values())
    edges = _chunks(unique_edges, settings.load_batch_size * 2)
    await _bounded([partial(edge_batch, batch) for batch in edges], settings.load_concurrency)
    if not collection.partial:
        async with runtime.db.unit_of_work(tenant_id) as session:
            total.add(
                await sweep(
                    session,
                    tenant_id=tenant_id,
                    connector_id=connector_id,
                    run_id=run_id,
                    now=now,
                    record_changes=record_changes,
                )
            )
    return total


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def _bounded(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    """Run ``jobs`` with at most ``limit`` at once; the first failure cancels the others and is raised."""
    gate = asyncio.Semaphore(limit)

    async def gated(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(gated(job))
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None


async def sweep(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    run_id: uuid.UUID,
    now: datetime,
    record_changes: bool,
) -> LoadResult:
    """Delete the connector's records and relationships this run did not see; publish ``nhi.removed``."""
    params = {"tenant_id": tenant_id, "connector_id": connector_id, "run_id": run_id}
    edges = await session.execute(
        text(
            "DELETE FROM discovery.edge WHERE tenant_id = :tenant_id AND connector_id = :connector_id "
            "AND last_run_id IS DISTINCT FROM :run_id"
        ),
        params,
    )
    rows = (
        await session.execute(
            text(
                "DELETE FROM discovery.nhi WHERE tenant_id = :tenant_id AND connector_id = :connector_id "
                "AND last_run_id IS DISTINCT FROM :run_id RETURNING id, external_id, kind, name, provider"
            ),
            params,
        )
    ).all()
    result = LoadResult(removed=len(rows), edges_removed=max(0, edges.rowcount))  # type: ignore[attr-defined]
    removed = [
        {
            "nhi_id": str(row.id),
            "connector_id": str(connector_id),
            "provider": row.provider,
            "kind": row.kind,
            "external_id": row.external_id,
            "name": row.name,
        }
        for row in rows
    ]
    await write_outbox(session, build_events("nhi.removed", removed, tenant_id))
    if record_changes:
        await append_changes(session, tenant_id, connector_id, run_id, [(p, "removed", []) for p in removed], now)
    return result


async def refresh_statistics(session: AsyncSession, result: LoadResult) -> list[str]:
    """After a run: ANALYZE the inventory tables a load changed a lot, merge the search index's pending list.

    Returns what was refreshed (nothing after small changes: autovacuum's analyze rule, applied at once).
    """
    refreshed = await session.scalar(
        text("SELECT discovery.refresh_statistics(:nhis, :edges)"),
        {"nhis": result.discovered + result.removed, "edges": result.edges_new + result.edges_removed},
    )
    return list(refreshed or [])
