"""Graph queries over the edge table, as recursive CTEs in PostgreSQL.

Blast radius: what an NHI can reach, following ``can_assume`` chains and ``grants_access_to`` edges
(and from a credential to the identity holding it), up to ``depth`` hops. Ownership: who owns it.
Exposure: where its secret is exposed and which other secrets are the same.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MAX_DEPTH = 6
MAX_NODES = 1000

_BLAST_RADIUS = text(
    """
    WITH RECURSIVE reach(id, depth, path, via) AS (
        SELECT CAST(:root AS uuid), 0, ARRAY[CAST(:root AS uuid)], CAST(NULL AS text)
        UNION ALL
        SELECT step.id, reach.depth + 1, reach.path || step.id, step.via
        FROM reach
        CROSS JOIN LATERAL (
            SELECT e.target_id AS id, e.kind AS via FROM discovery.edge e
            WHERE e.source_id = reach.id AND e.tenant_id = :tenant_id
              AND e.kind IN ('can_assume', 'grants_access_to')
            UNION ALL
            SELECT e.source_id, 'held_by' FROM discovery.edge e
            WHERE e.target_id = reach.id AND e.tenant_id = :tenant_id AND e.kind = 'has_credential'
        ) AS step
        WHERE reach.depth < :depth AND NOT step.id = ANY(reach.path)
    ), nearest AS (
        SELECT DISTINCT ON (id) id, depth, via FROM reach ORDER BY id, depth
    )
    SELECT n.id, n.kind, n.name, n.provider, n.account, n.environment, n.privilege_level, n.risk_score,
           nearest.depth, nearest.via
    FROM nearest JOIN discovery.nhi n ON n.id = nearest.id AND n.tenant_id = :tenant_id
    ORDER BY nearest.depth, n.risk_score DESC, n.name
    LIMIT :max_nodes
    """
)


def _node(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "provider": row.provider,
        "account": row.account,
        "environment": row.environment,
        "privilege_level": row.privilege_level,
        "risk_score": row.risk_score,
        "depth": row.depth,
        "via": row.via,
    }


async def blast_radius(
    session: AsyncSession, tenant_id: uuid.UUID, root: uuid.UUID, depth: int
) -> list[dict[str, Any]]:
    """Every node reachable from ``root`` within ``depth`` hops (the root first, at depth 0)."""
    depth = max(0, min(depth, MAX_DEPTH))
    rows = await session.execute(
        _BLAST_RADIUS, {"root": root, "tenant_id": tenant_id, "depth": depth, "max_nodes": MAX_NODES + 1}
    )
    return [_node(row) for row in rows]


async def edges_between(session: AsyncSession, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT source_id, target_id, kind FROM discovery.edge
            WHERE tenant_id = :tenant_id AND source_id = ANY(:ids) AND target_id = ANY(:ids)
            ORDER BY kind, source_id, target_id
            """
        ),
        {"tenant_id": tenant_id, "ids": ids},
    )
    return [{"source": row.source_id, "target": row.target_id, "kind": row.kind} for row in rows]


async def ownership(session: AsyncSession, tenant_id: uuid.UUID, root: uuid.UUID) -> list[dict[str, Any]]:
    """Owners of ``root``: its owner field, ``owns`` edges, and the owners of the identity holding it."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE holders(id, depth) AS (
                SELECT CAST(:root AS uuid), 0
                UNION
                SELECT e.source_id, holders.depth + 1 FROM discovery.edge e JOIN holders ON e.target_id = holders.id
                WHERE e.tenant_id = :tenant_id AND e.kind IN ('has_credential', 'owns') AND holders.depth < 4
            )
            SELECT DISTINCT n.id, n.kind, n.name, n.owner, n.owner_source, holders.depth
            FROM holders JOIN discovery.nhi n ON n.id = holders.id AND n.tenant_id = :tenant_id
            ORDER BY holders.depth, n.name
            """
        ),
        {"root": root, "tenant_id": tenant_id},
    )
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "name": row.name,
            "owner": row.owner,
            "source": row.owner_source,
            "depth": row.depth,
        }
        for row in rows
        if row.owner or row.kind not in ("access_key",)
    ]


async def exposure(session: AsyncSession, tenant_id: uuid.UUID, root: uuid.UUID) -> list[dict[str, Any]]:
    """Where ``root``'s secret is exposed (``exposed_in``, ``stored_in``, ``same_secret_as``), both directions."""
    rows = await session.execute(
        text(
            """
            SELECT e.kind, n.id, n.kind AS node_kind, n.name, n.attributes ->> 'location' AS location,
                   n.attributes ->> 'preview' AS preview
            FROM discovery.edge e
            JOIN discovery.nhi n ON n.id = CASE WHEN e.source_id = :root THEN e.target_id ELSE e.source_id END
            WHERE e.tenant_id = :tenant_id AND (e.source_id = :root OR e.target_id = :root)
              AND e.kind IN ('exposed_in', 'stored_in', 'same_secret_as')
            ORDER BY e.kind, n.name
            """
        ),
        {"root": root, "tenant_id": tenant_id},
    )
    return [
        {
            "relationship": row.kind,
            "id": row.id,
            "kind": row.node_kind,
            "name": row.name,
            "location": row.location,
            "preview": row.preview,
        }
        for row in rows
    ]


async def graph_of(session: AsyncSession, tenant_id: uuid.UUID, root: uuid.UUID, depth: int) -> dict[str, Any]:
    """The blast radius with its edges, the owners and the exposures of ``root``."""
    nodes = await blast_radius(session, tenant_id, root, depth)
    truncated = len(nodes) > MAX_NODES
    nodes = nodes[:MAX_NODES]
    ids = [node["id"] for node in nodes]
    return {
        "root": root,
        "depth": max(0, min(depth, MAX_DEPTH)),
        "nodes": nodes,
        "edges": await edges_between(session, tenant_id, ids),
        "owners": await ownership(session, tenant_id, root),
        "exposures": await exposure(session, tenant_id, root),
        "truncated": truncated,
    }
