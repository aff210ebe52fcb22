"""Audit log: append rate through the bus, proof latency at 1,000,000 entries, offline verification of
a 1,000,000-entry bundle. Each figure is set against an in-run baseline on the same machine.

1. Append through the bus: a backlog of events (several tenants and the platform log) is consumed by
   the real audit consumer group (``GroupConsumer`` + ``nexora.audit.worker``) and, as the baseline,
   by a group whose handler does nothing (the bus's own ceiling). Also the storage path alone
   (``service.append`` in batches of 500, publishing to ``audit.entry``).
2. Proofs at 1,000,000 entries: the log is built with ``service.append`` (the code the consumer runs,
   ``publish=False`` so the outbox is not flooded), then random inclusion and consistency proofs are
   timed, each in its own transaction like an API request. Baselines: a ``SELECT 1`` unit of work and
   one naive root computation that rehashes every leaf.
3. ``nexora audit verify --bundle`` over the exported 1,000,000-entry bundle (the real CLI, a fresh
   process). Baseline: reading and JSON-parsing every line of the same file.

Goals (issue 6): >= 5,000 entries/s appended; proof p99 < 10 ms; verify 1M entries < 60 s.
Run: .venv/bin/python benchmarks/audit_bench.py [--entries 1000000] [--events 20000] [--proofs 2000]
     [--parts append,proofs,verify]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import bench_database
from sqlalchemy import text

from nexora.audit import merkle, service, worker
from nexora.core.bus import Subscription, write_outbox
from nexora.core.bus.postgres import GroupConsumer, sequence_once
from nexora.core.config import BusSettings
from nexora.core.db import Database
from nexora.core.events import Event

TENANTS = 8
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _events(count: int, tenants: list[uuid.UUID]) -> list[Event]:
    """Sign-in-like events spread over the tenants, one in ten without a tenant (platform log)."""
    events = []
    for i in range(count):
        tenant = None if i % 10 == 9 else tenants[i % len(tenants)]
        events.append(
            Event(
                type="auth.login_succeeded",
                data={"user_id": f"user-{i % 97}", "email": f"user-{i % 97}@bench.example", "method": "password"},
                source="nexora.auth",
                subject=f"user-{i % 97}",
                tenant_id=tenant,
                actor=f"user:{uuid.UUID(int=i % 97)}",
                request_id=f"req-{i}",
                source_address="198.51.100.7",
            )
        )
    return events


async def _consume_alternately(db: Database, subscriptions: list[Subscription], expected: int) -> list[float]:
    """Consume the same backlog with each group, one batch of each in turn, so that a change in the
    machine's load hits every group alike. Returns the seconds each group spent."""
    consumers = [GroupConsumer(db, s, BusSettings()) for s in subscriptions]
    spent = [0.0] * len(consumers)
    consumed = [0] * len(consumers)
    while min(consumed) < expected:
        for index, consumer in enumerate(consumers):
            if consumed[index] >= expected:
                continue
            started = time.perf_counter()
            batch = await consumer.process_batch()
            spent[index] += time.perf_counter() - started
            if not batch:
                raise RuntimeError(f"group {consumer.group} stopped after {consumed[index]} of {expected} events")
            consumed[index] += batch
    return spent


async def append_through_the_bus(db: Database, count: int) -> dict[str, Any]:
    tenants = [uuid.uuid4() for _ in range(TENANTS)]
    events = _events(count, tenants)
    for offset in range(0, count, 500):
        async with db.unit_of_work() as session:
            await write_outbox(session, events[offset : offset + 500])
    while True:
        async with db.unit_of_work() as session:
            if not await sequence_once(session):
                break

    async def nothing(event: Event, session: Any) -> None:
        return None

    noop = Subscription("bench-noop", worker.audited_topics(), nothing)
    baseline, audit = await _consume_alternately(db, [noop, *worker.subscriptions(None)], count)  # type: ignore[arg-type]
    logged = 0
    for log in (*tenants, service.PLATFORM_LOG):
        async with db.unit_of_work(log) as session:
            logged += await service.log_size(session, log)
    assert logged == count, f"{logged} of {count} events were logged"

    storage_log = uuid.uuid4()
    drafts = [service.draft_from_event(e) for e in _events(count, [storage_log])]
    drafts = [d for d in drafts if d.log == storage_log]
    started = time.perf_counter()
    for offset in range(0, len(drafts), 500):
        async with db.unit_of_work(storage_log) as session:
            await service.append(session, storage_log, drafts[offset : offset + 500])
    storage = time.perf_counter() - started
    return {
        "events": count,
        "bus_noop_per_s": round(count / baseline),
        "audit_through_bus_per_s": round(count / audit),
        "audit_rate_vs_noop": round(baseline / audit, 2),
        "storage_append_per_s": round(len(drafts) / storage),
    }


async def build_log(db: Database, entries: int) -> tuple[uuid.UUID, float]:
    log = uuid.uuid4()
    chunk = 20_000
    started = time.perf_counter()
    for offset in range(0, entries, chunk):
        size = min(chunk, entries - offset)
        drafts = [
            service.EntryDraft(
                log=log,
                event_id=uuid.uuid4(),
                occurred_at=EPOCH + timedelta(milliseconds=offset + i),
                actor=f"user:{uuid.UUID(int=(offset + i) % 1000)}",
                action="auth.login_succeeded",
                target=f"user-{(offset + i) % 1000}",
                outcome="success",
                source="nexora.auth",
                source_address="198.51.100.7",
                request_id=f"req-{offset + i}",
                payload=json.dumps({"method": "password", "user_id": f"user-{(offset + i) % 1000}"}, sort_keys=True),
            )
            for i in range(size)
        ]
        async with db.unit_of_work(log) as session:
            await service.append(session, log, drafts, publish=False)
        if (offset // chunk) % 10 == 9:
            rate = (offset + size) / (time.perf_counter() - started)
            print(f"  built {offset + size:,} entries ({rate:,.0f}/s)", flush=True)
    return log, time.perf_counter() - started


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 3),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 3),
        "max_ms": round(1000 * ordered[-1], 3),
    }


async def proof_latency(db: Database, log: uuid.UUID, size: int, count: int) -> dict[str, Any]:
    rng = random.Random(6)
    async with db.unit_of_work(log) as session:
        root = await service.root_at(session, log, size)
    floor, inclusion, consistency = [], [], []
    for _ in range(count):
        started = time.perf_counter()
        async with db.unit_of_work(log) as session:
            await session.execute(text("SELECT 1"))
        floor.append(time.perf_counter() - started)

        seq = rng.randrange(size)
        started = time.perf_counter()
        async with db.unit_of_work(log) as session:
            proof = await service.inclusion_proof(session, log, seq, size)
        inclusion.append(time.perf_counter() - started)
        assert merkle.verify_inclusion(seq, size, proof.leaf_hash, proof.path, root)

        first = rng.randrange(1, size)
        started = time.perf_counter()
        async with db.unit_of_work(log) as session:
            result = await service.consistency_proof(session, log, first, size)
        consistency.append(time.perf_counter() - started)
        assert merkle.verify_consistency(first, size, result.first_root, result.second_root, result.path)

    in_transaction = []
    async with db.unit_of_work(log) as session:
        for _ in range(count):
            seq = rng.randrange(size)
            started = time.perf_counter()
            await service.inclusion_proof(session, log, seq, size)
            in_transaction.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with db.unit_of_work(log) as session:
        leaves = [
            bytes(h)
            for h in await session.scalars(
                text("SELECT leaf_hash FROM audit.entry WHERE tenant_id = :l ORDER BY seq"), {"l": log}
            )
        ]
    frontier = merkle.Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.root() == root
    naive = time.perf_counter() - started
    return {
        "proofs": count,
        "unit_of_work_select_1": _percentiles(floor),
        "inclusion": _percentiles(inclusion),
        "consistency": _percentiles(consistency),
        "inclusion_inside_an_open_transaction": _percentiles(in_transaction),
        "naive_root_by_rehashing_all_leaves_ms": round(1000 * naive),
    }


async def export_bundle(db: Database, log: uuid.UUID, path: Path) -> float:
    started = time.perf_counter()
    with path.open("wb") as handle:
        async for line in service.bundle_lines(db, log):
            handle.write(line)
    return time.perf_counter() - started


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def verify_bundle(path: Path) -> dict[str, Any]:
    """Wall time and CPU time: on a shared machine the CPU seconds are the load-independent figure."""
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as handle:
        parsed = sum(1 for line in handle if json.loads(line))
    parse_only, parse_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "nexora", "audit", "verify", "--bundle", str(path), "--format", "json"],
        capture_output=True,
        text=True,
    )
    elapsed, verify_cpu = time.perf_counter() - started, _children_cpu() - cpu
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert report["ok"], report["problems"]
    return {
        "lines": parsed,
        "bundle_mb": round(path.stat().st_size / 2**20),
        "parse_only_s": round(parse_only, 1),
        "parse_only_cpu_s": round(parse_cpu, 1),
        "verify_cli_s": round(elapsed, 1),
        "verify_cli_cpu_s": round(verify_cpu, 1),
        "verify_vs_parse_ratio": round(elapsed / parse_only, 2),
        "entries_verified": report["entries"],
    }


async def run(args: argparse.Namespace, app_url: str) -> None:
    parts = set(args.parts.split(","))
    db = Database(app_url)
    bundle = Path(tempfile.mkdtemp(prefix="nexora-audit-bench-")) / "audit.jsonl"
    try:
        if "append" in parts:
            appended = await append_through_the_bus(db, args.events)
            print(json.dumps({"append": appended}), flush=True)
            print(
                f"append through the bus: {appended['audit_through_bus_per_s']:,} entries/s (goal >= 5,000); "
                f"bus with a no-op handler {appended['bus_noop_per_s']:,}/s (audit reaches "
                f"{appended['audit_rate_vs_noop']}x of it); storage path alone {appended['storage_append_per_s']:,}/s",
                flush=True,
            )
        if not parts & {"proofs", "verify"}:
            return
        log, built = await build_log(db, args.entries)
        print(json.dumps({"build": {"entries": args.entries, "seconds": round(built, 1)}}), flush=True)
        async with db.unit_of_work(log) as session:
            await service.sign_tree_head(session, _cipher(), log)
        if "proofs" in parts:
            proofs = await proof_latency(db, log, args.entries, args.proofs)
            print(json.dumps({"proofs": proofs}), flush=True)
            print(
                f"proofs at {args.entries:,} entries: inclusion p99 {proofs['inclusion']['p99_ms']} ms, "
                f"consistency p99 {proofs['consistency']['p99_ms']} ms (goal < 10 ms); inside an open transaction "
                f"p99 {proofs['inclusion_inside_an_open_transaction']['p99_ms']} ms; SELECT 1 unit of work p99 "
                f"{proofs['unit_of_work_select_1']['p99_ms']} ms; "
                f"naive rehash {proofs['naive_root_by_rehashing_all_leaves_ms']} ms",
                flush=True,
            )
        if "verify" in parts:
            exported = await export_bundle(db, log, bundle)
            print(json.dumps({"export": {"seconds": round(exported, 1)}}), flush=True)
    finally:
        await db.dispose()
    if "verify" in parts:
        verified = verify_bundle(bundle)
        bundle.unlink()
        print(json.dumps({"verify": verified}), flush=True)
        print(
            f"verify --bundle of {verified['entries_verified']:,} entries: {verified['verify_cli_s']} s wall, "
            f"{verified['verify_cli_cpu_s']} s CPU (goal < 60 s); parse-only baseline {verified['parse_only_s']} s "
            f"wall, {verified['parse_only_cpu_s']} s CPU ({verified['verify_vs_parse_ratio']}x wall)"
        )


def _cipher() -> Any:
    import secrets

    from nexora.core.crypto import EnvelopeCipher, LocalKeyWrapper

    return EnvelopeCipher(LocalKeyWrapper(secrets.token_bytes(32)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="Size of the log for proofs and verify.")
    parser.add_argument("--events", type=int, default=20_000, help="Events appended through the bus.")
    parser.add_argument("--proofs", type=int, default=2_000, help="Proofs of each kind timed.")
    parser.add_argument("--parts", default="append,proofs,verify", help="Which measurements to run.")
    args = parser.parse_args()
    with bench_database() as database:
        asyncio.run(run(args, database.app_url))


if __name__ == "__main__":
    main()
