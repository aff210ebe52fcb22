"""Discovery's worker role: the schedule that runs due connectors of every tenant."""

from __future__ import annotations

from typing import Any

from nexora.core.bus import Subscription
from nexora.core.config import DiscoverySettings
from nexora.core.runtime import Runtime
from nexora.core.schedule import Schedule
from nexora.discovery import service


def subscriptions(runtime: Runtime) -> list[Subscription]:
    """Discovery consumes no events: its inputs are the providers themselves."""
    return []


async def _run_due(runtime: Any) -> None:
    await service.run_due(runtime)


def schedules() -> list[Schedule]:
    tick = DiscoverySettings().schedule_tick_seconds
    return [Schedule(name="discovery-due-connectors", interval_seconds=tick, job=_run_due, initial_delay_seconds=5.0)]
