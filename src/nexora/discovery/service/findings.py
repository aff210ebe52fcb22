"""Finding reads with filters and keyset pagination: the stored findings, and what-if reports (``as_of``)."""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.config import DiscoverySettings
from nexora.core.errors import ValidationFailed
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.discovery.models import Finding
from nexora.discovery.service.posture import ReportedFinding, report, report_order

INVALID_CURSOR = "the cursor is not valid; use next_cursor from the previous page"


@dataclass
class FindingFilters:
    status: str | None = "open"
    category: list[str] | None = None
    severity: list[str] | None = None
    check_id: str | None = None
    nhi_id: uuid.UUID | None = None


async def list_findings(
    session: AsyncSession, tenant_id: uuid.UUID, filters: FindingFilters, *, limit: int, cursor: str | None
) -> tuple[list[Finding], str | None]:
    """Findings matching ``filters``, newest first."""
    query = select(Finding).where(Finding.tenant_id == tenant_id)
    if filters.status:
        query = query.where(Finding.status == filters.status)
    if filters.category:
        query = query.where(Finding.category.in_(filters.category))
    if filters.severity:
        query = query.where(Finding.severity.in_(filters.severity))
    if filters.check_id:
        query = query.where(Finding.check_id == filters.check_id)
    if filters.nhi_id:
        query = query.where(Finding.nhi_id == filters.nhi_id)
    after = decode_cursor(cursor)
    if after:
        try:
            query = query.where(Finding.id < uuid.UUID(after["id"]))
        except (KeyError, ValueError, TypeError):
            raise ValidationFailed(INVALID_CURSOR) from None
    found = list((await session.scalars(query.order_by(Finding.id.desc()).limit(limit + 1))).all())
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = encode_cursor({"id": str(found[-1].id)})
    return found, next_cursor


async def list_report(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    settings: DiscoverySettings,
    as_of: datetime,
    filters: FindingFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReportedFinding], str | None]:
    """A page of what the checks report as of ``as_of`` (a time without a zone is UTC); nothing is stored.

    Every reported finding is open, so ``filters.status`` does not apply. The NHI filter is applied in
    the database (only that NHI is read and evaluated); the others on what the checks report. Pages
    follow :func:`report_order`, the cursor being the position of the last item in that order.
    """
    after = _report_position(cursor)
    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    nhi_ids = None if filters.nhi_id is None else [filters.nhi_id]
    selected = (
        item
        for item in await report(session, tenant_id, settings, moment, nhi_ids=nhi_ids)
        if (not filters.category or item.issue.category in filters.category)
        and (not filters.severity or item.issue.severity in filters.severity)
        and (filters.check_id is None or item.issue.check_id == filters.check_id)
        and (after is None or report_order(item) > after)
    )
    page = heapq.nsmallest(limit + 1, selected, key=report_order)
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = encode_cursor(
            {"score": last.score, "name": last.nhi.name, "check": last.issue.check_id, "id": str(last.nhi.id)}
        )
    return page, next_cursor


def _report_position(cursor: str | None) -> tuple[int, str, str, uuid.UUID] | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return (-int(after["score"]), str(after["name"]), str(after["check"]), uuid.UUID(after["id"]))
    except (KeyError, ValueError, TypeError):
        raise ValidationFailed(INVALID_CURSOR) from None
