"""Each tenant's detector engine in this process: its settings (reloaded when changed) and its model."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.detectors import Engine
from nexora.analytics.models import TenantSettings
from nexora.analytics.service.settings import detector_settings

# The streaming model's state is written back at most this often per tenant (and at the end of a batch).
# Two processes scoring one tenant each keep their own model; the last one written is loaded next start.
MODEL_SAVE_SECONDS = 30.0


@dataclass
class _TenantEngine:
    engine: Engine
    settings_version: datetime | None
    saved_at: float


class Engines:
    """Each tenant's detector engine (its settings and streaming model), kept across chunks."""

    def __init__(self) -> None:
        self._engines: dict[uuid.UUID, _TenantEngine] = {}

    async def get(self, session: AsyncSession, tenant_id: uuid.UUID) -> Engine:
        row = (
            await session.execute(
                select(TenantSettings.updated_at, TenantSettings.detectors).where(TenantSettings.tenant_id == tenant_id)
            )
        ).first()
        version = row.updated_at if row else None
        cached = self._engines.get(tenant_id)
        if cached is not None and cached.settings_version == version:
            return cached.engine
        engine = Engine(detector_settings(row.detectors if row else {}))
        if cached is not None:
            engine.load_model_state(cached.engine.model_state())
        else:
            model = (
                await session.execute(select(TenantSettings.model).where(TenantSettings.tenant_id == tenant_id))
            ).scalar_one_or_none()
            if model:
                engine.load_model_state(model)
        self._engines[tenant_id] = _TenantEngine(engine, version, time.monotonic())
        return engine

    async def save_model_if_due(self, session: AsyncSession, tenant_id: uuid.UUID, *, force: bool = False) -> None:
        cached = self._engines.get(tenant_id)
        if cached is None or (not force and time.monotonic() - cached.saved_at < MODEL_SAVE_SECONDS):
            return
        state = cached.engine.model_state()
        statement = insert(TenantSettings).values(tenant_id=tenant_id, detectors={}, model=state)
        await session.execute(statement.on_conflict_do_update(index_elements=["tenant_id"], set_={"model": state}))
        cached.saved_at = time.monotonic()
