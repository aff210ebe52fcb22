"""One chunk of activity, end to end: refuse what is out of range, store, attribute, score, alert.

A chunk is one transaction: its records, the profiles they change, the alerts they raise and the
``analytics.alert`` events all commit together or not at all, so a worker killed mid-chunk loses and
duplicates nothing (the records come again and the rows that did commit are skipped as duplicates).
Only records that were new are scored, so re-ingesting a file changes no profile and raises nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import ActivityEvent, Reject
from nexora.analytics.detectors import Engine
from nexora.analytics.detectors.base import Context, Detection, Geo
from nexora.analytics.profiles import Profile
from nexora.analytics.service.alerts import UNKNOWN_IDENTITY, raise_alerts, unknown_identity
from nexora.analytics.service.attribution import AttributionIndex, Match
from nexora.analytics.service.components import AnalyticsComponents
from nexora.analytics.service.settings import enabled, new_profile
from nexora.analytics.service.store import existing_keys, insert_events
from nexora.core.ids import utcnow


@dataclass
class ChunkResult:
    accepted: int = 0
    duplicates: int = 0
    attributed: int = 0
    alerts: int = 0
    rejects: list[Reject] = field(default_factory=list)
    alert_ids: list[uuid.UUID] = field(default_factory=list)
    new_keys: set[tuple[str, str, datetime]] = field(default_factory=set)  # (source, event id, time) stored now


def _window_rejects(
    events: Sequence[ActivityEvent], oldest: datetime, newest: datetime, positions: Sequence[str]
) -> tuple[list[ActivityEvent], list[Reject]]:
    kept: list[ActivityEvent] = []
    rejects: list[Reject] = []
    for event, position in zip(events, positions, strict=True):
        if event.time < oldest:
            rejects.append(Reject(position, f"record time {event.time.isoformat()} is older than the retention period"))
        elif event.time > newest:
            rejects.append(Reject(position, f"record time {event.time.isoformat()} is in the future"))
        else:
            kept.append(event)
    return kept, rejects


@dataclass(slots=True)
class IdentityState:
    """An identity row of the chunk, locked for the transaction and updated in memory, written once."""

    key: str
    name: str
    nhi_id: uuid.UUID | None
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int
    profile: dict[str, Any]


# Set-based, whatever the number of identities in a chunk: one statement text, one round trip each.
_CREATE_IDENTITIES = text(
    """
    INSERT INTO analytics.identity (tenant_id, key, name, kind, source, nhi_id, account, first_seen_at, last_seen_at)
    SELECT CAST(:tenant AS uuid), k, n, kd, s, nhi, a, f, f
    FROM unnest(
        CAST(:keys AS text[]), CAST(:names AS text[]), CAST(:kinds AS text[]), CAST(:sources AS text[]),
        CAST(:nhis AS uuid[]), CAST(:accounts AS text[]), CAST(:firsts AS timestamptz[])
    ) AS x(k, n, kd, s, nhi, a, f)
    ON CONFLICT DO NOTHING
    """
)
_LOCK_IDENTITIES = text(
    """
    SELECT key, name, nhi_id, first_seen_at, last_seen_at, event_count, profile FROM analytics.identity
    WHERE tenant_id = :tenant AND key = ANY(CAST(:keys AS text[])) ORDER BY key FOR UPDATE
    """
)
_UPDATE_IDENTITIES = text(
    """
    UPDATE analytics.identity i
    SET nhi_id = coalesce(x.nhi, i.nhi_id), first_seen_at = x.f, last_seen_at = x.l, event_count = x.c,
        profile = CAST(x.p AS jsonb), updated_at = now()
    FROM unnest(
        CAST(:keys AS text[]), CAST(:nhis AS uuid[]), CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[]),
        CAST(:counts AS bigint[]), CAST(:profiles AS text[])
    ) AS x(k, nhi, f, l, c, p)
    WHERE i.tenant_id = :tenant AND i.key = x.k
    """
)


async def _identities(
    session: AsyncSession, tenant_id: uuid.UUID, events: Sequence[ActivityEvent], matches: dict[str, Match | None]
) -> dict[str, IdentityState]:
    """The identity rows of the chunk, created when new, locked in key order (no deadlocks between
    two workers scoring the same identities)."""
    first: dict[str, ActivityEvent] = {}
    for event in events:
        first.setdefault(event.identity.key, event)
    keys = sorted(first)
    await session.execute(
        _CREATE_IDENTITIES,
        {
            "tenant": tenant_id,
            "keys": keys,
            "names": [first[key].identity.name[:512] for key in keys],
            "kinds": [first[key].identity.kind for key in keys],
            "sources": [first[key].source for key in keys],
            "nhis": [match.nhi_id if (match := matches.get(key)) else None for key in keys],
            "accounts": [first[key].identity.account for key in keys],
            "firsts": [first[key].time for key in keys],
        },
    )
    rows = await session.execute(_LOCK_IDENTITIES, {"tenant": tenant_id, "keys": keys})
    return {row.key: IdentityState(*row) for row in rows}


async def _save_identities(
    session: AsyncSession, tenant_id: uuid.UUID, identities: dict[str, IdentityState], profiles: dict[str, Profile]
) -> None:
    keys = sorted(profiles)
    rows = [identities[key] for key in keys]
    await session.execute(
        _UPDATE_IDENTITIES,
        {
            "tenant": tenant_id,
            "keys": keys,
            "nhis": [row.nhi_id for row in rows],
            "firsts": [row.first_seen_at for row in rows],
            "lasts": [row.last_seen_at for row in rows],
            "counts": [row.event_count for row in rows],
            "profiles": [orjson.dumps(profiles[key].to_state()).decode() for key in keys],
        },
    )


async def process_chunk(
    session: AsyncSession,
    components: AnalyticsComponents,
    tenant_id: uuid.UUID,
    batch_id: uuid.UUID | None,
    events: Sequence[ActivityEvent],
    positions: Sequence[str],
) -> ChunkResult:
    """Store, attribute and score one chunk of parsed records (in the caller's transaction)."""
    settings = components.settings
    now = utcnow()
    kept, rejects = _window_rejects(
        events,
        now - timedelta(days=settings.retention_days),
        now + timedelta(seconds=settings.future_skew_seconds),
        positions,
    )
    result = ChunkResult(rejects=rejects)
    if not kept:
        return result
    await components.partitions.ensure({event.time.date() for event in kept})

    unique: dict[tuple[str, str, datetime], ActivityEvent] = {}
    for event in kept:  # a record twice in one chunk is stored and scored once
        unique.setdefault((event.source, event.source_event_id, event.time), event)
    kept = list(unique.values())

    index = await components.attribution.index(session, tenant_id)
    matches: dict[str, Match | None] = {}
    for event in kept:
        if event.identity.key not in matches:
            matches[event.identity.key] = index.match(event.identity)
    geo_of = components.geo.lookup
    geos: list[Geo | None] = [geo_of(event.source_ip) if event.source_ip else None for event in kept]
    nhis = [match.nhi_id if (match := matches[event.identity.key]) else None for event in kept]
    engine = await components.engines.get(session, tenant_id)
    # The identities first, locked: a transaction holding the same records waits here until the other one
    # commits, so the look-up below sees its rows and nothing is scored twice.
    identities = await _identities(session, tenant_id, kept, matches)
    stored = await existing_keys(session, tenant_id, kept)
    new = [i for i, event in enumerate(kept) if (event.source, event.source_event_id, event.time) not in stored]
    result.new_keys = {(kept[i].source, kept[i].source_event_id, kept[i].time) for i in new}
    result.accepted = len(new)
    result.duplicates = len(events) - len(rejects) - len(new)
    if not new:
        return result

    # The rows go to the database while the detectors score them here (the session is not touched until
    # the insert is awaited): the database's work overlaps with Python's.
    rows = ([kept[i] for i in new], [nhis[i] for i in new], [geos[i] for i in new])
    inserting = asyncio.create_task(insert_events(session, tenant_id, batch_id, *rows))
    await asyncio.sleep(0)  # the statement leaves before the scoring starts
    try:
        fresh = sorted(zip(rows[0], rows[2], strict=True), key=lambda pair: pair[0].time)
        result.attributed = sum(1 for event, _ in fresh if matches[event.identity.key] is not None)
        scored = _score(components, tenant_id, engine, index, fresh, identities, matches)
    finally:
        inserted = await inserting
    if len(inserted) != len(new):  # only a writer that ignores the identity locks could cause this
        raise RuntimeError("activity records were stored by another transaction while this chunk was scored")
    detections, gaps, profiles = scored
    await _save_identities(session, tenant_id, identities, profiles)
    for key, profile in profiles.items():
        components.profiles.put(tenant_id, key, identities[key].event_count, profile)
    if enabled(engine, UNKNOWN_IDENTITY):
        detections.extend((row, unknown_identity(event), event.time) for row, event in gaps)
    if detections:
        created = await raise_alerts(session, tenant_id, detections, settings.alert_group_minutes)
        result.alerts = len(created)
        result.alert_ids = created
    await components.engines.save_model_if_due(session, tenant_id)
    return result


Scored = tuple[
    list[tuple["IdentityState", Detection, datetime]], list[tuple["IdentityState", ActivityEvent]], dict[str, Profile]
]


def _score(
    components: AnalyticsComponents,
    tenant_id: uuid.UUID,
    engine: Engine,
    index: AttributionIndex,
    fresh: list[tuple[ActivityEvent, Geo | None]],
    identities: dict[str, IdentityState],
    matches: dict[str, Match | None],
) -> Scored:
    """Run the detectors over the new records in time order, updating each identity's profile after them."""
    window = components.settings.profile_window_days
    profiles: dict[str, Profile] = {}
    detections: list[tuple[IdentityState, Detection, datetime]] = []
    gaps: list[tuple[IdentityState, ActivityEvent]] = []
    for event, geo in fresh:
        row = identities[event.identity.key]
        profile = profiles.get(row.key)
        if profile is None:
            profile = profiles[row.key] = components.profiles.take(tenant_id, row.key, row.event_count) or (
                Profile.from_state(row.profile) if row.profile else new_profile(window)
            )
            if row.event_count == 0 and row.nhi_id is None and index.is_gap(event.identity):
                gaps.append((row, event))
        match = matches[row.key]
        context = Context(
            geo=geo,
            attributed=match is not None,
            nhi_kind=match.kind if match else None,
            identity_first_seen=row.first_seen_at if row.event_count else None,
            identity_last_seen=row.last_seen_at if row.event_count else None,
        )
        for detection in engine.process(event, profile, context):
            detections.append((row, detection, event.time))
        profile.update(event, context)
        row.event_count += 1
        row.first_seen_at = min(row.first_seen_at, event.time)
        row.last_seen_at = max(row.last_seen_at, event.time)
        if match is not None:
            row.nhi_id = match.nhi_id
    return detections, gaps, profiles


async def save_models(session: AsyncSession, components: AnalyticsComponents, tenant_id: uuid.UUID) -> None:
    await components.engines.save_model_if_due(session, tenant_id, force=True)
