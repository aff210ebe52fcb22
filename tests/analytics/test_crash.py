"""A real `nexora worker --role analytics` killed with SIGKILL in the middle of scoring activity from the
bus: after a restart every record is stored and counted in its profile exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from nexora.analytics import service
from nexora.core.bus import publish
from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from tests.analytics.cloudtrail import user_call
from tests.analytics.conftest import Inventoried
from tests.fixtures.live import process_env

EVENTS, RECORDS = 40, 50


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = process_env(
        settings, NEXORA_BUS_BATCH_SIZE="4", NEXORA_BUS_POLL_INTERVAL_SECONDS="0.2", NEXORA_LOG_LEVEL="warning"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "nexora", "worker", "--role", "analytics"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _stored(runtime: Runtime, tenant) -> int:
    async with runtime.db.unit_of_work(tenant) as session:
        return int((await session.execute(text("SELECT count(*) FROM analytics.activity"))).scalar_one())


async def _until(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    runtime: Runtime, settings: Settings, inventoried: Inventoried
) -> None:
    tenant = inventoried.admin.tenant_id
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    async with runtime.db.unit_of_work(tenant) as session:
        for number in range(EVENTS):
            records = [
                json.dumps(
                    user_call(
                        "GetObject",
                        user=inventoried.user,
                        key_id=inventoried.key_id,
                        at=start + timedelta(seconds=number * RECORDS + i),
                        source="s3.amazonaws.com",
                    )
                )
                for i in range(RECORDS)
            ]
            await publish(
                session,
                "nhi.activity",
                {"source": "cloudtrail", "origin": "crash", "records": records},
                source="tests",
                tenant_id=tenant,
            )
    total = EVENTS * RECORDS

    first = _worker(settings)
    try:

        async def some() -> bool:
            return await _stored(runtime, tenant) >= 4 * RECORDS

        await _until(some)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    at_kill = await _stored(runtime, tenant)
    assert RECORDS <= at_kill < total, "killed in the middle"
    assert at_kill % RECORDS == 0, "a bus event's records commit together"

    second = _worker(settings)
    try:

        async def everything() -> bool:
            return await _stored(runtime, tenant) >= total

        await _until(everything)
        await asyncio.sleep(1.0)  # anything redelivered would have been stored (or counted) by now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    assert await _stored(runtime, tenant) == total
    async with runtime.db.unit_of_work(tenant) as session:
        identity = await service.get_identity(session, tenant, f"aws:key/{inventoried.key_id}")
        distinct = (
            await session.execute(text("SELECT count(DISTINCT source_event_id) FROM analytics.activity"))
        ).scalar_one()
    assert distinct == total
    assert identity["event_count"] == total, "each record counted in the profile exactly once"
