"""Activity arriving on the ``nhi.activity`` topic (either bus backend): one event, many records."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import SOURCES, ActivityEvent, Reject
from nexora.analytics.models import Batch, RejectedRecord
from nexora.analytics.service.batches import MAX_STORED_REJECTS, parsed
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


async def ingest_event(runtime: Runtime, event: Event, session: AsyncSession) -> None:
    """Store and score the records of one ``nhi.activity`` event in the consumer's transaction (so the
    group's offset moves only with them). Rejects are kept under a batch row of their own."""
    tenant_id = event.tenant_id
    if tenant_id is None:
        log.warning("activity event without a tenant dropped", event_id=str(event.id))
        return
    components = components_of(runtime)
    source = str(event.data.get("source", ""))
    origin = f"bus:{event.data.get('origin') or event.source}"[:1000]
    records = list(event.data.get("records") or [])
    if source not in SOURCES:
        items: list[tuple[str, ActivityEvent | Reject | None]] = [
            (origin, Reject(origin, f"unknown activity source '{source}'; choose from {list(SOURCES)}"))
        ]
    else:
        items = list(parsed(source, _records(origin, records, components.settings.max_record_bytes)))
    events = [(position, item) for position, item in items if isinstance(item, ActivityEvent)]
    rejects = [item for _, item in items if isinstance(item, Reject)]
    skipped = sum(1 for _, item in items if item is None)
    chunk = await process_chunk(session, components, tenant_id, None, [e for _, e in events], [p for p, _ in events])
    rejects.extend(chunk.rejects)
    if rejects:
        batch = Batch(
            tenant_id=tenant_id,
            source=source or "unknown",
            origin=origin,
            status="done",
            accepted=chunk.accepted,
            duplicates=chunk.duplicates,
            rejected=len(rejects),
            skipped=skipped,
            attributed=chunk.attributed,
            alerts=chunk.alerts,
            finished_at=utcnow(),
        )
        session.add(batch)
        await session.flush()
        session.add_all(
            RejectedRecord(tenant_id=tenant_id, batch_id=batch.id, position=r.position[:500], reason=r.reason[:1000])
            for r in rejects[:MAX_STORED_REJECTS]
        )
