"""Values the posture checks read and produce."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SEVERITY_POINTS = {"critical": 40, "high": 25, "medium": 10, "low": 4, "info": 0}
SEVERITIES = tuple(SEVERITY_POINTS)
CATEGORIES = tuple(f"NHI{number}" for number in range(1, 11))


@dataclass(frozen=True)
class Thresholds:
    """Posture thresholds (from ``DiscoverySettings``; CIS defaults)."""

    unused_days: int = 45
    key_max_age_days: int = 90
    expiry_warning_days: int = 30


@dataclass
class Neighbour:
    id: uuid.UUID
    kind: str
    name: str
    environment: str


@dataclass
class Node:
    """An inventoried NHI as the checks see it, with the relationships they need."""

    id: uuid.UUID
    provider: str
    kind: str
    name: str
    account: str
    environment: str
    owner: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    last_rotated_at: datetime | None
    expires_at: datetime | None
    privilege_level: str
    permissions: dict[str, Any]
    status: str
    attributes: dict[str, Any]
    connector_id: uuid.UUID | None = None
    used_by: list[Neighbour] = field(default_factory=list)
    exposed_in: list[Neighbour] = field(default_factory=list)
    same_secret_as: list[Neighbour] = field(default_factory=list)


@dataclass(frozen=True)
class Issue:
    """One failed check: the finding a check raises for a node."""

    check_id: str
    category: str
    severity: str
    title: str
    evidence: dict[str, Any]
    recommendation: str


@dataclass(frozen=True)
class Context:
    as_of: datetime
    thresholds: Thresholds

    def days_since(self, moment: datetime | None) -> int | None:
        if moment is None:
            return None
        return (self.as_of - moment) // timedelta(days=1)


Check = Callable[[Node, Context], Iterable[Issue]]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
