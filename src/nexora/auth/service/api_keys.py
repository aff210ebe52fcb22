"""API keys: created by signed-in users, stored hashed, scoped, expiring, revocable."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import ApiKey, User
from nexora.auth.service.components import SOURCE, hash_token
from nexora.core.bus import publish
from nexora.core.errors import NotFound, PermissionDenied
from nexora.core.ids import utcnow
from nexora.core.keyformat import generate_api_key
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.core.principal import Principal


async def create_api_key(
    session: AsyncSession, actor: Principal, *, name: str, scopes: list[str], expires_in_days: int | None
) -> tuple[ApiKey, str]:
    """Create an API key for the signed-in user. Returns the row and the key (shown once; only its
    hash is stored). Scopes are ``read`` or roles the user holds."""
    if actor.kind != "user":
        raise PermissionDenied("API keys are created by signed-in users, not by other API keys")
    granted = set(scopes)
    beyond = sorted(s for s in granted - {"read"} if not actor.has_any_role(s))
    if beyond:
        raise PermissionDenied(f"you cannot grant roles you do not hold: {beyond}")
    key = generate_api_key()
    api_key = ApiKey(
        tenant_id=actor.tenant_id,
        name=name,
        prefix=key[:12],
        key_hash=hash_token(key),
        scopes=sorted(granted),
        created_by=actor.user_id,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(api_key)
    await session.flush()
    await publish(
        session,
        "auth.api_key_created",
        {
            "api_key_id": str(api_key.id),
            "name": name,
            "prefix": api_key.prefix,
            "scopes": api_key.scopes,
            "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        },
        source=SOURCE,
        subject=str(api_key.id),
        tenant_id=actor.tenant_id,
    )
    return api_key, key


async def list_api_keys(
    session: AsyncSession, actor: Principal, *, limit: int, cursor: str | None
) -> tuple[list[tuple[ApiKey, str | None]], str | None]:
    """Keys, newest first, with their creator's e-mail. Admins see every key of the tenant; other users
    see their own."""
    query = (
        select(ApiKey, User.email)
        .outerjoin(User, User.id == ApiKey.created_by)
        .where(ApiKey.tenant_id == actor.tenant_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        .limit(limit + 1)
    )
    if not actor.has_any_role("admin"):
        query = query.where(ApiKey.created_by == actor.user_id)
    after = decode_cursor(cursor)
    if after:
        query = query.where(
            tuple_(ApiKey.created_at, ApiKey.id) < tuple_(datetime.fromisoformat(after["t"]), uuid.UUID(after["id"]))
        )
    rows: list[tuple[ApiKey, str | None]] = [(row[0], row[1]) for row in (await session.execute(query)).all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = encode_cursor({"t": last.created_at.isoformat(), "id": str(last.id)})
    return rows, next_cursor


async def revoke_api_key(session: AsyncSession, actor: Principal, api_key_id: uuid.UUID) -> None:
    """Revoke a key (admins: any key of the tenant; others: their own). Revoking twice is a no-op."""
    api_key = await session.get(ApiKey, api_key_id)
    if api_key is None or api_key.tenant_id != actor.tenant_id:
        raise NotFound("API key not found")
    if api_key.created_by != actor.user_id and not actor.has_any_role("admin"):
        raise NotFound("API key not found")
    if api_key.revoked_at is not None:
        return
    api_key.revoked_at = utcnow()
    await session.flush()
    await publish(
        session,
        "auth.api_key_revoked",
        {"api_key_id": str(api_key.id), "name": api_key.name, "prefix": api_key.prefix},
        source=SOURCE,
        subject=str(api_key.id),
        tenant_id=actor.tenant_id,
    )
