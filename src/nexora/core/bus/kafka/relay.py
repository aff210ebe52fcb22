"""The outbox relay: committed outbox rows to Kafka, in commit order per key, removed after the ack.

The outbox stays the source of truth until the broker has an event. One relay pass is one
transaction holding a transaction-level advisory lock, so exactly one relay works at a time across
all processes: it reads the oldest committed rows in id order, produces them keyed by the event's
subject and, in the same transaction, deletes the rows the broker acknowledged (``acks=all``): from
then on the topic is the record, kept by Kafka's retention.

Order per key: a row becomes visible when its transaction commits, so a row that commits after an
earlier pass is sent after everything that pass sent, whatever its id; per key, events reach the
topic in the order their transactions committed (rows of one transaction in id order). No sequencer
is needed, and a relayed row costs one DELETE instead of an UPDATE that copies the row and its index
entries (``benchmarks/bus_bench.py``). A relay that dies mid-pass deletes nothing; the next pass
sends the rows again, after the copies already sent, so per key the first copy of each event keeps
its order and consumers drop the repeats by event id.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text

from nexora.core.bus.kafka import dlq
from nexora.core.bus.kafka.clients import AsyncProducer, OutgoingMessage
from nexora.core.db import Database
from nexora.core.events.wire import TARGET_GROUP_HEADER, EventCodec, WireFormatError
from nexora.core.observability import get_logger

RELAY_LOCK = 0x6E78_7265_6C61  # arbitrary, stable advisory-lock key ("nxrela")
RELAY_BATCH = 5000

log = get_logger("nexora.bus.kafka")

_PENDING_SQL = text(
    """
    SELECT id, topic, key, target_group, CAST(envelope AS text) AS envelope FROM core.outbox
    WHERE relayed_at IS NULL ORDER BY id LIMIT :limit
    """
)


class RelayError(RuntimeError):
    """The broker refused or did not acknowledge part of a pass; the rest is retried."""


class OutboxRelay:
    def __init__(self, db: Database, producer: AsyncProducer, codec: EventCodec, batch_size: int = RELAY_BATCH) -> None:
        self.db = db
        self.producer = producer
        self.codec = codec
        self.batch_size = batch_size

    async def relay_once(self) -> int:
        """Publish the next pending outbox rows and delete those the broker acknowledged.

        Returns how many rows were relayed; 0 when nothing is pending or another process holds the
        relay. Raises :class:`RelayError` after removing the acknowledged prefix when a send failed.
        """
        failed: str | None = None
        async with self.db.unit_of_work() as session:
            locked = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK})
            if not locked:
                return 0
            rows = (await session.execute(_PENDING_SQL, {"limit": self.batch_size})).all()
            if not rows:
                return 0
            messages = [await self._message(row) for row in rows]
            errors = await self.producer.send(messages)
            # Only the prefix before the first failure is removed: nothing after it may overtake it.
            acknowledged = len(rows)
            for index, error in enumerate(errors):
                if error is not None:
                    acknowledged, failed = index, error
                    break
            if acknowledged:
                await session.execute(
                    text("DELETE FROM core.outbox WHERE id = ANY(:ids)"),
                    {"ids": [row.id for row in rows[:acknowledged]]},
                )
        if failed is not None:
            raise RelayError(f"the broker did not take an event ({failed}); {acknowledged} of {len(rows)} relayed")
        return acknowledged

    async def _message(self, row: Any) -> OutgoingMessage:
        key = row.key.encode()
        envelope = orjson.loads(row.envelope)  # read as text: orjson parses it faster than the driver
        try:
            value, headers = await self.codec.encode(envelope)
        except WireFormatError as error:
            # A row this build cannot encode must not block every event behind it.
            log.error(
                "outbox event cannot be encoded; sent to the dead-letter topic", outbox_id=row.id, error=str(error)
            )
            failed = dlq.FailedRecord(row.topic, -1, row.id, key, row.envelope.encode(), ())
            return dlq.dead_letter_message(failed, group="", error=str(error), attempts=0, reason="unencodable")
        if row.target_group:
            headers.append((TARGET_GROUP_HEADER, row.target_group.encode()))
        return OutgoingMessage(row.topic, key, value, headers)


async def relay_backlog(db: Database) -> dict[str, dict[str | None, int]]:
    """Outbox events not yet on Kafka, by topic and target group (``None``: every group)."""
    async with db.unit_of_work() as session:
        rows = await session.execute(
            text(
                "SELECT topic, target_group, count(*) AS n FROM core.outbox WHERE relayed_at IS NULL"
                " GROUP BY topic, target_group"
            )
        )
        backlog: dict[str, dict[str | None, int]] = {}
        for row in rows:
            backlog.setdefault(row.topic, {})[row.target_group] = int(row.n)
        return backlog
