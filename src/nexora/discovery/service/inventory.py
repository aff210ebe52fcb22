"""Inventory reads and overrides: list and filter NHIs, one NHI, owner/environment overrides, overview."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import write_outbox
from nexora.core.config import DiscoverySettings
from nexora.core.db import Database
from nexora.core.errors import NotFound, ValidationFailed
from nexora.core.ids import utcnow
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.discovery.models import Change, Finding, Nhi
from nexora.discovery.records import ENVIRONMENTS, NHI_COLUMNS
from nexora.discovery.service.events import build_event
from nexora.discovery.service.posture import evaluate_and_store

# Sort name -> (column, descending). Each has an index on (tenant_id, column, id) that keyset
# pagination walks; nullable times sort as the epoch (the same expression as ix_nhi_last_used).
_EPOCH = "'1970-01-01 00:00:00+00'::timestamptz"
SORTS: dict[str, tuple[str, bool]] = {
    "-risk": ("risk_score", True),
    "risk": ("risk_score", False),
    "name": ("name", False),
    "-name": ("name", True),
    "last_used": (f"coalesce(last_used_at, {_EPOCH})", False),
    "-last_used": (f"coalesce(last_used_at, {_EPOCH})", True),
    "first_seen": ("first_seen_at", False),
    "-first_seen": ("first_seen_at", True),
}
# What ?q= searches: name, external id and owner (chr(1) keeps a match from spanning two of them);
# the same expression as discovery.search_nhi_ids and its trigram index.
SEARCH_TEXT = "(name || chr(1) || external_id || chr(1) || coalesce(owner, ''))"
_TRIGRAM = re.compile(r"[^\W_]{3}")
SEARCH_IDS = 1000  # a search matching more rows walks the sort order instead
# What a list row shows (the API's NhiOut; no attributes, permissions or risk factors, which are detail only)
# and what the CSV export writes, in its column order: both from the one list of the inventory's columns.
LIST_COLUMNS = tuple(column.name for column in NHI_COLUMNS if column.listed)
EXPORT_COLUMNS = tuple(column.name for column in NHI_COLUMNS if column.exported)
_LIST_SELECT = ", ".join(
    f"{column.expression} AS {column.name}" if column.expression else column.name
    for column in NHI_COLUMNS
    if column.listed
)


@dataclass
class NhiFilters:
    provider: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)
    owner: str | None = None
    risk_min: int | None = None
    risk_max: int | None = None
    stale: bool | None = None
    has_findings: bool | None = None
    q: str | None = None
    connector_id: uuid.UUID | None = None


def _where(
    tenant_id: uuid.UUID, filters: NhiFilters, unused_days: int, matches: list[uuid.UUID] | None = None
) -> tuple[str, dict[str, Any]]:
    clauses = ["tenant_id = :tenant_id"]
    params: dict[str, Any] = {"tenant_id": tenant_id}
    for name in ("provider", "kind", "environment"):
        values = list(dict.fromkeys(getattr(filters, name)))
        if len(values) == 1:
            # Plain equality lets the (tenant_id, kind, risk_score, id) index return rows already in order.
            clauses.append(f"{name} = :{name}")
            params[name] = values[0]
        elif values:
            clauses.append(f"{name} = ANY(:{name})")
            params[name] = values
    if filters.owner is not None:
        if filters.owner in ("", "none"):
            clauses.append("owner IS NULL")
        else:
            clauses.append("owner = :owner")
            params["owner"] = filters.owner
    if filters.risk_min is not None:
        clauses.append("risk_score >= :risk_min")
        params["risk_min"] = filters.risk_min
    if filters.risk_max is not None:
        clauses.append("risk_score <= :risk_max")
        params["risk_max"] = filters.risk_max
    if filters.stale is not None:
        params["stale_before"] = utcnow() - timedelta(days=unused_days)
        stale = "coalesce(last_used_at, created_at, first_seen_at) < :stale_before"
        clauses.append(stale if filters.stale else f"NOT ({stale})")
    if filters.has_findings is not None:
        clauses.append("open_findings > 0" if filters.has_findings else "open_findings = 0")
    if filters.q:
        if matches is not None:
            clauses.append("id = ANY(:matches)")
            params["matches"] = matches
        else:
            clauses.append(f"{SEARCH_TEXT} ILIKE :q")
            params["q"] = _pattern(filters.q)
    if filters.connector_id is not None:
        clauses.append("connector_id = :connector_id")
        params["connector_id"] = filters.connector_id
    return " AND ".join(clauses), params


def _pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _search(session: AsyncSession, query: str, limit: int) -> list[uuid.UUID] | None:
    """The ids matching a selective search, from the trigram index; ``None`` when a scan is the better plan.

    Under RLS, ILIKE (not leakproof) cannot be an index condition, so the index is read through
    ``discovery.search_nhi_ids`` (tenant rule applied inside). A search without three letters or digits
    in a row has no trigram to look up, and one matching more than ``limit`` rows is answered faster
    by walking the sort order and filtering: both return ``None``.
    """
    if not _TRIGRAM.search(query):
        return None
    found = list(
        await session.scalars(
            text("SELECT discovery.search_nhi_ids(:q, :limit)"), {"q": _pattern(query), "limit": limit + 1}
        )
    )
    return found if len(found) <= limit else None


def _cursor_value(sort: str, value: Any) -> Any:
    column, _ = SORTS[sort]
    if column == "risk_score":
        return int(value)
    if column == "name":
        return str(value)
    return datetime.fromisoformat(str(value))


async def list_nhis(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: NhiFilters,
    *,
    sort: str = "-risk",
    limit: int = 50,
    cursor: str | None = None,
    unused_days: int = 45,
    search_limit: int = SEARCH_IDS,
) -> tuple[list[Any], str | None]:
    """A page of the tenant's NHIs matching ``filters`` in ``sort`` order (rows of ``LIST_COLUMNS``).

    The cursor is a keyset position (sort value, id): every page costs the same, however deep. A text
    search matching at most ``search_limit`` rows is resolved through its index first; a broader one
    filters while walking the sort order. Both give the same rows.
    """
    if sort not in SORTS:
        raise ValidationFailed(f"unknown sort '{sort}'; choose one of: {', '.join(SORTS)}")
    column, descending = SORTS[sort]
    matches = await _search(session, filters.q, search_limit) if filters.q else None
    where, params = _where(tenant_id, filters, unused_days, matches)
    after = decode_cursor(cursor)
    if after:
        try:
            params["after_value"] = _cursor_value(sort, after["v"])
            params["after_id"] = uuid.UUID(after["id"])
        except (KeyError, ValueError, TypeError):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
        if after.get("s") != sort:
            raise ValidationFailed("the cursor belongs to another sort order; start again without a cursor")
        where += f" AND ({column}, id) {'<' if descending else '>'} (:after_value, :after_id)"
    direction = "DESC" if descending else "ASC"
    params["limit"] = limit + 1
    statement = text(
        f"SELECT {_LIST_SELECT}, {column} AS sort_value FROM discovery.nhi WHERE {where} "  # noqa: S608 - sort columns come from SORTS and filters are bound parameters
        f"ORDER BY {column} {direction}, id {direction} LIMIT :limit"
    )
    rows = list((await session.execute(statement, params)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor({"s": sort, "v": last.sort_value, "id": str(last.id)})
    return rows, next_cursor


async def export_rows(
    db: Database, tenant_id: uuid.UUID, filters: NhiFilters, *, sort: str, unused_days: int, chunk: int = 1000
) -> AsyncIterator[list[Any]]:
    """Every matching NHI (rows of ``LIST_COLUMNS``) in pages of ``chunk``, each in its own short transaction."""
    cursor: str | None = None
    while True:
        async with db.unit_of_work(tenant_id) as session:
            page, cursor = await list_nhis(
                session, tenant_id, filters, sort=sort, limit=chunk, cursor=cursor, unused_days=unused_days
            )
        yield page
        if cursor is None:
            return


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    # Cells starting with formula characters are neutralised for spreadsheet users.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def export_csv(
    db: Database, tenant_id: uuid.UUID, filters: NhiFilters, *, sort: str, unused_days: int
) -> AsyncIterator[str]:
    """The matching NHIs as CSV text (``EXPORT_COLUMNS``, a header first), one chunk per page of rows.

    Formula-like cells are neutralised for spreadsheets. An unknown sort is refused before anything is read.
    """
    if sort not in SORTS:
        raise ValidationFailed(f"unknown sort '{sort}'; choose one of: {', '.join(SORTS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    async for page in export_rows(db, tenant_id, filters, sort=sort, unused_days=unused_days):
        for nhi in page:
            writer.writerow([_csv_value(getattr(nhi, column)) for column in EXPORT_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


async def get_nhi(session: AsyncSession, tenant_id: uuid.UUID, nhi_id: uuid.UUID) -> Nhi:
    nhi = await session.get(Nhi, nhi_id)
    if nhi is None or nhi.tenant_id != tenant_id:
        raise NotFound("NHI not found")
    return nhi


async def findings_of(session: AsyncSession, tenant_id: uuid.UUID, nhi_id: uuid.UUID) -> list[Finding]:
    query = (
        select(Finding)
        .where(Finding.tenant_id == tenant_id, Finding.nhi_id == nhi_id)
        .order_by(Finding.status, Finding.first_seen_at.desc())
    )
    return list((await session.scalars(query)).all())


async def update_nhi(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    nhi_id: uuid.UUID,
    changes: dict[str, str | None],
    settings: DiscoverySettings,
) -> Nhi:
    """Override (or, with ``None``, clear the override of) the owner and/or environment of an NHI.

    Overrides survive later runs; the NHI's findings are re-evaluated at once.
    """
    nhi = await get_nhi(session, tenant_id, nhi_id)
    if "environment" in changes:
        environment = changes["environment"]
        if environment is not None and environment not in ENVIRONMENTS:
            raise ValidationFailed(f"environment must be one of: {', '.join(ENVIRONMENTS)}")
        nhi.environment_override = environment
        nhi.environment = environment or nhi.environment_inferred
    if "owner" in changes:
        owner = changes["owner"]
        nhi.owner_override = owner
        nhi.owner = owner or nhi.owner_inferred
        nhi.owner_source = "override" if owner else ("tag" if nhi.owner_inferred else None)
    nhi.updated_at = utcnow()
    await session.flush()
    event = build_event(
        "nhi.changed",
        {
            "nhi_id": str(nhi.id),
            "connector_id": str(nhi.connector_id),
            "provider": nhi.provider,
            "kind": nhi.kind,
            "external_id": nhi.external_id,
            "name": nhi.name,
            "changed": sorted(changes),
        },
        tenant_id,
        str(nhi.id),
    )
    await write_outbox(session, [event])
    await evaluate_and_store(session, tenant_id, settings, nhi_ids=[nhi.id])
    await session.refresh(nhi)
    return nhi


async def list_changes(
    session: AsyncSession, tenant_id: uuid.UUID, connector_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Change], str | None]:
    """Changes recorded since the connector's baseline run, oldest first."""
    query = select(Change).where(Change.tenant_id == tenant_id, Change.connector_id == connector_id)
    after = decode_cursor(cursor)
    if after:
        try:
            query = query.where(Change.id > int(after["id"]))
        except (KeyError, ValueError, TypeError):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
    changes = list((await session.scalars(query.order_by(Change.id).limit(limit + 1))).all())
    next_cursor = None
    if len(changes) > limit:
        changes = changes[:limit]
        next_cursor = encode_cursor({"id": changes[-1].id})
    return changes, next_cursor


async def overview(
    session: AsyncSession, tenant_id: uuid.UUID, *, window_days: int, unused_days: int
) -> dict[str, Any]:
    """Counts for the console's overview page, computed in the database."""
    params = {
        "tenant_id": tenant_id,
        "stale_before": utcnow() - timedelta(days=unused_days),
        "window": window_days,
    }

    async def grouped(sql: str) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in (await session.execute(text(sql), params)).all()]

    totals = (
        await session.execute(
            text(
                """
                SELECT count(*) AS total,
                       count(*) FILTER (WHERE kind IN ('iam_user','iam_role','service_account','k8s_service_account',
                                                       'github_app','oauth_app','vault_approle') AND owner IS NULL)
                           AS orphaned,
                       count(*) FILTER (WHERE coalesce(last_used_at, created_at, first_seen_at) < :stale_before
                                        AND (attributes ->> 'usage_tracked')::boolean) AS stale,
                       count(*) FILTER (WHERE open_findings > 0) AS with_findings
                FROM discovery.nhi WHERE tenant_id = :tenant_id
                """
            ),
            params,
        )
    ).one()
    return {
        "total": totals.total,
        "orphaned": totals.orphaned,
        "stale": totals.stale,
        "with_findings": totals.with_findings,
        "by_provider": await grouped(
            "SELECT provider, count(*) AS count FROM discovery.nhi WHERE tenant_id = :tenant_id "
            "GROUP BY provider ORDER BY count DESC, provider"
        ),
        "by_kind": await grouped(
            "SELECT kind, count(*) AS count FROM discovery.nhi WHERE tenant_id = :tenant_id "
            "GROUP BY kind ORDER BY count DESC, kind"
        ),
        "by_environment": await grouped(
            "SELECT environment, count(*) AS count FROM discovery.nhi WHERE tenant_id = :tenant_id "
            "GROUP BY environment ORDER BY count DESC, environment"
        ),
        "risk_distribution": await grouped(
            """
            SELECT band, count(*) AS count FROM (
                SELECT CASE WHEN risk_score >= 75 THEN 'critical' WHEN risk_score >= 50 THEN 'high'
                            WHEN risk_score >= 25 THEN 'medium' WHEN risk_score > 0 THEN 'low' ELSE 'none' END AS band
                FROM discovery.nhi WHERE tenant_id = :tenant_id) banded
            GROUP BY band ORDER BY min(CASE band WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2
                                                WHEN 'low' THEN 3 ELSE 4 END)
            """
        ),
        "open_findings": await grouped(
            "SELECT category, severity, count(*) AS count FROM discovery.finding "
            "WHERE tenant_id = :tenant_id AND status = 'open' GROUP BY category, severity ORDER BY category, severity"
        ),
        "trend": await grouped(
            """
            SELECT day::date AS day,
                   (SELECT count(*) FROM discovery.finding f
                    WHERE f.tenant_id = :tenant_id AND f.first_seen_at < day + interval '1 day'
                      AND (f.resolved_at IS NULL OR f.resolved_at >= day + interval '1 day')) AS open
            FROM generate_series(date_trunc('day', now()) - make_interval(days => :window - 1),
                                 date_trunc('day', now()), interval '1 day') AS day
            ORDER BY day
            """
        ),
    }
