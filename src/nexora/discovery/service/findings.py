"""Finding reads: stored findings with filters and cursor pagination."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.errors import ValidationFailed
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.discovery.models import Finding


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
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
    found = list((await session.scalars(query.order_by(Finding.id.desc()).limit(limit + 1))).all())
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = encode_cursor({"id": str(found[-1].id)})
    return found, next_cursor
