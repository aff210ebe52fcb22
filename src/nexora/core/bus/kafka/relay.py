"""The outbox relay: committed outbox rows to Kafka, in commit order per key, removed after the ack.

The outbox stays the source of truth until the broker has an event. One process at a time relays:
every process that starts the bus (and may: ``NEXORA_KAFKA_RELAY``) asks for a session-level
advisory lock on its relay connection, and the one holding it leads until it stops or its connection
ends (a killed process's lock goes with its connection); the others ask again every
``STANDBY_SECONDS``. A relay pass is one transaction: it reads the oldest committed rows in id order,
produces them keyed by the event's subject and deletes the rows the broker acknowledged
(``acks=all``): from then on the topic is the record, kept by Kafka's retention. Leading, rather
than taking a lock per pass, keeps the relay in one process: passes that hopped between processes
landed in busy workers, whose event loops stretched each pass while the outbox grew
(``benchmarks/RESULTS.md``), and each process had to find its own place in the table. For the same
reason a process that consumes leads only while no process that does not (an API replica) is
standing by: those hold a shared "candidate" lock, and a consuming leader that sees one (it looks
every ``LOOK_SECONDS``) hands over.

Order per key: a row becomes visible when its transaction commits, so a row that commits after an
earlier pass is sent after everything that pass sent, whatever its id; per key, events reach the
topic in the order their transactions committed (rows of one transaction in id order). No sequencer
is needed, and a relayed row costs one DELETE instead of an UPDATE that copies the row and its index
entries (``benchmarks/bus_bench.py``). A relay that dies mid-pass deletes nothing; the next pass
sends the rows again, after the copies already sent, so per key the first copy of each event keeps
its order and consumers drop the repeats by event id.

Where a pass starts: deleted rows leave dead entries at the head of the primary key until VACUUM
removes them, and a scan from the lowest id walks all of them (about 3 ms a pass per million; with
autovacuum off, or between its rounds, the cost grows with every event relayed). So a pass scans from
a floor below which every row is known to be sent. The floor may only pass an id once no transaction
that could still commit a row below it is running: ``write_outbox`` takes a transaction id before
the identity sequence (CACHE 1, so ids are handed out in call order) gives the rows theirs, so every
row with an id at or below the last one a pass sent belongs to a transaction that began before the
snapshot of the next pass; once a later snapshot's xmin has passed that snapshot's xmax, those
transactions are all over, and the first pass after that (which still scans from the old floor and
sees what they committed) moves the floor up. A sweep from the lowest id every
``SWEEP_SECONDS`` is the backstop for rows written some other way.
"""

from __future__ import annotations

import contextlib
import time

import asyncpg
import orjson
from sqlalchemy import text

from nexora.core.bus.kafka import dlq
from nexora.core.bus.kafka.clients import AsyncProducer, OutgoingMessage
from nexora.core.db import Database
from nexora.core.events.wire import TARGET_GROUP_HEADER, EventCodec, WireFormatError
from nexora.core.observability import get_logger

RELAY_LOCK = 0x6E78_7265_6C61  # arbitrary, stable advisory-lock key ("nxrela")
CANDIDATE_LOCK = 0x6E78_7265_6C63  # held shared by preferred relays ("nxrelc")
STANDBY_SECONDS = 0.25  # how often a relay standing by asks for the lead (a takeover's delay)
LOOK_SECONDS = 2.0  # how often a consuming leader looks for a preferred relay standing by
SWEEP_SECONDS = 10.0  # how often a pass starts from the lowest id instead of the floor
RELAY_BATCH = 5000

log = get_logger("nexora.bus.kafka")

_SNAPSHOT_SQL = """
    SELECT CAST(CAST(pg_snapshot_xmin(s) AS text) AS bigint), CAST(CAST(pg_snapshot_xmax(s) AS text) AS bigint)
    FROM pg_current_snapshot() AS s
"""
# A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
_CANDIDATE_WAITING_SQL = """
    SELECT EXISTS (
        SELECT FROM pg_locks WHERE locktype = 'advisory' AND database = (
            SELECT oid FROM pg_database WHERE datname = current_database()
        ) AND classid = $1 AND objid = $2 AND objsubid = 1 AND mode = 'ShareLock' AND granted
    )
"""
_PENDING_SQL = """
    SELECT id, topic, key, target_group, CAST(envelope AS text) FROM core.outbox
    WHERE relayed_at IS NULL AND id > $2 ORDER BY id LIMIT $1
"""
_UNBOUNDED = 1 << 62


class RelayError(RuntimeError):
    """The broker refused or did not acknowledge part of a pass; the rest is retried."""


class OutboxRelay:
    """Relays the outbox over a dedicated connection, which also holds the lead: a pass is a few
    statements and the leader runs many passes a second, so the ORM session's per-transaction cost
    would outweigh the work."""

    def __init__(
        self,
        db: Database,
        producer: AsyncProducer,
        codec: EventCodec,
        batch_size: int = RELAY_BATCH,
        sweep_seconds: float = SWEEP_SECONDS,
        standby_seconds: float = STANDBY_SECONDS,
        look_seconds: float = LOOK_SECONDS,
        preferred: bool = True,
    ) -> None:
        self.db = db
        self.producer = producer
        self.codec = codec
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.standby_seconds = standby_seconds
        self.look_seconds = look_seconds
        self.preferred = preferred  # False in processes that consume: they lead only when no preferred relay waits
        self._connection: asyncpg.Connection | None = None
        self.leading = False
        self._candidate = False  # holds the shared candidate lock on this connection
        self._next_claim = 0.0  # a relay standing by asks for the lead again then
        self._next_look = 0.0  # a consuming leader looks for a preferred relay standing by then
        # The scan floor: every row with an id at or below it has been sent (module docstring).
        self.floor = 0
        self._ready = 0  # how far the floor may move once a pass has scanned from the old one
        self._sent: list[list[int]] = []  # [last id a pass sent, xmax of a later snapshot or 0]
        self._next_sweep = time.monotonic() + sweep_seconds

    async def close(self) -> None:
        """Close the relay connection, and with it hand the lead to another process."""
        self.leading = False
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)

    async def relay_once(self) -> int:
        """Publish the next pending outbox rows and delete those the broker acknowledged.

        Returns how many rows were relayed; 0 when nothing is pending or another process holds the
        relay. Raises :class:`RelayError` after removing the acknowledged prefix when a send failed.
        """
        now = time.monotonic()
        if not self.leading and now < self._next_claim:
            return 0
        if self._connection is None or self._connection.is_closed():
            self.leading = False
            self._connection = await self.db.connect_raw("nexora-relay")
            self._candidate = False
        try:
            if self.preferred and not self._candidate:
                await self._connection.fetchval("SELECT pg_advisory_lock_shared($1)", CANDIDATE_LOCK)
                self._candidate = True
            if not self.leading:
                return await self._claim(self._connection)
            if not self.preferred and now >= self._next_look:
                self._next_look = now + self.look_seconds
                if await self._hand_over(self._connection):
                    return 0
            return await self._pass(self._connection)
        except RelayError:
            raise
        except BaseException:
            # The connection may be mid-transaction or broken: the next pass starts on a new one.
            self.leading = False
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.terminate()
            raise

    async def _hand_over(self, connection: asyncpg.Connection) -> bool:
        """A consuming leader gives the lead up when a preferred relay is standing by."""
        if not await connection.fetchval(_CANDIDATE_WAITING_SQL, CANDIDATE_LOCK >> 32, CANDIDATE_LOCK & 0xFFFFFFFF):
            return False
        await connection.fetchval("SELECT pg_advisory_unlock($1)", RELAY_LOCK)
        self.leading = False
        # Stand back longer than the candidate's own interval, so that it is the one to claim.
        self._next_claim = time.monotonic() + max(self.look_seconds, 4 * self.standby_seconds)
        log.info("outbox relay handed to a process that does not consume")
        return True

    async def _claim(self, connection: asyncpg.Connection) -> int:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
            self._next_claim = time.monotonic() + self.standby_seconds
            return 0
        self._next_look = time.monotonic() + self.look_seconds
        # A new leader knows nothing of where the last one stopped: its first pass starts from the lowest id.
        self.leading, self.floor, self._ready, self._sent = True, 0, 0, []
        log.info("outbox relay leading in this process")
        return await self._pass(connection)

    async def _pass(self, connection: asyncpg.Connection) -> int:
        failed: str | None = None
        async with connection.transaction():
            xmin, xmax = await connection.fetchrow(_SNAPSHOT_SQL)
            self._note_snapshot(xmin, xmax)
            start = self.floor
            if time.monotonic() >= self._next_sweep:
                start, self._next_sweep = 0, time.monotonic() + self.sweep_seconds
            rows = await connection.fetch(_PENDING_SQL, self.batch_size, start)
            if not rows:
                self._scanned(_UNBOUNDED)
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
        # Committed: what this scan covered is sent. Past its last row only when it read everything.
        if acknowledged:
            last = rows[acknowledged - 1][0]
            self._scanned(_UNBOUNDED if failed is None and len(rows) < self.batch_size else last)
            self._sent.append([last, 0])
        if failed is not None:
            raise RelayError(f"the broker did not take an event ({failed}); {acknowledged} of {len(rows)} relayed")
        return acknowledged

    def _note_snapshot(self, xmin: int, xmax: int) -> None:
        """A snapshot taken after every earlier pass: date the passes not yet dated with its xmax,
        and make ready the floor of each pass whose writers have all finished by its xmin."""
        keep = []
        for sent in self._sent:
            if not sent[1]:
                sent[1] = xmax
            if sent[1] <= xmin:
                self._ready = max(self._ready, sent[0])
            else:
                keep.append(sent)
        self._sent = keep

    def _scanned(self, covered: int) -> None:
        """A committed pass scanned from the floor (or from 0) and sent every visible row up to
        ``covered``: the floor moves to what is ready, but not past what this scan saw."""
        self.floor = max(self.floor, min(self._ready, covered))

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
