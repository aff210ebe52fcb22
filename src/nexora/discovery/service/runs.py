"""Runs: collect from a connector, load what it found (:mod:`.load`), then re-evaluate posture.

A run never holds one transaction for its whole duration: the provider is read outside any
transaction, the load works in batches of its own transactions, and the run row records its stage and
counts as it goes. A run with errors is partial and skips the sweep.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth import service as auth_service
from nexora.core.bus import publish
from nexora.core.errors import Conflict, NotFound, ValidationFailed
from nexora.core.ids import utcnow, uuid7
from nexora.core.observability import get_logger
from nexora.core.pagination import decode_cursor, encode_cursor
from nexora.core.runtime import Runtime
from nexora.discovery.connectors.base import CollectContext, error_message, storable_text
from nexora.discovery.connectors.files import HostPaths
from nexora.discovery.models import Connector, Run
from nexora.discovery.records import Collection
from nexora.discovery.service.connectors import decrypted_settings, get_connector
from nexora.discovery.service.events import SOURCE
from nexora.discovery.service.load import load, refresh_statistics
from nexora.discovery.service.posture import evaluate_and_store
from nexora.discovery.service.upsert import LoadResult

# A run still "running" after this long was interrupted (process killed); it no longer blocks new runs.
STALE_RUN = timedelta(hours=2)
CANCELLED = "cancelled: the process stopped before the run finished; nothing was removed, run it again"
BACKGROUND = "discovery.runs"  # runtime.services key of the runs started in the background
NEEDS_FINGERPRINT_KEY = frozenset({"code"})
# Kinds that read host paths (and offline kubernetes); without a path they read uploads only and are
# never scheduled.
UPLOAD_FED = ("code", "gcp-export", "azure-export")
log = get_logger("nexora.discovery")


@dataclass(frozen=True)
class RunInput:
    """Files a tenant sent for one run: unpacked under ``folder`` (deleted when the run ends), read at ``path``."""

    folder: Path
    path: Path
    git: bool  # ``path`` is a git repository cloned from a bundle: its history is read
    size: int  # bytes received
    files: int  # files unpacked (objects of a bundle)

    def counts(self) -> dict[str, int]:
        return {"upload_bytes": self.size, "upload_files": self.files}


async def start_run(session: AsyncSession, tenant_id: uuid.UUID, connector_id: uuid.UUID, trigger: str) -> Run:
    """Record a new run of the connector; raises :class:`Conflict` if one is already running."""
    connector = await get_connector(session, tenant_id, connector_id)
    name = connector.name  # read now: a refused insert leaves the session unable to load it
    await session.execute(
        update(Run)
        .where(Run.connector_id == connector.id, Run.status == "running", Run.started_at <= utcnow() - STALE_RUN)
        .values(status="failed", stage="done", errors=[{"scope": "run", "message": "interrupted"}])
    )
    run = Run(id=uuid7(), tenant_id=tenant_id, connector_id=connector.id, trigger=trigger, status="running")
    session.add(run)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"connector '{name}' is already running") from None
    await publish(
        session,
        "discovery.run_started",
        {"run_id": str(run.id), "connector_id": str(connector.id), "trigger": trigger},
        source=SOURCE,
        subject=str(run.id),
        tenant_id=tenant_id,
    )
    return run


async def get_run(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Run:
    run = await session.get(Run, run_id)
    if run is None or run.tenant_id != tenant_id:
        raise NotFound("run not found")
    return run


async def list_runs(
    session: AsyncSession, tenant_id: uuid.UUID, *, connector_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Run], str | None]:
    """Run history, newest first."""
    query = select(Run).where(Run.tenant_id == tenant_id)
    if connector_id is not None:
        query = query.where(Run.connector_id == connector_id)
    after = decode_cursor(cursor)
    if after:
        try:
            position = (datetime.fromisoformat(after["t"]), uuid.UUID(after["id"]))
        except (KeyError, ValueError, TypeError):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
        query = query.where((Run.started_at, Run.id) < position)  # type: ignore[operator]
    runs = list((await session.scalars(query.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit + 1))).all())
    next_cursor = None
    if len(runs) > limit:
        runs = runs[:limit]
        next_cursor = encode_cursor({"t": runs[-1].started_at.isoformat(), "id": str(runs[-1].id)})
    return runs, next_cursor


async def _stage(runtime: Runtime, tenant_id: uuid.UUID, run_id: uuid.UUID, stage: str, counts: dict[str, int]) -> None:
    async with runtime.db.unit_of_work(tenant_id) as session:
        await session.execute(update(Run).where(Run.id == run_id).values(stage=stage, counts=counts))


async def collect(
    runtime: Runtime, tenant_id: uuid.UUID, connector: Connector, run_input: RunInput | None = None
) -> Collection:
    """Read the provider (outside any transaction); any failure is a run error, never an exception.

    Host paths are read only inside the operator's roots; with ``run_input``, its files are read instead.
    """
    try:
        found, config, credentials = decrypted_settings(runtime.cipher, connector)
        key = None
        if connector.kind in NEEDS_FINGERPRINT_KEY:
            async with runtime.db.unit_of_work(tenant_id) as session:
                key = await auth_service.get_fingerprint_key(session, runtime.cipher, tenant_id)
        context = CollectContext.create(tenant_id, runtime.settings, key)
        context.host = HostPaths.of(runtime.settings)
        if run_input is not None:
            context.input_dir, context.input_git = run_input.path, run_input.git
        try:
            return await asyncio.to_thread(found.collect, config, credentials, context)
        except asyncio.CancelledError:
            # A thread cannot be killed: the connector stops at its next provider call.
            context.stop.set()
            raise
    except Exception as error:
        collection = Collection()
        collection.error("connector", error_message(error))
        return collection


async def execute_run(
    runtime: Runtime, tenant_id: uuid.UUID, run_id: uuid.UUID, run_input: RunInput | None = None
) -> Run:
    """Carry out a started run to its end and return the finished run (succeeded, partial or failed).

    If the task is cancelled (the process is shutting down), the run is recorded as failed with the
    reason before the cancellation goes on: it never stays "running". An uploaded ``run_input`` is read
    instead of the connector's host paths, and its folder is deleted when the run ends, however it ends.
    """
    try:
        return await _execute(runtime, tenant_id, run_id, run_input)
    finally:
        if run_input is not None:
            await asyncio.shield(asyncio.to_thread(partial(shutil.rmtree, run_input.folder, ignore_errors=True)))


async def _execute(runtime: Runtime, tenant_id: uuid.UUID, run_id: uuid.UUID, run_input: RunInput | None) -> Run:
    started = time.monotonic()
    async with runtime.db.unit_of_work(tenant_id) as session:
        run = await get_run(session, tenant_id, run_id)
        connector = await get_connector(session, tenant_id, run.connector_id)
        record_changes = connector.baseline_run_id is not None
        run.stage = "collecting"
    counts: dict[str, int] = run_input.counts() if run_input is not None else {}
    errors: list[dict[str, str]] = []
    try:
        collection = await collect(runtime, tenant_id, connector, run_input)
        counts.update({"collected": len(collection.nhis), "relationships": len(collection.edges)})
        errors += [error.as_dict() for error in collection.errors]
        try:

            async def progress(done: LoadResult) -> None:
                await _stage(runtime, tenant_id, run_id, "loading", {**counts, **done.counts()})

            result = await load(
                runtime, tenant_id, connector.id, run_id, collection, record_changes=record_changes, on_batch=progress
            )
            counts.update(result.counts())
            await _stage(runtime, tenant_id, run_id, "posture", counts)
            async with runtime.db.unit_of_work(tenant_id) as session:
                posture = await evaluate_and_store(session, tenant_id, runtime.settings.discovery)
            counts.update({"findings_opened": posture.opened, "findings_resolved": posture.resolved})
            async with runtime.db.unit_of_work(tenant_id) as session:
                await refresh_statistics(session, result)
        except Exception as error:
            log.error("discovery run failed while loading", run_id=str(run_id), error=error_message(error))
            errors.append({"scope": "load", "message": error_message(error)})
    except asyncio.CancelledError:
        log.warning("discovery run cancelled", run_id=str(run_id))
        errors.append({"scope": "run", "message": CANCELLED})
        # Shielded: a second cancellation must not leave the run "running".
        await asyncio.shield(_finish(runtime, tenant_id, run_id, connector.id, "failed", counts, errors, started))
        raise
    if not errors:
        status = "succeeded"
    elif collection.nhis and all(error["scope"] != "load" for error in errors):
        status = "partial"
    else:
        status = "failed"
    return await _finish(runtime, tenant_id, run_id, connector.id, status, counts, errors, started)


async def refuse_run(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    counts: dict[str, int],
    errors: list[dict[str, str]],
    started: float,
) -> Run:
    """Record a started run as failed before it read anything (its input was refused); nothing is removed."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        connector_id = (await get_run(session, tenant_id, run_id)).connector_id
    return await _finish(runtime, tenant_id, run_id, connector_id, "failed", counts, errors, started)


async def _finish(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    connector_id: uuid.UUID,
    status: str,
    counts: dict[str, int],
    errors: list[dict[str, str]],
    started: float,
) -> Run:
    duration_ms = int((time.monotonic() - started) * 1000)
    # Provider text can hold what PostgreSQL refuses to store (NUL); the run must still be recorded.
    errors = [{key: storable_text(value) for key, value in error.items()} for error in errors]
    async with runtime.db.unit_of_work(tenant_id) as session:
        run = await get_run(session, tenant_id, run_id)
        connector = await get_connector(session, tenant_id, connector_id)
        baseline = status == "succeeded" and connector.baseline_run_id is None
        run.status, run.stage, run.counts, run.errors = status, "done", counts, errors
        run.finished_at, run.duration_ms, run.is_baseline = utcnow(), duration_ms, baseline
        connector.last_run_at, connector.last_status = run.finished_at, status
        if baseline:
            connector.baseline_run_id = run.id
        await session.flush()
        await publish(
            session,
            "discovery.run_finished",
            {
                "run_id": str(run.id),
                "connector_id": str(connector_id),
                "status": status,
                "counts": counts,
                "error_count": len(errors),
                "duration_ms": duration_ms,
                "is_baseline": baseline,
            },
            source=SOURCE,
            subject=str(run.id),
            tenant_id=tenant_id,
        )
    return run


async def run_now(runtime: Runtime, tenant_id: uuid.UUID, connector_id: uuid.UUID, trigger: str = "manual") -> Run:
    """Start and finish a run of the connector (used by the scheduler, the CLI and tests)."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        run = await start_run(session, tenant_id, connector_id, trigger)
    return await execute_run(runtime, tenant_id, run.id)


def run_in_background(
    runtime: Runtime, tenant_id: uuid.UUID, run_id: uuid.UUID, run_input: RunInput | None = None
) -> asyncio.Task[Run]:
    """Execute a started run as a task of this process, tracked so shutdown can cancel it."""
    tasks: set[asyncio.Task[Run]] = runtime.services.setdefault(BACKGROUND, set())
    task = asyncio.create_task(execute_run(runtime, tenant_id, run_id, run_input), name=f"discovery-run-{run_id}")
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def cancel_background_runs(runtime: Runtime) -> int:
    """Cancel this process's background runs and wait until each has recorded why it stopped.

    Called at shutdown; returns how many runs were cancelled.
    """
    tasks: set[asyncio.Task[Run]] = runtime.services.get(BACKGROUND, set())
    running = [task for task in tasks if not task.done()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    return len(running)


async def due_connectors(session: AsyncSession, tenant_id: uuid.UUID, default_interval: int) -> list[uuid.UUID]:
    """Enabled connectors whose last run is older than their interval (or that never ran); connectors fed
    by uploads only are run when their files arrive, never on a schedule."""
    rows = await session.execute(
        text(
            """
            SELECT c.id FROM discovery.connector c
            WHERE c.tenant_id = :tenant_id AND c.enabled AND c.kind <> 'demo'
              AND NOT ((c.kind = ANY(:upload_fed) OR (c.kind = 'kubernetes' AND c.config->>'mode' = 'offline'))
                       AND COALESCE(NULLIF(c.config->'paths', '[]'), NULLIF(c.config->'path', 'null')) IS NULL)
              AND (c.last_run_at IS NULL
                   OR c.last_run_at + make_interval(secs => COALESCE(c.interval_seconds, :interval)) <= now())
              AND NOT EXISTS (SELECT 1 FROM discovery.run r WHERE r.connector_id = c.id AND r.status = 'running'
                              AND r.started_at > now() - interval '2 hours')
            ORDER BY c.last_run_at NULLS FIRST
            """
        ),
        {"tenant_id": tenant_id, "interval": default_interval, "upload_fed": list(UPLOAD_FED)},
    )
    return [row.id for row in rows]


async def run_due(runtime: Runtime) -> int:
    """The scheduler's job: run every due connector of every tenant, one after another."""
    async with runtime.db.unit_of_work() as session:
        tenants = [tenant.id for tenant in await auth_service.list_tenants(session)]
    ran = 0
    for tenant_id in tenants:
        ran += await run_due_connectors(runtime, tenant_id)
    return ran


async def run_due_connectors(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    """Run the tenant's due connectors (enabled, interval passed, not running); returns how many ran."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        due = await due_connectors(session, tenant_id, runtime.settings.discovery.run_interval_seconds)
    ran = 0
    for connector_id in due:
        try:
            await run_now(runtime, tenant_id, connector_id, trigger="schedule")
            ran += 1
        except Conflict:
            continue  # another worker replica started it first
    return ran
