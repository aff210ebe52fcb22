"""Discovery tables (schema ``discovery``), all tenant-owned and protected by row-level security."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nexora.core.db import Base, TenantOwned
from nexora.core.ids import utcnow, uuid7


class Connector(TenantOwned, Base):
    __tablename__ = "connector"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str]
    kind: Mapped[str]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    credentials: Mapped[str | None]  # envelope-encrypted JSON, associated data = connector id
    interval_seconds: Mapped[int | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    baseline_run_id: Mapped[uuid.UUID | None]
    last_run_at: Mapped[datetime | None]
    last_status: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def has_credentials(self) -> bool:
        return self.credentials is not None


class Run(TenantOwned, Base):
    __tablename__ = "run"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    connector_id: Mapped[uuid.UUID]
    trigger: Mapped[str]
    status: Mapped[str]
    stage: Mapped[str] = mapped_column(default="queued")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    is_baseline: Mapped[bool] = mapped_column(default=False)


class Nhi(TenantOwned, Base):
    __tablename__ = "nhi"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    connector_id: Mapped[uuid.UUID]
    provider: Mapped[str]
    kind: Mapped[str]
    account: Mapped[str]
    external_id: Mapped[str]
    name: Mapped[str]
    environment: Mapped[str]
    environment_inferred: Mapped[str]
    environment_override: Mapped[str | None]
    owner: Mapped[str | None]
    owner_source: Mapped[str | None]
    owner_inferred: Mapped[str | None]
    owner_override: Mapped[str | None]
    created_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_rotated_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    privilege_level: Mapped[str]
    permissions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str]
    fingerprint: Mapped[str | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str]
    risk_score: Mapped[int] = mapped_column(SmallInteger, default=0)
    risk_factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    open_findings: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_run_id: Mapped[uuid.UUID | None]

    @property
    def environment_overridden(self) -> bool:
        return self.environment_override is not None


class Edge(TenantOwned, Base):
    __tablename__ = "edge"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connector_id: Mapped[uuid.UUID]
    source_id: Mapped[uuid.UUID]
    target_id: Mapped[uuid.UUID]
    kind: Mapped[str]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_run_id: Mapped[uuid.UUID | None]


class Finding(TenantOwned, Base):
    __tablename__ = "finding"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    nhi_id: Mapped[uuid.UUID | None]
    connector_id: Mapped[uuid.UUID | None]
    check_id: Mapped[str]
    category: Mapped[str]
    severity: Mapped[str]
    title: Mapped[str]
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    recommendation: Mapped[str]
    status: Mapped[str] = mapped_column(default="open")
    nhi_name: Mapped[str]
    nhi_kind: Mapped[str]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class Change(TenantOwned, Base):
    __tablename__ = "change"
    __table_args__ = {"schema": "discovery"}

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    connector_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    nhi_id: Mapped[uuid.UUID | None]
    external_id: Mapped[str]
    kind: Mapped[str]
    name: Mapped[str]
    change: Mapped[str]
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    at: Mapped[datetime] = mapped_column(default=utcnow)
