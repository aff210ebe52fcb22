"""Analytics routes: activity ingest and reads, alerts, detector settings, sources and webhooks."""

from fastapi import APIRouter

from nexora.analytics.routers import activity, alerts, configuration

router = APIRouter(prefix="/api/v1")
router.include_router(activity.router)
router.include_router(alerts.router)
router.include_router(configuration.router)
