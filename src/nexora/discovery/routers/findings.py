"""Finding routes: the stored posture findings, or what the checks report at another time (``as_of``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of
from nexora.core.pagination import Cursor, Limit, Page
from nexora.discovery import service
from nexora.discovery.deps import ERRORS, choices
from nexora.discovery.posture import CATEGORIES, SEVERITIES
from nexora.discovery.schemas import FindingOut

router = APIRouter(tags=["posture"], responses=ERRORS)


@router.get("/findings", response_model=Page[FindingOut])
async def list_findings(
    request: Request,
    principal: CurrentPrincipal,
    session: TenantSession,
    status: Annotated[str | None, Query(pattern="^(open|resolved|all)$")] = "open",
    category: Annotated[list[str] | None, Query(description="NHI1..NHI10.")] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    check_id: Annotated[str | None, Query(max_length=100)] = None,
    nhi_id: Annotated[uuid.UUID | None, Query()] = None,
    as_of: Annotated[
        datetime | None, Query(description="Evaluate as of this time instead (a report; nothing is stored).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[FindingOut]:
    """Posture findings; with ``as_of``, what the checks report at that time (e.g. 30 days from now)."""
    filters = service.FindingFilters(
        status=None if status == "all" else status,
        category=choices(category, CATEGORIES, "category"),
        severity=choices(severity, SEVERITIES, "severity"),
        check_id=check_id,
        nhi_id=nhi_id,
    )
    if as_of is None:
        found, next_cursor = await service.list_findings(
            session, principal.tenant_id, filters, limit=limit, cursor=cursor
        )
        return Page(items=[FindingOut.model_validate(finding) for finding in found], next_cursor=next_cursor)
    settings = runtime_of(request).settings.discovery
    reported, next_cursor = await service.list_report(
        session, principal.tenant_id, settings, as_of, filters, limit=limit, cursor=cursor
    )
    return Page(items=[_reported_out(item) for item in reported], next_cursor=next_cursor)


def _reported_out(item: service.ReportedFinding) -> FindingOut:
    """A finding of a what-if report: open, and without the id and times of a stored one."""
    return FindingOut(
        id=None,
        nhi_id=item.nhi.id,
        connector_id=item.nhi.connector_id,
        check_id=item.issue.check_id,
        category=item.issue.category,
        severity=item.issue.severity,
        title=item.issue.title,
        evidence=item.issue.evidence,
        recommendation=item.issue.recommendation,
        status="open",
        nhi_name=item.nhi.name,
        nhi_kind=item.nhi.kind,
        first_seen_at=None,
        last_seen_at=None,
        resolved_at=None,
    )
