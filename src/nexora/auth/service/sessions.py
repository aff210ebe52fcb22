"""Sign-in and sessions: login, refresh-token rotation with reuse detection, logout.

A session is a family of refresh tokens. Each token works once; using it yields its successor, whose
secret is derived from the parent's hash under an installation key (HMAC-SHA256), so the server can
give the same successor again without ever storing a token: a client whose answer was lost (a reload
cut the rotation off) and asks again within the grace gets exactly what it missed. Any other reuse is
taken as theft: the family is revoked, the audit log records it and a security alert is raised.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import RefreshToken, Tenant, User
from nexora.auth.passwords import Passwords
from nexora.auth.schemas import TokenPair
from nexora.auth.service.components import SOURCE, AuthComponents, Outcome, hash_token
from nexora.auth.service.users import bump_token_version
from nexora.core import context as request_context
from nexora.core.bus import publish
from nexora.core.db import set_tenant
from nexora.core.errors import Conflict, RateLimited, Unauthenticated
from nexora.core.ids import utcnow, uuid7

REFRESH_PATTERN = re.compile(r"rt1\.([0-9a-f]{32})\.[A-Za-z0-9_-]{43}")
BAD_CREDENTIALS = "the e-mail or password is wrong"
DISABLED = "this account is disabled; ask a tenant administrator"
SEVERAL_TENANTS = "this e-mail belongs to several tenants; choose one with 'tenant' (its name or id)"
# Accounts one e-mail may have across tenants that a sign-in without a tenant checks the password against.
MAX_LOGIN_ACCOUNTS = 10

Account = tuple[uuid.UUID | None, uuid.UUID | None]  # (tenant id, user id) an attempt concerned


# ---- login ---------------------------------------------------------------------------------------


async def login(
    session: AsyncSession,
    components: AuthComponents,
    *,
    email: str,
    password: str,
    address: str | None,
    tenant: str | None = None,
) -> Outcome:
    """Check credentials under the throttle; on success issue an access and a refresh token.

    One e-mail may have an account in several tenants. ``tenant`` (a name or an id) picks one; without
    it the password is checked against each account of the e-mail (at most ``MAX_LOGIN_ACCOUNTS``, all at
    once so the time taken does not tell how many) and the one account it opens is signed in. Only when
    it opens several is the caller asked to choose a tenant: someone without the password learns nothing.
    Unknown e-mails cost the same password-hash time as known ones, and get the same message.
    """
    email = email.strip().lower()
    rows = (
        await session.execute(
            text("SELECT tenant_id, user_id FROM auth.find_login(:email, :tenant, :limit)"),
            {"email": email, "tenant": tenant, "limit": MAX_LOGIN_ACCOUNTS},
        )
    ).all()
    accounts: list[Account] = [(row.tenant_id, row.user_id) for row in rows]
    try:
        await components.throttle.check(email, address)
    except RateLimited as error:
        await _login_failed(session, email, "rate_limited", accounts)
        return Outcome(error=error)
    users = await _load_users(session, accounts)
    opened = await _verify(components.passwords, users, password)
    if not opened:
        await components.throttle.record_failure(email, address)
        await _login_failed(session, email, "bad_credentials", accounts)
        return Outcome(error=Unauthenticated(BAD_CREDENTIALS))
    active = [user for user in opened if user.is_active]
    if not active:
        await _login_failed(session, email, "inactive", [(user.tenant_id, user.id) for user in opened])
        return Outcome(error=Unauthenticated(DISABLED))
    if len(active) > 1:
        await _login_failed(session, email, "tenant_required", [(user.tenant_id, user.id) for user in active])
        tenants = (
            await session.scalars(
                select(Tenant).where(Tenant.id.in_([user.tenant_id for user in active])).order_by(Tenant.name)
            )
        ).all()
        choices = [{"id": str(found.id), "name": found.name} for found in tenants]
        return Outcome(error=Conflict(SEVERAL_TENANTS, extra={"tenants": choices}))
    user = active[0]
    await components.throttle.reset(email, address)
    await set_tenant(session, user.tenant_id)
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
    refresh_token = f"rt1.{user.tenant_id.hex}.{secrets.token_urlsafe(32)}"
    await _store_refresh_token(
        session,
        user,
        refresh_token,
        family_id=uuid7(),
        expires_at=utcnow() + timedelta(seconds=components.settings.refresh_token_ttl_seconds),
    )
    return Outcome(tokens=_pair(components, user, refresh_token))


async def _load_users(session: AsyncSession, accounts: Sequence[Account]) -> list[User]:
    users = []
    for tenant_id, user_id in accounts:
        await set_tenant(session, tenant_id)
        user = await session.get(User, user_id)
        if user is not None:
            users.append(user)
    return users


async def _verify(passwords: Passwords, users: list[User], password: str) -> list[User]:
    """The users whose password is ``password``. The hashes are checked in parallel threads, so checking
    several accounts takes about as long as checking one, and an unknown e-mail costs one check too."""
    if not users:
        await asyncio.to_thread(passwords.verify, None, password)
        return []
    results = await asyncio.gather(*(asyncio.to_thread(passwords.verify, u.password_hash, password) for u in users))
    return [user for user, matched in zip(users, results, strict=True) if matched]


async def _login_failed(session: AsyncSession, email: str, reason: str, accounts: Sequence[Account]) -> None:
    """One ``auth.login_failed`` in the log of each tenant the attempt concerned (the platform's if none)."""
    for tenant_id, user_id in accounts or [(None, None)]:
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


# ---- tokens --------------------------------------------------------------------------------------


def _access_token(components: AuthComponents, user: User) -> str:
    assert components.signer is not None, "load the signer at startup"
    return components.signer.issue(
        {
            "sub": str(user.id),
            "tid": str(user.tenant_id),
            "email": user.email,
            "roles": sorted(user.roles),
            "pa": user.is_platform_admin,
            "tv": user.token_version,
        },
        components.settings.access_token_ttl_seconds,
    )


def _pair(components: AuthComponents, user: User, refresh_token: str) -> TokenPair:
    return TokenPair(
        access_token=_access_token(components, user),
        refresh_token=refresh_token,
        expires_in=components.settings.access_token_ttl_seconds,
    )


async def _store_refresh_token(
    session: AsyncSession, user: User, token: str, *, family_id: uuid.UUID, expires_at: datetime
) -> None:
    session.add(
        RefreshToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
    )
    await session.flush()


def _successor(components: AuthComponents, parent: RefreshToken) -> str:
    """The refresh token that replaces ``parent``: the same every time it is asked for, known only to the
    server (an HMAC of the parent's hash under the installation's refresh-successor key)."""
    assert components.refresh_key is not None, "load the keys at startup"
    digest = hmac.new(
        components.refresh_key, b"refresh-successor\x00" + parent.token_hash.encode(), hashlib.sha256
    ).digest()
    return f"rt1.{parent.tenant_id.hex}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


# ---- refresh -------------------------------------------------------------------------------------


async def _find_refresh_token(session: AsyncSession, token: str) -> RefreshToken | None:
    match = REFRESH_PATTERN.fullmatch(token)
    if match is None:
        return None
    await set_tenant(session, uuid.UUID(hex=match.group(1)))
    return (
        await session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)).with_for_update()
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


async def _active_user(session: AsyncSession, stored: RefreshToken) -> User | None:
    user = await session.get(User, stored.user_id)
    return user if user is not None and user.is_active else None


async def refresh(session: AsyncSession, components: AuthComponents, *, token: str) -> Outcome:
    """Rotate a refresh token: a new access token and the token's successor.

    Presenting an already-rotated token again within the grace, while its successor is unused, is the
    client asking again for an answer it lost: it gets the same successor and a new access token. Any
    other reuse revokes the whole family and raises a security alert (see :func:`_replayed`).
    """
    stored = await _find_refresh_token(session, token)
    if stored is None:
        return Outcome(error=Unauthenticated("the refresh token is not valid; sign in again"))
    if stored.revoked_at is not None:
        return Outcome(error=Unauthenticated("the refresh token was revoked; sign in again"))
    if stored.used_at is not None:
        return await _replayed(session, components, stored)
    if stored.expires_at <= utcnow():
        return Outcome(error=Unauthenticated("the session expired; sign in again"))
    user = await _active_user(session, stored)
    if user is None:
        await _revoke_family(session, stored, "user_inactive")
        return Outcome(error=Unauthenticated(DISABLED))
    stored.used_at = utcnow()
    successor = _successor(components, stored)
    await _store_refresh_token(session, user, successor, family_id=stored.family_id, expires_at=stored.expires_at)
    return Outcome(tokens=_pair(components, user, successor))


async def _replayed(session: AsyncSession, components: AuthComponents, stored: RefreshToken) -> Outcome:
    """Answer a token that was already rotated: the same successor when the replay is a lost answer, else
    revoke the family as a reuse.

    A reload or a closed tab cuts a rotation off after the server made the successor; the page then holds
    only the old token. That is told from theft by time and use: within the grace after the rotation,
    and while the successor was never used (a thief replaying an old token comes after the client moved
    on). The grace runs from the first rotation, so replaying does not extend it.
    """
    assert stored.used_at is not None
    grace = components.settings.refresh_reuse_grace_seconds
    successor_token = _successor(components, stored)
    successor = (
        await session.scalars(
            select(RefreshToken)
            .where(RefreshToken.tenant_id == stored.tenant_id, RefreshToken.token_hash == hash_token(successor_token))
            .with_for_update()
        )
    ).first()
    if grace == 0 or utcnow() - stored.used_at > timedelta(seconds=grace):
        reuse = "refresh_reuse_after_grace"
    elif successor is None:
        reuse = "refresh_reuse_unknown_successor"  # rotated by a release that made random successors
    elif successor.used_at is not None or successor.revoked_at is not None:
        reuse = "refresh_reuse_after_successor_used"
    else:
        reuse = None
    if reuse is not None:
        await _revoke_family(session, stored, "reuse")
        await _publish_family_event(session, "auth.refresh_reuse_detected", stored, actor="system:auth")
        await _publish_security_alert(session, stored, reason=reuse, severity="high")
        return Outcome(
            error=Unauthenticated("the refresh token was already used; this session was revoked, sign in again")
        )
    if stored.expires_at <= utcnow():
        return Outcome(error=Unauthenticated("the session expired; sign in again"))
    user = await _active_user(session, stored)
    if user is None:
        await _revoke_family(session, stored, "user_inactive")
        return Outcome(error=Unauthenticated(DISABLED))
    await _publish_family_event(session, "auth.refresh_replayed", stored, actor=f"user:{stored.user_id}")
    return Outcome(tokens=_pair(components, user, successor_token))


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


async def _publish_security_alert(session: AsyncSession, stored: RefreshToken, *, reason: str, severity: str) -> None:
    await publish(
        session,
        "auth.security_alert",
        {
            "severity": severity,
            "reason": reason,
            "user_id": str(stored.user_id),
            "family_id": str(stored.family_id),
            "source_address": request_context.current().source_address,
        },
        source=SOURCE,
        subject=str(stored.user_id),
        tenant_id=stored.tenant_id,
        actor="system:auth",
    )


# ---- logout --------------------------------------------------------------------------------------


async def logout(session: AsyncSession, *, token: str) -> None:
    """End the session (refresh-token family) of ``token`` and every access token of its user.

    Access tokens are not tied to a session, so all of the user's end: other sessions renew theirs with
    their own refresh token (a console tab sharing the signed-out session signs in again). Unknown and
    already revoked tokens are ignored.
    """
    stored = await _find_refresh_token(session, token)
    if stored is None or stored.revoked_at is not None:
        return
    await _revoke_family(session, stored, "logout")
    await bump_token_version(session, stored.tenant_id, stored.user_id, "logout")
    await publish(
        session,
        "auth.logout",
        {"user_id": str(stored.user_id)},
        source=SOURCE,
        subject=str(stored.user_id),
        tenant_id=stored.tenant_id,
        actor=f"user:{stored.user_id}",
    )
