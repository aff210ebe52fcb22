"""The demo environment: a ``demo`` connector whose run goes through the normal load and posture path."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from nexora.core.runtime import Runtime
from nexora.discovery.models import Connector, Run
from nexora.discovery.service.connectors import create_connector
from nexora.discovery.service.runs import run_now

DEMO_NAME = "demo"


async def load_demo(runtime: Runtime, tenant_id: uuid.UUID) -> tuple[uuid.UUID, Run]:
    """Create (once) the tenant's demo connector and run it; returns the connector id and the finished run."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        connector_id = await session.scalar(
            select(Connector.id).where(Connector.tenant_id == tenant_id, Connector.kind == "demo")
        )
        if connector_id is None:
            connector = await create_connector(
                session,
                runtime.cipher,
                tenant_id,
                name=DEMO_NAME,
                kind="demo",
                config={},
                credentials=None,
                interval_seconds=None,
            )
            connector_id = connector.id
    return connector_id, await run_now(runtime, tenant_id, connector_id, trigger="demo")
