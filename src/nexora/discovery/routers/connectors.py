"""Connector routes: create, read, change, delete and test connectors, and what changed since a baseline."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of
from nexora.core.pagination import Cursor, Limit, Page
from nexora.discovery import service
from nexora.discovery.connectors.files import HostPaths
from nexora.discovery.deps import ERRORS, Admin
from nexora.discovery.schemas import ChangeOut, ConnectionTest, ConnectorCreate, ConnectorOut, ConnectorUpdate

router = APIRouter(tags=["connectors"], responses=ERRORS)


@router.get("/connectors", response_model=Page[ConnectorOut])
async def list_connectors(principal: CurrentPrincipal, session: TenantSession) -> Page[ConnectorOut]:
    """The tenant's connectors (credentials are never returned)."""
    connectors = await service.list_connectors(session, principal.tenant_id)
    return Page(items=[ConnectorOut.model_validate(connector) for connector in connectors])


@router.post("/connectors", response_model=ConnectorOut, status_code=201, responses={409: {}})
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
    return ConnectorOut.model_validate(connector)


@router.get("/connectors/{connector_id}", response_model=ConnectorOut)
async def get_connector(connector_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> ConnectorOut:
    return ConnectorOut.model_validate(await service.get_connector(session, principal.tenant_id, connector_id))


@router.patch("/connectors/{connector_id}", response_model=ConnectorOut, responses={409: {}})
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
    return ConnectorOut.model_validate(connector)


@router.delete("/connectors/{connector_id}", status_code=204)
async def delete_connector(connector_id: uuid.UUID, principal: Admin, session: TenantSession) -> Response:
    """Delete a connector and the inventory it discovered (admins)."""
    await service.delete_connector(session, principal.tenant_id, connector_id)
    return Response(status_code=204)


@router.post("/connectors/{connector_id}/test", response_model=ConnectionTest)
async def test_connector(
    connector_id: uuid.UUID, request: Request, principal: Admin, session: TenantSession
) -> ConnectionTest:
    """Try the connection with the stored settings (admins)."""
    runtime = runtime_of(request)
    ok, message = await service.test_connector(
        session, runtime.cipher, runtime.settings, principal.tenant_id, connector_id
    )
    return ConnectionTest(ok=ok, message=message)


@router.get("/connectors/{connector_id}/changes", response_model=Page[ChangeOut])
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
    return Page(items=[ChangeOut.model_validate(change) for change in changes], next_cursor=next_cursor)
