"""Auth tables (schema ``auth``). ``tenant``, ``signing_key`` and ``server_key`` are platform tables;
the rest are tenant-owned and protected by row-level security."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from nexora.core.db import Base, TenantOwned
from nexora.core.ids import utcnow, uuid7

ROLES = ("admin", "analyst", "approver", "auditor", "viewer")


class Tenant(Base):
    __tablename__ = "tenant"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str]
    fingerprint_key: Mapped[str]  # envelope-encrypted per-tenant HMAC key for secret fingerprints
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(TenantOwned, Base):
    __tablename__ = "user"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    email: Mapped[str]
    password_hash: Mapped[str]
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Access tokens carry it (claim ``tv``); bumping it refuses every access token issued before.
    token_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]


class RefreshToken(TenantOwned, Base):
    __tablename__ = "refresh_token"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID]
    family_id: Mapped[uuid.UUID]
    token_hash: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None]


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_key"
    __table_args__ = {"schema": "auth"}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    name: Mapped[str]
    prefix: Mapped[str]
    key_hash: Mapped[str]
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ServerKey(Base):
    """A per-installation secret, envelope-encrypted (associated data: its name)."""

    __tablename__ = "server_key"
    __table_args__ = {"schema": "auth"}

    name: Mapped[str] = mapped_column(primary_key=True)
    wrapped_key: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SigningKey(Base):
    __tablename__ = "signing_key"
    __table_args__ = {"schema": "auth"}

    kid: Mapped[str] = mapped_column(primary_key=True)
    algorithm: Mapped[str]
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    private_key: Mapped[str]  # envelope-encrypted PEM
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
