"""FastAPI dependencies of the auth routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nexora.auth.service import AuthComponents
from nexora.core.security import runtime_of


def _components(request: Request) -> AuthComponents:
    components: AuthComponents = runtime_of(request).services["auth"]
    return components


Components = Annotated[AuthComponents, Depends(_components)]


def client_address(request: Request) -> str | None:
    """The caller's address (the middleware has already applied trusted-proxy rules)."""
    address: str | None = getattr(request.state, "client_address", None)
    return address or (request.client.host if request.client else None)
