"""The demo route: fill the tenant with a realistic environment through the normal load and posture path."""

from __future__ import annotations

from fastapi import APIRouter, Request

from nexora.auth.deps import runtime_of
from nexora.discovery import service
from nexora.discovery.deps import ERRORS, Admin
from nexora.discovery.schemas import DemoLoaded, RunOut

router = APIRouter(tags=["demo"], responses=ERRORS)


@router.post("/demo", response_model=DemoLoaded, status_code=201)
async def load_demo(request: Request, principal: Admin) -> DemoLoaded:
    """Fill the tenant with a realistic demo environment through the normal load and posture path (admins)."""
    connector_id, run = await service.load_demo(runtime_of(request), principal.tenant_id)
    return DemoLoaded(connector_id=connector_id, run=RunOut.model_validate(run))
