"""Run a process's workers: the bus consumers and schedules of the domains' ``worker`` modules.

What runs is decided by the assembly (:func:`nexora.assembly.create_workers`), which hands the
modules of the roles asked for; this package knows no domain. ``nexora up`` runs the workers next to
the API, ``nexora worker --role ...`` alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from types import ModuleType

from nexora.core.bus import Subscription
from nexora.core.observability import get_logger
from nexora.core.runtime import Runtime
from nexora.core.schedule import Schedule

log = get_logger("nexora.workers")


def subscriptions_of(runtime: Runtime, modules: Sequence[ModuleType]) -> list[Subscription]:
    subscriptions: list[Subscription] = []
    for module in modules:
        subscriptions.extend(module.subscriptions(runtime))
    return subscriptions


def schedules_of(modules: Sequence[ModuleType]) -> list[Schedule]:
    schedules: list[Schedule] = []
    for module in modules:
        if hasattr(module, "schedules"):
            schedules.extend(module.schedules())
    return schedules


class Workers:
    """Runs the bus consumers and schedules of some roles until stopped."""

    def __init__(self, runtime: Runtime, modules: Sequence[ModuleType], roles: Sequence[str] = ()) -> None:
        self.runtime = runtime
        self.modules = list(modules)
        self.roles = list(roles)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        bus = self.runtime.bus
        assert bus is not None
        for subscription in subscriptions_of(self.runtime, self.modules):
            bus.subscribe(subscription)
        await bus.start(consume=True)
        for schedule in schedules_of(self.modules):
            self._tasks.append(asyncio.create_task(self._run_schedule(schedule), name=f"schedule-{schedule.name}"))
        log.info("workers started", roles=self.roles)

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.runtime.bus is not None:
            await self.runtime.bus.stop()

    async def _run_schedule(self, schedule: Schedule) -> None:
        delay = schedule.initial_delay_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            try:
                await schedule.job(self.runtime)
            except Exception as error:
                log.error("scheduled job failed", schedule=schedule.name, error=str(error), exc_info=error)
            # Jitter keeps replicas from firing in lockstep.
            delay = schedule.interval_seconds * (0.9 + 0.2 * random.random())  # noqa: S311
