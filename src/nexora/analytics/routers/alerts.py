"""Alert routes: list and read alerts with their evidence, change their status, one at a time or many."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from nexora.analytics import service
from nexora.analytics.deps import ERRORS, Analyst
from nexora.analytics.schemas import (
    ActivityEventOut,
    AlertBulkUpdate,
    AlertDetail,
    AlertOut,
    AlertStatus,
    AlertSummary,
    AlertUpdate,
    Severity,
)
from nexora.auth.deps import CurrentPrincipal, TenantSession
from nexora.core.errors import ValidationFailed
from nexora.core.ids import utcnow
from nexora.core.pagination import Cursor, Limit, Page

router = APIRouter(tags=["alerts"], responses=ERRORS)


@router.get("/alerts", response_model=Page[AlertOut])
async def list_alerts(
    principal: CurrentPrincipal,
    session: TenantSession,
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    detector: Annotated[str | None, Query(max_length=100)] = None,
    nhi_id: Annotated[uuid.UUID | None, Query()] = None,
    identity: Annotated[str | None, Query(max_length=512)] = None,
    tactic_id: Annotated[str | None, Query(pattern=r"^TA\d{4}$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AlertOut]:
    """Alerts, most recently seen first; every filter may be combined."""
    filters = service.AlertFilters(
        status=tuple(status or ()),
        severity=tuple(severity or ()),
        detector=detector,
        nhi_id=nhi_id,
        identity=identity,
        tactic_id=tactic_id,
    )
    alerts, next_cursor = await service.list_alerts(session, principal.tenant_id, filters, limit=limit, cursor=cursor)
    return Page(items=[AlertOut.model_validate(alert) for alert in alerts], next_cursor=next_cursor)


@router.get("/alerts/summary", response_model=AlertSummary)
async def alert_summary(principal: CurrentPrincipal, session: TenantSession) -> AlertSummary:
    """Counts by status, and the open or acknowledged ones by severity (the overview's tiles)."""
    return AlertSummary.model_validate(await service.summary(session, principal.tenant_id))


@router.get("/alerts/feed", response_model=Page[AlertOut])
async def alert_feed(
    principal: CurrentPrincipal,
    session: TenantSession,
    after: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous call.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AlertOut]:
    """Alerts created after the cursor, oldest first: what ``nexora alerts tail`` follows. Without a
    cursor it starts now (an empty page whose cursor marks the newest alert, or this moment)."""
    if after:
        try:
            moment, _, ident = after.partition("~")
            position = (datetime.fromisoformat(moment), uuid.UUID(ident))
        except ValueError:
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous call") from None
        alerts = await service.alerts_since(session, principal.tenant_id, position, limit)
    else:
        alerts = []
        newest = await service.newest_alert(session, principal.tenant_id)
        position = (newest.created_at, newest.id) if newest is not None else (utcnow(), uuid.UUID(int=0))
    last = (alerts[-1].created_at, alerts[-1].id) if alerts else position
    next_cursor = f"{last[0].isoformat()}~{last[1]}"
    return Page(items=[AlertOut.model_validate(alert) for alert in alerts], next_cursor=next_cursor)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
async def get_alert(alert_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> AlertDetail:
    """One alert with the stored records of its evidence (raw records, pretty-printable)."""
    alert = await service.get_alert(session, principal.tenant_id, alert_id)
    events = await service.events_by_ids(session, principal.tenant_id, alert.identity, alert.event_ids)
    return AlertDetail.model_validate(
        {
            **AlertOut.model_validate(alert).model_dump(),
            "events": [ActivityEventOut.model_validate(event) for event in events],
        }
    )


@router.patch("/alerts/{alert_id}", response_model=AlertOut)
async def update_alert(alert_id: uuid.UUID, body: AlertUpdate, principal: Analyst, session: TenantSession) -> AlertOut:
    """Acknowledge, resolve, reopen or mark a false positive (analysts); audited. A false positive
    silences the same identity + detector from then on."""
    (alert,) = await service.set_status(
        session, principal.tenant_id, [alert_id], body.status, actor=principal.actor, note=body.note
    )
    return AlertOut.model_validate(alert)


@router.patch("/alerts", response_model=list[AlertOut])
async def update_alerts(body: AlertBulkUpdate, principal: Analyst, session: TenantSession) -> list[AlertOut]:
    """Change the status of many alerts at once (all or none: an unknown id changes nothing)."""
    alerts = await service.set_status(
        session, principal.tenant_id, body.ids, body.status, actor=principal.actor, note=body.note
    )
    return [AlertOut.model_validate(alert) for alert in alerts]
