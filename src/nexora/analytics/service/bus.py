"""Activity arriving on the ``nhi.activity`` topic (either bus backend): one event, many records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import SOURCES, ActivityEvent, Reject
from nexora.analytics.models import Batch
from nexora.analytics.service.batches import MAX_STORED_REJECTS, add_rejects, parsed
from nexora.analytics.service.components import components_of
from nexora.analytics.service.pipeline import process_chunk
from nexora.core.events import Event
from nexora.core.ids import utcnow
from nexora.core.runtime import Runtime

log = structlog.get_logger(__name__)


def _records(origin: str, records: list[str], limit: int) -> list[tuple[str, Any] | Reject]:
    out: list[tuple[str, Any] | Reject] = []
    for number, record in enumerate(records, start=1):
        position = f"{origin}:record {number}"
        if len(record) > limit:
            out.append(Reject(position, f"record larger than {limit} bytes"))
            continue
        try:
            value = orjson.loads(record)
        except orjson.JSONDecodeError as error:
            out.append(Reject(position, f"not JSON: {str(error).splitlines()[0][:200]}"))
            continue
        out.append((position, value) if isinstance(value, dict) else Reject(position, "record is not a JSON object"))
    return out


async def ingest_events(runtime: Runtime, events: Sequence[Event], session: AsyncSession) -> None:
    """Store and score the records of a run of one tenant's ``nhi.activity`` events in the consumer's
    transaction (so the group's offset moves only with them), as one chunk. An event whose records had
    rejects gets a batch row of its own, with them and its counts."""
    tenant_id = events[0].tenant_id
    if tenant_id is None:
        log.warning("activity events without a tenant dropped", count=len(events))
        return
    components = components_of(runtime)
    parsed_events: list[tuple[str, list[tuple[str, ActivityEvent | Reject | None]]]] = []
    for event in events:
        source = str(event.data.get("source", ""))
        origin = f"bus:{event.data.get('origin') or event.source}"[:1000]
        if source not in SOURCES:
            reason = f"unknown activity source '{source}'; choose from {list(SOURCES)}"
            parsed_events.append((source, [(origin, Reject(origin, reason))]))
            continue
        records = list(event.data.get("records") or [])
        parsed_events.append(
            (source, list(parsed(source, _records(origin, records, components.settings.max_record_bytes))))
        )
    chunk_events = [item for _, items in parsed_events for _, item in items if isinstance(item, ActivityEvent)]
    positions = [position for _, items in parsed_events for position, item in items if isinstance(item, ActivityEvent)]
    chunk = await process_chunk(session, components, tenant_id, None, chunk_events, positions)
    window_rejects = {reject.position: reject for reject in chunk.rejects}
    claimed: set[tuple[str, str, datetime]] = set()
    for (source, items), event in zip(parsed_events, events, strict=True):
        accepted = duplicates = 0
        rejects = [item for _, item in items if isinstance(item, Reject)]
        for position, item in items:
            if not isinstance(item, ActivityEvent):
                continue
            if position in window_rejects:
                rejects.append(window_rejects[position])
                continue
            key = (item.source, item.source_event_id, item.time)
            if key in chunk.new_keys and key not in claimed:
                claimed.add(key)
                accepted += 1
            else:
                duplicates += 1
        if rejects:
            await _record_rejects(session, tenant_id, event, source, items, rejects, accepted, duplicates)


async def _record_rejects(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    event: Event,
    source: str,
    items: list[tuple[str, ActivityEvent | Reject | None]],
    rejects: list[Reject],
    accepted: int,
    duplicates: int,
) -> None:
    batch = Batch(
        tenant_id=tenant_id,
        source=source or "unknown",
        origin=f"bus:{event.data.get('origin') or event.source}"[:1000],
        status="done",
        accepted=accepted,
        duplicates=duplicates,
        rejected=len(rejects),
        skipped=sum(1 for _, item in items if item is None),
        finished_at=utcnow(),
    )
    session.add(batch)
    await session.flush()
    add_rejects(session, tenant_id, batch.id, rejects[:MAX_STORED_REJECTS])
