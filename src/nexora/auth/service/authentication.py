"""Authentication of requests: a bearer credential (access token or API key) becomes a principal."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text, update

from nexora.auth.models import ApiKey
from nexora.auth.service.components import AuthComponents, hash_token
from nexora.core.db import Database, set_tenant
from nexora.core.errors import Unauthenticated
from nexora.core.ids import utcnow
from nexora.core.keyformat import API_KEY_PREFIX, is_well_formed_api_key
from nexora.core.principal import Principal

API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)
REVOKED_ACCESS = (
    "the access token was revoked (the account changed or signed out); refresh the session or sign in again"
)


async def authenticate(db: Database, components: AuthComponents, token: str) -> Principal:
    """Resolve a bearer credential (JWT access token or ``nxr_`` API key) to a principal.

    API keys with a wrong checksum are refused before any database access. An access token is refused
    once its user's token version has moved on (see :mod:`nexora.auth.versions`), and for a deleted or
    disabled user.
    """
    if token.startswith(API_KEY_PREFIX):
        if not is_well_formed_api_key(token):
            raise Unauthenticated("the API key is malformed (bad length, characters or checksum)")
        return await _authenticate_api_key(db, token)
    assert components.signer is not None, "load the signer at startup"
    if not components.signer.knows(token):
        # A replica may have rotated the key: reload the ring once before refusing.
        await components.load_signer(db)
    claims = components.signer.verify(token)
    try:
        principal = Principal(
            kind="user",
            id=uuid.UUID(claims["sub"]),
            user_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tid"]),
            email=str(claims.get("email", "")),
            roles=frozenset(claims.get("roles", [])),
            is_platform_admin=bool(claims.get("pa", False)),
        )
        # Tokens issued before versions existed carry none: they are version 0, which a bump ends too.
        version = claims.get("tv", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError("tv")
    except (KeyError, ValueError, TypeError):
        raise Unauthenticated("the access token is invalid; sign in again") from None
    if not await components.versions.is_current(db, principal.tenant_id, principal.user_id, version):
        raise Unauthenticated(REVOKED_ACCESS)
    return principal


async def _authenticate_api_key(db: Database, key: str) -> Principal:
    async with db.unit_of_work() as session:
        found = (await session.execute(text("SELECT * FROM auth.resolve_api_key(:h)"), {"h": hash_token(key)})).first()
        if found is None:
            raise Unauthenticated("the API key is not valid")
        if found.revoked_at is not None:
            raise Unauthenticated("the API key was revoked")
        now = utcnow()
        if found.expires_at is not None and found.expires_at <= now:
            raise Unauthenticated("the API key has expired")
        if not found.is_active:
            raise Unauthenticated("the API key's owner is disabled")
        if found.last_used_at is None or now - found.last_used_at > API_KEY_TOUCH_INTERVAL:
            await set_tenant(session, found.tenant_id)
            await session.execute(update(ApiKey).where(ApiKey.id == found.api_key_id).values(last_used_at=now))
    scopes = frozenset(found.scopes)
    creator_roles = frozenset(found.roles)
    # A key never holds more than its creator holds today.
    roles = {s for s in scopes if s != "read" and ("admin" in creator_roles or s in creator_roles)}
    return Principal(
        kind="api_key",
        id=found.api_key_id,
        user_id=found.user_id,
        tenant_id=found.tenant_id,
        email=found.email,
        roles=frozenset(roles or {"viewer"}),
        read_only=not roles,
        scopes=scopes,
    )
