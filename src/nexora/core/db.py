"""Database engine, the declarative base and tenant-scoped units of work.

The application connects as a role with no BYPASSRLS. Every unit of work is one transaction in
which the tenant is set with ``set_config('nexora.tenant_id', ..., true)`` (``SET LOCAL``), so
row-level-security policies hide every other tenant's rows; with no tenant set, tenant tables read
as empty.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import DateTime, MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from nexora.core.config import DatabaseSettings
from nexora.core.ids import utcnow

if TYPE_CHECKING:
    import asyncpg

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_SETTING = "nexora.tenant_id"


class Base(DeclarativeBase):
    """Declarative base of every domain's tables (each domain sets its own schema)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid(as_uuid=True)}


class TenantOwned:
    """Mixin for tenant-owned rows; the migration gives the table a row-level-security policy."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def to_url(raw: str, driver: str) -> str:
    """Normalise ``postgres://``/``postgresql://`` URLs to ``postgresql+<driver>://``."""
    url = make_url(raw.replace("postgres://", "postgresql://", 1) if raw.startswith("postgres://") else raw)
    return url.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def redacted_url(raw: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    return make_url(raw).render_as_string(hide_password=True)


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """Scope the current transaction to ``tenant_id`` (``None`` clears it: tenant tables read empty)."""
    value = "" if tenant_id is None else str(tenant_id)
    await session.execute(text("SELECT set_config(:name, :value, true)"), {"name": TENANT_SETTING, "value": value})


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    """The application's engine and session factory; created in the lifespan, disposed at shutdown."""

    def __init__(self, url: str, settings: DatabaseSettings | None = None, **engine_options: Any) -> None:
        settings = settings or DatabaseSettings()
        server_settings = {"application_name": "nexora"}
        if settings.statement_timeout_ms:
            server_settings["statement_timeout"] = str(settings.statement_timeout_ms)
        self.server_settings = server_settings
        options: dict[str, Any] = {
            "pool_size": settings.pool_size,
            "max_overflow": settings.max_overflow,
            "pool_pre_ping": True,
            # Bound values may be credentials or hashes: keep them out of exception messages and logs.
            "hide_parameters": True,
            "connect_args": {"server_settings": server_settings},
            # JSON and JSONB columns through orjson: several times faster than the standard library both
            # ways, which matters where a row's JSON is large (behaviour profiles, audit payloads).
            "json_serializer": _json_text,
            "json_deserializer": orjson.loads,
        }
        options.update(engine_options)
        self.url = url
        self.engine: AsyncEngine = create_async_engine(to_url(url, "asyncpg"), **options)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @asynccontextmanager
    async def unit_of_work(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        """One transaction: commits when the block exits normally, rolls back on error."""
        async with self.sessionmaker() as session, session.begin():
            if tenant_id is not None:
                await set_tenant(session, tenant_id)
            yield session

    async def connect_raw(self, application_name: str) -> asyncpg.Connection:
        """A dedicated driver connection outside the pool (LISTEN, or a loop of many small
        transactions where the ORM session's overhead per transaction would dominate)."""
        import asyncpg

        dsn = to_url(self.url, "asyncpg").replace("postgresql+asyncpg://", "postgresql://", 1)
        settings = {**self.server_settings, "application_name": application_name}
        return await asyncpg.connect(dsn, server_settings=settings)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
