"""The activity time series: partitions ahead of the data, set-based inserts, retention, reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import cramjam
import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Geo
from nexora.analytics.models import ACTIVITY, READ_COLUMNS
from nexora.core.db import Database
from nexora.core.ids import utcnow

# One statement per chunk whatever its size: parallel arrays unnested, duplicates skipped by the
# (tenant, source, source event id, time) key, the new rows returned so only they are scored.
_INSERT = text(
    """
    INSERT INTO analytics.activity (time, tenant_id, source, source_event_id, identity, nhi_id, action, service,
        resource, source_ip, user_agent, outcome, error_code, region, country, asn, batch_id, raw)
    SELECT t, CAST(:tenant AS uuid), s, e, i, n, a, sv, r, ip, ua, o, ec, rg, c, asn, CAST(:batch AS uuid), raw
    FROM unnest(
        CAST(:times AS timestamptz[]), CAST(:sources AS text[]), CAST(:event_ids AS text[]),
        CAST(:identities AS text[]), CAST(:nhis AS uuid[]), CAST(:actions AS text[]), CAST(:services AS text[]),
        CAST(:resources AS text[]), CAST(:ips AS text[]), CAST(:agents AS text[]), CAST(:outcomes AS text[]),
        CAST(:errors AS text[]), CAST(:regions AS text[]), CAST(:countries AS text[]), CAST(:asns AS integer[]),
        CAST(:raws AS bytea[])
    ) AS x(t, s, e, i, n, a, sv, r, ip, ua, o, ec, rg, c, asn, raw)
    ON CONFLICT DO NOTHING
    RETURNING source, source_event_id, time
    """
)


def compress(raw: dict[str, Any]) -> bytes:
    """A record as stored: JSON, LZ4-compressed (about 1 us a record; zlib took 15-30 us, the most of any
    step of an ingest but parsing)."""
    return bytes(cramjam.lz4.compress_block(orjson.dumps(raw)))


def decompress(blob: bytes) -> Any:
    return orjson.loads(bytes(cramjam.lz4.decompress_block(blob)))


class Partitions:
    """The days whose partitions this process knows exist, so each chunk asks the database only once.

    Partitions are made in a short transaction of their own, committed before the chunk's: creating one
    locks the whole table, and held for a chunk's length that lock would stall (or deadlock with) every
    other ingest."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[date] = set()

    async def ensure(self, days: set[date]) -> None:
        missing = sorted(days - self._known)
        if not missing:
            return
        async with self.db.unit_of_work() as session:
            await session.execute(
                text("SELECT analytics.ensure_activity_partitions(:first, :last)"),
                {"first": missing[0], "last": missing[-1]},
            )
        self._known.update(missing[0] + timedelta(days=offset) for offset in range((missing[-1] - missing[0]).days + 1))

    def forget_before(self, day: date) -> None:
        self._known = {known for known in self._known if known >= day}


# One probe of the unique index per record (LATERAL ... LIMIT 1 keeps the planner from hashing a whole
# partition it has no statistics for; the time picks the partition at run time).
_EXISTING = text(
    """
    SELECT x.s, x.e, x.t
    FROM unnest(CAST(:sources AS text[]), CAST(:ids AS text[]), CAST(:times AS timestamptz[])) AS x(s, e, t)
    CROSS JOIN LATERAL (
        SELECT 1 FROM analytics.activity a
        WHERE a.tenant_id = :tenant AND a.source = x.s AND a.source_event_id = x.e AND a.time = x.t
        LIMIT 1
    ) AS found
    """
)


async def existing_keys(
    session: AsyncSession, tenant_id: uuid.UUID, events: Sequence[ActivityEvent]
) -> set[tuple[str, str, datetime]]:
    """Which of ``events`` are stored already, as (source, source event id, time)."""
    if not events:
        return set()
    times = [event.time for event in events]
    rows = await session.execute(
        _EXISTING,
        {
            "tenant": tenant_id,
            "sources": [event.source for event in events],
            "ids": [event.source_event_id for event in events],
            "times": times,
        },
    )
    return {(row[0], row[1], row[2]) for row in rows}


async def insert_events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    batch_id: uuid.UUID | None,
    events: Sequence[ActivityEvent],
    nhis: Sequence[uuid.UUID | None],
    geos: Sequence[Geo | None],
) -> set[tuple[str, str, datetime]]:
    """Store ``events``; return the (source, source event id, time) of those that were new (the others were
    stored before)."""
    if not events:
        return set()
    result = await session.execute(
        _INSERT,
        {
            "tenant": tenant_id,
            "batch": batch_id,
            "times": [event.time for event in events],
            "sources": [event.source for event in events],
            "event_ids": [event.source_event_id for event in events],
            "identities": [event.identity.key for event in events],
            "nhis": list(nhis),
            "actions": [event.action for event in events],
            "services": [event.service for event in events],
            "resources": [event.resource for event in events],
            "ips": [event.source_ip for event in events],
            "agents": [event.user_agent for event in events],
            "outcomes": [event.outcome for event in events],
            "errors": [event.error_code for event in events],
            "regions": [event.region for event in events],
            "countries": [geo.country if geo else None for geo in geos],
            "asns": [geo.asn if geo else None for geo in geos],
            "raws": [compress(event.raw) for event in events],
        },
    )
    return {(row[0], row[1], row[2]) for row in result}


async def drop_expired(db: Database, retention_days: int, partitions: Partitions | None = None) -> list[str]:
    """Drop the days of activity older than the retention period (partitions, or TimescaleDB chunks)."""
    cutoff = (utcnow() - timedelta(days=retention_days)).date()
    async with db.unit_of_work() as session:
        dropped = (
            await session.execute(text("SELECT analytics.drop_activity_partitions(:before)"), {"before": cutoff})
        ).scalar_one()
    if partitions is not None:
        partitions.forget_before(cutoff)
    return list(dropped or [])


async def events_by_ids(
    session: AsyncSession, tenant_id: uuid.UUID, identity: str, event_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The stored records of an alert's evidence (one identity), raw decoded, oldest first."""
    query = (
        select(*READ_COLUMNS)
        .where(
            ACTIVITY.c.tenant_id == tenant_id,
            ACTIVITY.c.identity == identity,
            ACTIVITY.c.source_event_id.in_(list(event_ids)),
        )
        .order_by(ACTIVITY.c.time)
    )
    return [_event_row(row) for row in await session.execute(query)]


def _event_row(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["raw"] = decompress(values["raw"])
    return values


async def list_events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    identity: str | None,
    nhi_id: uuid.UUID | None,
    since: datetime | None,
    before: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Recent activity of an identity or NHI, newest first (``before``: the time of the last row of the
    previous page)."""
    clauses: list[Any] = [ACTIVITY.c.tenant_id == tenant_id]
    if identity is not None:
        clauses.append(ACTIVITY.c.identity == identity)
    if nhi_id is not None:
        clauses.append(ACTIVITY.c.nhi_id == nhi_id)
    if since is not None:
        clauses.append(ACTIVITY.c.time >= since)
    if before is not None:
        clauses.append(ACTIVITY.c.time < before)
    query = select(*READ_COLUMNS).where(*clauses).order_by(ACTIVITY.c.time.desc()).limit(limit)
    return [_event_row(row) for row in await session.execute(query)]
