"""Discovery's events: built in the unit of work that changes the inventory, written to its outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from nexora.core import context as request_context
from nexora.core.events import Event, check_payload

SOURCE = "nexora.discovery"


def build_event(kind: str, data: dict[str, Any], tenant_id: uuid.UUID, subject: str) -> Event:
    """One event of type ``kind`` about ``subject``; the payload is checked against the event's schema."""
    check_payload(kind, data)
    ctx = request_context.current()
    return Event(
        type=kind,
        data=data,
        source=SOURCE,
        subject=subject,
        tenant_id=tenant_id,
        actor=ctx.actor,
        request_id=ctx.request_id,
        source_address=ctx.source_address,
    )


def build_events(kind: str, payloads: Sequence[dict[str, Any]], tenant_id: uuid.UUID) -> list[Event]:
    """Events of one type for one batch, each about the NHI its payload names.

    ``write_outbox`` validates every payload against the event's schema before inserting the batch.
    """
    ctx = request_context.current()
    return [
        Event(
            type=kind,
            data=data,
            source=SOURCE,
            subject=data["nhi_id"],
            tenant_id=tenant_id,
            actor=ctx.actor,
            request_id=ctx.request_id,
            source_address=ctx.source_address,
        )
        for data in payloads
    ]
