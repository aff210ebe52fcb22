"""Kafka clients built from settings: librdkafka for producing and administration, aiokafka for consuming.

The producer is librdkafka's (``confluent-kafka``): it is idempotent with the InitProducerId
versions current brokers and tansu speak (aiokafka 0.14 only sends v0, which tansu refuses), and it
batches and compresses in C threads. Consumer groups use aiokafka, native to the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, Message, Producer
from confluent_kafka import TopicPartition as RdTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec  # type: ignore[attr-defined]

from nexora.core.config import KafkaSettings
from nexora.core.observability import get_logger

COMPRESSION = "lz4"  # cheapest to compress; aiokafka consumers decompress it with cramjam
LINGER_MS = 5
DELIVERY_TIMEOUT_MS = 30_000
FLUSH_TIMEOUT_SECONDS = DELIVERY_TIMEOUT_MS / 1000 + 5
ADMIN_TIMEOUT_SECONDS = 10.0
FETCH_MAX_WAIT_MS = 100  # bounds delivery latency on brokers that hold a fetch for the full wait
DLQ_SUFFIX = ".dlq"

log = get_logger("nexora.bus.kafka")


def dlq_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


def _librdkafka_security(settings: KafkaSettings) -> dict[str, Any]:
    config: dict[str, Any] = {"security.protocol": settings.security_protocol.lower()}
    if settings.sasl_mechanism:
        config["sasl.mechanism"] = settings.sasl_mechanism
    if settings.sasl_username:
        config["sasl.username"] = settings.sasl_username
    if settings.sasl_password is not None:
        config["sasl.password"] = settings.sasl_password.get_secret_value()
    return config


def _librdkafka_base(settings: KafkaSettings, role: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": f"{settings.client_id}-{role}",
        "logger": logging.getLogger(f"nexora.bus.kafka.{role}"),
        **_librdkafka_security(settings),
    }


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    """Idempotent, ``acks=all``, compressed; keys land on the partition Java clients would choose."""
    return {
        **_librdkafka_base(settings, "producer"),
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": COMPRESSION,
        "linger.ms": LINGER_MS,
        "message.timeout.ms": DELIVERY_TIMEOUT_MS,
        "partitioner": "murmur2_random",
        "delivery.report.only.error": True,
    }


def consumer_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments of ``aiokafka.AIOKafkaConsumer`` shared by every consumer."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": f"{settings.client_id}-consumer",
        "security_protocol": settings.security_protocol.upper(),
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
    }
    if settings.sasl_mechanism:
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        if settings.sasl_password is not None:
            options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    if "SSL" in settings.security_protocol.upper():
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context()
    return options


def group_options(settings: KafkaSettings) -> dict[str, Any]:
    """Consumer-group options: manual commits, start from the oldest event, liveness from settings."""
    return {
        **consumer_options(settings),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": max(100, min(3000, settings.session_timeout_ms // 3)),
        "max_poll_interval_ms": settings.max_poll_interval_ms,
    }


class OutgoingMessage(NamedTuple):
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _recorder(errors: list[str | None], index: int) -> Callable[[KafkaError | None, Message], None]:
    def delivered(error: KafkaError | None, _: Message) -> None:
        if error is not None:
            errors[index] = error.str()

    return delivered


class AsyncProducer:
    """librdkafka's producer for the event loop: :meth:`send` returns once the broker acknowledged
    (or refused) every message of the batch.

    Delivery reports are asked for failures only and served by ``flush`` on a worker thread, so a
    successful message costs no Python callback; sends are serialised, so a flush serves only the
    reports of its own batch.
    """

    def __init__(self, settings: KafkaSettings) -> None:
        self._producer = Producer(producer_config(settings))
        self._lock = asyncio.Lock()

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[str | None]:
        """Produce ``messages`` in order; returns, per message, ``None`` or the delivery error."""
        if not messages:
            return []
        errors: list[str | None] = [None] * len(messages)
        produce = self._producer.produce
        async with self._lock:
            for index, (topic, key, value, headers) in enumerate(messages):
                while True:
                    try:
                        produce(topic, value, key, headers=cast(Any, headers), on_delivery=_recorder(errors, index))
                        break
                    except BufferError:
                        # The local queue is full: serve delivery reports to make room.
                        await asyncio.to_thread(self._producer.poll, 0.05)
            pending = await asyncio.to_thread(self._producer.flush, FLUSH_TIMEOUT_SECONDS)
        if pending:
            # Not resolved in time: none of the batch counts as acknowledged (a resend is deduplicated).
            return [error or "not acknowledged in time" for error in errors]
        return errors

    def serve(self) -> None:
        """Hand librdkafka's queued logs and errors to Python (they wait for a poll)."""
        self._producer.poll(0)

    async def close(self, timeout_seconds: float = 10.0) -> None:
        async with self._lock:
            await asyncio.to_thread(self._producer.flush, timeout_seconds)


class KafkaAdmin:
    """Topic, offset and group look-ups (librdkafka's admin client, run off the event loop)."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._client: AdminClient | None = None

    @property
    def client(self) -> AdminClient:
        if self._client is None:
            self._client = AdminClient(_librdkafka_base(self.settings, "admin"))
        return self._client

    async def partitions(self, timeout_seconds: float = ADMIN_TIMEOUT_SECONDS) -> dict[str, int]:
        """Every topic of the cluster and its partition count."""
        metadata = await asyncio.to_thread(self.client.list_topics, None, timeout_seconds)
        return {name: len(topic.partitions) for name, topic in metadata.topics.items() if topic.error is None}

    async def create_topics(self, names: Sequence[str], partitions: int, replication_factor: int) -> list[str]:
        """Create the topics of ``names`` that do not exist yet; returns those created here."""
        existing = await self.partitions()
        missing = [name for name in names if name not in existing]
        if not missing:
            return []
        futures = self.client.create_topics(
            [NewTopic(name, partitions, replication_factor) for name in missing],
            operation_timeout=ADMIN_TIMEOUT_SECONDS,
            request_timeout=ADMIN_TIMEOUT_SECONDS,
        )
        created = []
        for name, future in futures.items():
            try:
                await asyncio.wrap_future(future)
                created.append(name)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
        return created

    async def groups(self) -> list[str]:
        result = await asyncio.wrap_future(self.client.list_consumer_groups(request_timeout=ADMIN_TIMEOUT_SECONDS))
        return sorted(group.group_id for group in result.valid)

    async def committed(self, group: str) -> dict[tuple[str, int], int]:
        """The offsets ``group`` committed, by (topic, partition)."""
        futures = self.client.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=ADMIN_TIMEOUT_SECONDS
        )
        offsets: dict[tuple[str, int], int] = {}
        for future in futures.values():
            result = await asyncio.wrap_future(future)
            for partition in result.topic_partitions:
                if partition.offset >= 0:
                    offsets[(partition.topic, partition.partition)] = partition.offset
        return offsets

    async def watermarks(self, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, int]]:
        """(earliest, latest) offsets of each partition."""
        if not partitions:
            return {}
        result: dict[tuple[str, int], tuple[int, int]] = {}
        low = await self._offsets(partitions, OffsetSpec.earliest())  # type: ignore[no-untyped-call]
        high = await self._offsets(partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]
        for key in partitions:
            result[key] = (low.get(key, 0), high.get(key, 0))
        return result

    async def _offsets(self, partitions: Sequence[tuple[str, int]], spec: OffsetSpec) -> dict[tuple[str, int], int]:
        futures = self.client.list_offsets(
            {RdTopicPartition(topic, partition): spec for topic, partition in partitions},
            request_timeout=ADMIN_TIMEOUT_SECONDS,
        )
        offsets: dict[tuple[str, int], int] = {}
        for partition, future in futures.items():
            with contextlib.suppress(KafkaException):
                offsets[(partition.topic, partition.partition)] = max(0, (await asyncio.wrap_future(future)).offset)
        return offsets
