"""Auth routes: sign-in, sessions, the caller, tenants, users and API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from nexora.api.problems import problem_response
from nexora.auth import service
from nexora.auth.deps import (
    AdminPrincipal,
    Components,
    CurrentPrincipal,
    DbSession,
    PlatformAdmin,
    TenantSession,
    client_address,
    runtime_of,
)
from nexora.auth.models import ApiKey, Tenant, User
from nexora.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    LoginRequest,
    Me,
    PasswordPolicy,
    RefreshRequest,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantOut,
    TenantSettingsUpdate,
    TokenPair,
    UserCreate,
    UserOut,
    UserUpdate,
)
from nexora.core.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/v1")

_AUTH_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "Not signed in or the credential is invalid"},
    403: {"description": "Signed in without the needed role"},
}


def _problem_from(request: Request, outcome: service.Outcome) -> JSONResponse:
    assert outcome.error is not None
    return problem_response(outcome.error, request)


@router.post(
    "/auth/login",
    response_model=TokenPair,
    tags=["auth"],
    responses={
        401: {"description": "Wrong credentials"},
        409: {"description": "The password opens accounts in several tenants: send `tenant` (see `tenants`)"},
        429: {"description": "Throttled, locked out from this address, or waiting after failed sign-ins"},
    },
)
async def login(body: LoginRequest, request: Request, session: DbSession, components: Components) -> object:
    """Sign in with e-mail and password (and the tenant, when the e-mail has accounts in several);
    returns an access token and a refresh token."""
    outcome = await service.login(
        session,
        components,
        email=str(body.email),
        password=body.password.get_secret_value(),
        address=client_address(request),
        tenant=body.tenant,
    )
    return outcome.tokens if outcome.tokens else _problem_from(request, outcome)


@router.post("/auth/refresh", response_model=TokenPair, tags=["auth"], responses={401: {"description": "Invalid"}})
async def refresh(body: RefreshRequest, request: Request, session: DbSession, components: Components) -> object:
    """Exchange a refresh token for a new access token and the refresh token's successor. Each refresh token
    works once; asking again within a few seconds, before the successor is used, gets the same successor."""
    outcome = await service.refresh(session, components, token=body.refresh_token.get_secret_value())
    return outcome.tokens if outcome.tokens else _problem_from(request, outcome)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def logout(body: RefreshRequest, session: DbSession) -> Response:
    """End the session the refresh token belongs to, and every access token of its user (other sessions
    renew theirs with their refresh token)."""
    await service.logout(session, token=body.refresh_token.get_secret_value())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/password-policy", response_model=PasswordPolicy, tags=["auth"])
async def password_policy(components: Components) -> PasswordPolicy:
    """What a new password must satisfy (shown by clients before they submit one)."""
    return PasswordPolicy(min_length=components.settings.password_min_length)


@router.get("/auth/me", response_model=Me, tags=["auth"], responses={**_AUTH_ERRORS})
async def me(principal: CurrentPrincipal) -> Me:
    """Who the credential belongs to."""
    return Me(
        id=principal.user_id,
        email=principal.email,
        tenant_id=principal.tenant_id,
        roles=sorted(principal.roles),
        is_platform_admin=principal.is_platform_admin,
        auth_method=principal.kind,
    )


# ---- tenants ---------------------------------------------------------------------------------------


def _tenant_out(tenant: Tenant) -> TenantOut:
    return TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at)


@router.post(
    "/tenants",
    response_model=TenantCreated,
    status_code=201,
    tags=["tenants"],
    responses={**_AUTH_ERRORS, 409: {"description": "Name or e-mail taken"}},
)
async def create_tenant(
    body: TenantCreate, principal: PlatformAdmin, session: DbSession, components: Components
) -> TenantCreated:
    """Create a tenant with its first admin (platform administrators only)."""
    tenant, admin = await service.create_tenant(
        session,
        components,
        name=body.name,
        admin_email=str(body.admin_email),
        admin_password=body.admin_password.get_secret_value(),
    )
    return TenantCreated(**_tenant_out(tenant).model_dump(), admin_user_id=admin.id)


@router.get("/tenants", response_model=Page[TenantOut], tags=["tenants"], responses={**_AUTH_ERRORS})
async def list_tenants(principal: PlatformAdmin, session: DbSession) -> Page[TenantOut]:
    """Every tenant of the installation (platform administrators only)."""
    return Page(items=[_tenant_out(t) for t in await service.list_tenants(session)])


@router.get("/tenant", response_model=TenantDetail, tags=["tenants"], responses={**_AUTH_ERRORS})
async def get_own_tenant(principal: CurrentPrincipal, session: TenantSession) -> TenantDetail:
    """The caller's tenant and its settings."""
    tenant = await service.get_tenant(session, principal.tenant_id)
    return TenantDetail(**_tenant_out(tenant).model_dump(), settings=tenant.settings)


@router.patch("/tenant", response_model=TenantDetail, tags=["tenants"], responses={**_AUTH_ERRORS})
async def update_own_tenant(
    body: TenantSettingsUpdate, principal: AdminPrincipal, session: TenantSession
) -> TenantDetail:
    """Rename the tenant or change its settings (admins)."""
    tenant = await service.update_tenant(session, principal.tenant_id, name=body.name, settings=body.settings)
    return TenantDetail(**_tenant_out(tenant).model_dump(), settings=tenant.settings)


# ---- users -----------------------------------------------------------------------------------------


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        roles=sorted(user.roles),
        is_active=user.is_active,
        is_platform_admin=user.is_platform_admin,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


@router.get("/users", response_model=Page[UserOut], tags=["users"], responses={**_AUTH_ERRORS})
async def list_users(
    principal: AdminPrincipal, session: TenantSession, limit: Limit = 50, cursor: Cursor = None
) -> Page[UserOut]:
    """Users of the tenant (admins)."""
    users, next_cursor = await service.list_users(session, principal.tenant_id, limit=limit, cursor=cursor)
    return Page(items=[_user_out(u) for u in users], next_cursor=next_cursor)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    tags=["users"],
    responses={**_AUTH_ERRORS, 409: {"description": "E-mail taken"}},
)
async def create_user(
    body: UserCreate, principal: AdminPrincipal, session: TenantSession, components: Components
) -> UserOut:
    """Add a user to the tenant (admins)."""
    user = await service.create_user(
        session,
        components,
        tenant_id=principal.tenant_id,
        email=str(body.email),
        password=body.password.get_secret_value(),
        roles=list(body.roles),
    )
    return _user_out(user)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"], responses={**_AUTH_ERRORS, 404: {}})
async def get_user(user_id: uuid.UUID, principal: AdminPrincipal, session: TenantSession) -> UserOut:
    return _user_out(await service.get_user(session, principal.tenant_id, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"], responses={**_AUTH_ERRORS, 404: {}, 409: {}})
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, principal: AdminPrincipal, session: TenantSession, components: Components
) -> UserOut:
    """Change a user's roles, status or password (admins)."""
    user = await service.update_user(
        session,
        components,
        principal,
        user_id,
        roles=list(body.roles) if body.roles else None,
        is_active=body.is_active,
        password=body.password.get_secret_value() if body.password else None,
    )
    return _user_out(user)


@router.delete("/users/{user_id}", status_code=204, tags=["users"], responses={**_AUTH_ERRORS, 404: {}, 409: {}})
async def delete_user(user_id: uuid.UUID, principal: AdminPrincipal, session: TenantSession) -> Response:
    await service.delete_user(session, principal, user_id)
    return Response(status_code=204)


# ---- API keys --------------------------------------------------------------------------------------


def _api_key_out(key: ApiKey, creator_email: str | None = None) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=key.scopes,
        created_by=key.created_by,
        created_by_email=creator_email,
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, tags=["api-keys"], responses={**_AUTH_ERRORS})
async def create_api_key(body: ApiKeyCreate, principal: CurrentPrincipal, session: TenantSession) -> ApiKeyCreated:
    """Create an API key. The key is in this response only; Nexora keeps just its hash."""
    api_key, key = await service.create_api_key(
        session, principal, name=body.name, scopes=list(body.scopes), expires_in_days=body.expires_in_days
    )
    return ApiKeyCreated(**_api_key_out(api_key, principal.email).model_dump(), key=key)


@router.get("/api-keys", response_model=Page[ApiKeyOut], tags=["api-keys"], responses={**_AUTH_ERRORS})
async def list_api_keys(
    principal: CurrentPrincipal, session: TenantSession, limit: Limit = 50, cursor: Cursor = None
) -> Page[ApiKeyOut]:
    """Your API keys, newest first (admins: every key of the tenant)."""
    rows, next_cursor = await service.list_api_keys(session, principal, limit=limit, cursor=cursor)
    return Page(items=[_api_key_out(key, email) for key, email in rows], next_cursor=next_cursor)


@router.delete("/api-keys/{api_key_id}", status_code=204, tags=["api-keys"], responses={**_AUTH_ERRORS, 404: {}})
async def revoke_api_key(api_key_id: uuid.UUID, principal: CurrentPrincipal, session: TenantSession) -> Response:
    """Revoke an API key; it stops working immediately."""
    await service.revoke_api_key(session, principal, api_key_id)
    return Response(status_code=204)


# ---- keys for verifiers ----------------------------------------------------------------------------

jwks_router = APIRouter()


@jwks_router.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(request: Request) -> JSONResponse:
    """Public keys that verify Nexora access tokens."""
    components: service.AuthComponents = runtime_of(request).services["auth"]
    assert components.signer is not None
    return JSONResponse(components.signer.jwks(), headers={"Cache-Control": "public, max-age=300"})
