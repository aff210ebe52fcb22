"""The Kafka bus: the outbox relayed to Kafka, aiokafka consumer groups, dead-letter topics.

Publishing is unchanged (:func:`nexora.core.bus.publish` writes the outbox in the caller's
transaction); :class:`OutboxRelay` moves committed events to their topics. Each subscription is a
Kafka consumer group (:class:`GroupWorker`). Topics (one per event family, each with ``<topic>.dlq``)
are created at start when missing. ``dead_letters``/``replay`` read and write the DLQ topics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy import text

from nexora.core.bus import NOTIFY_CHANNEL, DeadLetter, Subscription
from nexora.core.bus.delivery import DeliveryLoops
from nexora.core.bus.kafka import dlq
from nexora.core.bus.kafka.clients import AsyncProducer, KafkaAdmin, dlq_topic
from nexora.core.bus.kafka.consumer import GroupWorker
from nexora.core.bus.kafka.relay import RELAY_BATCH, OutboxRelay, RelayError, relay_backlog
from nexora.core.config import Settings
from nexora.core.db import Database
from nexora.core.errors import ConfigurationError, ValidationFailed
from nexora.core.events import topics as catalogue_topics
from nexora.core.events.wire import EventCodec, schema_source
from nexora.core.observability import get_logger

# The topic families of the platform's design, created even before a domain publishes to them.
DECLARED_TOPICS = (
    "nhi.discovered",
    "nhi.changed",
    "nhi.removed",
    "nhi.finding",
    "nhi.activity",
    "threat.indicator",
    "threat.match",
    "analytics.alert",
    "remediation.requested",
    "remediation.step",
    "remediation.completed",
    "audit.entry",
    "auth.events",
)
REPLAY_LOCK = 0x6E78_7265_706C  # arbitrary, stable advisory-lock key ("nxrepl")
RESTART_SECONDS = 1.0
STOP_SECONDS = 5.0

log = get_logger("nexora.bus.kafka")


def bus_topics(extra: Sequence[str] = ()) -> list[str]:
    """Every event topic: the declared families, the catalogue's and any subscribed one."""
    return sorted({*DECLARED_TOPICS, *catalogue_topics(), *extra})


class KafkaBus(DeliveryLoops):
    """The bus on Kafka; the same interface and guarantees as the PostgreSQL backend."""

    backend = "kafka"

    def __init__(self, settings: Settings, db: Database) -> None:
        if not settings.kafka.bootstrap_servers:
            raise ConfigurationError("the Kafka bus needs NEXORA_KAFKA_BOOTSTRAP_SERVERS (host:port,...)")
        self.db = db
        self.kafka = settings.kafka
        self.settings = settings.events
        self.codec = EventCodec(schema_source(settings.schema_registry_url))
        self.admin = KafkaAdmin(settings.kafka)
        self.subscriptions: list[Subscription] = []
        self.workers: list[GroupWorker] = []
        self.producer: AsyncProducer | None = None
        self.relay: OutboxRelay | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._member_tasks: list[asyncio.Task[None]] = []
        self._relay_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._relay_wakeup = asyncio.Event()

    def subscribe(self, subscription: Subscription) -> None:
        if any(s.group == subscription.group for s in self.subscriptions):
            raise ValueError(f"consumer group '{subscription.group}' is already subscribed")
        self.subscriptions.append(subscription)

    def topics_in_use(self) -> list[str]:
        return bus_topics([topic for s in self.subscriptions for topic in s.topics])

    async def ensure_topics(self) -> list[str]:
        """Create every event topic and its ``.dlq`` that the cluster lacks; returns those created."""
        names = [name for topic in self.topics_in_use() for name in (topic, dlq_topic(topic))]
        created = await self.admin.create_topics(names, self.kafka.partitions, self.kafka.replication_factor)
        if created:
            log.info("kafka topics created", topics=created)
        return created

    async def start(self, *, consume: bool = True) -> None:
        """Create missing topics, run the relay and, with ``consume``, one group member per subscription."""
        self._stopping.clear()
        await self.ensure_topics()
        self.producer = AsyncProducer(self.kafka)
        if self.kafka.relay:
            self.relay = OutboxRelay(self.db, self.producer, self.codec, preferred=not consume)
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="bus-kafka-listener"))
            self._relay_task = asyncio.create_task(self._relay_loop(), name="bus-kafka-relay")
            self._tasks.append(self._relay_task)
        if consume:
            for subscription in self.subscriptions:
                worker = GroupWorker(self.db, subscription, self.codec, self.producer, self.kafka, self.settings)
                self.workers.append(worker)
                task = asyncio.create_task(self._supervise(worker.run, worker.group), name=f"bus-kafka-{worker.group}")
                self._member_tasks.append(task)
                self._tasks.append(task)
            self._tasks.append(asyncio.create_task(self._maintenance_loop(), name="bus-kafka-maintenance"))

    async def stop(self) -> None:
        self._stopping.set()
        self._relay_wakeup.set()
        # The relay finishes its pass (or re-sends it after a restart) and members leave their groups
        # cleanly: each loop sees the flag after its current pass or fetch.
        waiting = [*self._member_tasks, *([self._relay_task] if self._relay_task else [])]
        if waiting:
            await asyncio.wait(waiting, timeout=STOP_SECONDS)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._member_tasks.clear()
        self._relay_task = None
        self.workers.clear()
        if self.relay is not None:
            await self.relay.close()
            self.relay = None
        if self.producer is not None:
            await self.producer.close()
            self.producer = None
        await self.codec.schemas.close()

    async def ready(self) -> bool:
        """The database (which holds the outbox) answers and the broker returns cluster metadata."""
        try:
            await self.db.ping()
            await self.admin.partitions(timeout_seconds=3)
        except Exception:
            return False
        return True

    # ---- loops --------------------------------------------------------------------------------

    async def _supervise(self, run: Callable[[asyncio.Event], Awaitable[None]], group: str) -> None:
        while not self._stopping.is_set():
            try:
                await run(self._stopping)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("consumer group member failed; restarting", group=group, error=str(error))
                await self._sleep(RESTART_SECONDS)

    async def _listen_loop(self) -> None:
        while not self._stopping.is_set():
            listener: asyncpg.Connection | None = None
            try:
                listener = await self.db.connect_raw("nexora-relay-listener")
                # The outbox trigger notifies at each publishing commit; the relay reads committed rows
                # directly (no sequencer: see nexora.core.bus.kafka.relay).
                await listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._relay_wakeup.set())
                # Catch up on what was published while not listening.
                self._relay_wakeup.set()
                while not self._stopping.is_set() and not listener.is_closed():
                    await self._sleep(1)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("relay listener disconnected; reconnecting", error=str(error))
            finally:
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.close()
            await self._sleep(1)

    async def _relay_loop(self) -> None:
        assert self.relay is not None
        while not self._stopping.is_set():
            self._relay_wakeup.clear()
            try:
                while await self.relay.relay_once() >= RELAY_BATCH and not self._stopping.is_set():
                    pass
            except RelayError as error:
                log.warning("relay pass incomplete; retrying", error=str(error))
                await self._sleep(RESTART_SECONDS)
                continue
            except Exception as error:
                log.warning("relay pass failed; retrying", error=str(error))
                await self._sleep(RESTART_SECONDS)
                continue
            if self.producer is not None:
                self.producer.serve()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._relay_wakeup.wait(), self.settings.poll_interval_seconds)

    # ---- operations ---------------------------------------------------------------------------

    async def prune(self) -> int:
        """Drop relayed outbox rows, de-duplication marks and stale failure counts past retention."""
        days = self.settings.processed_retention_days
        async with self.db.unit_of_work() as session:
            for table, column in (("core.processed_event", "processed_at"), ("core.delivery_failure", "updated_at")):
                await session.execute(
                    text(f"DELETE FROM {table} WHERE {column} < now() - make_interval(days => :d)"),  # noqa: S608
                    {"d": days},
                )
            result = await session.execute(
                text("DELETE FROM core.outbox WHERE relayed_at < now() - make_interval(days => :d)"), {"d": days}
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def lag(self) -> dict[str, int]:
        """Events each group has not consumed: its Kafka lag plus events still in the outbox.

        Kafka lag is the latest offset minus the committed one, per partition (from the earliest
        offset when the group never committed). Brokers that under-report the latest offset of
        batched records (tansu) make this a lower bound; it is 0 once a group has caught up.
        """
        partitions = await self.admin.partitions()
        groups: dict[str, list[str]] = {s.group: list(s.topics) for s in self.subscriptions}
        committed: dict[str, dict[tuple[str, int], int]] = {}
        ours = set(self.topics_in_use())
        for group in await self.admin.groups():
            offsets = {key: value for key, value in (await self.admin.committed(group)).items() if key[0] in ours}
            if offsets or group in groups:
                committed[group] = offsets
                groups.setdefault(group, sorted({topic for topic, _ in offsets}))
        wanted = sorted(
            {
                (topic, p)
                for group_topics in groups.values()
                for topic in group_topics
                for p in range(partitions.get(topic, 0))
            }
        )
        marks = await self.admin.watermarks(wanted)
        backlog = await relay_backlog(self.db)
        result: dict[str, int] = {}
        for group, group_topics in sorted(groups.items()):
            total = 0
            for topic in group_topics:
                for partition in range(partitions.get(topic, 0)):
                    low, high = marks.get((topic, partition), (0, 0))
                    position = committed.get(group, {}).get((topic, partition), low)
                    total += max(0, high - position)
                pending = backlog.get(topic, {})
                total += pending.get(None, 0) + pending.get(group, 0)
            result[group] = total
        return result

    async def topics(self) -> list[dict[str, Any]]:
        """Each event topic with its partitions, approximate message counts and outbox backlog."""
        partitions = await self.admin.partitions()
        names = self.topics_in_use()
        wanted = [
            (name, p) for topic in names for name in (topic, dlq_topic(topic)) for p in range(partitions.get(name, 0))
        ]
        marks = await self.admin.watermarks(wanted)
        backlog = await relay_backlog(self.db)

        def messages(name: str) -> int | None:
            if name not in partitions:
                return None
            return sum(
                marks.get((name, p), (0, 0))[1] - marks.get((name, p), (0, 0))[0] for p in range(partitions[name])
            )

        return [
            {
                "topic": topic,
                "partitions": partitions.get(topic),
                "events": messages(topic),
                "dlq_events": messages(dlq_topic(topic)),
                "unrelayed": sum(backlog.get(topic, {}).values()),
            }
            for topic in names
        ]

    async def _stored_letters(self) -> list[dlq.StoredLetter]:
        partitions = await self.admin.partitions()
        return await dlq.scan(self.kafka, self.codec, [dlq_topic(t) for t in self.topics_in_use()], partitions)

    async def dead_letters(self, *, group: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Dead letters read from the ``.dlq`` topics, oldest first, with their replay state."""
        letters = [stored.letter for stored in await self._stored_letters()]
        return [letter for letter in letters if group is None or letter.group == group][:limit]

    async def replay(self, ids: Sequence[str]) -> int:
        """Re-publish dead letters to their topic for the group that failed them (other groups skip
        them) and record the replay in the DLQ; a letter already replayed is left alone."""
        for value in ids:
            if dlq.parse_letter_id(value) is None:
                raise ValidationFailed("a Kafka dead-letter id looks like '<topic>.dlq:<partition>:<offset>'")
        if not ids:
            return 0
        producer = self.producer or AsyncProducer(self.kafka)
        try:
            # One replay at a time across processes, so a letter is never replayed twice.
            async with self.db.unit_of_work() as session:
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REPLAY_LOCK})
                stored = {item.letter.id: item for item in await self._stored_letters()}
                chosen = [stored[value] for value in dict.fromkeys(ids) if value in stored]
                replayed = 0
                for item in chosen:
                    if item.letter.replayed_at is not None:
                        continue
                    again, marker = dlq.replay_messages(item)
                    for message in (again, marker):
                        (error,) = await producer.send([message])
                        if error is not None:
                            raise RelayError(f"cannot replay {item.letter.id}: {error}")
                    replayed += 1
                return replayed
        finally:
            if producer is not self.producer:
                await producer.close()
