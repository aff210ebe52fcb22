"""FastAPI dependencies: what every domain's routes depend on, and what the auth routes need besides.

The auth domain provides the authenticator (JWT or API key -> :class:`Principal`); the assembly wires
it into the :class:`~nexora.core.runtime.Runtime`. Routes depend on these aliases: ``DbSession`` (one
transaction per request, committed before the response is sent), ``CurrentPrincipal``,
``TenantSession`` (the request transaction scoped to the caller's tenant) and ``require_roles(...)``.
Every authenticated request counts against the rate limits of its principal and of its tenant
(``NEXORA_AUTH_RATE_LIMIT_PER_PRINCIPAL`` / ``..._PER_TENANT``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.service import AuthComponents
from nexora.core import context as request_context
from nexora.core.db import set_tenant
from nexora.core.errors import PermissionDenied, Unauthenticated
from nexora.core.principal import Principal
from nexora.core.ratelimit import ApiRateLimit
from nexora.core.runtime import Runtime

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_RATE_LIMIT = "api_rate_limit"  # key of the process's limiter in ``Runtime.services``


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).db.sessionmaker() as session, session.begin():
        yield session


DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthenticated("send 'Authorization: Bearer <access token or API key>'")
    return credentials.strip()


def api_rate_limit(runtime: Runtime) -> ApiRateLimit:
    """The process's API rate limiter, built from its settings on first use."""
    limiter = runtime.services.get(API_RATE_LIMIT)
    if not isinstance(limiter, ApiRateLimit):
        auth = runtime.settings.auth
        limiter = ApiRateLimit(
            runtime.settings.redis_url,
            per_principal=auth.rate_limit_per_principal,
            per_tenant=auth.rate_limit_per_tenant,
        )
        runtime.services[API_RATE_LIMIT] = limiter
    return limiter


async def _current_principal(request: Request) -> Principal:
    runtime = runtime_of(request)
    if runtime.authenticator is None:
        raise Unauthenticated("authentication is not configured in this process")
    principal = await runtime.authenticator(bearer_token(request))
    request_context.bind(actor=principal.actor)
    await api_rate_limit(runtime).hit(str(principal.id), str(principal.tenant_id))
    if principal.read_only and request.method not in READ_METHODS:
        raise PermissionDenied("this API key is read-only")
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


async def _tenant_session(principal: CurrentPrincipal, session: DbSession) -> AsyncSession:
    await set_tenant(session, principal.tenant_id)
    return session


TenantSession = Annotated[AsyncSession, Depends(_tenant_session)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets through principals holding any of ``roles`` (admins always)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(*roles):
            raise PermissionDenied(f"this action needs one of the roles: {', '.join(roles)}")
        return principal

    return check


async def _platform_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_platform_admin or principal.kind != "user":
        raise PermissionDenied("this action needs a platform administrator signed in as a user")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_roles("admin"))]
PlatformAdmin = Annotated[Principal, Depends(_platform_admin)]


def _components(request: Request) -> AuthComponents:
    components: AuthComponents = runtime_of(request).services["auth"]
    return components


Components = Annotated[AuthComponents, Depends(_components)]


def client_address(request: Request) -> str | None:
    """The caller's address (the middleware has already applied trusted-proxy rules)."""
    address: str | None = getattr(request.state, "client_address", None)
    return address or (request.client.host if request.client else None)
