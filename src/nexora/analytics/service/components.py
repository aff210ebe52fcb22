"""The analytics components of a process, built once at start by the assembly."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from nexora.analytics.geo import GeoLookup
from nexora.analytics.profiles import Profile
from nexora.analytics.service.attribution import AttributionCache
from nexora.analytics.service.engines import Engines
from nexora.analytics.service.store import Partitions
from nexora.core.config import AnalyticsSettings
from nexora.core.runtime import Runtime


class ProfileCache:
    """The behaviour profiles this process wrote last, so the next chunk of the same identity skips
    decoding the stored state. An entry is used only while the stored event count is still the one it was
    written with (counts only grow, so any other writer makes it stale); it is taken out while a chunk
    works on it, so a chunk that fails leaves nothing behind."""

    def __init__(self, capacity: int = 5000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[uuid.UUID, str], tuple[int, Profile]] = OrderedDict()

    def take(self, tenant_id: uuid.UUID, key: str, event_count: int) -> Profile | None:
        entry = self._entries.pop((tenant_id, key), None)
        return entry[1] if entry is not None and entry[0] == event_count else None

    def put(self, tenant_id: uuid.UUID, key: str, event_count: int, profile: Profile) -> None:
        self._entries[(tenant_id, key)] = (event_count, profile)
        self._entries.move_to_end((tenant_id, key))
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


@dataclass
class AnalyticsComponents:
    settings: AnalyticsSettings
    geo: GeoLookup
    attribution: AttributionCache
    partitions: Partitions
    engines: Engines
    profiles: ProfileCache = field(default_factory=ProfileCache)


def components_of(runtime: Runtime) -> AnalyticsComponents:
    components: AnalyticsComponents = runtime.services["analytics"]
    return components


@asynccontextmanager
async def assemble(runtime: Runtime) -> AsyncIterator[None]:
    """Open the GeoIP databases (when configured) and the per-tenant caches of this process; load the
    streaming model's library now (about a second) rather than in the first request that scores."""
    import river.anomaly  # noqa: F401

    settings = runtime.settings.analytics
    if settings.geoip_database is not None:
        geo = GeoLookup.open(settings.geoip_database, settings.geoip_asn_database)
    else:
        geo = GeoLookup.empty()
    runtime.services["analytics"] = AnalyticsComponents(
        settings, geo, AttributionCache(), Partitions(runtime.db), Engines()
    )
    try:
        yield
    finally:
        geo.close()
