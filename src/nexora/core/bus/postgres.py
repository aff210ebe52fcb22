"""PostgreSQL backend of the bus: sequencer, consumer groups, retries and dead letters.

* Publishers insert outbox rows with no position (see :func:`nexora.core.bus.publish`).
* The **sequencer** stamps committed rows with increasing positions in id order, one transaction at
  a time across all processes (transaction-level advisory lock), so the set of positioned rows a
  consumer sees is always a gap-free prefix.
* A **consumer group** keeps its offset in ``core.consumer_offset``. Each batch is one
  transaction: the offset row is locked (one active consumer per group, others stand by), each
  event's handler runs in a savepoint with the event's tenant set, and the handler's writes, the
  de-duplication marks and the new offset commit together. A consumer killed mid-batch therefore
  resumes from its last committed offset with none of the batch's effects applied.
* A failing event is retried with exponential backoff (the group waits: order is kept); after
  ``max_attempts`` it is moved to ``core.dead_letter`` with its error and the group moves on.
  Replay re-delivers a dead letter to its group only.
* Wake-ups use LISTEN/NOTIFY, with a poll interval as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import NOTIFY_CHANNEL, DeadLetter, Subscription, write_outbox
from nexora.core.bus.delivery import DeliveryLoops, count_failure, retry_delay
from nexora.core.config import BusSettings
from nexora.core.db import Database, set_tenant
from nexora.core.events import Event, topics
from nexora.core.observability import (
    BUS_DEAD_LETTERS,
    BUS_EVENTS,
    BUS_HANDLE_SECONDS,
    get_logger,
    observe_many,
)

SEQUENCED_CHANNEL = "nexora_sequenced"
SEQUENCER_LOCK = 0x6E78_7365_7100  # arbitrary, stable advisory-lock key ("nxseq")
SEQUENCE_BATCH = 5000
MAX_ERROR_LENGTH = 2000

log = get_logger("nexora.bus")

_SEQUENCE_SQL = text(
    """
    UPDATE core.outbox o SET position = s.pos
    FROM (
        SELECT q.id, nextval('core.outbox_position_seq') AS pos
        FROM (SELECT id FROM core.outbox WHERE position IS NULL ORDER BY id LIMIT :limit FOR UPDATE) q
    ) s
    WHERE o.id = s.id
    """
)


async def sequence_once(session: AsyncSession, limit: int = SEQUENCE_BATCH) -> int:
    """Give positions to committed, unsequenced outbox rows. Returns how many were stamped."""
    locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    if not locked:
        return 0
    result = await session.execute(_SEQUENCE_SQL, {"limit": limit})
    count = result.rowcount or 0  # type: ignore[attr-defined]
    if count:
        await session.execute(text(f"NOTIFY {SEQUENCED_CHANNEL}"))
    return int(count)


async def sequence_pending(db: Database, on_progress: Callable[[], None]) -> None:
    """Run :func:`sequence_once` until nothing is left, calling ``on_progress`` after each pass that
    stamped rows (so readers start on the first rows while the rest are sequenced)."""
    while True:
        async with db.unit_of_work() as session:
            count = await sequence_once(session)
        if count:
            on_progress()
        if count < SEQUENCE_BATCH:
            return


class _HandlerFailed(Exception):
    """A handler raised: the batch transaction is rolled back and the batch is split at ``index``."""

    def __init__(self, index: int, error: str) -> None:
        super().__init__(error)
        self.index = index
        self.error = error


class GroupConsumer:
    """Delivers the events of one subscription, batch by batch.

    The common path runs every handler of a batch in one transaction with no savepoints and switches
    the tenant only when it changes, so a batch costs a handful of round trips plus the handlers' own
    work. When a handler fails, that transaction is rolled back, the events before the failing one
    are handled again and committed, and the failure is recorded for the failing event alone.
    """

    def __init__(self, db: Database, subscription: Subscription, settings: BusSettings) -> None:
        self.db = db
        self.subscription = subscription
        self.settings = settings
        self.group = subscription.group
        self.topics = list(subscription.topics)
        self.retry_at = 0.0  # monotonic time before which the group waits after a failure

    async def process_batch(self) -> int:
        """Handle up to ``batch_size`` events. Returns events consumed (handled, skipped as duplicates
        or dead-lettered); 0 when idle, waiting to retry, or another process holds the group."""
        if time.monotonic() < self.retry_at:
            return 0
        stop_at: int | None = None
        while True:
            try:
                consumed, failure_row = await self._pass(stop_at)
            except _HandlerFailed as failure:
                # Split the batch before the failing event (indexes only shrink, so this ends).
                stop_at, error = failure.index, failure.error
                continue
            if stop_at is None:
                return consumed
            assert failure_row is not None
            return consumed + await self._record_failure(failure_row, error)

    async def _claim(self, session: AsyncSession) -> int | None:
        """Lock the group's offset row; ``None`` when another process holds the group."""
        await session.execute(
            text("INSERT INTO core.consumer_offset (group_name) VALUES (:g) ON CONFLICT DO NOTHING"),
            {"g": self.group},
        )
        offset = await session.scalar(
            text("SELECT position FROM core.consumer_offset WHERE group_name = :g FOR UPDATE SKIP LOCKED"),
            {"g": self.group},
        )
        return None if offset is None else int(offset)

    async def _pass(self, stop_at: int | None) -> tuple[int, Any]:
        """One transaction over the next batch (or its first ``stop_at`` rows). Returns the number of
        events consumed and, when the batch was cut, the row it was cut at."""
        async with self.db.unit_of_work() as session:
            offset = await self._claim(session)
            if offset is None:
                return 0, None
            horizon = int(await session.scalar(text("SELECT coalesce(max(position), 0) FROM core.outbox")) or 0)
            rows = (
                await session.execute(
                    text(
                        """
                        SELECT position, event_id, type, envelope FROM core.outbox
                        WHERE position > :offset AND position <= :horizon AND topic = ANY(:topics)
                          AND (target_group IS NULL OR target_group = :g)
                        ORDER BY position LIMIT :limit
                        """
                    ),
                    {
                        "offset": offset,
                        "horizon": horizon,
                        "topics": self.topics,
                        "g": self.group,
                        "limit": self.settings.batch_size,
                    },
                )
            ).all()
            cut_row = rows[stop_at] if stop_at is not None and stop_at < len(rows) else None
            batch = rows if stop_at is None else rows[:stop_at]
            done = await self._already_processed(session, [row.event_id for row in batch])
            handled: list[uuid.UUID] = []
            latencies: list[float] = []
            tenant: uuid.UUID | None = None
            # Handled tenant by tenant (a stable sort, so each tenant's events, and each key's, keep
            # their order): switching the session's tenant costs a round trip, and events of many
            # tenants interleave. Order across tenants is not promised, as on Kafka across keys.
            pending = [
                (index, Event.from_cloudevent(row.envelope))
                for index, row in enumerate(batch)
                if self.subscription.wants(row.type)
            ]
            pending.sort(key=lambda item: (item[1].tenant_id is not None, str(item[1].tenant_id or "")))
            for index, event in pending:
                row = batch[index]
                if row.event_id in done:  # handled before, or twice in this batch
                    continue
                if event.tenant_id != tenant:
                    tenant = event.tenant_id
                    await set_tenant(session, tenant)
                try:
                    await self.subscription.handler(event, session)
                except Exception as error:
                    raise _HandlerFailed(index, f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]) from None
                handled.append(row.event_id)
                done.add(row.event_id)
                latencies.append(max(0.0, time.time() - event.time.timestamp()))
            await set_tenant(session, None)
            new_offset = batch[-1].position if batch else offset
            if stop_at is None and len(rows) < self.settings.batch_size:
                # Everything up to the horizon is consumed, including other topics' events.
                new_offset = max(new_offset, horizon)
            if handled:
                await session.execute(
                    text(
                        "INSERT INTO core.processed_event (group_name, event_id) "
                        "SELECT :g, unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING"
                    ),
                    {"g": self.group, "ids": handled},
                )
                await session.execute(
                    text("DELETE FROM core.delivery_failure WHERE group_name = :g AND event_id = ANY(:ids)"),
                    {"g": self.group, "ids": handled},
                )
            if new_offset != offset:
                await session.execute(
                    text("UPDATE core.consumer_offset SET position = :p, updated_at = now() WHERE group_name = :g"),
                    {"p": new_offset, "g": self.group},
                )
        BUS_EVENTS.labels(self.group, "handled").inc(len(handled))
        observe_many(BUS_HANDLE_SECONDS.labels(self.group), latencies)
        return len(batch), cut_row

    async def _already_processed(self, session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        if not ids:
            return set()
        result = await session.execute(
            text("SELECT event_id FROM core.processed_event WHERE group_name = :g AND event_id = ANY(:ids)"),
            {"g": self.group, "ids": ids},
        )
        return set(result.scalars())

    async def _record_failure(self, row: Any, error: str) -> int:
        """Count a failed attempt of ``row``; after ``max_attempts`` move it to the dead letters and
        step over it. Returns 1 if the event was dead-lettered (consumed), else 0."""
        BUS_EVENTS.labels(self.group, "failed").inc()
        async with self.db.unit_of_work() as session:
            offset = await session.scalar(
                text("SELECT position FROM core.consumer_offset WHERE group_name = :g FOR UPDATE"), {"g": self.group}
            )
            next_position = await session.scalar(
                text(
                    """
                    SELECT min(position) FROM core.outbox WHERE position > :offset AND topic = ANY(:topics)
                      AND (target_group IS NULL OR target_group = :g)
                    """
                ),
                {"offset": offset, "topics": self.topics, "g": self.group},
            )
            if next_position != row.position:
                return 0  # another consumer of this group moved on meanwhile
            attempts = await count_failure(session, self.group, row.event_id, error)
            delay = retry_delay(
                self.settings, attempts, group=self.group, event_id=row.event_id, event_type=row.type, error=error
            )
            if delay is not None:
                self.retry_at = time.monotonic() + delay
                return 0
            await self._dead_letter(session, row, error, attempts)
            await session.execute(
                text("UPDATE core.consumer_offset SET position = :p, updated_at = now() WHERE group_name = :g"),
                {"p": row.position, "g": self.group},
            )
            return 1

    async def _dead_letter(self, session: AsyncSession, row: Any, error: str, attempts: int) -> None:
        envelope = row.envelope
        await session.execute(
            text(
                """
                INSERT INTO core.dead_letter (group_name, event_id, topic, type, tenant_id, envelope, error, attempts)
                VALUES (:g, :e, :topic, :type, :tenant, CAST(:envelope AS jsonb), :err, :attempts)
                """
            ),
            {
                "g": self.group,
                "e": row.event_id,
                "topic": Event.from_cloudevent(envelope).topic,
                "type": row.type,
                "tenant": envelope.get("tenant"),
                "envelope": _json(envelope),
                "err": error,
                "attempts": attempts,
            },
        )
        await session.execute(
            text("DELETE FROM core.delivery_failure WHERE group_name = :g AND event_id = :e"),
            {"g": self.group, "e": row.event_id},
        )
        BUS_DEAD_LETTERS.labels(self.group).inc()
        log.error(
            "event moved to dead letters",
            group=self.group,
            event_id=str(row.event_id),
            type=row.type,
            attempts=attempts,
            error=error,
        )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


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
