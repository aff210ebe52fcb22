"""The analytics components of a process, built once at start by the assembly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from nexora.analytics.geo import GeoLookup
from nexora.analytics.service.attribution import AttributionCache
from nexora.analytics.service.engines import Engines
from nexora.analytics.service.store import Partitions
from nexora.core.config import AnalyticsSettings
from nexora.core.runtime import Runtime


@dataclass
class AnalyticsComponents:
    settings: AnalyticsSettings
    geo: GeoLookup
    attribution: AttributionCache
    partitions: Partitions
    engines: Engines


def components_of(runtime: Runtime) -> AnalyticsComponents:
    components: AnalyticsComponents = runtime.services["analytics"]
    return components


@asynccontextmanager
async def assemble(runtime: Runtime) -> AsyncIterator[None]:
    """Open the GeoIP databases (when configured) and the per-tenant caches of this process."""
    settings = runtime.settings.analytics
    if settings.geoip_database is not None:
        geo = GeoLookup.open(settings.geoip_database, settings.geoip_asn_database)
    else:
        geo = GeoLookup.empty()
    runtime.services["analytics"] = AnalyticsComponents(settings, geo, AttributionCache(), Partitions(), Engines())
    try:
        yield
    finally:
        geo.close()
