"""One consumer group of the PostgreSQL bus: a batch per transaction, retries, dead letters."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import Subscription
from nexora.core.bus.delivery import Dispatch, count_failure, retry_delay
from nexora.core.bus.postgres.sequencer import MAX_ERROR_LENGTH
from nexora.core.config import BusSettings
from nexora.core.db import Database, set_tenant
from nexora.core.events import Event
from nexora.core.observability import (
    BUS_DEAD_LETTERS,
    BUS_EVENTS,
    BUS_HANDLE_SECONDS,
    get_logger,
    observe_many,
)

log = get_logger("nexora.bus")


class _HandlerFailed(Exception):
    """A handler raised: the batch transaction is rolled back and the batch is split at ``index``."""

    def __init__(self, index: int, error: str) -> None:
        super().__init__(error)
        self.index = index
        self.error = error


def _failed(index: int, error: Exception) -> _HandlerFailed:
    return _HandlerFailed(index, f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH])


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
            # Handled tenant by tenant (a stable sort, so each tenant's events, and each key's, keep
            # their order): switching the session's tenant costs a round trip, and events of many
            # tenants interleave. Order across tenants is not promised, as on Kafka across keys.
            pending = [
                (index, Event.from_cloudevent(row.envelope))
                for index, row in enumerate(batch)
                if self.subscription.wants(row.type)
            ]
            pending.sort(key=lambda item: (item[1].tenant_id is not None, str(item[1].tenant_id or "")))
            dispatch = Dispatch(self.subscription, session, _failed)
            for index, event in pending:
                row = batch[index]
                if row.event_id in done:  # handled before, or twice in this batch
                    continue
                await dispatch.add(index, event)
                handled.append(row.event_id)
                done.add(row.event_id)
            await dispatch.flush()
            now = time.time()
            mine = set(handled)
            latencies.extend(max(0.0, now - event.time.timestamp()) for _, event in pending if event.id in mine)
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
