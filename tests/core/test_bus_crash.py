"""A consumer killed with SIGKILL in the middle of a batch resumes from its committed offset."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from nexora.core.bus.postgres import sequence_once
from tests.fixtures.bus import publish_batch

SCRIPT = Path(__file__).with_name("bus_worker_process.py")


def _start(database, group: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen([sys.executable, str(SCRIPT), database.app_url, group], env=env)


async def _handled(db, group: str) -> list[str]:
    async with db.unit_of_work() as session:
        rows = await session.execute(
            text("SELECT marker FROM test_bus.handled WHERE group_name = :g ORDER BY id"), {"g": group}
        )
        return [row.marker for row in rows]


async def _wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_consumer_killed_mid_batch_resumes_and_handles_every_event_exactly_once(
    runtime, database, bus_table
) -> None:
    db = runtime.db
    group = f"crash-{uuid.uuid4().hex[:8]}"
    tag = f"crash{uuid.uuid4().hex[:6]}"
    # The group has consumed all history, so its batches hold only this test's events.
    async with db.unit_of_work() as session:
        await sequence_once(session)
    async with db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO core.consumer_offset (group_name, position)"
                " SELECT :g, coalesce(max(position), 0) FROM core.outbox"
            ),
            {"g": group},
        )
    await publish_batch(db, tag, 150)
    mine = [f"{tag}-{i}" for i in range(150)]

    async def some_committed() -> bool:
        return len([m for m in await _handled(db, group) if m in mine]) >= 25

    first = _start(database, group)
    try:
        await _wait_for(some_committed)
        await asyncio.sleep(0.1)  # now inside a later batch
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    at_kill = [m for m in await _handled(db, group) if m in mine]
    assert 25 <= len(at_kill) < 150
    assert len(at_kill) % 25 == 0, "a partial batch was committed"

    async def all_done() -> bool:
        return len([m for m in await _handled(db, group) if m in mine]) >= 150

    second = _start(database, group)
    try:
        await _wait_for(all_done)
        await asyncio.sleep(0.3)  # a duplicate, if any, would land now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    handled = [m for m in await _handled(db, group) if m in mine]
    assert sorted(handled) == sorted(mine), "lost or duplicated events"
    assert handled == mine, "publish order was not kept"
