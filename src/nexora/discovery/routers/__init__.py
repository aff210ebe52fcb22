"""Discovery routes, one module per resource; ``router`` includes them all (under ``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from nexora.discovery.routers import connectors, demo, findings, inventory, runs

router = APIRouter(prefix="/api/v1")
for resource in (inventory, findings, connectors, runs, demo):
    router.include_router(resource.router)
