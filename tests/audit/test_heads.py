"""Signing tree heads on a schedule and on demand; the key sealed at rest; the worker wired in."""

import asyncio
import base64
import time
import uuid

import psycopg
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from nexora.assembly import worker_modules
from nexora.audit import service, worker
from nexora.audit.service.heads import sealed_keys, unseal
from nexora.core.bus.postgres import PostgresBus
from nexora.core.config import BusSettings
from nexora.workers.runtime import schedules_of, subscriptions_of
from tests.fixtures.audit import AuditLogs


async def _head_sizes(runtime, log: uuid.UUID) -> list[int]:
    async with runtime.db.unit_of_work(log) as session:
        rows = await session.scalars(
            text("SELECT tree_size FROM audit.tree_head WHERE tenant_id = :l ORDER BY signed_at"), {"l": log}
        )
        return list(rows)


def test_the_audit_role_runs_the_consumer_and_the_signing_schedule(runtime) -> None:
    assert [s.group for s in subscriptions_of(runtime, worker_modules(["audit"]))] == ["audit"]
    [schedule] = schedules_of(worker_modules(["audit"]))
    assert schedule.name == "audit-sign-tree-heads"
    assert schedule.interval_seconds == worker.SIGN_INTERVAL_SECONDS


async def test_the_schedule_signs_only_logs_that_grew(runtime, audit_logs: AuditLogs) -> None:
    log = await audit_logs.build((), 5)
    await worker.sign_heads(runtime)
    assert await _head_sizes(runtime, log) == [5]
    async with runtime.db.unit_of_work() as session:
        assert log not in await service.logs_to_sign(session)
    await worker.sign_heads(runtime)
    assert await _head_sizes(runtime, log) == [5]

    await audit_logs.publish(log, 2, start=5)
    await audit_logs.catch_up(log, 7)
    async with runtime.db.unit_of_work() as session:
        assert log in await service.logs_to_sign(session)
    await worker.sign_heads(runtime)
    assert await _head_sizes(runtime, log) == [5, 7]
    assert (await audit_logs.verify(log)).ok


async def test_the_private_key_is_stored_only_sealed(runtime, audit_logs: AuditLogs, database) -> None:
    log = await audit_logs.build((2,), 2)
    async with runtime.db.unit_of_work(log) as session:
        [key] = await sealed_keys(session, log)
        private = unseal(runtime.cipher, key)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    with psycopg.connect(database.superuser_url) as connection:
        [row] = connection.execute("SELECT row_to_json(k)::text FROM audit.signing_key k WHERE tenant_id = %s", (log,))
    for form in (raw.hex(), base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        assert form not in row[0]


async def test_a_running_bus_appends_new_events_without_help(runtime, audit_logs: AuditLogs) -> None:
    bus = PostgresBus(runtime.db, BusSettings(poll_interval_seconds=0.2))
    for subscription in worker.subscriptions(runtime):
        bus.subscribe(subscription)
    await bus.start()
    try:
        log = uuid.uuid4()
        await audit_logs.publish(log, 30)
        deadline = time.monotonic() + 30
        while await audit_logs.size(log) < 30:
            assert time.monotonic() < deadline, "the running bus did not append the events in time"
            await asyncio.sleep(0.05)
    finally:
        await bus.stop()
    await audit_logs.sign(log)
    report = await audit_logs.verify(log)
    assert report.ok
    assert report.entries == 30
