"""Pydantic models at the auth API edge. Requests forbid unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

# A plain shape check: deliverability is not ours to judge, and internal domains (.local) are common.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]

Role = Literal["admin", "analyst", "approver", "auditor", "viewer"]
Scope = Literal["read", "admin", "analyst", "approver", "auditor", "viewer"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Request):
    email: Email
    password: SecretStr = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description=(
            "Name or id of the tenant to sign in to. Needed only when the e-mail has an account with this"
            " password in several tenants (the answer is then 409 with the choices)."
        ),
    )


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class RefreshRequest(Request):
    refresh_token: SecretStr = Field(min_length=1, max_length=512)


class PasswordPolicy(BaseModel):
    min_length: int


class Me(BaseModel):
    id: uuid.UUID
    email: str
    tenant_id: uuid.UUID
    roles: list[str]
    is_platform_admin: bool = False
    auth_method: Literal["user", "api_key"] = "user"


class TenantCreate(Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w .-]+$")
    admin_email: Email
    admin_password: SecretStr = Field(min_length=1, max_length=1024)


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class TenantCreated(TenantOut):
    admin_user_id: uuid.UUID


class TenantSettingsUpdate(Request):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w .-]+$")
    settings: dict[str, str | int | bool | None] | None = Field(
        default=None, max_length=50, description="Settings to set; a null value removes that setting."
    )


class TenantDetail(TenantOut):
    settings: dict[str, object]


class UserCreate(Request):
    email: Email
    password: SecretStr = Field(min_length=1, max_length=1024)
    roles: list[Role] = Field(min_length=1, max_length=5)


class UserUpdate(Request):
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    is_active: bool | None = None
    password: SecretStr | None = Field(default=None, min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    roles: list[str]
    is_active: bool
    is_platform_admin: bool
    created_at: datetime
    last_login_at: datetime | None


class ApiKeyCreate(Request):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=6)
    expires_in_days: int | None = Field(
        default=90, ge=1, le=3650, description="Days until the key expires; null for a key that never expires."
    )


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="First characters of the key, to recognise it.")
    scopes: list[str]
    created_by: uuid.UUID
    created_by_email: str | None = Field(default=None, description="E-mail of the user who created the key.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown once: store it now.")
