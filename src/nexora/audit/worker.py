"""The audit consumer (the only writer of the logs) and the tree-head signing schedule."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit import service
from nexora.core.bus import Subscription
from nexora.core.events import Event, topics
from nexora.core.runtime import Runtime
from nexora.core.schedule import Schedule

GROUP = "audit"
ENTRY_TOPIC = "audit.entry"
# Topics that carry data, not changes: activity records arrive by the thousand per second; each upload
# or poll that ingests them is audited through its `analytics.batch_finished` event instead.
DATA_TOPICS = frozenset({"nhi.activity"})
SIGN_INTERVAL_SECONDS = 60.0


def audited_topics() -> tuple[str, ...]:
    """Every topic in the catalogue but the log's own and the data topics, so new domains are audited
    without changes."""
    return tuple(topic for topic in topics() if topic != ENTRY_TOPIC and topic not in DATA_TOPICS)


async def handle(event: Event, session: AsyncSession) -> None:
    await service.record(session, event)


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription(GROUP, audited_topics(), handle)]


async def sign_heads(runtime: Runtime) -> None:
    await service.sign_due_heads(runtime.db, runtime.cipher)


def schedules() -> list[Schedule]:
    return [Schedule("audit-sign-tree-heads", SIGN_INTERVAL_SECONDS, sign_heads, initial_delay_seconds=5.0)]
