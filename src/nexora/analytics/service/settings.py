"""Each tenant's detector settings: learning periods, thresholds, allow-lists, disabled detectors."""

from __future__ import annotations

import fnmatch
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.analytics.detectors import DetectorSettings, Engine
from nexora.analytics.models import TenantSettings
from nexora.analytics.profiles import Profile
from nexora.core.bus import publish
from nexora.core.errors import ValidationFailed
from nexora.core.ids import utcnow

SOURCE = "nexora.analytics"


def detector_settings(stored: dict[str, Any]) -> DetectorSettings:
    """The stored settings over the defaults (a setting unknown to this version is ignored)."""
    known = {key: value for key, value in stored.items() if key in DetectorSettings.model_fields}
    try:
        return DetectorSettings.model_validate(known)
    except ValidationError:
        return DetectorSettings()


def new_profile(window_days: float) -> Profile:
    return Profile(window_days=window_days)


def enabled(engine: Engine, detector: str) -> bool:
    """Whether the tenant left ``detector`` on (``disabled`` holds ids or patterns such as ``inventory.*``)."""
    return not any(fnmatch.fnmatchcase(detector, pattern) for pattern in engine.settings.disabled)


async def get_settings(session: AsyncSession, tenant_id: uuid.UUID) -> DetectorSettings:
    stored = (
        await session.execute(select(TenantSettings.detectors).where(TenantSettings.tenant_id == tenant_id))
    ).scalar_one_or_none()
    return detector_settings(stored or {})


async def update_settings(
    session: AsyncSession, tenant_id: uuid.UUID, changes: dict[str, Any], *, actor: str | None
) -> DetectorSettings:
    """Apply ``changes`` (a partial settings object) after validating the whole result."""
    unknown = sorted(set(changes) - set(DetectorSettings.model_fields))
    if unknown:
        raise ValidationFailed(f"unknown detector settings {unknown}")
    current = await get_settings(session, tenant_id)
    merged = {**current.model_dump(mode="json"), **changes}
    try:
        updated = DetectorSettings.model_validate(merged)
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:10])
        raise ValidationFailed(f"invalid detector settings: {details}") from None
    values = updated.model_dump(mode="json")
    now = utcnow()
    statement = insert(TenantSettings).values(tenant_id=tenant_id, detectors=values, updated_at=now, updated_by=actor)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"detectors": values, "updated_at": now, "updated_by": actor}
        )
    )
    await publish(
        session,
        "analytics.settings_updated",
        {"changed": sorted(changes)},
        source=SOURCE,
        subject=str(tenant_id),
        tenant_id=tenant_id,
    )
    return updated
