"""Posture use cases: evaluate the checks over the inventory, persist findings, score every NHI.

Findings open and resolve themselves: each evaluation makes the stored set equal to what the
checks report now, publishing ``nhi.finding`` for every finding that opens, re-opens or resolves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import write_outbox
from nexora.core.config import DiscoverySettings
from nexora.core.events import Event
from nexora.core.ids import utcnow, uuid7
from nexora.discovery.posture import Issue, Neighbour, Node, Thresholds, evaluate
from nexora.discovery.service.events import build_event

_NODE_COLUMNS = """
    id, connector_id, provider, kind, name, account, environment, owner, created_at, last_used_at, last_rotated_at,
    expires_at, privilege_level, permissions, status, attributes
"""


def thresholds_of(settings: DiscoverySettings) -> Thresholds:
    return Thresholds(
        unused_days=settings.unused_days,
        key_max_age_days=settings.key_max_age_days,
        expiry_warning_days=settings.expiry_warning_days,
    )


async def load_nodes(
    session: AsyncSession, tenant_id: uuid.UUID, nhi_ids: Iterable[uuid.UUID] | None = None
) -> list[Node]:
    """The tenant's NHIs (or just ``nhi_ids``) with the relationships the checks read."""
    params: dict[str, Any] = {"tenant_id": tenant_id}
    where = "tenant_id = :tenant_id"
    if nhi_ids is not None:
        params["ids"] = list(nhi_ids)
        where += " AND id = ANY(:ids)"
    rows = (await session.execute(text(f"SELECT {_NODE_COLUMNS} FROM discovery.nhi WHERE {where}"), params)).all()  # noqa: S608 - the fragments are constants
    nodes = {
        row.id: Node(
            id=row.id,
            provider=row.provider,
            kind=row.kind,
            name=row.name,
            account=row.account,
            environment=row.environment,
            owner=row.owner,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            last_rotated_at=row.last_rotated_at,
            expires_at=row.expires_at,
            privilege_level=row.privilege_level,
            permissions=row.permissions,
            status=row.status,
            attributes=row.attributes,
            connector_id=row.connector_id,
        )
        for row in rows
    }
    if not nodes:
        return []
    edge_filter = "" if nhi_ids is None else "AND (e.source_id = ANY(:ids) OR e.target_id = ANY(:ids))"
    edges = (
        await session.execute(
            text(
                f"""
                SELECT e.kind, e.source_id, e.target_id,
                       s.kind AS source_kind, s.name AS source_name, s.environment AS source_environment,
                       t.kind AS target_kind, t.name AS target_name, t.environment AS target_environment
                FROM discovery.edge e
                JOIN discovery.nhi s ON s.id = e.source_id
                JOIN discovery.nhi t ON t.id = e.target_id
                WHERE e.tenant_id = :tenant_id AND e.kind IN ('used_by', 'exposed_in', 'same_secret_as') {edge_filter}
                """  # noqa: S608 - the filter fragment is a constant
            ),
            params,
        )
    ).all()
    for edge in edges:
        source, target = nodes.get(edge.source_id), nodes.get(edge.target_id)
        as_target = Neighbour(edge.target_id, edge.target_kind, edge.target_name, edge.target_environment)
        as_source = Neighbour(edge.source_id, edge.source_kind, edge.source_name, edge.source_environment)
        if edge.kind == "used_by" and source is not None:
            source.used_by.append(as_target)
        elif edge.kind == "exposed_in":
            if source is not None:
                source.exposed_in.append(as_target)
            if target is not None:
                target.exposed_in.append(as_source)
        elif edge.kind == "same_secret_as":
            if source is not None:
                source.same_secret_as.append(as_target)
            if target is not None:
                target.same_secret_as.append(as_source)
    return list(nodes.values())


@dataclass(frozen=True)
class ReportedFinding:
    """A finding computed for a given ``as_of`` without being stored (a what-if report)."""

    nhi: Node
    issue: Issue
    score: int


async def report(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    settings: DiscoverySettings,
    as_of: datetime,
    *,
    nhi_ids: Iterable[uuid.UUID] | None = None,
) -> list[ReportedFinding]:
    """What the checks report as of ``as_of`` (past or future) for the tenant's NHIs, or only ``nhi_ids``,
    in no particular order (:func:`report_order` sorts them); nothing is stored or published."""
    nodes = await load_nodes(session, tenant_id, nhi_ids)
    results = evaluate(nodes, as_of=as_of, thresholds=thresholds_of(settings))
    by_id = {node.id: node for node in nodes}
    return [
        ReportedFinding(by_id[nhi_id], issue, assessment.score)
        for nhi_id, assessment in results.items()
        for issue in assessment.issues
    ]


def report_order(item: ReportedFinding) -> tuple[int, str, str, uuid.UUID]:
    """A report's order: highest score first, then NHI name, check, NHI id (unique: one issue per check)."""
    return (-item.score, item.nhi.name, item.issue.check_id, item.nhi.id)


@dataclass
class PostureResult:
    opened: int = 0
    resolved: int = 0
    open: int = 0


def _finding_event(tenant_id: uuid.UUID, finding: dict[str, Any], status: str) -> Event:
    return build_event(
        "nhi.finding",
        {
            "finding_id": str(finding["id"]),
            "nhi_id": str(finding["nhi_id"]) if finding["nhi_id"] else None,
            "check_id": finding["check_id"],
            "category": finding["category"],
            "severity": finding["severity"],
            "status": status,
            "title": finding["title"],
            "nhi_name": finding["nhi_name"],
            "nhi_kind": finding["nhi_kind"],
        },
        tenant_id,
        str(finding["id"]),
    )


async def evaluate_and_store(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    settings: DiscoverySettings,
    *,
    nhi_ids: Iterable[uuid.UUID] | None = None,
    now: datetime | None = None,
) -> PostureResult:
    """Evaluate the checks now, make the stored findings match, and update every risk score.

    With ``nhi_ids``, only those NHIs are evaluated (after an owner or environment override).
    """
    now = now or utcnow()
    ids = None if nhi_ids is None else list(nhi_ids)
    nodes = await load_nodes(session, tenant_id, ids)
    results = evaluate(nodes, as_of=now, thresholds=thresholds_of(settings))
    scope = "" if ids is None else "AND (nhi_id = ANY(:ids))"
    params: dict[str, Any] = {"tenant_id": tenant_id, "ids": ids}
    existing_rows = (
        await session.execute(
            text(
                f"SELECT id, nhi_id, check_id, status FROM discovery.finding "  # noqa: S608 - the scope fragment is a constant
                f"WHERE tenant_id = :tenant_id AND (nhi_id IS NOT NULL {scope})"
            ),
            params,
        )
    ).all()
    existing = {(row.nhi_id, row.check_id): row for row in existing_rows}
    by_id = {node.id: node for node in nodes}
    events: list[Event] = []
    upserts: list[dict[str, Any]] = []
    wanted: set[tuple[uuid.UUID, str]] = set()
    outcome = PostureResult()
    for nhi_id, assessment in results.items():
        node = by_id[nhi_id]
        for issue in assessment.issues:
            key = (nhi_id, issue.check_id)
            wanted.add(key)
            row = existing.get(key)
            finding = {
                "id": row.id if row else uuid7(),
                "nhi_id": nhi_id,
                "connector_id": node.connector_id,
                "check_id": issue.check_id,
                "category": issue.category,
                "severity": issue.severity,
                "title": issue.title,
                "evidence": json.dumps(issue.evidence, default=str),
                "recommendation": issue.recommendation,
                "nhi_name": node.name,
                "nhi_kind": node.kind,
            }
            upserts.append(finding)
            if row is None or row.status != "open":
                outcome.opened += 1
                events.append(_finding_event(tenant_id, finding, "open"))
    outcome.open = len(upserts)
    if upserts:
        await session.execute(
            text(
                """
                INSERT INTO discovery.finding AS f (id, tenant_id, nhi_id, connector_id, check_id, category, severity,
                    title, evidence, recommendation, status, nhi_name, nhi_kind, first_seen_at, last_seen_at)
                SELECT id, :tenant_id, nhi_id, connector_id, check_id, category, severity, title,
                       CAST(evidence AS jsonb), recommendation, 'open', nhi_name, nhi_kind, :now, :now
                FROM unnest(CAST(:id AS uuid[]), CAST(:nhi_id AS uuid[]), CAST(:connector_id AS uuid[]),
                            CAST(:check_id AS text[]), CAST(:category AS text[]), CAST(:severity AS text[]),
                            CAST(:title AS text[]), CAST(:evidence AS text[]), CAST(:recommendation AS text[]),
                            CAST(:nhi_name AS text[]), CAST(:nhi_kind AS text[]))
                     AS t(id, nhi_id, connector_id, check_id, category, severity, title, evidence, recommendation,
                          nhi_name, nhi_kind)
                ON CONFLICT (tenant_id, nhi_id, check_id) DO UPDATE SET
                    severity = EXCLUDED.severity, title = EXCLUDED.title, evidence = EXCLUDED.evidence,
                    recommendation = EXCLUDED.recommendation, nhi_name = EXCLUDED.nhi_name,
                    last_seen_at = EXCLUDED.last_seen_at,
                    first_seen_at = CASE WHEN f.status = 'open' THEN f.first_seen_at ELSE EXCLUDED.first_seen_at END,
                    status = 'open', resolved_at = NULL
                """
            ),
            {
                "tenant_id": tenant_id,
                "now": now,
                **{name: [item[name] for item in upserts] for name in upserts[0]},
            },
        )
    stale = [row for key, row in existing.items() if key not in wanted and row.status == "open"]
    orphan_scope = "" if ids is not None else "OR (nhi_id IS NULL AND status = 'open')"
    resolved = (
        await session.execute(
            text(
                f"""
                UPDATE discovery.finding SET status = 'resolved', resolved_at = :now
                WHERE tenant_id = :tenant_id AND (id = ANY(:stale) {orphan_scope})
                RETURNING id, nhi_id, check_id, category, severity, title, nhi_name, nhi_kind
                """  # noqa: S608 - the scope fragment is a constant
            ),
            {"tenant_id": tenant_id, "now": now, "stale": [row.id for row in stale]},
        )
    ).all()
    for row in resolved:
        outcome.resolved += 1
        events.append(_finding_event(tenant_id, dict(row._mapping), "resolved"))
    await _store_scores(session, tenant_id, results)
    await write_outbox(session, events)
    return outcome


async def _store_scores(session: AsyncSession, tenant_id: uuid.UUID, results: dict[uuid.UUID, Any]) -> None:
    if not results:
        return
    items = list(results.items())
    await session.execute(
        text(
            """
            UPDATE discovery.nhi n SET risk_score = v.score, risk_factors = CAST(v.factors AS jsonb),
                   open_findings = v.open
            FROM unnest(CAST(:id AS uuid[]), CAST(:score AS int[]), CAST(:factors AS text[]), CAST(:open AS int[]))
                 AS v(id, score, factors, open)
            WHERE n.id = v.id AND n.tenant_id = :tenant_id
              AND (n.risk_score <> v.score OR n.open_findings <> v.open
                   OR n.risk_factors <> CAST(v.factors AS jsonb))
            """
        ),
        {
            "tenant_id": tenant_id,
            "id": [nhi_id for nhi_id, _ in items],
            "score": [assessment.score for _, assessment in items],
            "factors": [json.dumps(assessment.factors) for _, assessment in items],
            "open": [len(assessment.issues) for _, assessment in items],
        },
    )
