"""Discovery routes: the inventory, its graph, findings, the overview, connectors and runs."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from nexora.api.streaming import primed
from nexora.auth.deps import CurrentPrincipal, TenantSession, require_roles, runtime_of
from nexora.core.errors import ValidationFailed
from nexora.core.pagination import Cursor, Limit, Page
from nexora.core.principal import Principal
from nexora.discovery import graph, service
from nexora.discovery.connectors.files import HostPaths
from nexora.discovery.models import Connector, Finding, Nhi, Run
from nexora.discovery.posture import CATEGORIES, SEVERITIES
from nexora.discovery.records import ENVIRONMENTS, KINDS, PROVIDERS
from nexora.discovery.schemas import (
    ChangeOut,
    ConnectionTest,
    ConnectorCreate,
    ConnectorOut,
    ConnectorUpdate,
    DemoLoaded,
    FindingOut,
    GraphOut,
    NhiDetail,
    NhiOut,
    NhiUpdate,
    Overview,
    RunOut,
)

router = APIRouter(prefix="/api/v1")
Editor = Annotated[Principal, Depends(require_roles("analyst"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Missing role"},
    404: {"description": "Not found"},
    422: {"description": "Invalid input"},
}
CSV_COLUMNS = (
    "id",
    "provider",
    "kind",
    "account",
    "external_id",
    "name",
    "environment",
    "owner",
    "privilege_level",
    "status",
    "risk_score",
    "open_findings",
    "created_at",
    "last_used_at",
    "last_rotated_at",
    "expires_at",
    "first_seen_at",
    "last_seen_at",
)


def nhi_out(nhi: Any) -> NhiOut:
    """An NHI (model or list row) as the API shows it in lists."""
    return NhiOut(
        **{name: getattr(nhi, name) for name in NhiOut.model_fields if name != "environment_overridden"},
        environment_overridden=nhi.environment_override is not None,
    )


def finding_out(finding: Finding) -> FindingOut:
    return FindingOut(**{name: getattr(finding, name) for name in FindingOut.model_fields})


def connector_out(connector: Connector) -> ConnectorOut:
    return ConnectorOut(
        **{name: getattr(connector, name) for name in ConnectorOut.model_fields if name != "has_credentials"},
        has_credentials=connector.credentials is not None,
    )


def run_out(run: Run) -> RunOut:
    return RunOut(**{name: getattr(run, name) for name in RunOut.model_fields})


def _choices(values: list[str] | None, allowed: tuple[str, ...], name: str) -> list[str]:
    chosen = values or []
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        raise ValidationFailed(f"unknown {name} {unknown}; choose from: {', '.join(allowed)}")
    return chosen


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
        provider=_choices(provider, PROVIDERS, "provider"),
        kind=_choices(kind, KINDS, "kind"),
        environment=_choices(environment, ENVIRONMENTS, "environment"),
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


@router.get("/nhis", response_model=Page[NhiOut], tags=["inventory"], responses=ERRORS)
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
    return Page(items=[nhi_out(nhi) for nhi in nhis], next_cursor=next_cursor)


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    # Cells starting with formula characters are neutralised for spreadsheet users.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@router.get(
    "/nhis/export.csv",
    tags=["inventory"],
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
    response_class=StreamingResponse,
)
async def export_nhis(
    request: Request, principal: CurrentPrincipal, filters: Filters, sort: Sort = "-risk"
) -> StreamingResponse:
    """The filtered inventory as CSV, streamed page by page."""
    if sort not in service.SORTS:
        raise ValidationFailed(f"unknown sort '{sort}'; choose one of: {', '.join(service.SORTS)}")
    runtime = runtime_of(request)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        async for page in service.export_rows(
            runtime.db, principal.tenant_id, filters, sort=sort, unused_days=runtime.settings.discovery.unused_days
        ):
            for nhi in page:
                writer.writerow([_csv_value(getattr(nhi, column)) for column in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    headers = {"Content-Disposition": 'attachment; filename="nhis.csv"'}
    return StreamingResponse(await primed(rows()), media_type="text/csv; charset=utf-8", headers=headers)


async def _detail(session: Any, tenant_id: uuid.UUID, nhi: Nhi) -> NhiDetail:
    findings = await service.findings_of(session, tenant_id, nhi.id)
    return NhiDetail(
        **nhi_out(nhi).model_dump(),
        permissions=nhi.permissions,
        attributes=nhi.attributes,
        risk_factors=nhi.risk_factors,
        findings=[finding_out(f) for f in findings],
    )


@router.get("/nhis/{nhi_id}", response_model=NhiDetail, tags=["inventory"], responses=ERRORS)
async def get_nhi(nhi_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> NhiDetail:
    """One NHI with its permissions, attributes, risk factors and findings."""
    nhi = await service.get_nhi(session, principal.tenant_id, nhi_id)
    return await _detail(session, principal.tenant_id, nhi)


@router.patch("/nhis/{nhi_id}", response_model=NhiDetail, tags=["inventory"], responses=ERRORS)
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


@router.get("/nhis/{nhi_id}/graph", response_model=GraphOut, tags=["inventory"], responses=ERRORS)
async def nhi_graph(
    nhi_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: TenantSession,
    depth: Annotated[int, Query(ge=0, le=graph.MAX_DEPTH, description="Hops to follow.")] = 3,
) -> GraphOut:
    """Blast radius (following can_assume chains), owners and exposures of an NHI."""
    await service.get_nhi(session, principal.tenant_id, nhi_id)
    return GraphOut.model_validate(await graph.graph_of(session, principal.tenant_id, nhi_id, depth))


@router.get("/findings", response_model=Page[FindingOut], tags=["posture"], responses=ERRORS)
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
    categories = _choices(category, CATEGORIES, "category")
    severities = _choices(severity, SEVERITIES, "severity")
    if as_of is not None:
        return await _report(
            request, principal, session, as_of, categories, severities, check_id, nhi_id, limit, cursor
        )
    filters = service.FindingFilters(
        status=None if status == "all" else status,
        category=categories,
        severity=severities,
        check_id=check_id,
        nhi_id=nhi_id,
    )
    found, next_cursor = await service.list_findings(session, principal.tenant_id, filters, limit=limit, cursor=cursor)
    return Page(items=[finding_out(f) for f in found], next_cursor=next_cursor)


async def _report(
    request: Request,
    principal: Principal,
    session: Any,
    as_of: datetime,
    categories: list[str],
    severities: list[str],
    check_id: str | None,
    nhi_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[FindingOut]:
    from nexora.core.pagination import decode_cursor, encode_cursor

    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    reported = await service.report(session, principal.tenant_id, runtime_of(request).settings.discovery, moment)
    selected = [
        item
        for item in reported
        if (not categories or item.issue.category in categories)
        and (not severities or item.issue.severity in severities)
        and (check_id is None or item.issue.check_id == check_id)
        and (nhi_id is None or item.nhi.id == nhi_id)
    ]
    after = decode_cursor(cursor)
    try:
        offset = int(after["offset"]) if after else 0
    except (KeyError, ValueError, TypeError):
        raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
    page = selected[offset : offset + limit]
    next_cursor = encode_cursor({"offset": offset + limit}) if offset + limit < len(selected) else None
    items = [
        FindingOut(
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
        for item in page
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/overview", response_model=Overview, tags=["inventory"], responses=ERRORS)
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


# ---- connectors and runs ---------------------------------------------------------------------------


@router.get("/connectors", response_model=Page[ConnectorOut], tags=["connectors"], responses=ERRORS)
async def list_connectors(principal: CurrentPrincipal, session: TenantSession) -> Page[ConnectorOut]:
    """The tenant's connectors (credentials are never returned)."""
    return Page(items=[connector_out(c) for c in await service.list_connectors(session, principal.tenant_id)])


@router.post(
    "/connectors", response_model=ConnectorOut, status_code=201, tags=["connectors"], responses={**ERRORS, 409: {}}
)
async def create_connector(
    body: ConnectorCreate, request: Request, principal: Admin, session: TenantSession
) -> ConnectorOut:
    """Add a connector (admins). Credentials are encrypted and never returned."""
    runtime = runtime_of(request)
    connector = await service.create_connector(
        session,
        runtime.cipher,
        principal.tenant_id,
        name=body.name,
        kind=body.kind,
        config=body.config,
        credentials=body.credentials,
        interval_seconds=body.interval_seconds,
        enabled=body.enabled,
        host=HostPaths.of(runtime.settings),
        allow_insecure_tls=runtime.settings.connector.allow_insecure_tls,
    )
    return connector_out(connector)


@router.get("/connectors/{connector_id}", response_model=ConnectorOut, tags=["connectors"], responses=ERRORS)
async def get_connector(connector_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> ConnectorOut:
    return connector_out(await service.get_connector(session, principal.tenant_id, connector_id))


@router.patch(
    "/connectors/{connector_id}", response_model=ConnectorOut, tags=["connectors"], responses={**ERRORS, 409: {}}
)
async def update_connector(
    connector_id: uuid.UUID, body: ConnectorUpdate, request: Request, principal: Admin, session: TenantSession
) -> ConnectorOut:
    """Change a connector's name, settings, credentials, interval or enabled flag (admins)."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    runtime = runtime_of(request)
    connector = await service.update_connector(
        session,
        runtime.cipher,
        principal.tenant_id,
        connector_id,
        changes,
        HostPaths.of(runtime.settings),
        allow_insecure_tls=runtime.settings.connector.allow_insecure_tls,
    )
    return connector_out(connector)


@router.delete("/connectors/{connector_id}", status_code=204, tags=["connectors"], responses=ERRORS)
async def delete_connector(connector_id: uuid.UUID, principal: Admin, session: TenantSession) -> Response:
    """Delete a connector and the inventory it discovered (admins)."""
    await service.delete_connector(session, principal.tenant_id, connector_id)
    return Response(status_code=204)


@router.post("/connectors/{connector_id}/test", response_model=ConnectionTest, tags=["connectors"], responses=ERRORS)
async def test_connector(
    connector_id: uuid.UUID, request: Request, principal: Admin, session: TenantSession
) -> ConnectionTest:
    """Try the connection with the stored settings (admins)."""
    runtime = runtime_of(request)
    ok, message = await service.test_connector(
        session, runtime.cipher, runtime.settings, principal.tenant_id, connector_id
    )
    return ConnectionTest(ok=ok, message=message)


@router.post(
    "/connectors/{connector_id}/runs",
    response_model=RunOut,
    status_code=202,
    tags=["connectors"],
    responses={**ERRORS, 409: {"description": "Already running"}},
)
async def run_connector(
    connector_id: uuid.UUID,
    request: Request,
    principal: Admin,
    wait: Annotated[bool, Query(description="Answer when the run has finished.")] = False,
) -> RunOut:
    """Run the connector now (admins); poll ``GET /runs/{id}`` or pass ``wait=true``."""
    runtime = runtime_of(request)
    async with runtime.db.unit_of_work(principal.tenant_id) as session:
        run = await service.start_run(session, principal.tenant_id, connector_id, "manual")
    if wait:
        return run_out(await service.execute_run(runtime, principal.tenant_id, run.id))
    service.run_in_background(runtime, principal.tenant_id, run.id)
    return run_out(run)


@router.post(
    "/connectors/{connector_id}/runs/upload",
    response_model=RunOut,
    status_code=202,
    tags=["connectors"],
    responses={
        **ERRORS,
        409: {"description": "Already running"},
        413: {"description": "Larger than NEXORA_CONNECTOR_MAX_UPLOAD_BYTES"},
        415: {"description": "Not a content type this connector reads"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The run's files: a zip or tar(.gz) archive, one JSON or YAML file, or a git bundle.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in service.UPLOAD_MEDIA_TYPES
            },
        }
    },
)
async def upload_run(
    connector_id: uuid.UUID,
    request: Request,
    principal: Admin,
    wait: Annotated[bool, Query(description="Answer when the run has finished.")] = False,
    filename: Annotated[
        str | None, Query(max_length=200, description="Name of a single JSON or YAML file (default upload.json).")
    ] = None,
) -> RunOut:
    """Run the connector over files sent in the body instead of host paths (admins).

    The body is stored under the run's own folder, unpacked safely (no links, absolute paths or ``..``;
    bounded files and bytes) and deleted when the run ends.
    """
    run = await service.run_upload(
        runtime_of(request),
        principal.tenant_id,
        connector_id,
        request.headers.get("content-type"),
        request.stream(),
        wait=wait,
        filename=filename,
    )
    return run_out(run)


@router.get("/runs", response_model=Page[RunOut], tags=["connectors"], responses=ERRORS)
async def list_runs(
    principal: CurrentPrincipal,
    session: TenantSession,
    connector_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RunOut]:
    """Run history with counts, duration and errors, newest first."""
    runs, next_cursor = await service.list_runs(
        session, principal.tenant_id, connector_id=connector_id, limit=limit, cursor=cursor
    )
    return Page(items=[run_out(r) for r in runs], next_cursor=next_cursor)


@router.get("/runs/{run_id}", response_model=RunOut, tags=["connectors"], responses=ERRORS)
async def get_run(run_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> RunOut:
    return run_out(await service.get_run(session, principal.tenant_id, run_id))


@router.get("/connectors/{connector_id}/changes", response_model=Page[ChangeOut], tags=["connectors"], responses=ERRORS)
async def list_changes(
    connector_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: TenantSession,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[ChangeOut]:
    """What changed since the connector's baseline (its first complete run)."""
    await service.get_connector(session, principal.tenant_id, connector_id)
    changes, next_cursor = await service.list_changes(
        session, principal.tenant_id, connector_id, limit=limit, cursor=cursor
    )
    return Page(items=[ChangeOut.model_validate(c, from_attributes=True) for c in changes], next_cursor=next_cursor)


@router.post("/demo", response_model=DemoLoaded, status_code=201, tags=["demo"], responses=ERRORS)
async def load_demo(request: Request, principal: Admin) -> DemoLoaded:
    """Fill the tenant with a realistic demo environment through the normal load and posture path (admins)."""
    runtime = runtime_of(request)
    connector_id, run = await service.load_demo(runtime, principal.tenant_id)
    return DemoLoaded(connector_id=connector_id, run=run_out(run))
