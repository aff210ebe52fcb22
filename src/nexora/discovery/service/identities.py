"""What other domains need to recognise an inventoried identity in activity logs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.discovery.models import Nhi

# The kinds an activity record can name: keys, users and roles by their provider ids, service accounts.
ATTRIBUTABLE_KINDS = ("access_key", "iam_user", "iam_role", "k8s_service_account", "github_app", "deploy_key")


@dataclass(frozen=True, slots=True)
class InventoriedIdentity:
    id: uuid.UUID
    kind: str
    account: str
    external_id: str
    name: str
    holder: str | None  # the user ARN an access key belongs to


async def attributable_identities(session: AsyncSession, tenant_id: uuid.UUID) -> list[InventoriedIdentity]:
    """The tenant's inventoried NHIs that activity can be attributed to (one query, a few columns)."""
    rows = await session.execute(
        select(Nhi.id, Nhi.kind, Nhi.account, Nhi.external_id, Nhi.name, Nhi.permissions["inherited_from"].astext)
        .where(Nhi.tenant_id == tenant_id, Nhi.kind.in_(ATTRIBUTABLE_KINDS))
        .order_by(Nhi.id)
    )
    return [InventoriedIdentity(*row) for row in rows]
