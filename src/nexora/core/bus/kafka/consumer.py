"""A consumer group on Kafka: handlers in tenant-scoped transactions, offsets committed after them.

For each fetched batch, every partition's records are handled in order. One database transaction
covers a run of events (normally the whole batch, every partition): it marks their ids in
``core.processed_event`` (``ON CONFLICT DO NOTHING ... RETURNING`` says which are new, so a
redelivered event is skipped), runs the handler of each new event with the event's tenant set, and
commits. Offsets are committed
to Kafka only after that, so a crash re-delivers at most the uncommitted tail, which the marks turn
into no-ops.

A handler failure rolls the run back; the events before it are redone without it, and the failing
event is retried with exponential backoff (its partition pauses: order per key is kept) until
``max_attempts``, then produced to ``<topic>.dlq`` with the error in headers. Records that are not
our wire format, or name an unknown schema id, go to the DLQ at once with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from sqlalchemy import text

from nexora.core.bus import Subscription
from nexora.core.bus.delivery import Dispatch, count_failure, retry_delay
from nexora.core.bus.kafka import dlq
from nexora.core.bus.kafka.clients import AsyncProducer, group_options
from nexora.core.config import BusSettings, KafkaSettings
from nexora.core.db import Database
from nexora.core.events import Event
from nexora.core.events.wire import TARGET_GROUP_HEADER, EventCodec, WireFormatError, header_map
from nexora.core.observability import (
    BUS_DEAD_LETTERS,
    BUS_EVENTS,
    BUS_HANDLE_SECONDS,
    get_logger,
    observe_many,
    scrub_text,
)

log = get_logger("nexora.bus.kafka")
IDLE_POLL_MS = 1000
TRANSIENT_RETRY_SECONDS = 1.0

_MARK_SQL = text(
    """
    INSERT INTO core.processed_event (group_name, event_id)
    SELECT :g, unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING RETURNING event_id
    """
)


@dataclass
class Item:
    """One fetched record, classified: an event to handle, a record to skip, or malformed bytes."""

    record: ConsumerRecord[Any, Any]
    event: Event | None = None
    malformed: str | None = None


def _tenant_order(event: Event) -> int:
    return -1 if event.tenant_id is None else event.tenant_id.int


class HandlerFailed(Exception):
    def __init__(self, index: int, error: str) -> None:
        super().__init__(error)
        self.index = index
        self.error = error


def _failed(index: int, error: Exception) -> HandlerFailed:
    return HandlerFailed(index, scrub_text(f"{type(error).__name__}: {error}")[: dlq.MAX_ERROR_LENGTH])


class DeliveryFailed(RuntimeError):
    """The broker did not take a dead letter: the record stays unconsumed and is retried."""


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: GroupWorker) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Let the batch in flight commit before another member takes its partitions.
        async with self.owner.lock:
            for partition in revoked:
                self.owner.retry_at.pop(partition, None)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "partitions assigned",
            group=self.owner.group,
            partitions=sorted(f"{p.topic}/{p.partition}" for p in assigned),
        )


class GroupWorker:
    """Runs one :class:`Subscription` as a Kafka consumer group member."""

    def __init__(
        self,
        db: Database,
        subscription: Subscription,
        codec: EventCodec,
        producer: AsyncProducer,
        kafka: KafkaSettings,
        settings: BusSettings,
    ) -> None:
        self.db = db
        self.subscription = subscription
        self.group = subscription.group
        self.codec = codec
        self.producer = producer
        self.kafka = kafka
        self.settings = settings
        self.lock = asyncio.Lock()
        self.retry_at: dict[TopicPartition, float] = {}
        self.consumer: AIOKafkaConsumer | None = None
        self._failing: set[uuid.UUID] = set()  # events with a delivery_failure row written by this process
        self._handled = BUS_EVENTS.labels(self.group, "handled")
        self._latency = BUS_HANDLE_SECONDS.labels(self.group)

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set; leaves the group cleanly on the way out."""
        consumer = AIOKafkaConsumer(**group_options(self.kafka), group_id=self.group)
        consumer.subscribe(list(self.subscription.topics), listener=_Listener(self))
        await consumer.start()
        self.consumer = consumer
        try:
            while not stopping.is_set():
                self._resume_due(consumer)
                batch = await consumer.getmany(timeout_ms=self._poll_ms(), max_records=self.settings.batch_size)
                if not batch:
                    continue
                async with self.lock:
                    offsets = await self.process(consumer, batch)
                    if offsets:
                        await self._commit(consumer, offsets)
        finally:
            self.consumer = None
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _poll_ms(self) -> int:
        if not self.retry_at:
            return IDLE_POLL_MS
        wait = min(self.retry_at.values()) - time.monotonic()
        return max(10, min(IDLE_POLL_MS, int(wait * 1000)))

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        for partition, when in list(self.retry_at.items()):
            if when <= now:
                del self.retry_at[partition]
                if partition in consumer.assignment():
                    consumer.resume(partition)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as error:
            # The group rebalanced: the next owner re-reads these events and the marks skip them.
            log.warning("offset commit failed; events will be re-read and skipped", group=self.group, error=str(error))

    async def process(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> dict[TopicPartition, int]:
        """Handle a fetched batch; returns the offsets that are safe to commit.

        The common case, a batch of well-formed events whose handlers all succeed, is one
        transaction for every partition of the batch. Otherwise each partition is settled on its
        own: events before a failure commit, the failing one is retried or dead-lettered, and a
        partition in trouble does not hold the others back.
        """
        partitions = list(batch)
        classified = await asyncio.gather(
            *(self._classify_all(batch[partition]) for partition in partitions), return_exceptions=True
        )
        if await self._handle_together(classified):
            return {partition: batch[partition][-1].offset + 1 for partition in partitions}
        results = await asyncio.gather(
            *(self._process_partition(items) for items in classified),
            return_exceptions=True,
        )
        offsets: dict[TopicPartition, int] = {}
        for partition, result in zip(partitions, results, strict=True):
            records = batch[partition]
            if isinstance(result, BaseException):
                # Database or broker trouble: re-read the partition from its first unsettled record later.
                log.warning("partition batch failed; will retry", group=self.group, error=str(result))
                self._retry(consumer, partition, records[0].offset, TRANSIENT_RETRY_SECONDS)
                continue
            next_offset, retry_in = result
            if next_offset > records[0].offset:
                offsets[partition] = next_offset
            if retry_in is not None:
                self._retry(consumer, partition, next_offset, retry_in)
        return offsets

    async def _classify_all(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[Item]:
        return [await self._classify(record) for record in records]

    async def _handle_together(self, classified: Sequence[list[Item] | BaseException]) -> bool:
        """Handle every partition's events in one transaction; False (nothing committed) when a
        partition could not be read, holds malformed bytes, or a handler or the database failed."""
        events: list[Event] = []
        for items in classified:
            if isinstance(items, BaseException):
                return False
            for item in items:
                if item.malformed is not None:
                    return False
                if item.event is not None:
                    events.append(item.event)
        # Tenant by tenant (a stable sort keeps each partition's, so each key's, order): switching the
        # session's tenant costs a round trip. Order across tenants is not promised, as across keys.
        events.sort(key=_tenant_order)
        try:
            return await self._transaction(events) is None
        except Exception as error:
            log.info("batch transaction failed; settling partition by partition", group=self.group, error=str(error))
            return False

    def _retry(self, consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int, delay: float) -> None:
        if partition not in consumer.assignment():
            return
        consumer.seek(partition, offset)
        consumer.pause(partition)
        self.retry_at[partition] = time.monotonic() + delay

    async def _process_partition(self, items: list[Item] | BaseException) -> tuple[int, float | None]:
        """Settle one partition's ``items`` in order. Returns the offset to resume from and, when an
        event must be retried, the delay before retrying it."""
        if isinstance(items, BaseException):
            raise items
        start = 0
        while start < len(items):
            end = start
            while end < len(items) and items[end].malformed is None:
                end += 1
            settled, retry_in = await self._handle_run(items[start:end])
            if retry_in is not None:
                return items[start + settled].record.offset, retry_in
            if end < len(items):
                await self._dead_letter(items[end], str(items[end].malformed), attempts=1, reason=dlq.MALFORMED)
            start = end + 1
        return items[-1].record.offset + 1, None

    async def _classify(self, record: ConsumerRecord[Any, Any]) -> Item:
        headers = header_map(record.headers)
        target = headers.get(TARGET_GROUP_HEADER)
        if target is not None and target.decode(errors="replace") != self.group:
            return Item(record)
        kind = headers.get("ce_type")
        if kind is not None and not self.subscription.wants(kind.decode(errors="replace")):
            return Item(record)
        try:
            return Item(record, event=await self.codec.decode(record.value, headers))
        except WireFormatError as error:
            return Item(record, malformed=str(error))

    async def _handle_run(self, items: Sequence[Item]) -> tuple[int, float | None]:
        """Handle the events of ``items`` (no malformed ones). Returns how many items are settled and,
        if it stopped at an event to retry, the delay before the retry."""
        events = [(index, item.event) for index, item in enumerate(items) if item.event is not None]
        start = 0
        while start < len(events):
            failure = await self._transaction([event for _, event in events[start:]])
            if failure is None:
                return len(items), None
            index, error = start + failure.index, failure.error
            # Commit the events before the failing one (one of them may fail this time instead).
            while index > start:
                earlier = await self._transaction([event for _, event in events[start:index]])
                if earlier is None:
                    break
                index, error = start + earlier.index, earlier.error
            position, event = events[index]
            attempts = await self._record_failure(event, error)
            delay = retry_delay(
                self.settings, attempts, group=self.group, event_id=event.id, event_type=event.type, error=error
            )
            if delay is not None:
                return position, delay
            await self._dead_letter(items[position], error, attempts=attempts, reason=dlq.HANDLER_FAILED)
            await self._forget_failure(event)
            start = index + 1
        return len(items), None

    async def _transaction(self, events: Sequence[Event]) -> HandlerFailed | None:
        """Handle ``events`` in one transaction with their de-duplication marks; all or nothing."""
        if not events:
            return None
        handled: list[Event] = []
        try:
            async with self.db.unit_of_work() as session:
                marked = (await session.execute(_MARK_SQL, {"g": self.group, "ids": [e.id for e in events]})).all()
                # Usually every event is new: then there is nothing to look up.
                fresh = None if len(marked) == len(events) else {row[0] for row in marked}
                dispatch = Dispatch(self.subscription, session, _failed)
                for index, event in enumerate(events):
                    if fresh is not None:
                        if event.id not in fresh:
                            continue
                        fresh.discard(event.id)  # a second copy in the same batch is a repeat too
                    await dispatch.add(index, event)
                    handled.append(event)
                await dispatch.flush()
                recovered = [e.id for e in handled if e.id in self._failing] if self._failing else []
                if recovered:
                    await session.execute(
                        text("DELETE FROM core.delivery_failure WHERE group_name = :g AND event_id = ANY(:ids)"),
                        {"g": self.group, "ids": recovered},
                    )
        except HandlerFailed as failure:
            return failure
        if self._failing:
            self._failing.difference_update(e.id for e in events)
        self._handled.inc(len(handled))
        now = time.time()
        observe_many(self._latency, [max(0.0, now - event.time.timestamp()) for event in handled])
        return None

    async def _record_failure(self, event: Event, error: str) -> int:
        BUS_EVENTS.labels(self.group, "failed").inc()
        self._failing.add(event.id)
        async with self.db.unit_of_work() as session:
            return await count_failure(session, self.group, event.id, error)

    async def _forget_failure(self, event: Event) -> None:
        self._failing.discard(event.id)
        async with self.db.unit_of_work() as session:
            await session.execute(
                text("DELETE FROM core.delivery_failure WHERE group_name = :g AND event_id = :e"),
                {"g": self.group, "e": event.id},
            )

    async def _dead_letter(self, item: Item, error: str, *, attempts: int, reason: str) -> None:
        record = item.record
        failed = dlq.FailedRecord(
            record.topic, record.partition, record.offset, record.key, record.value, tuple(record.headers)
        )
        message = dlq.dead_letter_message(failed, group=self.group, error=error, attempts=attempts, reason=reason)
        (delivery_error,) = await self.producer.send([message])
        if delivery_error is not None:
            raise DeliveryFailed(f"cannot write to {message.topic}: {delivery_error}")
        BUS_DEAD_LETTERS.labels(self.group).inc()
        log.error(
            "record moved to the dead-letter topic",
            group=self.group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=str(item.event.id) if item.event else None,
            reason=reason,
            attempts=attempts,
            error=error,
        )
