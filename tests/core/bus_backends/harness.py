"""One way to drive either bus backend from a test: build, start, rewind a group, wait for a state."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import EventBus, Subscription
from nexora.core.bus.kafka import KafkaBus
from nexora.core.bus.kafka.clients import group_options
from nexora.core.bus.postgres import PostgresBus
from nexora.core.config import Settings
from nexora.core.db import Database
from nexora.core.events import Event
from tests.fixtures.kafka import FAST_BUS

Handler = Callable[[Event, AsyncSession], Awaitable[None]]


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def only_tagged(tag: str, handler: Handler) -> Handler:
    """Ignore events other tests published: every group reads the whole history of its topics."""

    async def handle(event: Event, session: AsyncSession) -> None:
        if str(event.data.get("user_id", "")).startswith(f"{tag}-"):
            await handler(event, session)

    return handle


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 30, message: str = "") -> None:
    """Poll ``predicate`` until it holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(message or "the bus did not reach the expected state in time")


@dataclass
class Backend:
    name: str
    db: Database
    settings: Settings | None = None  # Kafka bus settings

    def make(self) -> EventBus:
        if self.name == "postgres":
            return PostgresBus(self.db, FAST_BUS)
        assert self.settings is not None
        return KafkaBus(self.settings, self.db)

    @asynccontextmanager
    async def running(self, *subscriptions: Subscription, consume: bool = True) -> AsyncIterator[EventBus]:
        bus = self.make()
        for subscription in subscriptions:
            bus.subscribe(subscription)
        await bus.start(consume=consume)
        try:
            yield bus
        finally:
            await bus.stop()

    async def rewind(self, group: str, topic: str = "auth.events") -> None:
        """Make ``group`` read its topic again from the start (as after a lost offset)."""
        if self.name == "postgres":
            async with self.db.unit_of_work() as session:
                result = await session.execute(
                    text("UPDATE core.consumer_offset SET position = 0 WHERE group_name = :g"), {"g": group}
                )
            assert result.rowcount == 1, "the group had no offset to rewind"
            return
        assert self.settings is not None
        # A member of the group commits offset 0 (the broker takes commits from members only).
        consumer = AIOKafkaConsumer(topic, **group_options(self.settings.kafka), group_id=group)
        await consumer.start()
        try:
            deadline = time.monotonic() + 30
            while not consumer.assignment() and time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=100)
            assert consumer.assignment(), "the rewinding consumer was never assigned partitions"
            await consumer.commit(dict.fromkeys(consumer.assignment(), 0))
            assert [await consumer.committed(p) for p in consumer.assignment()] == [0] * len(consumer.assignment())
        finally:
            await consumer.stop()
