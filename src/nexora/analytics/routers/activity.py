"""Activity routes: send records (a file's bytes, streamed), read batches, rejects, events, identities."""

from __future__ import annotations

import tempfile
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from nexora.analytics import service
from nexora.analytics.activity import SOURCES, Source
from nexora.analytics.deps import ERRORS, Analyst
from nexora.analytics.schemas import ActivityEventOut, BatchOut, BatchRow, IdentityOut, RejectOut
from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of
from nexora.core.errors import PayloadTooLarge

router = APIRouter(tags=["activity"], responses=ERRORS)
SPOOL_IN_MEMORY = 8 * 1024 * 1024


@router.post(
    "/activity/batches",
    response_model=BatchOut,
    status_code=201,
    responses={413: {"description": "Larger than NEXORA_ANALYTICS_MAX_BATCH_BYTES"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                'Records of one source: CloudTrail files as AWS writes them ({"Records": [...]}), a JSON array, '
                "or JSON lines; gzip-compressed or not."
            ),
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (
                    "application/json",
                    "application/x-ndjson",
                    "application/gzip",
                    "application/octet-stream",
                )
            },
        }
    },
)
async def send_batch(
    request: Request,
    principal: Analyst,
    source: Annotated[Source, Query(description=f"One of {', '.join(SOURCES)}.")],
    name: Annotated[str, Query(max_length=200, description="A name for the batch (the file's name).")] = "upload",
) -> BatchOut:
    """Store, attribute and score a file of activity records (analysts). Each record that cannot be read
    is a reject with its position and reason; everything valid in the same file is still ingested, and
    records sent before (same source and event id) are skipped."""
    runtime = runtime_of(request)
    limit = runtime.settings.analytics.max_batch_bytes
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(f"the batch is larger than the limit of {limit} bytes")
            spool.write(chunk)
        spool.seek(0)
        summary = await service.ingest_stream(
            runtime, principal.tenant_id, source, spool, name=name, origin=f"api:{name}", actor=principal.actor
        )
    return BatchOut.model_validate(summary.as_dict())


@router.get("/activity/batches", response_model=list[BatchRow])
async def list_batches(
    principal: CurrentPrincipal,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[BatchRow]:
    """Recent ingests (uploads, S3 polls, bus events with rejects), newest first, with their counts."""
    return [BatchRow.model_validate(batch) for batch in await service.list_batches(session, principal.tenant_id, limit)]


@router.get("/activity/batches/{batch_id}", response_model=BatchRow)
async def get_batch(batch_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> BatchRow:
    return BatchRow.model_validate(await service.get_batch(session, principal.tenant_id, batch_id))


@router.get("/activity/batches/{batch_id}/rejects", response_model=list[RejectOut])
async def list_rejects(
    batch_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: TenantSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int | None, Query(ge=0, description="The `id` of the last reject of the previous page.")] = None,
) -> list[RejectOut]:
    """Why each rejected record of a batch was refused, in file order (the first 10,000 are kept)."""
    rows = await service.list_rejects(session, principal.tenant_id, batch_id, limit=limit, after=after)
    return [RejectOut(id=row.id, position=row.position, reason=row.reason) for row in rows]


@router.get("/activity/events", response_model=list[ActivityEventOut])
async def list_events(
    principal: CurrentPrincipal,
    session: TenantSession,
    identity: Annotated[str | None, Query(max_length=512)] = None,
    nhi_id: Annotated[uuid.UUID | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    before: Annotated[datetime | None, Query(description="Only records before this time (paging).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ActivityEventOut]:
    """Stored activity, newest first, of one identity or NHI (or the whole tenant)."""
    rows = await service.list_events(
        session, principal.tenant_id, identity=identity, nhi_id=nhi_id, since=since, before=before, limit=limit
    )
    return [ActivityEventOut.model_validate(row) for row in rows]


@router.get("/activity/identities", response_model=list[IdentityOut])
async def list_identities(
    principal: CurrentPrincipal,
    session: TenantSession,
    unknown: Annotated[bool, Query(description="Only identities no inventoried NHI matches (discovery gaps).")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[IdentityOut]:
    rows = await service.list_identities(session, principal.tenant_id, unknown_only=unknown, limit=limit, offset=offset)
    return [IdentityOut.model_validate(row) for row in rows]


@router.get("/activity/identities/{key:path}", response_model=IdentityOut)
async def get_identity(key: str, principal: CurrentPrincipal, session: TenantSession) -> IdentityOut:
    """One identity with its behaviour profile (``key`` as listed, e.g. ``aws:key/AKIA…``)."""
    return IdentityOut.model_validate(await service.get_identity(session, principal.tenant_id, key))


@router.get("/activity/nhis/{nhi_id}/profiles", response_model=list[IdentityOut])
async def nhi_profiles(nhi_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> list[IdentityOut]:
    """The behaviour profiles of the identities attributed to an NHI (its key, or its role's sessions)."""
    rows = await service.profiles_of_nhi(session, principal.tenant_id, nhi_id)
    return [IdentityOut.model_validate(row) for row in rows]
