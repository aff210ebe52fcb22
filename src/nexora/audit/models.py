"""Audit tables (schema ``audit``), all tenant-owned and append-only.

``tenant_id`` names the log: a tenant's id, or :data:`~nexora.audit.encoding.PLATFORM_LOG` for
events that belong to no tenant.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from nexora.core.db import Base


class Entry(Base):
    """One leaf of a log: what happened, who did it, to what, with what outcome."""

    __tablename__ = "entry"
    __table_args__ = {"schema": "audit"}

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    target: Mapped[str | None]
    outcome: Mapped[str]
    source: Mapped[str]
    source_address: Mapped[str | None]
    request_id: Mapped[str | None]
    payload: Mapped[str]  # canonical JSON text, exactly as hashed
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class Node(Base):
    """A perfect subtree of level >= 1, stored when its last leaf is appended."""

    __tablename__ = "node"
    __table_args__ = {"schema": "audit"}

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class SigningKey(Base):
    """An Ed25519 key that signs a log's tree heads; the newest one is current."""

    __tablename__ = "signing_key"
    __table_args__ = {"schema": "audit"}

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(primary_key=True)
    algorithm: Mapped[str]
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[str]  # envelope-encrypted raw private key
    created_at: Mapped[datetime]


class TreeHead(Base):
    """A signed statement of a log's size and root hash at a moment."""

    __tablename__ = "tree_head"
    __table_args__ = {"schema": "audit"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID]
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime]
    key_id: Mapped[str]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
