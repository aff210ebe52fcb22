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

import contextlib

import asyncpg
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

_PENDING_SQL = """
    SELECT id, topic, key, target_group, CAST(envelope AS text) FROM core.outbox
    WHERE relayed_at IS NULL ORDER BY id LIMIT $1
"""


class RelayError(RuntimeError):
    """The broker refused or did not acknowledge part of a pass; the rest is retried."""


class OutboxRelay:
    """Relays the outbox over a dedicated connection: a pass is a few statements, and the relay
    runs many passes a second (and, in every process but one, mostly finds the lock taken), so the
    ORM session's per-transaction cost would outweigh the work."""

    def __init__(self, db: Database, producer: AsyncProducer, codec: EventCodec, batch_size: int = RELAY_BATCH) -> None:
        self.db = db
        self.producer = producer
        self.codec = codec
        self.batch_size = batch_size
        self._connection: asyncpg.Connection | None = None

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)

    async def relay_once(self) -> int:
        """Publish the next pending outbox rows and delete those the broker acknowledged.

        Returns how many rows were relayed; 0 when nothing is pending or another process holds the
        relay. Raises :class:`RelayError` after removing the acknowledged prefix when a send failed.
        """
        if self._connection is None or self._connection.is_closed():
            self._connection = await self.db.connect_raw("nexora-relay")
        try:
            return await self._pass(self._connection)
        except RelayError:
            raise
        except BaseException:
            # The connection may be mid-transaction or broken: the next pass starts on a new one.
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.terminate()
            raise

    async def _pass(self, connection: asyncpg.Connection) -> int:
        failed: str | None = None
        async with connection.transaction():
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK):
                return 0
            rows = await connection.fetch(_PENDING_SQL, self.batch_size)
            if not rows:
                return 0
            envelopes = [orjson.loads(row[4]) for row in rows]  # text from the database: orjson is fastest
            encoded = await self.codec.encode_many(envelopes)
            messages = [
                self._message(row[0], row[1], row[2], row[3], row[4], value)
                for row, value in zip(rows, encoded, strict=True)
            ]
            errors = await self.producer.send(messages)
            # Only the prefix before the first failure is removed: nothing after it may overtake it.
            acknowledged = len(rows)
            for index, error in enumerate(errors):
                if error is not None:
                    acknowledged, failed = index, error
                    break
            if acknowledged:
                await connection.execute(
                    "DELETE FROM core.outbox WHERE id = ANY($1::bigint[])", [row[0] for row in rows[:acknowledged]]
                )
        if failed is not None:
            raise RelayError(f"the broker did not take an event ({failed}); {acknowledged} of {len(rows)} relayed")
        return acknowledged

    def _message(
        self,
        outbox_id: int,
        topic: str,
        key_text: str,
        target_group: str | None,
        envelope_text: str,
        encoded: tuple[bytes, list[tuple[str, bytes]]] | WireFormatError,
    ) -> OutgoingMessage:
        key = key_text.encode()
        if isinstance(encoded, WireFormatError):
            # A row this build cannot encode must not block every event behind it.
            log.error(
                "outbox event cannot be encoded; sent to the dead-letter topic", outbox_id=outbox_id, error=str(encoded)
            )
            failed = dlq.FailedRecord(topic, -1, outbox_id, key, envelope_text.encode(), ())
            return dlq.dead_letter_message(failed, group="", error=str(encoded), attempts=0, reason="unencodable")
        value, headers = encoded
        if target_group:
            headers.append((TARGET_GROUP_HEADER, target_group.encode()))
        return OutgoingMessage(topic, key, value, headers)


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
