"""Tenants, their per-tenant keys, and the first tenant of a new installation."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import Tenant, User
from nexora.auth.service.components import SOURCE, AuthComponents
from nexora.auth.service.users import create_user
from nexora.core.bus import publish
from nexora.core.crypto import EnvelopeCipher
from nexora.core.db import set_tenant
from nexora.core.errors import Conflict, NotFound
from nexora.core.ids import uuid7


@dataclass(frozen=True)
class BootstrapResult:
    tenant_id: uuid.UUID
    email: str
    generated_password: str | None


async def create_tenant(
    session: AsyncSession,
    components: AuthComponents,
    *,
    name: str,
    admin_email: str,
    admin_password: str,
    platform_admin: bool = False,
) -> tuple[Tenant, User]:
    """Create a tenant and its first admin. Raises :class:`Conflict` if the name is taken."""
    tenant_id = uuid7()
    fingerprint_key = secrets.token_bytes(32)
    tenant = Tenant(
        id=tenant_id,
        name=name,
        fingerprint_key=components.cipher.encrypt(fingerprint_key, tenant_id.bytes).decode(),
    )
    session.add(tenant)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a tenant named '{name}' already exists") from None
    await set_tenant(session, tenant_id)
    await publish(
        session,
        "auth.tenant_created",
        {"tenant_id": str(tenant_id), "name": name},
        source=SOURCE,
        subject=str(tenant_id),
        tenant_id=tenant_id,
    )
    user = await create_user(
        session,
        components,
        tenant_id=tenant_id,
        email=admin_email,
        password=admin_password,
        roles=["admin"],
        platform_admin=platform_admin,
    )
    return tenant, user


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    return list((await session.scalars(select(Tenant).order_by(Tenant.created_at))).all())


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def update_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, *, name: str | None, settings: dict[str, Any] | None
) -> Tenant:
    tenant = await get_tenant(session, tenant_id)
    if name is not None:
        tenant.name = name
    if settings is not None:
        # A null value removes the setting.
        merged = {**tenant.settings, **settings}
        tenant.settings = {key: value for key, value in merged.items() if value is not None}
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a tenant named '{name}' already exists") from None
    return tenant


async def get_fingerprint_key(session: AsyncSession, cipher: EnvelopeCipher, tenant_id: uuid.UUID) -> bytes:
    """The tenant's HMAC key for secret fingerprints (equal secrets, equal fingerprints, per tenant)."""
    tenant = await get_tenant(session, tenant_id)
    return cipher.decrypt(tenant.fingerprint_key.encode(), tenant_id.bytes)


async def bootstrap(
    session: AsyncSession,
    components: AuthComponents,
    *,
    tenant_name: str,
    admin_email: str,
    admin_password: str | None,
) -> BootstrapResult | None:
    """On an installation with no users, create the first tenant and platform admin.

    Returns what was created (with the generated password, to be shown once) or ``None``.
    """
    if (await session.scalar(text("SELECT auth.count_users()"))) != 0:
        return None
    generated = None if admin_password else secrets.token_urlsafe(18)
    password = admin_password or generated
    assert password is not None
    try:
        async with session.begin_nested():
            tenant, _ = await create_tenant(
                session,
                components,
                name=tenant_name,
                admin_email=admin_email,
                admin_password=password,
                platform_admin=True,
            )
    except Conflict:
        return None  # another process bootstrapped first
    return BootstrapResult(tenant_id=tenant.id, email=admin_email, generated_password=generated)
