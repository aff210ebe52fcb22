"""Alert webhooks: new alerts posted as signed JSON to the tenant's endpoints, through the SSRF guard."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.models import Webhook
from nexora.analytics.service.alerts import SEVERITIES
from nexora.analytics.service.configuration import add_named, announce, check_reachable
from nexora.core.crypto import EnvelopeCipher
from nexora.core.errors import NotFound, ValidationFailed
from nexora.core.events import Event
from nexora.core.ids import utcnow, uuid7
from nexora.core.outbound import OutboundGuard, async_outbound_client, parse_networks
from nexora.core.runtime import Runtime

log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-Nexora-Signature"


def _aad(webhook_id: uuid.UUID) -> str:
    return f"analytics.webhook:{webhook_id}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (a receiver rejects old timestamps)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _check(runtime: Runtime, url: str, min_severity: str) -> None:
    if min_severity not in SEVERITIES:
        raise ValidationFailed(f"min_severity must be one of {list(SEVERITIES)}")
    check_reachable(url, runtime)


async def create_webhook(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    *,
    name: str,
    url: str,
    secret: str | None,
    min_severity: str = "high",
) -> Webhook:
    """A new alert webhook; the URL must reach an allowed (public, or allow-listed) address."""
    _check(runtime, url, min_severity)
    webhook_id = uuid7()
    webhook = Webhook(
        id=webhook_id,
        tenant_id=tenant_id,
        name=name,
        url=url,
        secret=runtime.cipher.encrypt_text(secret, _aad(webhook_id)) if secret else None,
        min_severity=min_severity,
    )
    await add_named(session, tenant_id, "webhook", webhook, "a webhook")
    return webhook


async def list_webhooks(session: AsyncSession, tenant_id: uuid.UUID) -> list[Webhook]:
    return list(
        (await session.execute(select(Webhook).where(Webhook.tenant_id == tenant_id).order_by(Webhook.name))).scalars()
    )


async def delete_webhook(session: AsyncSession, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None or webhook.tenant_id != tenant_id:
        raise NotFound("webhook not found")
    await session.delete(webhook)
    await announce(session, tenant_id, "webhook", webhook, "deleted")


def _secret(cipher: EnvelopeCipher, webhook: Webhook) -> str | None:
    return cipher.decrypt_text(webhook.secret, _aad(webhook.id)) if webhook.secret else None


async def deliver_alert(runtime: Runtime, event: Event, session: AsyncSession) -> None:
    """Post a new alert to each of its tenant's webhooks at or above their minimum severity.

    A webhook that fails is recorded on the webhook (``last_status``) and not retried by the bus, so one
    dead endpoint neither blocks the others nor repeats alerts to those that answered."""
    if event.tenant_id is None:
        return
    severity = str(event.data.get("severity", "low"))
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else 0
    hooks = [
        hook
        for hook in await list_webhooks(session, event.tenant_id)
        if hook.enabled and SEVERITIES.index(hook.min_severity) <= rank
    ]
    if not hooks:
        return
    body = orjson.dumps({"type": event.type, "id": str(event.id), "time": event.time.isoformat(), "alert": event.data})
    settings = runtime.settings.analytics
    guard = OutboundGuard(parse_networks(runtime.settings.outbound.allowed_networks))
    async with async_outbound_client(guard, timeout=settings.webhook_timeout_seconds) as client:
        for hook in hooks:
            headers: dict[str, Any] = {"Content-Type": "application/json", "User-Agent": "Nexora-Webhook/1"}
            secret = _secret(runtime.cipher, hook)
            if secret is not None:
                headers[SIGNATURE_HEADER] = signature(secret, str(int(time.time())), body)
            try:
                response = await client.post(hook.url, content=body, headers=headers)
                hook.last_status = f"HTTP {response.status_code}"
            except Exception as error:  # a refused destination, a timeout, a reset: recorded, not raised
                hook.last_status = f"failed: {type(error).__name__}: {str(error)[:200]}"
                log.warning("alert webhook failed", webhook=hook.name, error=type(error).__name__)
            hook.last_sent_at = utcnow()
