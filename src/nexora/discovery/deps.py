"""What the discovery routes share: the roles they require, the problems they declare, checked choices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from nexora.auth.deps import require_roles
from nexora.core.errors import ValidationFailed
from nexora.core.principal import Principal

Editor = Annotated[Principal, Depends(require_roles("analyst"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Missing role"},
    404: {"description": "Not found"},
    422: {"description": "Invalid input"},
}


def choices(values: list[str] | None, allowed: tuple[str, ...], name: str) -> list[str]:
    """The values of a repeated query parameter, each one of ``allowed``; else :class:`ValidationFailed`."""
    chosen = values or []
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        raise ValidationFailed(f"unknown {name} {unknown}; choose from: {', '.join(allowed)}")
    return chosen
