"""Reading and writing raw records of the test broker, around the bus."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from nexora.core.bus.kafka.clients import AsyncProducer, OutgoingMessage, consumer_options
from nexora.core.config import KafkaSettings


async def read_topic(settings: KafkaSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic``, read from the start until the fetch goes idle."""
    consumer = AIOKafkaConsumer(**consumer_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while batch := await consumer.getmany(timeout_ms=500):
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()


async def produce_raw(settings: KafkaSettings, *messages: OutgoingMessage) -> None:
    producer = AsyncProducer(settings)
    try:
        assert await producer.send(messages) == [None] * len(messages)
    finally:
        await producer.close()
