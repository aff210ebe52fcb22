"""Identities seen in activity: behaviour profiles for the NHI page, unknown identities, recent events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.models import ActivityIdentity
from nexora.analytics.profiles import Profile
from nexora.core.errors import NotFound


def describe(row: ActivityIdentity) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "kind": row.kind,
        "source": row.source,
        "nhi_id": row.nhi_id,
        "account": row.account,
        "first_seen_at": row.first_seen_at,
        "last_seen_at": row.last_seen_at,
        "event_count": row.event_count,
        "profile": Profile.from_state(row.profile).summary() if row.profile else None,
    }


async def profiles_of_nhi(session: AsyncSession, tenant_id: uuid.UUID, nhi_id: uuid.UUID) -> list[dict[str, Any]]:
    """The behaviour profiles of every identity attributed to an NHI (a key, or a role's sessions)."""
    rows = (
        await session.execute(
            select(ActivityIdentity)
            .where(ActivityIdentity.tenant_id == tenant_id, ActivityIdentity.nhi_id == nhi_id)
            .order_by(ActivityIdentity.last_seen_at.desc())
        )
    ).scalars()
    return [describe(row) for row in rows]


async def get_identity(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> dict[str, Any]:
    row = await session.get(ActivityIdentity, (tenant_id, key))
    if row is None:
        raise NotFound("identity not found")
    return describe(row)


async def list_identities(
    session: AsyncSession, tenant_id: uuid.UUID, *, unknown_only: bool, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Identities by last activity; ``unknown_only``: those no inventoried NHI matches (discovery gaps)."""
    clauses: list[Any] = [ActivityIdentity.tenant_id == tenant_id]
    if unknown_only:
        clauses += [ActivityIdentity.nhi_id.is_(None), ActivityIdentity.kind.notin_(("aws_service", "other"))]
    rows = (
        await session.execute(
            select(ActivityIdentity)
            .where(*clauses)
            .order_by(ActivityIdentity.last_seen_at.desc(), ActivityIdentity.key)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return [{**describe(row), "profile": None} for row in rows]
