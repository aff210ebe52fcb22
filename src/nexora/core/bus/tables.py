"""Tables of the PostgreSQL event bus (schema ``core``). Platform tables: not tenant-scoped.

``outbox`` holds every published event. Publishers insert rows with ``position`` NULL inside their
own business transaction. On the PostgreSQL bus a single sequencer (leader by advisory lock) stamps
committed rows with increasing positions, so consumers reading ``position > offset`` never skip a
row that commits late; on the Kafka bus the relay reads committed rows in id order and deletes
them once the broker has them (``relayed_at`` is only set by releases before 20261127_0000).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.types import Uuid

metadata = MetaData(schema="core")

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("position", BigInteger, nullable=True),
    Column("event_id", Uuid, nullable=False),
    Column("topic", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("tenant_id", Uuid, nullable=True),
    Column("target_group", Text, nullable=True),
    Column("envelope", JSON, nullable=False),  # written once, read whole: json keeps it as text
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("relayed_at", DateTime(timezone=True), nullable=True),
    # Rows are inserted unsequenced (and stay so on the Kafka bus): position indexes skip NULLs.
    Index("ux_outbox_position", "position", unique=True, postgresql_where=text("position IS NOT NULL")),
    Index("ix_outbox_topic_position", "topic", "position", postgresql_where=text("position IS NOT NULL")),
    Index("ix_outbox_unsequenced", "id", postgresql_where=text("position IS NULL")),
)

consumer_offset = Table(
    "consumer_offset",
    metadata,
    Column("group_name", Text, primary_key=True),
    Column("position", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

processed_event = Table(
    "processed_event",
    metadata,
    Column("group_name", Text, primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

delivery_failure = Table(
    "delivery_failure",
    metadata,
    Column("group_name", Text, primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

dead_letter = Table(
    "dead_letter",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("group_name", Text, nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("topic", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("tenant_id", Uuid, nullable=True),
    Column("envelope", JSONB, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("replayed_at", DateTime(timezone=True), nullable=True),
)
