"""Auth use cases: tenants, sign-in, sessions, users and API keys.

Services flush and never commit: the caller's unit of work commits. Business failures that must
still leave a trace (a failed sign-in, a reused refresh token) are returned as outcomes instead of
raised, so the unit of work commits the trace before the error is sent.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import ROLES, ApiKey, RefreshToken, Tenant, User
from nexora.auth.passwords import Passwords
from nexora.auth.schemas import TokenPair
from nexora.auth.tokens import TokenSigner, load_signer
from nexora.core.bus import publish
from nexora.core.config import AuthSettings
from nexora.core.crypto import EnvelopeCipher, sha256_hex
from nexora.core.db import Database, set_tenant
from nexora.core.errors import (
    Conflict,
    NexoraError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from nexora.core.ids import utcnow, uuid7
from nexora.core.keyformat import API_KEY_PREFIX, generate_api_key, is_well_formed_api_key
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.core.ratelimit import LoginThrottle
from nexora.core.security import Principal

SOURCE = "nexora.auth"
REFRESH_PATTERN = re.compile(r"rt1\.([0-9a-f]{32})\.[A-Za-z0-9_-]{43}")
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)
BAD_CREDENTIALS = "the e-mail or password is wrong"


@dataclass
class AuthComponents:
    """Long-lived collaborators of the auth service, built once per process."""

    settings: AuthSettings
    cipher: EnvelopeCipher
    passwords: Passwords
    throttle: LoginThrottle
    signer: TokenSigner | None = None

    async def load_signer(self, db: Database) -> TokenSigner:
        async with db.unit_of_work() as session:
            self.signer = await load_signer(session, self.cipher, self.settings.issuer)
        return self.signer


@dataclass(frozen=True)
class Outcome:
    """Tokens on success, or the error to send once the unit of work has committed."""

    tokens: TokenPair | None = None
    error: NexoraError | None = None


@dataclass(frozen=True)
class BootstrapResult:
    tenant_id: uuid.UUID
    email: str
    generated_password: str | None


# ---- tenants -------------------------------------------------------------------------------------


async def create_tenant(
    session: AsyncSession,
    components: AuthComponents,
    *,
    name: str,
    admin_email: str,
    admin_password: str,
    platform_admin: bool = False,
) -> tuple[Tenant, User]:
    """Create a tenant and its first admin. Raises :class:`Conflict` if the name or e-mail is taken."""
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


# ---- sign-in and sessions ------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return sha256_hex(token)


async def _issue_tokens(
    session: AsyncSession,
    components: AuthComponents,
    user: User,
    *,
    family_id: uuid.UUID | None = None,
    family_expires_at: datetime | None = None,
) -> TokenPair:
    assert components.signer is not None, "load the signer at startup"
    settings = components.settings
    refresh_token = f"rt1.{user.tenant_id.hex}.{secrets.token_urlsafe(32)}"
    session.add(
        RefreshToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            family_id=family_id or uuid7(),
            token_hash=_hash_token(refresh_token),
            expires_at=family_expires_at or utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    await session.flush()
    access_token = components.signer.issue(
        {
            "sub": str(user.id),
            "tid": str(user.tenant_id),
            "email": user.email,
            "roles": sorted(user.roles),
            "pa": user.is_platform_admin,
        },
        settings.access_token_ttl_seconds,
    )
    return TokenPair(
        access_token=access_token, refresh_token=refresh_token, expires_in=settings.access_token_ttl_seconds
    )


async def _login_failed(
    session: AsyncSession, email: str, reason: str, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None
) -> None:
    await set_tenant(session, tenant_id)
    await publish(
        session,
        "auth.login_failed",
        {"email": email, "reason": reason, "user_id": str(user_id) if user_id else None},
        source=SOURCE,
        subject=str(user_id) if user_id else None,
        tenant_id=tenant_id,
        actor=f"user:{user_id}" if user_id else "anonymous",
    )


async def login(
    session: AsyncSession, components: AuthComponents, *, email: str, password: str, address: str | None
) -> Outcome:
    """Check credentials under the throttle; on success issue an access and a refresh token.

    Unknown e-mails cost the same password-hash time as known ones, and get the same message.
    """
    found = (await session.execute(text("SELECT * FROM auth.find_login(:e)"), {"e": email})).first()
    tenant_id, user_id = (found.tenant_id, found.user_id) if found else (None, None)
    try:
        await components.throttle.check(email, address)
    except RateLimited as error:
        await _login_failed(session, email, "rate_limited", tenant_id, user_id)
        return Outcome(error=error)
    user: User | None = None
    if tenant_id is not None:
        await set_tenant(session, tenant_id)
        user = await session.get(User, user_id)
    if not components.passwords.verify(user.password_hash if user else None, password) or user is None:
        await components.throttle.record_failure(email)
        await _login_failed(session, email, "bad_credentials", tenant_id, user_id)
        return Outcome(error=Unauthenticated(BAD_CREDENTIALS))
    if not user.is_active:
        await _login_failed(session, email, "inactive", tenant_id, user_id)
        return Outcome(error=Unauthenticated("this account is disabled; ask a tenant administrator"))
    await components.throttle.reset(email)
    user.last_login_at = utcnow()
    if components.passwords.needs_rehash(user.password_hash):
        user.password_hash = components.passwords.hash(password)
    await publish(
        session,
        "auth.login_succeeded",
        {"user_id": str(user.id), "email": user.email, "method": "password"},
        source=SOURCE,
        subject=str(user.id),
        tenant_id=user.tenant_id,
        actor=f"user:{user.id}",
    )
    return Outcome(tokens=await _issue_tokens(session, components, user))


async def _find_refresh_token(session: AsyncSession, token: str) -> RefreshToken | None:
    match = REFRESH_PATTERN.fullmatch(token)
    if match is None:
        return None
    await set_tenant(session, uuid.UUID(hex=match.group(1)))
    return (
        await session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == _hash_token(token)).with_for_update()
        )
    ).first()


async def _revoke_family(session: AsyncSession, stored: RefreshToken, reason: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.tenant_id == stored.tenant_id,
            RefreshToken.family_id == stored.family_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def refresh(session: AsyncSession, components: AuthComponents, *, token: str) -> Outcome:
    """Rotate a refresh token. Presenting an already-rotated token revokes its whole family, unless it is
    the replay of a rotation whose answer was lost (see :func:`_unreceived_successors`)."""
    stored = await _find_refresh_token(session, token)
    if stored is None:
        return Outcome(error=Unauthenticated("the refresh token is not valid; sign in again"))
    if stored.revoked_at is not None:
        return Outcome(error=Unauthenticated("the refresh token was revoked; sign in again"))
    replayed = stored.used_at is not None
    unreceived = await _unreceived_successors(session, components, stored) if replayed else []
    if unreceived is None:
        await _revoke_family(session, stored, "reuse")
        await _publish_family_event(session, "auth.refresh_reuse_detected", stored, actor="system:auth")
        return Outcome(
            error=Unauthenticated("the refresh token was already used; this session was revoked, sign in again")
        )
    if stored.expires_at <= utcnow():
        return Outcome(error=Unauthenticated("the session expired; sign in again"))
    user = await session.get(User, stored.user_id)
    if user is None or not user.is_active:
        await _revoke_family(session, stored, "user_inactive")
        return Outcome(error=Unauthenticated("this account is disabled; ask a tenant administrator"))
    if replayed:
        # The successor never reached the client: revoke it, so the family keeps one live token.
        for successor in unreceived:
            successor.revoked_at, successor.revoked_reason = utcnow(), "replaced"
        await _publish_family_event(session, "auth.refresh_replayed", stored, actor=f"user:{stored.user_id}")
    else:
        stored.used_at = utcnow()  # a replay keeps the first use: the grace runs from the rotation
    return Outcome(
        tokens=await _issue_tokens(
            session, components, user, family_id=stored.family_id, family_expires_at=stored.expires_at
        )
    )


async def _publish_family_event(session: AsyncSession, event_type: str, stored: RefreshToken, *, actor: str) -> None:
    await publish(
        session,
        event_type,
        {"user_id": str(stored.user_id), "family_id": str(stored.family_id)},
        source=SOURCE,
        subject=str(stored.user_id),
        tenant_id=stored.tenant_id,
        actor=actor,
    )


async def _unreceived_successors(
    session: AsyncSession, components: AuthComponents, stored: RefreshToken
) -> list[RefreshToken] | None:
    """When the replay of the rotated ``stored`` is its client asking again because the answer never came,
    the live tokens that answer made (to be replaced); None when the replay is a reuse.

    A reload or a closed tab cuts a rotation off after the server made the new pair; the page then holds only
    the old token. That is told from theft by time and use: within the grace after the rotation, and while
    nothing newer in the family was ever used (a thief replaying an old token comes after the client moved on).
    """
    grace = components.settings.refresh_reuse_grace_seconds
    assert stored.used_at is not None
    if grace == 0 or utcnow() - stored.used_at > timedelta(seconds=grace):
        return None
    newer = (
        await session.scalars(
            select(RefreshToken)
            .where(
                RefreshToken.tenant_id == stored.tenant_id,
                RefreshToken.family_id == stored.family_id,
                RefreshToken.created_at > stored.created_at,
            )
            .with_for_update()
        )
    ).all()
    live = [token for token in newer if token.revoked_at is None]
    return live if live and all(token.used_at is None for token in newer) else None


async def logout(session: AsyncSession, *, token: str) -> None:
    """Revoke the session (refresh-token family) of ``token``. Unknown tokens are ignored."""
    stored = await _find_refresh_token(session, token)
    if stored is None or stored.revoked_at is not None:
        return
    await _revoke_family(session, stored, "logout")
    await publish(
        session,
        "auth.logout",
        {"user_id": str(stored.user_id)},
        source=SOURCE,
        subject=str(stored.user_id),
        tenant_id=stored.tenant_id,
        actor=f"user:{stored.user_id}",
    )


# ---- authentication of requests ------------------------------------------------------------------


async def authenticate(db: Database, components: AuthComponents, token: str) -> Principal:
    """Resolve a bearer credential (JWT access token or ``nxr_`` API key) to a principal.

    API keys with a wrong checksum are refused before any database access.
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
        return Principal(
            kind="user",
            id=uuid.UUID(claims["sub"]),
            user_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tid"]),
            email=str(claims.get("email", "")),
            roles=frozenset(claims.get("roles", [])),
            is_platform_admin=bool(claims.get("pa", False)),
        )
    except (KeyError, ValueError, TypeError):
        raise Unauthenticated("the access token is invalid; sign in again") from None


async def _authenticate_api_key(db: Database, key: str) -> Principal:
    async with db.unit_of_work() as session:
        found = (await session.execute(text("SELECT * FROM auth.resolve_api_key(:h)"), {"h": _hash_token(key)})).first()
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


# ---- users ---------------------------------------------------------------------------------------


def _check_password(components: AuthComponents, password: str) -> None:
    minimum = components.settings.password_min_length
    if len(password) < minimum:
        raise ValidationFailed(f"the password must be at least {minimum} characters long")


def _check_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValidationFailed(f"unknown roles {unknown}; choose from {list(ROLES)}")
    return sorted(set(roles))


async def create_user(
    session: AsyncSession,
    components: AuthComponents,
    *,
    tenant_id: uuid.UUID,
    email: str,
    password: str,
    roles: list[str],
    platform_admin: bool = False,
) -> User:
    """Create a user in ``tenant_id``. E-mails are unique across the installation."""
    _check_password(components, password)
    user = User(
        tenant_id=tenant_id,
        email=email.strip().lower(),
        password_hash=components.passwords.hash(password),
        roles=_check_roles(roles),
        is_platform_admin=platform_admin,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("a user with this e-mail already exists") from None
    await publish(
        session,
        "auth.user_created",
        {"user_id": str(user.id), "email": user.email, "roles": user.roles},
        source=SOURCE,
        subject=str(user.id),
        tenant_id=tenant_id,
    )
    return user


async def list_users(
    session: AsyncSession, tenant_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    query = select(User).where(User.tenant_id == tenant_id).order_by(User.created_at, User.id).limit(limit + 1)
    after = decode_cursor(cursor)
    if after:
        query = query.where(
            tuple_(User.created_at, User.id) > tuple_(datetime.fromisoformat(after["t"]), uuid.UUID(after["id"]))
        )
    users = list((await session.scalars(query)).all())
    next_cursor = None
    if len(users) > limit:
        users = users[:limit]
        next_cursor = encode_cursor({"t": users[-1].created_at.isoformat(), "id": str(users[-1].id)})
    return users, next_cursor


async def get_user(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound("user not found")
    return user


async def _admin_count(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(text("count(*)"))
        .select_from(User)
        .where(User.tenant_id == tenant_id, User.is_active.is_(True), User.roles.contains(["admin"]))
    )
    return int(count or 0)


async def update_user(
    session: AsyncSession,
    components: AuthComponents,
    actor: Principal,
    user_id: uuid.UUID,
    *,
    roles: list[str] | None,
    is_active: bool | None,
    password: str | None,
) -> User:
    """Change roles, status or password. A tenant always keeps at least one active admin."""
    user = await get_user(session, actor.tenant_id, user_id)
    changed: list[str] = []
    was_admin = "admin" in user.roles and user.is_active
    if roles is not None and sorted(set(roles)) != sorted(user.roles):
        user.roles = _check_roles(roles)
        changed.append("roles")
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        changed.append("is_active")
    if password is not None:
        _check_password(components, password)
        user.password_hash = components.passwords.hash(password)
        changed.append("password")
    still_admin = "admin" in user.roles and user.is_active
    if was_admin and not still_admin and await _admin_count(session, actor.tenant_id) <= 1:
        raise Conflict("this is the tenant's last active admin; make another admin first")
    if ("is_active" in changed and not user.is_active) or "password" in changed:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="user_updated")
        )
    await session.flush()
    if changed:
        await publish(
            session,
            "auth.user_updated",
            {"user_id": str(user.id), "changed": changed, "roles": user.roles, "is_active": user.is_active},
            source=SOURCE,
            subject=str(user.id),
            tenant_id=actor.tenant_id,
        )
    return user


async def delete_user(session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> None:
    """Delete a user with their sessions and API keys. Users cannot delete themselves."""
    user = await get_user(session, actor.tenant_id, user_id)
    if user.id == actor.user_id:
        raise Conflict("you cannot delete your own account")
    if "admin" in user.roles and user.is_active and await _admin_count(session, actor.tenant_id) <= 1:
        raise Conflict("this is the tenant's last active admin; make another admin first")
    await session.delete(user)
    await session.flush()
    await publish(
        session,
        "auth.user_deleted",
        {"user_id": str(user.id), "email": user.email},
        source=SOURCE,
        subject=str(user.id),
        tenant_id=actor.tenant_id,
    )


# ---- API keys ------------------------------------------------------------------------------------


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
        key_hash=_hash_token(key),
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
