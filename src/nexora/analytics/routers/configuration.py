"""Analytics configuration routes: detector catalogue and settings, S3 sources, alert webhooks."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Request, Response

from nexora.analytics import service
from nexora.analytics.deps import ERRORS, Admin
from nexora.analytics.detectors import DETECTORS
from nexora.analytics.schemas import BatchOut, S3SourceCreate, S3SourceOut, WebhookCreate, WebhookOut
from nexora.auth.deps import CurrentPrincipal, TenantSession, runtime_of

router = APIRouter(tags=["analytics settings"], responses=ERRORS)


@router.get("/analytics/detectors")
async def list_detectors(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every detector: id, title, family, default severity, MITRE ATT&CK tactic and technique."""
    return [info.as_dict() for info in DETECTORS.values()]


@router.get("/analytics/settings")
async def get_settings(principal: CurrentPrincipal, session: TenantSession) -> dict[str, Any]:
    """The tenant's detector settings (learning periods, thresholds, allow-lists, disabled detectors)."""
    return (await service.get_settings(session, principal.tenant_id)).model_dump(mode="json")


@router.patch("/analytics/settings")
async def update_settings(
    principal: Admin, session: TenantSession, changes: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    """Change some settings (admins); the whole result is validated; audited."""
    updated = await service.update_settings(session, principal.tenant_id, changes, actor=principal.actor)
    return updated.model_dump(mode="json")


def _source_out(source: Any) -> S3SourceOut:
    return S3SourceOut.model_validate({**vars(source), "has_credentials": source.credentials is not None})


@router.post("/activity/sources", response_model=S3SourceOut, status_code=201)
async def create_source(
    body: S3SourceCreate, request: Request, principal: Admin, session: TenantSession
) -> S3SourceOut:
    """Poll a CloudTrail bucket prefix for new log files (admins). Credentials are stored encrypted."""
    credentials = None
    if body.credentials is not None:
        credentials = {
            "access_key_id": body.credentials.access_key_id,
            "secret_access_key": body.credentials.secret_access_key.get_secret_value(),
        }
        if body.credentials.session_token is not None:
            credentials["session_token"] = body.credentials.session_token.get_secret_value()
    source = await service.create_source(
        session,
        runtime_of(request),
        principal.tenant_id,
        name=body.name,
        bucket=body.bucket,
        prefix=body.prefix,
        region=body.region,
        endpoint_url=body.endpoint_url,
        credentials=credentials,
        interval_seconds=body.interval_seconds,
    )
    return _source_out(source)


@router.get("/activity/sources", response_model=list[S3SourceOut])
async def list_sources(principal: CurrentPrincipal, session: TenantSession) -> list[S3SourceOut]:
    return [_source_out(source) for source in await service.list_sources(session, principal.tenant_id)]


@router.delete("/activity/sources/{source_id}", status_code=204)
async def delete_source(source_id: uuid.UUID, principal: Admin, session: TenantSession) -> Response:
    await service.delete_source(session, principal.tenant_id, source_id)
    return Response(status_code=204)


@router.post("/activity/sources/{source_id}/poll", response_model=list[BatchOut])
async def poll_source(source_id: uuid.UUID, request: Request, principal: Admin) -> list[BatchOut]:
    """Poll the source now and ingest its new objects (admins); one batch per object."""
    summaries = await service.poll_source(runtime_of(request), principal.tenant_id, source_id)
    return [BatchOut.model_validate(summary.as_dict()) for summary in summaries]


def _webhook_out(webhook: Any) -> WebhookOut:
    return WebhookOut.model_validate({**vars(webhook), "has_secret": webhook.secret is not None})


@router.post("/analytics/webhooks", response_model=WebhookOut, status_code=201)
async def create_webhook(body: WebhookCreate, request: Request, principal: Admin, session: TenantSession) -> WebhookOut:
    """Post new alerts at or above ``min_severity`` to a URL (admins). The URL must resolve to a public
    address unless the operator allow-listed its network; the secret signs each body."""
    webhook = await service.create_webhook(
        session,
        runtime_of(request),
        principal.tenant_id,
        name=body.name,
        url=body.url,
        secret=body.secret.get_secret_value() if body.secret else None,
        min_severity=body.min_severity,
    )
    return _webhook_out(webhook)


@router.get("/analytics/webhooks", response_model=list[WebhookOut])
async def list_webhooks(principal: CurrentPrincipal, session: TenantSession) -> list[WebhookOut]:
    return [_webhook_out(webhook) for webhook in await service.list_webhooks(session, principal.tenant_id)]


@router.delete("/analytics/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: uuid.UUID, principal: Admin, session: TenantSession) -> Response:
    await service.delete_webhook(session, principal.tenant_id, webhook_id)
    return Response(status_code=204)
