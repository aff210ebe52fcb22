"""The set-based statements of one load batch: upsert NHI records, upsert relationships, log the changes.

Bulk upserts keyed by (tenant, connector, external id): PostgreSQL does the work through ``unnest``
arrays, one statement per batch. Change detection compares content digests in the same statement;
new and changed records publish ``nhi.discovered`` / ``nhi.changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import write_outbox
from nexora.core.ids import uuid7
from nexora.discovery.records import NHI_COLUMNS, EdgeRecord, NhiRecord, canonical_json
from nexora.discovery.service.events import build_events


@dataclass
class LoadResult:
    """What a load did: records seen, discovered, changed and removed; relationships loaded and unresolved."""

    seen: int = 0
    discovered: int = 0
    changed: int = 0
    removed: int = 0
    edges: int = 0
    edges_new: int = 0
    edges_removed: int = 0
    edges_unresolved: int = 0

    def add(self, other: LoadResult) -> None:
        self.seen += other.seen
        self.discovered += other.discovered
        self.changed += other.changed
        self.removed += other.removed
        self.edges += other.edges
        self.edges_new += other.edges_new
        self.edges_removed += other.edges_removed
        self.edges_unresolved += other.edges_unresolved

    def counts(self) -> dict[str, int]:
        return {
            "seen": self.seen,
            "discovered": self.discovered,
            "changed": self.changed,
            "removed": self.removed,
            "edges": self.edges,
            "edges_unresolved": self.edges_unresolved,
        }


def deduplicated(records: Sequence[NhiRecord]) -> list[NhiRecord]:
    """One record per external id, the last one winning (one statement cannot upsert a key twice)."""
    by_key = {record.external_id: record for record in records}
    return list(by_key.values()) if len(by_key) != len(records) else list(records)


# The load's batch arrays: the record's own fields as they are, then what the load computes (a new id,
# the owner's source only with an owner, JSON text of permissions and attributes, the content digest).
_LOADED = {column.name: column.load for column in NHI_COLUMNS if column.load}
_COMPUTED = ("id", "owner_source", "permissions", "attributes", "content_hash")
_FROM_RECORD = tuple(name for name in _LOADED if name not in _COMPUTED)
_ARRAYS = (*_FROM_RECORD, *_COMPUTED)
_INPUT = ", ".join(f"CAST(:{name} AS {_LOADED[name]}[])" for name in _ARRAYS)
_INPUT_NAMES = ", ".join(_ARRAYS)
_read = attrgetter(*_FROM_RECORD)


def _columns(batch: Sequence[NhiRecord]) -> dict[str, list[Any]]:
    """The batch as one array per column (what ``unnest`` takes), in a single pass over the records."""
    rows = []
    for record in batch:
        permissions, attributes = canonical_json(record.permissions), canonical_json(record.attributes)
        rows.append(
            (
                *_read(record),
                uuid7(),
                record.owner_source if record.owner else None,
                permissions,
                attributes,
                record.content_hash(permissions, attributes),
            )
        )
    return {name: list(values) for name, values in zip(_ARRAYS, zip(*rows, strict=True), strict=True)}


_UPSERT = text(
    f"""
    WITH input AS (
        SELECT * FROM unnest({_INPUT}) AS t({_INPUT_NAMES})
    ), previous AS MATERIALIZED (
        -- What a changed record looked like before this statement (all parts share one snapshot).
        -- LIMIT 1 keeps the subquery from being flattened: one unique-index probe per input row,
        -- whatever the planner's statistics say about the table.
        SELECT i.external_id, o.before
        FROM input i
        CROSS JOIN LATERAL (
            SELECT jsonb_build_object(
                       'name', n.name, 'account', n.account, 'environment', n.environment_inferred,
                       'owner', n.owner_inferred, 'status', n.status, 'privilege_level', n.privilege_level,
                       'created_at', n.created_at, 'last_used_at', n.last_used_at,
                       'last_rotated_at', n.last_rotated_at, 'expires_at', n.expires_at,
                       'permissions', n.permissions, 'attributes', n.attributes) AS before
            FROM discovery.nhi n
            WHERE n.tenant_id = :tenant_id AND n.connector_id = :connector_id AND n.external_id = i.external_id
              AND n.content_hash <> i.content_hash
            LIMIT 1
        ) o
    ), up AS (
        INSERT INTO discovery.nhi AS n (
            id, tenant_id, connector_id, provider, kind, account, external_id, name, environment,
            environment_inferred, owner, owner_inferred, owner_source, created_at, last_used_at, last_rotated_at,
            expires_at, privilege_level, permissions, status, fingerprint, attributes, content_hash,
            first_seen_at, last_seen_at, updated_at, last_run_id)
        SELECT i.id, :tenant_id, :connector_id, i.provider, i.kind, i.account, i.external_id, i.name,
               i.environment, i.environment, i.owner, i.owner, i.owner_source, i.created_at, i.last_used_at,
               i.last_rotated_at, i.expires_at, i.privilege_level, CAST(i.permissions AS jsonb), i.status,
               i.fingerprint, CAST(i.attributes AS jsonb), i.content_hash, :now, :now, :now, :run_id
        FROM input i
        ON CONFLICT (tenant_id, connector_id, external_id) DO UPDATE SET
            provider = EXCLUDED.provider,
            kind = EXCLUDED.kind,
            account = EXCLUDED.account,
            name = EXCLUDED.name,
            environment_inferred = EXCLUDED.environment_inferred,
            environment = COALESCE(n.environment_override, EXCLUDED.environment_inferred),
            owner_inferred = EXCLUDED.owner_inferred,
            owner = COALESCE(n.owner_override, EXCLUDED.owner_inferred),
            owner_source = CASE WHEN n.owner_override IS NOT NULL THEN 'override' ELSE EXCLUDED.owner_source END,
            created_at = EXCLUDED.created_at,
            last_used_at = EXCLUDED.last_used_at,
            last_rotated_at = EXCLUDED.last_rotated_at,
            expires_at = EXCLUDED.expires_at,
            privilege_level = EXCLUDED.privilege_level,
            permissions = EXCLUDED.permissions,
            status = EXCLUDED.status,
            fingerprint = EXCLUDED.fingerprint,
            attributes = EXCLUDED.attributes,
            content_hash = EXCLUDED.content_hash,
            last_seen_at = EXCLUDED.last_seen_at,
            last_run_id = EXCLUDED.last_run_id,
            updated_at = CASE WHEN n.content_hash = EXCLUDED.content_hash THEN n.updated_at
                              ELSE EXCLUDED.updated_at END
        RETURNING n.id, n.external_id, n.kind, n.name, n.provider, n.account, n.environment, n.first_seen_at,
                  n.updated_at
    )
    -- Only new and changed rows come back (updated_at is this load's time), and the previous
    -- versions of the changed ones; unchanged rows cost nothing on the way out. No join: Python
    -- pairs them by external id.
    SELECT id, external_id, kind, name, provider, account, environment, first_seen_at = :now AS inserted,
           CAST(NULL AS jsonb) AS before
    FROM up WHERE updated_at = :now
    UNION ALL
    SELECT NULL, external_id, NULL, NULL, NULL, NULL, NULL, NULL, before FROM previous
    """  # noqa: S608 - the input columns are constants (NHI_COLUMNS)
)

_EDGE_LOOKUPS = {
    # Scalar subqueries are never flattened: each end is one index probe, even without statistics.
    False: """
    (SELECT s.id FROM discovery.nhi s
     WHERE s.tenant_id = :tenant_id AND s.connector_id = :connector_id AND s.external_id = i.source) AS source_id,
    (SELECT t.id FROM discovery.nhi t
     WHERE t.tenant_id = :tenant_id AND t.connector_id = :connector_id AND t.external_id = i.target) AS target_id
""",
    # An end marked "anywhere" prefers this connector's record, else any connector's of the tenant.
    True: """
    (SELECT s.id FROM discovery.nhi s
     WHERE s.tenant_id = :tenant_id AND s.external_id = i.source
       AND (i.source_anywhere OR s.connector_id = :connector_id)
     ORDER BY s.connector_id = :connector_id DESC, s.id LIMIT 1) AS source_id,
    (SELECT t.id FROM discovery.nhi t
     WHERE t.tenant_id = :tenant_id AND t.external_id = i.target
       AND (i.target_anywhere OR t.connector_id = :connector_id)
     ORDER BY t.connector_id = :connector_id DESC, t.id LIMIT 1) AS target_id
""",
}
_EDGE_UPSERT = """
    WITH input AS (
        SELECT * FROM unnest(CAST(:source AS text[]), CAST(:target AS text[]), CAST(:kind AS text[]),
                             CAST(:attributes AS text[]), CAST(:source_anywhere AS boolean[]),
                             CAST(:target_anywhere AS boolean[]))
            AS t(source, target, kind, attributes, source_anywhere, target_anywhere)
    ), looked_up AS MATERIALIZED (
        -- Materialised so that each lookup runs once per edge, not once per reference below.
        SELECT i.kind, i.attributes, {lookups} FROM input i
    ), up AS (
        INSERT INTO discovery.edge AS e (tenant_id, connector_id, source_id, target_id, kind, attributes,
                                         first_seen_at, last_seen_at, last_run_id)
        SELECT DISTINCT ON (source_id, kind, target_id)
               :tenant_id, :connector_id, source_id, target_id, kind, CAST(attributes AS jsonb), :now, :now, :run_id
        FROM looked_up
        WHERE source_id IS NOT NULL AND target_id IS NOT NULL AND source_id <> target_id
        ON CONFLICT (source_id, kind, target_id) DO UPDATE SET
            attributes = EXCLUDED.attributes, last_seen_at = EXCLUDED.last_seen_at,
            last_run_id = EXCLUDED.last_run_id, connector_id = EXCLUDED.connector_id
        RETURNING e.first_seen_at
    )
    SELECT count(*) AS loaded, count(*) FILTER (WHERE first_seen_at = :now) AS inserted FROM up
"""


_COMPARED = (
    "name",
    "account",
    "environment",
    "owner",
    "status",
    "privilege_level",
    "created_at",
    "last_used_at",
    "last_rotated_at",
    "expires_at",
    "permissions",
    "attributes",
)


def _normalised(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _changed_fields(record: NhiRecord, before: dict[str, Any]) -> list[str]:
    now = {
        "name": record.name,
        "account": record.account,
        "environment": record.environment,
        "owner": record.owner,
        "status": record.status,
        "privilege_level": record.privilege_level,
        "created_at": record.created_at,
        "last_used_at": record.last_used_at,
        "last_rotated_at": record.last_rotated_at,
        "expires_at": record.expires_at,
        "permissions": record.permissions,
        "attributes": record.attributes,
    }
    changed = []
    for name in _COMPARED:
        old, new = before.get(name), _normalised(now[name])
        if name.endswith("_at") and old is not None and new is not None:
            if datetime.fromisoformat(str(old)) == datetime.fromisoformat(str(new)):
                continue
        elif name in ("permissions", "attributes"):
            if canonical_json(old) == canonical_json(new):
                continue
        elif old == new:
            continue
        changed.append(name)
    return changed or ["other"]


async def upsert_nhis(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    run_id: uuid.UUID,
    records: Sequence[NhiRecord],
    now: datetime,
    record_changes: bool,
) -> LoadResult:
    """Insert or update ``records`` (one batch, one statement) and publish a discovered/changed event per change.

    Idempotent: loading the same records again changes nothing but ``last_seen_at`` and publishes nothing.
    """
    batch = deduplicated(records)
    result = LoadResult(seen=len(batch))
    if not batch:
        return result
    params = {"tenant_id": tenant_id, "connector_id": connector_id, "run_id": run_id, "now": now, **_columns(batch)}
    rows = (await session.execute(_UPSERT, params)).all()
    before = {row[1]: row[8] for row in rows if row[0] is None}
    by_key = {record.external_id: record for record in batch} if before else {}
    discovered: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    connector = str(connector_id)
    for nhi_id, external_id, kind, name, provider, account, environment, inserted, _ in rows:
        if nhi_id is None:
            continue
        base = {
            "nhi_id": str(nhi_id),
            "connector_id": connector,
            "provider": provider,
            "kind": kind,
            "external_id": external_id,
            "name": name,
        }
        if inserted:
            base["account"], base["environment"] = account, environment
            discovered.append(base)
        else:
            previous = before.get(external_id)
            base["changed"] = _changed_fields(by_key[external_id], previous) if previous else ["other"]
            changed.append(base)
    result.discovered, result.changed = len(discovered), len(changed)
    events = build_events("nhi.discovered", discovered, tenant_id) + build_events("nhi.changed", changed, tenant_id)
    await write_outbox(session, events)
    if record_changes:
        changes: list[tuple[dict[str, Any], str, list[str]]] = [(p, "discovered", []) for p in discovered]
        changes += [(payload, "changed", payload["changed"]) for payload in changed]
        await append_changes(session, tenant_id, connector_id, run_id, changes, now)
    return result


async def append_changes(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    run_id: uuid.UUID,
    changes: list[tuple[dict[str, Any], str, list[str]]],
    now: datetime,
) -> None:
    """Append (payload, change, changed fields) entries to the change log listed against the baseline."""
    if not changes:
        return
    await session.execute(
        text(
            """
            INSERT INTO discovery.change (tenant_id, connector_id, run_id, nhi_id, external_id, kind, name, change,
                                          changed_fields, at)
            SELECT :tenant_id, :connector_id, :run_id, nhi_id, external_id, kind, name, change,
                   CAST(fields AS text[]), :now
            FROM unnest(CAST(:nhi_id AS uuid[]), CAST(:external_id AS text[]), CAST(:kind AS text[]),
                        CAST(:name AS text[]), CAST(:change AS text[]), CAST(:fields AS text[]))
                 AS t(nhi_id, external_id, kind, name, change, fields)
            """
        ),
        {
            "tenant_id": tenant_id,
            "connector_id": connector_id,
            "run_id": run_id,
            "now": now,
            "nhi_id": [payload["nhi_id"] for payload, _, _ in changes],
            "external_id": [payload["external_id"] for payload, _, _ in changes],
            "kind": [payload["kind"] for payload, _, _ in changes],
            "name": [payload["name"] for payload, _, _ in changes],
            "change": [change for _, change, _ in changes],
            "fields": ["{" + ",".join(fields) + "}" for _, _, fields in changes],
        },
    )


async def upsert_edges(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    run_id: uuid.UUID,
    edges: Sequence[EdgeRecord],
    now: datetime,
) -> LoadResult:
    """Upsert relationships whose ends resolve to inventoried records; count the ones that do not."""
    result = LoadResult()
    local = [e for e in edges if not (e.source_anywhere or e.target_anywhere)]
    anywhere = [e for e in edges if e.source_anywhere or e.target_anywhere]
    for group, spans_connectors in ((local, False), (anywhere, True)):
        if not group:
            continue
        params = {
            "tenant_id": tenant_id,
            "connector_id": connector_id,
            "run_id": run_id,
            "now": now,
            "source": [e.source for e in group],
            "target": [e.target for e in group],
            "kind": [e.kind for e in group],
            "attributes": [canonical_json(dict(e.attributes)) if e.attributes else "{}" for e in group],
            "source_anywhere": [e.source_anywhere for e in group],
            "target_anywhere": [e.target_anywhere for e in group],
        }
        statement = text(_EDGE_UPSERT.format(lookups=_EDGE_LOOKUPS[spans_connectors]))
        row = (await session.execute(statement, params)).one()
        result.edges += row.loaded
        result.edges_new += row.inserted
        unique = len({(e.source, e.target, e.kind) for e in group})
        result.edges_unresolved += max(0, unique - row.loaded)
    return result
