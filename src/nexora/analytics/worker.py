"""Analytics' worker role: the ``nhi.activity`` consumer, alert webhooks, S3 polling and retention."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics import service
from nexora.core.bus import Subscription
from nexora.core.config import AnalyticsSettings
from nexora.core.events import Event
from nexora.core.runtime import Runtime
from nexora.core.schedule import Schedule

ACTIVITY_GROUP = "analytics"
WEBHOOK_GROUP = "analytics-webhooks"
RETENTION_INTERVAL_SECONDS = 6 * 3600.0


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def activity(event: Event, session: AsyncSession) -> None:
        await service.ingest_events(runtime, [event], session)

    async def activity_run(events: Sequence[Event], session: AsyncSession) -> None:
        await service.ingest_events(runtime, events, session)

    async def webhooks(event: Event, session: AsyncSession) -> None:
        await service.deliver_alert(runtime, event, session)

    return [
        # A delivery batch's records are scored together: one chunk, one set of round trips.
        Subscription(ACTIVITY_GROUP, ("nhi.activity",), activity, batch_handler=activity_run),
        Subscription(WEBHOOK_GROUP, ("analytics.alert",), webhooks),
    ]


async def _retention(runtime: Runtime) -> None:
    await service.drop_expired_activity(runtime)


async def _poll_sources(runtime: Runtime) -> None:
    await service.poll_due_sources(runtime)


def schedules() -> list[Schedule]:
    tick = AnalyticsSettings().s3_tick_seconds
    return [
        Schedule("analytics-retention", RETENTION_INTERVAL_SECONDS, _retention, initial_delay_seconds=30.0),
        Schedule("analytics-s3-sources", tick, _poll_sources, initial_delay_seconds=5.0),
    ]
