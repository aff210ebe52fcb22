"""What the analytics routes share: the roles they require and the problems they declare."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from nexora.auth.deps import require_roles
from nexora.core.principal import Principal

Analyst = Annotated[Principal, Depends(require_roles("analyst"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Missing role"},
    404: {"description": "Not found"},
    422: {"description": "Invalid input"},
}
