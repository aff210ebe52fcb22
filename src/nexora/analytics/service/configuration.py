"""What the tenant-configured outbound things (S3 sources, alert webhooks) share: the reachability check of
their URLs, storing one under a unique name, and announcing each change on the bus (and so in the audit log)."""

from __future__ import annotations

import uuid
from typing import Literal, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import publish
from nexora.core.errors import Conflict, UpstreamUnavailable, ValidationFailed
from nexora.core.outbound import parse_networks
from nexora.core.resilience import check_destination
from nexora.core.runtime import Runtime

SOURCE = "nexora.analytics"
Kind = Literal["s3_source", "webhook"]


class Named(Protocol):
    id: uuid.UUID
    name: str


def check_reachable(url: str, runtime: Runtime) -> None:
    """Refuse a URL aimed inside the host's networks (unless allow-listed) or whose name does not resolve:
    both are the tenant's input to fix (422), not an outage."""
    try:
        check_destination(url, parse_networks(runtime.settings.outbound.allowed_networks))
    except UpstreamUnavailable as error:
        raise ValidationFailed(str(error)) from None


async def announce(session: AsyncSession, tenant_id: uuid.UUID, kind: Kind, item: Named, change: str) -> None:
    await publish(
        session,
        "analytics.source_changed",
        {"kind": kind, "id": str(item.id), "name": item.name, "change": change},
        source=SOURCE,
        subject=str(item.id),
        tenant_id=tenant_id,
    )


async def add_named(session: AsyncSession, tenant_id: uuid.UUID, kind: Kind, item: Named, what: str) -> None:
    """Store ``item`` (a 409 when its name is taken in the tenant) and announce it."""
    session.add(item)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"{what} named '{item.name}' already exists") from None
    await announce(session, tenant_id, kind, item, "created")
