"""Run routes: run a connector now (on its host paths or on uploaded files), the run history, one run."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of
from nexora.core.pagination import Cursor, Limit, Page
from nexora.discovery import service
from nexora.discovery.deps import ERRORS, Admin
from nexora.discovery.schemas import RunOut

router = APIRouter(tags=["connectors"], responses=ERRORS)
Wait = Annotated[bool, Query(description="Answer when the run has finished.")]


@router.post(
    "/connectors/{connector_id}/runs",
    response_model=RunOut,
    status_code=202,
    responses={409: {"description": "Already running"}},
)
async def run_connector(connector_id: uuid.UUID, request: Request, principal: Admin, wait: Wait = False) -> RunOut:
    """Run the connector now (admins); poll ``GET /runs/{id}`` or pass ``wait=true``."""
    runtime = runtime_of(request)
    async with runtime.db.unit_of_work(principal.tenant_id) as session:
        run = await service.start_run(session, principal.tenant_id, connector_id, "manual")
    if wait:
        return RunOut.model_validate(await service.execute_run(runtime, principal.tenant_id, run.id))
    service.run_in_background(runtime, principal.tenant_id, run.id)
    return RunOut.model_validate(run)


@router.post(
    "/connectors/{connector_id}/runs/upload",
    response_model=RunOut,
    status_code=202,
    responses={
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
    wait: Wait = False,
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
    return RunOut.model_validate(run)


@router.get("/runs", response_model=Page[RunOut])
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
    return Page(items=[RunOut.model_validate(run) for run in runs], next_cursor=next_cursor)


@router.get("/runs/{run_id}", response_model=RunOut)
async def get_run(run_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> RunOut:
    return RunOut.model_validate(await service.get_run(session, principal.tenant_id, run_id))
