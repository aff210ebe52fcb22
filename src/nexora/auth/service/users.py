"""Users of a tenant, and the token version that ends their access tokens when their access changes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import ROLES, RefreshToken, User
from nexora.auth.service.components import SOURCE, TOKEN_VERSIONS, AuthComponents
from nexora.auth.versions import TokenVersions
from nexora.core.bus import publish
from nexora.core.errors import Conflict, NotFound, ValidationFailed
from nexora.core.ids import utcnow
from nexora.core.observability import get_logger
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.core.principal import Principal

log = get_logger("nexora.auth")


async def bump_token_version(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, reason: str
) -> int | None:
    """Refuse every access token the user holds now, on every API process, from the commit on.

    Call it whenever a user's access shrinks or their credentials change (deactivation, roles, password,
    sign-out, deletion, and later an MFA reset or a SCIM deprovisioning). Run it in a unit of work scoped
    to ``tenant_id``. Refresh tokens are not touched: callers revoke those when the session itself must
    end. Returns the new version, or ``None`` when the user does not exist in that tenant.
    """
    version = await session.scalar(
        update(User)
        .where(User.tenant_id == tenant_id, User.id == user_id)
        .values(token_version=User.token_version + 1)
        .returning(User.token_version),
        execution_options={"synchronize_session": "fetch"},
    )
    if version is None:
        log.warning("token version not bumped: no such user in the tenant", user_id=str(user_id), reason=reason)
        return None
    versions = session.info.get(TOKEN_VERSIONS)
    if isinstance(versions, TokenVersions):
        # Shared before the commit: a process that sees it early confirms with the database, which still
        # answers the old version until this transaction commits (and forever, if it rolls back).
        await versions.bumped(tenant_id, user_id, version)
    log.info("token version bumped", user_id=str(user_id), reason=reason, token_version=version)
    return int(version)


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
    """Create a user in ``tenant_id``. E-mails are unique within a tenant; other tenants' users are
    never consulted, so the answer says nothing about them."""
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
        raise Conflict("a user with this e-mail already exists in this tenant") from None
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
    """Change roles, status or password. A tenant always keeps at least one active admin.

    Any such change ends the user's access tokens at once (they renew with their refresh token and get
    the new roles); disabling the user or changing the password also ends their sessions.
    """
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
        await bump_token_version(session, actor.tenant_id, user.id, "user_updated:" + ",".join(changed))
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
    """Delete a user with their sessions and API keys; their access tokens stop working at once. Users
    cannot delete themselves."""
    user = await get_user(session, actor.tenant_id, user_id)
    if user.id == actor.user_id:
        raise Conflict("you cannot delete your own account")
    if "admin" in user.roles and user.is_active and await _admin_count(session, actor.tenant_id) <= 1:
        raise Conflict("this is the tenant's last active admin; make another admin first")
    await bump_token_version(session, actor.tenant_id, user.id, "user_deleted")
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
