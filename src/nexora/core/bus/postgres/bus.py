"""The PostgreSQL bus: the sequencer and consumer loops, woken by LISTEN/NOTIFY; lag, topics, replay."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import text

from nexora.core.bus import NOTIFY_CHANNEL, DeadLetter, Subscription, write_outbox
from nexora.core.bus.delivery import DeliveryLoops
from nexora.core.bus.postgres.consumer import GroupConsumer
from nexora.core.bus.postgres.sequencer import SEQUENCED_CHANNEL, sequence_pending
from nexora.core.config import BusSettings
from nexora.core.db import Database
from nexora.core.events import Event, topics
from nexora.core.observability import get_logger

log = get_logger("nexora.bus")


class PostgresBus(DeliveryLoops):
    """The default backend: everything in PostgreSQL, woken by LISTEN/NOTIFY."""

    backend = "postgres"

    def __init__(self, db: Database, settings: BusSettings | None = None) -> None:
        self.db = db
        self.settings = settings or BusSettings()
        self.subscriptions: list[Subscription] = []
        self.consumers: list[GroupConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._sequencer_wakeup = asyncio.Event()
        self._consumer_wakeups: list[asyncio.Event] = []
        self._listener: asyncpg.Connection | None = None

    def subscribe(self, subscription: Subscription) -> None:
        if any(s.group == subscription.group for s in self.subscriptions):
            raise ValueError(f"consumer group '{subscription.group}' is already subscribed")
        self.subscriptions.append(subscription)

    async def start(self, *, consume: bool = True) -> None:
        """Run the sequencer and, with ``consume``, one consumer loop per subscription."""
        self._stopping.clear()
        self._tasks.append(asyncio.create_task(self._listen_loop(), name="bus-listener"))
        self._tasks.append(asyncio.create_task(self._sequencer_loop(), name="bus-sequencer"))
        if consume:
            for subscription in self.subscriptions:
                consumer = GroupConsumer(self.db, subscription, self.settings)
                self.consumers.append(consumer)
                self._tasks.append(
                    asyncio.create_task(self._consumer_loop(consumer), name=f"bus-consumer-{consumer.group}")
                )
            self._tasks.append(asyncio.create_task(self._maintenance_loop(), name="bus-maintenance"))

    async def stop(self) -> None:
        self._stopping.set()
        self._sequencer_wakeup.set()
        self._wake_consumers()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.consumers.clear()
        self._consumer_wakeups.clear()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

    async def ready(self) -> bool:
        try:
            await self.db.ping()
        except Exception:
            return False
        return True

    # ---- loops --------------------------------------------------------------------------------

    async def _listen_loop(self) -> None:
        def on_outbox(*_: Any) -> None:
            self._sequencer_wakeup.set()

        def on_sequenced(*_: Any) -> None:
            self._wake_consumers()

        while not self._stopping.is_set():
            try:
                self._listener = await self.db.connect_raw("nexora-bus")
                await self._listener.add_listener(NOTIFY_CHANNEL, on_outbox)
                await self._listener.add_listener(SEQUENCED_CHANNEL, on_sequenced)
                # Catch up on anything published while we were not listening.
                self._sequencer_wakeup.set()
                self._wake_consumers()
                while not self._stopping.is_set() and not self._listener.is_closed():
                    await asyncio.sleep(1)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("bus listener disconnected; reconnecting", error=str(error))
            finally:
                if self._listener is not None:
                    with contextlib.suppress(Exception):
                        await self._listener.close()
            await self._sleep(1)

    async def _sequencer_loop(self) -> None:
        while not self._stopping.is_set():
            self._sequencer_wakeup.clear()
            try:
                await sequence_pending(self.db, self._wake_consumers)
            except Exception as error:
                log.warning("sequencer pass failed", error=str(error))
            await self._wait(self._sequencer_wakeup, self.settings.poll_interval_seconds)

    def _wake_consumers(self) -> None:
        for wakeup in self._consumer_wakeups:
            wakeup.set()

    async def _consumer_loop(self, consumer: GroupConsumer) -> None:
        wakeup = asyncio.Event()
        self._consumer_wakeups.append(wakeup)
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                consumed = await consumer.process_batch()
            except Exception as error:
                log.warning("consumer batch failed", group=consumer.group, error=str(error))
                consumed = 0
                await self._sleep(1)
            if consumed:
                continue
            wait = self.settings.poll_interval_seconds
            remaining = consumer.retry_at - time.monotonic()
            if remaining > 0:
                wait = min(wait, remaining)
            await self._wait(wakeup, wait)

    # ---- operations ---------------------------------------------------------------------------

    async def prune(self) -> int:
        """Drop de-duplication marks and consumed outbox rows older than the retention period."""
        days = self.settings.processed_retention_days
        async with self.db.unit_of_work() as session:
            await session.execute(
                text("DELETE FROM core.processed_event WHERE processed_at < now() - make_interval(days => :d)"),
                {"d": days},
            )
            result = await session.execute(
                text(
                    """
                    DELETE FROM core.outbox WHERE created_at < now() - make_interval(days => :d)
                      AND position <= (SELECT coalesce(min(position), 0) FROM core.consumer_offset)
                    """
                ),
                {"d": days},
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def lag(self) -> dict[str, int]:
        """Events each known group has not consumed yet (unsequenced events included)."""
        async with self.db.unit_of_work() as session:
            groups = {s.group: list(s.topics) for s in self.subscriptions}
            rows = await session.execute(text("SELECT group_name, position FROM core.consumer_offset"))
            offsets = {row.group_name: row.position for row in rows}
            for name in offsets:
                groups.setdefault(name, topics())
            result: dict[str, int] = {}
            for group, group_topics in sorted(groups.items()):
                result[group] = int(
                    await session.scalar(
                        text(
                            """
                            SELECT count(*) FROM core.outbox
                            WHERE (position IS NULL OR position > :p) AND topic = ANY(:t)
                              AND (target_group IS NULL OR target_group = :g)
                            """
                        ),
                        {"p": offsets.get(group, 0), "t": group_topics, "g": group},
                    )
                    or 0
                )
            return result

    async def topics(self) -> list[dict[str, Any]]:
        async with self.db.unit_of_work() as session:
            rows = await session.execute(
                text("SELECT topic, count(*) AS events, max(created_at) AS latest FROM core.outbox GROUP BY topic")
            )
            seen = {row.topic: row for row in rows}
        return [
            {
                "topic": name,
                "events": int(seen[name].events) if name in seen else 0,
                "latest": seen[name].latest.isoformat() if name in seen else None,
            }
            for name in topics()
        ]

    async def dead_letters(self, *, group: str | None = None, limit: int = 100) -> list[DeadLetter]:
        async with self.db.unit_of_work() as session:
            rows = await session.execute(
                text(
                    """
                    SELECT * FROM core.dead_letter WHERE (CAST(:g AS text) IS NULL OR group_name = :g)
                    ORDER BY id LIMIT :limit
                    """
                ),
                {"g": group, "limit": limit},
            )
            return [
                DeadLetter(
                    id=str(row.id),
                    group=row.group_name,
                    event_id=row.event_id,
                    topic=row.topic,
                    type=row.type,
                    tenant_id=row.tenant_id,
                    error=row.error,
                    attempts=row.attempts,
                    failed_at=row.failed_at,
                    replayed_at=row.replayed_at,
                    envelope=row.envelope,
                )
                for row in rows
            ]

    async def replay(self, ids: Sequence[str]) -> int:
        """Re-deliver dead letters to the group that failed them (only that group sees the copy)."""
        replayed = 0
        async with self.db.unit_of_work() as session:
            rows = await session.execute(
                text("SELECT * FROM core.dead_letter WHERE id = ANY(:ids) AND replayed_at IS NULL FOR UPDATE"),
                {"ids": [int(i) for i in ids]},
            )
            for row in rows.all():
                await write_outbox(session, [Event.from_cloudevent(row.envelope)], target_group=row.group_name)
                await session.execute(
                    text("DELETE FROM core.processed_event WHERE group_name = :g AND event_id = :e"),
                    {"g": row.group_name, "e": row.event_id},
                )
                await session.execute(
                    text("UPDATE core.dead_letter SET replayed_at = now() WHERE id = :id"), {"id": row.id}
                )
                replayed += 1
        return replayed
