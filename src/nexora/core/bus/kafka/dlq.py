"""Dead-letter topics: what a consumer group gave up on, kept in ``<topic>.dlq`` with the reason.

A dead letter is the original record (key, value, headers) plus ``nexora-dlq-*`` headers naming the
group, the error, the attempts and where it came from. Replaying one re-publishes the original
record to its topic with a target-group header (only the failing group handles it) and then appends
a replay marker to the DLQ, which is how a later listing knows it was replayed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from nexora.core.bus import DeadLetter
from nexora.core.bus.kafka.clients import DLQ_SUFFIX, OutgoingMessage, consumer_options
from nexora.core.config import KafkaSettings
from nexora.core.events.wire import TARGET_GROUP_HEADER, EventCodec, WireFormatError, header_map
from nexora.core.ids import utcnow
from nexora.core.observability import scrub_text

GROUP = "nexora-dlq-group"
ERROR = "nexora-dlq-error"
REASON = "nexora-dlq-reason"
ATTEMPTS = "nexora-dlq-attempts"
SOURCE = "nexora-dlq-source"
FAILED_AT = "nexora-dlq-failed-at"
REPLAY_OF = "nexora-dlq-replay-of"
REPLAYED_AT = "nexora-dlq-replayed-at"
HANDLER_FAILED = "handler-failed"
MALFORMED = "malformed"
MAX_ERROR_LENGTH = 2000
SCAN_IDLE_MS = 300


@dataclass(frozen=True)
class FailedRecord:
    """The parts of a consumed record a dead letter keeps."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def dead_letter_message(record: FailedRecord, *, group: str, error: str, attempts: int, reason: str) -> OutgoingMessage:
    """The DLQ record of ``record``: the original bytes and headers plus why it was given up on."""
    kept = [(name, value) for name, value in record.headers if not name.startswith("nexora-dlq-")]
    kept += [
        (GROUP, group.encode()),
        (ERROR, scrub_text(error)[:MAX_ERROR_LENGTH].encode()),
        (REASON, reason.encode()),
        (ATTEMPTS, str(attempts).encode()),
        (SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
        (FAILED_AT, utcnow().isoformat().encode()),
    ]
    return OutgoingMessage(record.topic + DLQ_SUFFIX, record.key, record.value, kept)


@dataclass(frozen=True)
class StoredLetter:
    letter: DeadLetter
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def letter_id(dlq_topic: str, partition: int, offset: int) -> str:
    return f"{dlq_topic}:{partition}:{offset}"


def parse_letter_id(value: str) -> tuple[str, int, int] | None:
    topic, _, rest = value.rpartition(":")
    topic, _, partition = topic.rpartition(":")
    if not topic.endswith(DLQ_SUFFIX) or not partition.isdigit() or not rest.isdigit():
        return None
    return topic, int(partition), int(rest)


async def scan(
    settings: KafkaSettings, codec: EventCodec, dlq_topics: Sequence[str], partitions: dict[str, int]
) -> list[StoredLetter]:
    """Every dead letter in ``dlq_topics``, oldest first per partition, with its replay state."""
    assigned = [
        TopicPartition(topic, partition) for topic in dlq_topics for partition in range(partitions.get(topic, 0))
    ]
    if not assigned:
        return []
    consumer = AIOKafkaConsumer(**consumer_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        records = []
        # Read until the fetch goes idle: some brokers (tansu) under-report the end offset.
        while True:
            batch = await consumer.getmany(timeout_ms=SCAN_IDLE_MS, max_records=5000)
            for partition_records in batch.values():
                records.extend(partition_records)
            if not batch and all([await consumer.position(tp) >= ends[tp] for tp in assigned]):
                break
    finally:
        await consumer.stop()
    replayed = {
        header_map(record.headers)[REPLAY_OF].decode(errors="replace"): _time(
            header_map(record.headers).get(REPLAYED_AT)
        )
        for record in records
        if REPLAY_OF in header_map(record.headers)
    }
    letters: dict[str, StoredLetter] = {}
    seen_sources: set[tuple[str, str]] = set()
    open_events: set[tuple[str, bytes]] = set()  # (group, event id) with a letter not replayed yet
    for record in records:
        headers = header_map(record.headers)
        if GROUP not in headers or REPLAY_OF in headers:
            continue
        group = headers[GROUP].decode(errors="replace")
        source = headers.get(SOURCE, b"").decode(errors="replace")
        # A consumer that died between dead-lettering and committing dead-letters the record again.
        if source and (group, source) in seen_sources:
            continue
        seen_sources.add((group, source))
        identifier = letter_id(record.topic, record.partition, record.offset)
        # A relay restart can put an event on its topic twice; both copies fail the same way.
        event = (group, headers.get("ce_id", b""))
        if event[1] and event in open_events:
            continue
        if event[1] and identifier not in replayed:
            open_events.add(event)
        letters[identifier] = StoredLetter(
            letter=await _letter(codec, identifier, record.topic, record.value, headers, group),
            key=record.key,
            value=record.value,
            headers=tuple(record.headers),
        )
    for identifier, when in replayed.items():
        stored = letters.get(identifier)
        if stored is not None:
            letters[identifier] = StoredLetter(
                _with_replayed(stored.letter, when), stored.key, stored.value, stored.headers
            )
    return sorted(letters.values(), key=lambda stored: stored.letter.failed_at)


async def _letter(
    codec: EventCodec, identifier: str, dlq: str, value: bytes | None, headers: dict[str, bytes], group: str
) -> DeadLetter:
    envelope: dict[str, Any]
    try:
        event = await codec.decode(value, headers)
        envelope = event.to_cloudevent()
    except WireFormatError:
        envelope = {
            "headers": {
                name: raw.decode(errors="replace")[:200]
                for name, raw in headers.items()
                if not name.startswith("nexora-dlq-")
            },
            "bytes": len(value or b""),
        }
    except Exception as error:  # the registry may be down: list the letter without its payload
        envelope = {"unreadable": type(error).__name__}
    event_id = None
    raw_id = headers.get("ce_id")
    if raw_id:
        try:
            event_id = uuid.UUID(raw_id.decode(errors="replace"))
        except ValueError:
            event_id = None
    raw_tenant = headers.get("ce_tenant")
    tenant_id = None
    if raw_tenant:
        try:
            tenant_id = uuid.UUID(raw_tenant.decode(errors="replace"))
        except ValueError:
            tenant_id = None
    attempts = headers.get(ATTEMPTS, b"0").decode(errors="replace")
    return DeadLetter(
        id=identifier,
        group=group,
        event_id=event_id,
        topic=dlq.removesuffix(DLQ_SUFFIX),
        type=headers.get("ce_type", b"").decode(errors="replace"),
        tenant_id=tenant_id,
        error=headers.get(ERROR, b"").decode(errors="replace"),
        attempts=int(attempts) if attempts.isdigit() else 0,
        failed_at=_time(headers.get(FAILED_AT)),
        replayed_at=None,
        envelope=envelope,
    )


def _time(raw: bytes | None) -> datetime:
    try:
        return datetime.fromisoformat(raw.decode()) if raw else utcnow()
    except (ValueError, UnicodeDecodeError):
        return utcnow()


def _with_replayed(letter: DeadLetter, when: datetime) -> DeadLetter:
    from dataclasses import replace

    return replace(letter, replayed_at=when)


def replay_messages(stored: StoredLetter) -> tuple[OutgoingMessage, OutgoingMessage]:
    """The re-publication of a dead letter (to its group only) and the marker that records it."""
    letter = stored.letter
    headers = [
        (name, value)
        for name, value in stored.headers
        if not name.startswith("nexora-dlq-") and name != TARGET_GROUP_HEADER
    ]
    headers.append((TARGET_GROUP_HEADER, letter.group.encode()))
    again = OutgoingMessage(letter.topic, stored.key, stored.value, headers)
    marker = OutgoingMessage(
        letter.topic + DLQ_SUFFIX,
        stored.key,
        b"",
        [(REPLAY_OF, letter.id.encode()), (REPLAYED_AT, utcnow().isoformat().encode())],
    )
    return again, marker
