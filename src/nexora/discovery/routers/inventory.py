"""Inventory routes: list, export, read and override NHIs, an NHI's graph, and the overview's counts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.api.streaming import primed
from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of
from nexora.core.errors import ValidationFailed
from nexora.core.pagination import Cursor, Limit, Page
from nexora.discovery import graph, service
from nexora.discovery.deps import ERRORS, Editor, choices
from nexora.discovery.models import Nhi
from nexora.discovery.records import ENVIRONMENTS, KINDS, PROVIDERS
from nexora.discovery.schemas import FindingOut, GraphOut, NhiDetail, NhiOut, NhiUpdate, Overview

router = APIRouter(tags=["inventory"], responses=ERRORS)


def nhi_filters(
    provider: Annotated[list[str] | None, Query(description="Provider(s).")] = None,
    kind: Annotated[list[str] | None, Query(description="Kind(s).")] = None,
    environment: Annotated[list[str] | None, Query(description="Environment(s).")] = None,
    owner: Annotated[str | None, Query(max_length=200, description="Owner; 'none' for unowned.")] = None,
    risk_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    risk_max: Annotated[int | None, Query(ge=0, le=100)] = None,
    stale: Annotated[bool | None, Query(description="Unused for the stale threshold.")] = None,
    has_findings: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in name, external id or owner.")] = None,
    connector_id: Annotated[uuid.UUID | None, Query()] = None,
) -> service.NhiFilters:
    return service.NhiFilters(
        provider=choices(provider, PROVIDERS, "provider"),
        kind=choices(kind, KINDS, "kind"),
        environment=choices(environment, ENVIRONMENTS, "environment"),
        owner=owner,
        risk_min=risk_min,
        risk_max=risk_max,
        stale=stale,
        has_findings=has_findings,
        q=q,
        connector_id=connector_id,
    )


Filters = Annotated[service.NhiFilters, Depends(nhi_filters)]
Sort = Annotated[str, Query(description=f"One of: {', '.join(service.SORTS)}.")]


@router.get("/nhis", response_model=Page[NhiOut])
async def list_nhis(
    request: Request,
    principal: CurrentPrincipal,
    session: TenantSession,
    filters: Filters,
    sort: Sort = "-risk",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NhiOut]:
    """The inventory: filter, sort, and page through the tenant's NHIs."""
    nhis, next_cursor = await service.list_nhis(
        session,
        principal.tenant_id,
        filters,
        sort=sort,
        limit=limit,
        cursor=cursor,
        unused_days=runtime_of(request).settings.discovery.unused_days,
    )
    return Page(items=[NhiOut.model_validate(nhi) for nhi in nhis], next_cursor=next_cursor)


@router.get(
    "/nhis/export.csv",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV"}},
    response_class=StreamingResponse,
)
async def export_nhis(
    request: Request, principal: CurrentPrincipal, filters: Filters, sort: Sort = "-risk"
) -> StreamingResponse:
    """The filtered inventory as CSV, streamed page by page."""
    runtime = runtime_of(request)
    rows = service.export_csv(
        runtime.db, principal.tenant_id, filters, sort=sort, unused_days=runtime.settings.discovery.unused_days
    )
    headers = {"Content-Disposition": 'attachment; filename="nhis.csv"'}
    return StreamingResponse(await primed(rows), media_type="text/csv; charset=utf-8", headers=headers)


async def _detail(session: AsyncSession, tenant_id: uuid.UUID, nhi: Nhi) -> NhiDetail:
    """An NHI with what only its detail shows (the ORM object has no findings: they are read here)."""
    findings = await service.findings_of(session, tenant_id, nhi.id)
    return NhiDetail(
        **NhiOut.model_validate(nhi).model_dump(),
        permissions=nhi.permissions,
        attributes=nhi.attributes,
        risk_factors=nhi.risk_factors,
        findings=[FindingOut.model_validate(finding) for finding in findings],
    )


@router.get("/nhis/{nhi_id}", response_model=NhiDetail)
async def get_nhi(nhi_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> NhiDetail:
    """One NHI with its permissions, attributes, risk factors and findings."""
    return await _detail(session, principal.tenant_id, await service.get_nhi(session, principal.tenant_id, nhi_id))


@router.patch("/nhis/{nhi_id}", response_model=NhiDetail)
async def update_nhi(
    nhi_id: uuid.UUID, body: NhiUpdate, request: Request, principal: Editor, session: TenantSession
) -> NhiDetail:
    """Override the owner and/or environment (analysts, admins); null clears an override."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if not changes:
        raise ValidationFailed("send 'owner' and/or 'environment'")
    nhi = await service.update_nhi(
        session, principal.tenant_id, nhi_id, changes, runtime_of(request).settings.discovery
    )
    return await _detail(session, principal.tenant_id, nhi)


@router.get("/nhis/{nhi_id}/graph", response_model=GraphOut)
async def nhi_graph(
    nhi_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: TenantSession,
    depth: Annotated[int, Query(ge=0, le=graph.MAX_DEPTH, description="Hops to follow.")] = 3,
) -> GraphOut:
    """Blast radius (following can_assume chains), owners and exposures of an NHI."""
    await service.get_nhi(session, principal.tenant_id, nhi_id)
    return GraphOut.model_validate(await graph.graph_of(session, principal.tenant_id, nhi_id, depth))


@router.get("/overview", response_model=Overview)
async def overview(
    request: Request,
    principal: CurrentPrincipal,
    session: TenantSession,
    window_days: Annotated[int, Query(ge=1, le=365, description="Days of finding trend.")] = 30,
) -> Overview:
    """Counts for the console: NHIs by provider/kind/environment, risk bands, findings and their trend."""
    data = await service.overview(
        session,
        principal.tenant_id,
        window_days=window_days,
        unused_days=runtime_of(request).settings.discovery.unused_days,
    )
    return Overview.model_validate(data)
