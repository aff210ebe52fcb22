"""What both bus backends share about delivering events: the waiting, maintenance and retry steps.

:class:`DeliveryLoops` holds the loops a backend runs beside its consumers (sleeping until stopped,
the periodic lag-and-prune maintenance); :func:`retry_delay` is the one decision taken after a
handler failed: retry later (with exponential backoff, logged) or give up and dead-letter the event.
The failure count itself lives in ``core.delivery_failure`` for both backends (:func:`count_failure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.config import BusSettings
from nexora.core.db import set_tenant
from nexora.core.observability import BUS_LAG, get_logger

if TYPE_CHECKING:
    from nexora.core.bus import Subscription
    from nexora.core.events import Event

MAINTENANCE_SECONDS = 15.0
log = get_logger("nexora.bus")

_COUNT_FAILURE_SQL = text(
    """
    INSERT INTO core.delivery_failure (group_name, event_id, attempts, last_error)
    VALUES (:g, :e, 1, :err)
    ON CONFLICT (group_name, event_id) DO UPDATE
    SET attempts = core.delivery_failure.attempts + 1, last_error = :err, updated_at = now()
    RETURNING attempts
    """
)


def backoff_seconds(settings: BusSettings, attempts: int) -> float:
    """Exponential backoff for the n-th failed attempt, capped."""
    delay_ms: int = settings.retry_backoff_ms * 2 ** max(attempts - 1, 0)
    return float(min(delay_ms, settings.retry_backoff_max_ms)) / 1000


async def count_failure(session: AsyncSession, group: str, event_id: uuid.UUID, error: str) -> int:
    """Record one more failed attempt of ``group`` at ``event_id``; returns the attempts so far."""
    return int(await session.scalar(_COUNT_FAILURE_SQL, {"g": group, "e": event_id, "err": error}) or 0)


def retry_delay(
    settings: BusSettings, attempts: int, *, group: str, event_id: uuid.UUID, event_type: str, error: str
) -> float | None:
    """Seconds to wait before retrying a failed event, or ``None`` when its attempts are spent
    (the caller then dead-letters it). A retry is logged with what failed and when it runs again."""
    if attempts >= settings.max_attempts:
        return None
    delay = backoff_seconds(settings, attempts)
    log.warning(
        "event handler failed; will retry",
        group=group,
        event_id=str(event_id),
        type=event_type,
        attempts=attempts,
        retry_in_seconds=delay,
        error=error,
    )
    return delay


class DeliveryLoops(ABC):
    """The loops a bus backend runs beside its consumers. A backend sets ``_stopping`` and provides
    ``lag()`` and ``prune()``; stopping wakes every sleeper at once."""

    _stopping: asyncio.Event

    @abstractmethod
    async def lag(self) -> dict[str, int]:
        """Events each consumer group has not handled yet."""

    @abstractmethod
    async def prune(self) -> int:
        """Drop delivered rows and de-duplication marks past retention; returns how many rows went."""

    async def refresh_lag_metrics(self) -> None:
        for group, value in (await self.lag()).items():
            BUS_LAG.labels(group).set(value)

    async def _maintenance_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.refresh_lag_metrics()
                await self.prune()
            except Exception as error:
                log.warning("bus maintenance failed", error=str(error))
            await self._sleep(MAINTENANCE_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` or until the bus stops, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float) -> None:
        """Wait for ``event`` at most ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class Dispatch:
    """Hands a delivery batch's events to a subscription inside the batch's transaction: each event to its
    ``handler`` as it comes, or each run of one tenant's events to its ``batch_handler`` at once. Switches
    the session's tenant between runs. ``fail(index, error)`` builds what a handler failure raises."""

    def __init__(
        self, subscription: Subscription, session: AsyncSession, fail: Callable[[int, Exception], Exception]
    ) -> None:
        self.subscription = subscription
        self.session = session
        self.fail = fail
        self.tenant: object = object()
        self.run: list[tuple[int, Event]] = []

    async def add(self, index: int, event: Event) -> None:
        if event.tenant_id != self.tenant:
            await self.flush()
            await set_tenant(self.session, event.tenant_id)
            self.tenant = event.tenant_id
        if self.subscription.batch_handler is not None:
            self.run.append((index, event))
            return
        try:
            await self.subscription.handler(event, self.session)
        except Exception as error:
            raise self.fail(index, error) from error

    async def flush(self) -> None:
        run, self.run = self.run, []
        if not run or self.subscription.batch_handler is None:
            return
        try:
            await self.subscription.batch_handler([event for _, event in run], self.session)
        except Exception as error:
            raise self.fail(run[0][0], error) from error
