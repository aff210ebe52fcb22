"""Analytics tables (schema ``analytics``), all tenant-owned and protected by row-level security.

``analytics.activity`` (the time series) has no mapped class, only a Core table for reads: it is
partitioned by day (or a TimescaleDB hypertable) and written with set-based SQL in
:mod:`nexora.analytics.service.store`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, LargeBinary, MetaData, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nexora.core.db import Base, TenantOwned
from nexora.core.ids import utcnow, uuid7

ACTIVITY = Table(
    "activity",
    MetaData(),
    Column("time", DateTime(timezone=True)),
    Column("tenant_id", Uuid),
    *(Column(name, Text) for name in ("source", "source_event_id", "identity", "action", "service", "resource")),
    Column("nhi_id", Uuid),
    *(Column(name, Text) for name in ("source_ip", "user_agent", "outcome", "error_code", "region", "country")),
    Column("asn", Integer),
    Column("batch_id", Uuid),
    Column("raw", LargeBinary),
    schema="analytics",
)
READ_COLUMNS = [column for column in ACTIVITY.columns if column.name not in ("tenant_id", "batch_id")]


class ActivityIdentity(TenantOwned, Base):
    """An actor seen in activity, attributed to an inventoried NHI or not (an unknown identity)."""

    __tablename__ = "identity"
    __table_args__ = {"schema": "analytics"}

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    kind: Mapped[str]
    source: Mapped[str]
    nhi_id: Mapped[uuid.UUID | None]
    account: Mapped[str | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(BigInteger, default=0)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(TenantOwned, Base):
    __tablename__ = "alert"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    detector: Mapped[str]
    discriminator: Mapped[str] = mapped_column(default="")
    identity: Mapped[str]
    identity_name: Mapped[str]
    nhi_id: Mapped[uuid.UUID | None]
    title: Mapped[str]
    severity: Mapped[str]
    status: Mapped[str] = mapped_column(default="open")
    tactic_id: Mapped[str]
    tactic: Mapped[str]
    technique_id: Mapped[str]
    technique: Mapped[str]
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    event_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    event_count: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status_changed_by: Mapped[str | None]
    status_changed_at: Mapped[datetime | None]
    note: Mapped[str | None]


class Suppression(TenantOwned, Base):
    """Analyst feedback: an alert marked a false positive silences its identity + detector (+ discriminator)."""

    __tablename__ = "suppression"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    detector: Mapped[str]
    identity: Mapped[str]
    discriminator: Mapped[str] = mapped_column(default="")
    alert_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None]
    created_by: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(TenantOwned, Base):
    """One ingest: a file or request, a bus event's records, or one poll of an S3 source."""

    __tablename__ = "batch"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    source: Mapped[str]
    origin: Mapped[str]
    status: Mapped[str] = mapped_column(default="running")
    accepted: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    attributed: Mapped[int] = mapped_column(default=0)
    alerts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    created_by: Mapped[str | None]


class RejectedRecord(TenantOwned, Base):
    __tablename__ = "reject"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    batch_id: Mapped[uuid.UUID]
    position: Mapped[str]
    reason: Mapped[str]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantSettings(TenantOwned, Base):
    __tablename__ = "tenant_settings"
    __table_args__ = {"schema": "analytics"}

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    detectors: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    model: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None]


class S3Source(TenantOwned, Base):
    """A CloudTrail bucket prefix polled for new log files (credentials envelope-encrypted)."""

    __tablename__ = "s3_source"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str]
    bucket: Mapped[str]
    prefix: Mapped[str] = mapped_column(default="")
    region: Mapped[str | None]
    endpoint_url: Mapped[str | None]
    credentials: Mapped[str | None]
    interval_seconds: Mapped[int] = mapped_column(default=300)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_key: Mapped[str | None]
    last_polled_at: Mapped[datetime | None]
    last_status: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(TenantOwned, Base):
    """Where new alerts are posted (through the outbound guard), signed with the webhook's secret."""

    __tablename__ = "webhook"
    __table_args__ = {"schema": "analytics"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str]
    url: Mapped[str]
    secret: Mapped[str | None]  # envelope-encrypted
    min_severity: Mapped[str] = mapped_column(default="high")
    enabled: Mapped[bool] = mapped_column(default=True)
    last_status: Mapped[str | None]
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
