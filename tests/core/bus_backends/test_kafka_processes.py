"""Kafka worker processes: SIGKILL mid-batch and restart, and two members of one group."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from aiokafka.partitioner import murmur2
from sqlalchemy import text

from nexora.core.bus import publish
from tests.core.bus_backends.harness import unique, wait_for
from tests.fixtures.kafka import TEST_PARTITIONS

SCRIPT = Path(__file__).with_name("kafka_worker_process.py")


class Worker:
    """One worker process and the state file it keeps its assignment in."""

    def __init__(self, database, broker, group: str, name: str, tag: str, handle_ms: int) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="nexora-kafka-worker-")) / "state.json"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}
        args = [database.app_url, broker.bootstrap_servers, group, name, tag, str(self.state), str(handle_ms)]
        self.process = subprocess.Popen([sys.executable, str(SCRIPT), *args], env=env)

    def partitions(self) -> list[int]:
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited with {self.process.returncode}")
        try:
            return list(json.loads(self.state.read_text())["partitions"])
        except (FileNotFoundError, ValueError):
            return []

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        self.process.wait(15)


async def _handled(db, group: str) -> list[tuple[str, str, str, str]]:
    async with db.unit_of_work() as session:
        rows = await session.execute(
            text("SELECT worker, event_id, subject, marker FROM test_kafka.handled WHERE group_name = :g ORDER BY id"),
            {"g": group},
        )
        return [(row.worker, str(row.event_id), row.subject, row.marker) for row in rows]


async def _publish(db, tag: str, start: int, count: int, subjects: list[str]) -> list[tuple[str, str]]:
    published = []
    async with db.unit_of_work() as session:
        for i in range(start, start + count):
            subject, marker = subjects[i % len(subjects)], f"{tag}-{i:04d}"
            await publish(session, "auth.logout", {"user_id": marker}, source="tests", subject=subject)
            published.append((subject, marker))
    return published


async def test_a_worker_killed_mid_batch_then_restarted_handles_every_event_once_in_order(
    runtime, database, kafka_broker, kafka_table
) -> None:
    db = runtime.db
    tag, group = unique("crash"), unique("crash")
    subjects = [f"{tag}-s{i}" for i in range(5)]
    published = await _publish(db, tag, 0, 100, subjects)

    async def publish_more() -> None:
        # Publishing goes on while the worker dies and comes back: the relay is killed too.
        for batch in range(10):
            published.extend(await _publish(db, tag, 100 + batch * 10, 10, subjects))
            await asyncio.sleep(0.1)

    first = Worker(database, kafka_broker, group, "first", tag, handle_ms=15)
    publisher = asyncio.create_task(publish_more())
    try:

        async def some_handled() -> bool:
            return len(await _handled(db, group)) >= 30

        await wait_for(some_handled, timeout=60)
    finally:
        first.kill(signal.SIGKILL)
    at_kill = await _handled(db, group)
    second = Worker(database, kafka_broker, group, "second", tag, handle_ms=15)
    try:
        await publisher

        async def all_handled() -> bool:
            return len({row[3] for row in await _handled(db, group)}) == len(published)

        await wait_for(all_handled, timeout=90)
    finally:
        second.kill(signal.SIGTERM)

    handled = await _handled(db, group)
    assert 30 <= len(at_kill) < len(published), "the worker was not killed in the middle of the work"
    markers = [row[3] for row in handled]
    assert sorted(markers) == sorted(m for _, m in published), "lost or duplicated events"
    assert len(markers) == len(set(markers)), "an event was handled twice"
    for subject in {s for s, _ in published}:
        assert [row[3] for row in handled if row[2] == subject] == [m for s, m in published if s == subject]
    async with db.unit_of_work() as session:
        unrelayed = await session.scalar(
            text("SELECT count(*) FROM core.outbox WHERE envelope->'data'->>'user_id' LIKE :t AND relayed_at IS NULL"),
            {"t": f"{tag}-%"},
        )
    assert unrelayed == 0


def _partition(subject: str) -> int:
    """The partition of a key, as the Java clients and librdkafka's murmur2 partitioner choose it."""
    return (murmur2(subject.encode()) & 0x7FFFFFFF) % TEST_PARTITIONS


def _subjects_on_every_partition(tag: str) -> list[str]:
    subjects: list[str] = []
    while len({_partition(s) for s in subjects}) < TEST_PARTITIONS or len(subjects) < 12:
        subjects.append(f"{tag}-s{len(subjects)}")
    return subjects


async def test_two_workers_in_one_group_split_the_partitions_and_handle_every_event_once(
    runtime, database, kafka_broker, kafka_table
) -> None:
    db = runtime.db
    tag, group = unique("split"), unique("split")
    workers = [Worker(database, kafka_broker, group, name, tag, handle_ms=0) for name in ("one", "two")]
    try:

        async def split() -> bool:
            one, two = (set(worker.partitions()) for worker in workers)
            return bool(one) and bool(two) and not one & two and one | two == set(range(TEST_PARTITIONS))

        await wait_for(split, timeout=60, message="the two workers never split the partitions between them")
        assignment = {name: set(worker.partitions()) for name, worker in zip(("one", "two"), workers, strict=True)}
        published = await _publish(db, tag, 0, 60, _subjects_on_every_partition(tag))

        async def all_handled() -> bool:
            return len(await _handled(db, group)) >= len(published)

        await wait_for(all_handled, timeout=60)
        assert assignment == {name: set(w.partitions()) for name, w in zip(("one", "two"), workers, strict=True)}
    finally:
        for worker in workers:
            worker.kill(signal.SIGTERM)

    handled = await _handled(db, group)
    assert sorted(row[3] for row in handled) == sorted(m for _, m in published)
    by_worker = {name: [row for row in handled if row[0] == name] for name in assignment}
    assert all(by_worker.values()), "one worker handled nothing"
    for name, rows in by_worker.items():
        assert {_partition(row[2]) for row in rows} <= assignment[name]
