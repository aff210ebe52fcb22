"""Alerts: detections grouped per identity + detector, analyst status and feedback, summaries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Detection
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.models import Alert, Suppression
from nexora.core.bus import publish
from nexora.core.errors import NotFound, ValidationFailed
from nexora.core.ids import utcnow, uuid7
from nexora.core.pagination import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from nexora.analytics.service.pipeline import IdentityState

SOURCE = "nexora.analytics"
STATUSES = ("open", "acknowledged", "resolved", "false_positive")
ACTIVE = ("open", "acknowledged")
SEVERITIES = ("low", "medium", "high", "critical")
MAX_EVIDENCE = 200  # event ids kept per alert (the count goes on)
UNKNOWN_IDENTITY = "inventory.unknown_identity"


def unknown_identity(event: ActivityEvent) -> Detection:
    """An identity acting in an inventoried provider that the inventory does not know: a discovery gap."""
    return detection(
        UNKNOWN_IDENTITY,
        f"Activity by an identity missing from the inventory ({event.identity.name})",
        [event.source_event_id],
        {
            "seen": f"{event.identity.kind} {event.identity.key} called {event.action} ({event.service})",
            "baseline": "no NHI in the inventory matches this identity's keys; run discovery on its account",
            "keys": {
                "access_key_id": event.identity.access_key_id,
                "principal_arn": event.identity.principal_arn,
                "session_issuer_arn": event.identity.session_issuer_arn,
                "k8s_username": event.identity.k8s_username,
            },
        },
    )


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


async def raise_alerts(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    detections: Sequence[tuple[IdentityState, Detection, datetime]],
    group_minutes: int,
) -> list[uuid.UUID]:
    """Fold detections into alerts: a new alert per identity + detector + discriminator, or the open one
    of the same group seen within ``group_minutes``; suppressed groups are dropped. Returns new ids."""
    groups: dict[tuple[str, str, str], list[tuple[IdentityState, Detection, datetime]]] = {}
    for item in detections:
        row, detection, _ = item
        groups.setdefault((row.key, detection.detector, detection.discriminator), []).append(item)
    suppressed = {
        (s.identity, s.detector, s.discriminator)
        for s in (
            await session.execute(
                select(Suppression).where(
                    Suppression.tenant_id == tenant_id,
                    Suppression.identity.in_({key[0] for key in groups}),
                )
            )
        ).scalars()
    }
    window = timedelta(minutes=group_minutes)
    created: list[uuid.UUID] = []
    for (identity, detector, discriminator), items in groups.items():
        if (identity, detector, discriminator) in suppressed or (identity, detector, "") in suppressed:
            continue
        row = items[0][0]
        first_time = min(moment for _, _, moment in items)
        last_time = max(moment for _, _, moment in items)
        existing = (
            await session.execute(
                select(Alert)
                .where(
                    Alert.tenant_id == tenant_id,
                    Alert.identity == identity,
                    Alert.detector == detector,
                    Alert.discriminator == discriminator,
                    Alert.status.in_(ACTIVE),
                    Alert.last_seen_at >= first_time - window,
                )
                .order_by(Alert.last_seen_at.desc())
                .limit(1)
                .with_for_update()
            )
        ).scalar_one_or_none()
        evidence = [event_id for _, detection, _ in items for event_id in detection.event_ids]
        latest = items[-1][1]
        if existing is not None:
            merged = list(dict.fromkeys([*existing.event_ids, *evidence]))
            existing.event_ids = merged[-MAX_EVIDENCE:]
            existing.event_count = existing.event_count + len(items)
            existing.last_seen_at = max(existing.last_seen_at, last_time)
            existing.first_seen_at = min(existing.first_seen_at, first_time)
            top = max((detection.severity for _, detection, _ in items), key=_rank)
            if _rank(top) > _rank(existing.severity):
                existing.severity = top
            existing.explanation = latest.explanation
            existing.nhi_id = existing.nhi_id or row.nhi_id
            continue
        alert = Alert(
            id=uuid7(),
            tenant_id=tenant_id,
            detector=detector,
            discriminator=discriminator,
            identity=identity,
            identity_name=row.name,
            nhi_id=row.nhi_id,
            title=latest.title[:500],
            severity=max((detection.severity for _, detection, _ in items), key=_rank),
            status="open",
            tactic_id=latest.attack.tactic_id,
            tactic=latest.attack.tactic,
            technique_id=latest.attack.technique_id,
            technique=latest.attack.technique,
            explanation=latest.explanation,
            event_ids=list(dict.fromkeys(evidence))[-MAX_EVIDENCE:],
            event_count=len(items),
            first_seen_at=first_time,
            last_seen_at=last_time,
        )
        session.add(alert)
        await session.flush()
        created.append(alert.id)
        await publish(
            session,
            "analytics.alert",
            {
                "alert_id": str(alert.id),
                "detector": detector,
                "title": alert.title,
                "severity": alert.severity,
                "identity": identity,
                "identity_name": row.name,
                "nhi_id": str(row.nhi_id) if row.nhi_id else None,
                "tactic_id": alert.tactic_id,
                "technique_id": alert.technique_id,
                "event_ids": alert.event_ids[:50],
                "first_seen_at": first_time.isoformat(),
            },
            source=SOURCE,
            subject=str(alert.id),
            tenant_id=tenant_id,
        )
    return created


@dataclass(frozen=True)
class AlertFilters:
    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    detector: str | None = None
    nhi_id: uuid.UUID | None = None
    identity: str | None = None
    tactic_id: str | None = None


def _filtered(filters: AlertFilters, tenant_id: uuid.UUID) -> list[Any]:
    clauses: list[Any] = [Alert.tenant_id == tenant_id]
    if filters.status:
        clauses.append(Alert.status.in_(filters.status))
    if filters.severity:
        clauses.append(Alert.severity.in_(filters.severity))
    if filters.detector:
        clauses.append(Alert.detector == filters.detector)
    if filters.nhi_id:
        clauses.append(Alert.nhi_id == filters.nhi_id)
    if filters.identity:
        clauses.append(Alert.identity == filters.identity)
    if filters.tactic_id:
        clauses.append(Alert.tactic_id == filters.tactic_id)
    return clauses


async def list_alerts(
    session: AsyncSession, tenant_id: uuid.UUID, filters: AlertFilters, *, limit: int, cursor: str | None
) -> tuple[list[Alert], str | None]:
    """Alerts, most recently seen first (keyset pagination on last_seen_at, id)."""
    clauses = _filtered(filters, tenant_id)
    after = decode_cursor(cursor)
    if after is not None:
        try:
            seen, last_id = datetime.fromisoformat(after["t"]), uuid.UUID(after["id"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
        clauses.append(or_(Alert.last_seen_at < seen, and_(Alert.last_seen_at == seen, Alert.id < last_id)))
    rows = list(
        (
            await session.execute(
                select(Alert).where(*clauses).order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit + 1)
            )
        ).scalars()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor({"t": rows[-1].last_seen_at.isoformat(), "id": str(rows[-1].id)})
    return rows, next_cursor


async def get_alert(session: AsyncSession, tenant_id: uuid.UUID, alert_id: uuid.UUID) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.tenant_id != tenant_id:
        raise NotFound("alert not found")
    return alert


async def set_status(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    alert_ids: Sequence[uuid.UUID],
    status: str,
    *,
    actor: str,
    note: str | None = None,
) -> list[Alert]:
    """Change the status of alerts (all or none: an unknown id is a 404). A false positive also records
    a suppression so the same identity + detector + discriminator raises nothing again."""
    if status not in STATUSES:
        raise ValidationFailed(f"status must be one of {list(STATUSES)}")
    ids = list(dict.fromkeys(alert_ids))
    alerts = list(
        (
            await session.execute(
                select(Alert)
                .where(Alert.tenant_id == tenant_id, Alert.id.in_(ids))
                .order_by(Alert.id)
                .with_for_update()
            )
        ).scalars()
    )
    if len(alerts) != len(ids):
        raise NotFound("alert not found")
    now = utcnow()
    for alert in alerts:
        previous = alert.status
        suppressed = status == "false_positive"
        if suppressed:
            await session.execute(
                insert(Suppression)
                .values(
                    id=uuid7(),
                    tenant_id=tenant_id,
                    detector=alert.detector,
                    identity=alert.identity,
                    discriminator=alert.discriminator,
                    alert_id=alert.id,
                    reason=note,
                    created_by=actor,
                )
                .on_conflict_do_nothing()
            )
        elif previous == "false_positive":
            await session.execute(
                delete(Suppression).where(
                    Suppression.tenant_id == tenant_id,
                    Suppression.detector == alert.detector,
                    Suppression.identity == alert.identity,
                    Suppression.discriminator == alert.discriminator,
                )
            )
        alert.status = status
        alert.status_changed_by = actor
        alert.status_changed_at = now
        alert.note = note
        await publish(
            session,
            "analytics.alert_updated",
            {
                "alert_id": str(alert.id),
                "detector": alert.detector,
                "previous_status": previous,
                "status": status,
                "note": note,
                "suppressed": suppressed,
            },
            source=SOURCE,
            subject=str(alert.id),
            tenant_id=tenant_id,
        )
    await session.flush()
    return alerts


async def summary(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    """Counts for the overview: by status, and the active ones by severity."""
    by_status = dict(
        (
            await session.execute(
                select(Alert.status, func.count()).where(Alert.tenant_id == tenant_id).group_by(Alert.status)
            )
        ).all()
    )
    by_severity = dict(
        (
            await session.execute(
                select(Alert.severity, func.count())
                .where(Alert.tenant_id == tenant_id, Alert.status.in_(ACTIVE))
                .group_by(Alert.severity)
            )
        ).all()
    )
    return {
        "by_status": {status: int(by_status.get(status, 0)) for status in STATUSES},
        "active_by_severity": {severity: int(by_severity.get(severity, 0)) for severity in SEVERITIES},
        "active": int(sum(by_severity.values())),
    }


async def alerts_since(
    session: AsyncSession, tenant_id: uuid.UUID, after: tuple[datetime, uuid.UUID] | None, limit: int = 100
) -> list[Alert]:
    """Alerts created after ``(created_at, id)``, oldest first (what ``nexora alerts tail`` follows)."""
    clauses: list[Any] = [Alert.tenant_id == tenant_id]
    if after is not None:
        clauses.append(tuple_(Alert.created_at, Alert.id) > tuple_(after[0], after[1]))
    query = select(Alert).where(*clauses).order_by(Alert.created_at, Alert.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def newest_alert(session: AsyncSession, tenant_id: uuid.UUID) -> Alert | None:
    query = select(Alert).where(Alert.tenant_id == tenant_id).order_by(Alert.created_at.desc(), Alert.id.desc())
    return (await session.execute(query.limit(1))).scalar_one_or_none()
