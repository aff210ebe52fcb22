"""Analytics' public use cases (the only module other domains and the interfaces import)."""

from __future__ import annotations

from nexora.analytics.service.alerts import (
    ACTIVE,
    SEVERITIES,
    STATUSES,
    AlertFilters,
    alerts_since,
    get_alert,
    list_alerts,
    newest_alert,
    set_status,
    summary,
)
from nexora.analytics.service.batches import (
    BatchSummary,
    check_source,
    get_batch,
    ingest_stream,
    list_batches,
    list_rejects,
)
from nexora.analytics.service.bus import ingest_events
from nexora.analytics.service.components import AnalyticsComponents, assemble, components_of
from nexora.analytics.service.identities import get_identity, list_identities, profiles_of_nhi
from nexora.analytics.service.settings import get_settings, update_settings
from nexora.analytics.service.sources import create_source, delete_source, list_sources, poll_due_sources, poll_source
from nexora.analytics.service.store import drop_expired, events_by_ids, list_events
from nexora.analytics.service.webhooks import create_webhook, delete_webhook, deliver_alert, list_webhooks
from nexora.core.runtime import Runtime


async def drop_expired_activity(runtime: Runtime) -> list[str]:
    """The retention job: drop the days of activity older than ``NEXORA_ANALYTICS_RETENTION_DAYS``."""
    components = components_of(runtime)
    return await drop_expired(runtime.db, components.settings.retention_days, components.partitions)


__all__ = [
    "ACTIVE",
    "SEVERITIES",
    "STATUSES",
    "AlertFilters",
    "AnalyticsComponents",
    "BatchSummary",
    "alerts_since",
    "assemble",
    "check_source",
    "components_of",
    "create_source",
    "create_webhook",
    "delete_source",
    "delete_webhook",
    "deliver_alert",
    "drop_expired_activity",
    "events_by_ids",
    "get_alert",
    "get_batch",
    "get_identity",
    "get_settings",
    "ingest_events",
    "ingest_stream",
    "list_alerts",
    "list_batches",
    "list_events",
    "list_identities",
    "list_rejects",
    "list_sources",
    "list_webhooks",
    "newest_alert",
    "poll_due_sources",
    "poll_source",
    "profiles_of_nhi",
    "set_status",
    "summary",
    "update_settings",
]
