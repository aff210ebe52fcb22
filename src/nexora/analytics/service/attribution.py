"""Attribution: which inventoried NHI an activity identity is (access key → key, role session → role)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.activity import IdentityKeys
from nexora.discovery import service as discovery

# Which inventory an identity would belong to, so an unknown identity is only a gap where the tenant
# inventories that provider at all (a tenant without a Kubernetes connector has no Kubernetes gaps).
FAMILY = {"aws": "aws", "k8s": "k8s", "github": "github"}


@dataclass(frozen=True, slots=True)
class Match:
    nhi_id: uuid.UUID
    kind: str


@dataclass
class AttributionIndex:
    by_key: dict[str, Match]
    families: frozenset[str]  # providers the tenant inventories

    def match(self, identity: IdentityKeys) -> Match | None:
        found = self.by_key.get(identity.key)
        if found is not None:
            return found
        for candidate in (
            f"aws:key/{identity.access_key_id}" if identity.access_key_id else None,
            f"arn:{identity.session_issuer_arn}" if identity.session_issuer_arn else None,
            f"arn:{identity.principal_arn}" if identity.principal_arn else None,
        ):
            if candidate is not None and (found := self.by_key.get(candidate)) is not None:
                return found
        return None

    def is_gap(self, identity: IdentityKeys) -> bool:
        """An identity the tenant's inventory should know and does not (not AWS's own services)."""
        family = FAMILY.get(identity.key.partition(":")[0])
        return family in self.families and identity.kind not in ("aws_service", "root", "k8s_user", "other")


def build_index(identities: list[discovery.InventoriedIdentity]) -> AttributionIndex:
    by_key: dict[str, Match] = {}
    families: set[str] = set()
    for nhi in identities:
        match = Match(nhi.id, nhi.kind)
        if nhi.kind == "access_key":
            by_key[f"aws:key/{nhi.external_id}"] = match
            families.add("aws")
        elif nhi.kind in ("iam_user", "iam_role"):
            prefix = "user" if nhi.kind == "iam_user" else "role"
            by_key[f"aws:{prefix}/{nhi.account}/{nhi.name}"] = match
            by_key[f"arn:{nhi.external_id}"] = match
            families.add("aws")
        elif nhi.kind == "k8s_service_account":
            by_key.setdefault(f"k8s:sa/{nhi.name}", match)
            families.add("k8s")
        else:
            by_key.setdefault(f"github:actor/{nhi.name}", match)
            families.add("github")
    return AttributionIndex(by_key, frozenset(families))


class AttributionCache:
    """Each tenant's index, rebuilt from the inventory at most every ``ttl`` seconds."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._indexes: dict[uuid.UUID, tuple[float, AttributionIndex]] = {}

    async def index(self, session: AsyncSession, tenant_id: uuid.UUID) -> AttributionIndex:
        cached = self._indexes.get(tenant_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        index = build_index(await discovery.attributable_identities(session, tenant_id))
        self._indexes[tenant_id] = (now, index)
        return index

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._indexes.pop(tenant_id, None)
