"""Who is calling: the principal type every layer passes around (the auth domain creates them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user (JWT) or an API key acting for the user who made it."""

    kind: Literal["user", "api_key"]
    id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    roles: frozenset[str]
    is_platform_admin: bool = False
    read_only: bool = False
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"

    def has_any_role(self, *roles: str) -> bool:
        """Admins hold every role; otherwise the principal must hold one of ``roles``."""
        return "admin" in self.roles or bool(self.roles.intersection(roles))
