"""FastAPI dependencies of the audit routes: which log a request reads, and who may read it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit.encoding import PLATFORM_LOG
from nexora.auth.deps import CurrentPrincipal, DbSession
from nexora.core.db import set_tenant
from nexora.core.errors import PermissionDenied
from nexora.core.principal import Principal

LogName = Annotated[
    Literal["tenant", "platform"],
    Query(alias="log", description="`platform`: the log of events with no tenant (platform administrators only)."),
]


@dataclass(frozen=True)
class AuditScope:
    """The request's transaction, scoped to the log it reads, and the caller."""

    session: AsyncSession
    log: uuid.UUID
    principal: Principal


def audit_scope(*roles: str) -> Callable[..., Coroutine[Any, Any, AuditScope]]:
    """Principals holding one of ``roles`` (admins always; any signed-in caller if none) reach their
    tenant's log; the platform log needs a platform administrator signed in as a user."""

    async def scope(principal: CurrentPrincipal, session: DbSession, log: LogName = "tenant") -> AuditScope:
        if roles and not principal.has_any_role(*roles):
            raise PermissionDenied(f"this needs one of the roles: {', '.join(sorted({'admin', *roles}))}")
        if log == "platform":
            if not principal.is_platform_admin or principal.kind != "user":
                raise PermissionDenied("the platform log needs a platform administrator signed in as a user")
            chosen = PLATFORM_LOG
        else:
            chosen = principal.tenant_id
        await set_tenant(session, chosen)
        return AuditScope(session, chosen, principal)

    return scope


AuditReader = Annotated[AuditScope, Depends(audit_scope("auditor"))]
AuditAdmin = Annotated[AuditScope, Depends(audit_scope("admin"))]
AnyCaller = Annotated[AuditScope, Depends(audit_scope())]
