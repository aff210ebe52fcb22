"""Event to alert through the bus, on both backends in one run: activity records published on the
``nhi.activity`` topic at a steady rate are scored by a real ``nexora worker --role analytics`` process; a
share of them are attacks (a fresh identity creating an access key for another user), and the time from
publishing an attack to its alert being visible in the database is the latency.

Processes, as deployed: the publisher (this script, through the outbox like any Nexora service), a
``nexora api`` process (which relays the outbox to Kafka on that backend, and sequences it on PostgreSQL),
and the analytics worker. Each backend gets a fresh database (and a fresh tansu broker for Kafka).
The worker's resident memory is sampled every 10 s: over a long run (``--seconds 600``) it must stay flat.

Goal (issue 14): p99 event-to-alert latency < 2 s at 5,000 events/s on both backends.

Run: .venv/bin/python benchmarks/analytics_bus_bench.py [--rate 5000] [--seconds 60] [--backends postgres,kafka]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from _harness import api_process, bench_database, nexora_env

from nexora.core.bus import publish
from nexora.core.config import DatabaseSettings
from nexora.core.db import Database

PER_EVENT = 50  # records per nhi.activity event
ATTACKS_PER_SECOND = 10


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(rng: random.Random, key: str, user: str, name: str, request: dict[str, Any] | None) -> str:
    return json.dumps(
        {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "arn": f"arn:aws:iam::111122223333:user/{user}",
                "accountId": "111122223333",
                "accessKeyId": key,
                "userName": user,
            },
            "eventTime": _iso(datetime.now(UTC)),
            "eventSource": "iam.amazonaws.com" if name == "CreateAccessKey" else "s3.amazonaws.com",
            "eventName": name,
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "198.51.100.9",
            "userAgent": "Boto3/1.34.10 Python/3.11.6",
            "requestParameters": request,
            "responseElements": None,
            "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333",
        }
    )


def _key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


async def _publish(db: Database, tenant: uuid.UUID, rate: int, seconds: float, sent: dict[str, float]) -> int:
    """Publish ``rate`` records/s for ``seconds`` in events of PER_EVENT records, attacks spread evenly."""
    rng = random.Random(11)
    routine = [(_key(rng), f"svc-{i}") for i in range(200)]
    events_per_second = rate / PER_EVENT
    attack_every = max(1, round(events_per_second / ATTACKS_PER_SECOND))
    started = time.monotonic()
    published = 0
    number = 0
    while time.monotonic() - started < seconds:
        due = started + number / events_per_second
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        records = []
        victim = None
        for i in range(PER_EVENT):
            if i == 0 and number % attack_every == 0:
                victim = f"victim-{number}"
                records.append(_record(rng, _key(rng), f"intruder-{number}", "CreateAccessKey", {"userName": victim}))
            else:
                key, user = rng.choice(routine)
                records.append(_record(rng, key, user, "GetObject", {"bucketName": "data"}))
        async with db.unit_of_work(tenant) as session:
            await publish(
                session,
                "nhi.activity",
                {"source": "cloudtrail", "origin": "bench", "records": records},
                source="bench",
                tenant_id=tenant,
            )
        if victim is not None:
            sent[victim] = time.time()
        published += len(records)
        number += 1
    return published


def _seen(owner_url: str, sent: dict[str, float], seen: dict[str, float], stop: float, done: list[bool]) -> None:
    """Poll the alerts (as the owner) every 20 ms, noting when each attack's alert became visible, until the
    publisher has finished and every attack is seen (or the deadline)."""
    with psycopg.connect(owner_url, autocommit=True) as connection:
        while time.time() < stop and not (done and len(seen) >= len(sent)):
            rows = connection.execute(
                "SELECT explanation->>'target_user' FROM analytics.alert "
                "WHERE detector = 'persistence.create_key_other_user'"
            ).fetchall()
            now = time.time()
            for (victim,) in rows:
                if victim and victim not in seen:
                    seen[victim] = now
            time.sleep(0.02)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def run(backend: str, rate: int, seconds: float) -> dict[str, Any]:
    from bus_bench import tansu

    data_dir = Path(tempfile.mkdtemp(prefix="nexora-bench-"))
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(bench_database())
        env = {"NEXORA_BUS": backend, "NEXORA_BUS_BATCH_SIZE": "20", "NEXORA_BUS_POLL_INTERVAL_SECONDS": "0.05"}
        if backend == "kafka":
            env["NEXORA_KAFKA_BOOTSTRAP_SERVERS"] = stack.enter_context(tansu())
        stack.enter_context(api_process(database, data_dir, **env))
        worker = subprocess.Popen(
            [sys.executable, "-m", "nexora", "worker", "--role", "analytics"],
            env=nexora_env(database, data_dir, **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(8 if backend == "kafka" else 3)  # the consumer group joins
            with psycopg.connect(database.owner_url) as connection:
                (tenant,) = connection.execute("SELECT id FROM auth.tenant LIMIT 1").fetchone()
            return asyncio.run(_measure(database, tenant, rate, seconds, worker.pid))
        finally:
            worker.terminate()
            worker.wait(30)


async def _measure(database: Any, tenant: uuid.UUID, rate: int, seconds: float, worker_pid: int) -> dict[str, Any]:
    db = Database(database.app_url, DatabaseSettings(pool_size=4, max_overflow=0))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    memory: list[float] = []
    process = psutil.Process(worker_pid)
    stop = time.time() + seconds + 30
    done: list[bool] = []
    poller = asyncio.get_running_loop().run_in_executor(None, _seen, database.owner_url, sent, seen, stop, done)

    async def sample() -> None:
        while time.time() < stop - 30:
            memory.append(process.memory_info().rss / 1e6)
            await asyncio.sleep(10)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    published = await _publish(db, tenant, rate, seconds, sent)
    elapsed = time.monotonic() - started
    done.append(True)
    await poller
    sampler.cancel()
    await db.dispose()
    latencies = [seen[victim] - sent[victim] for victim in sent if victim in seen]
    return {
        "published_per_second": published / elapsed,
        "attacks": len(sent),
        "alerted": len(latencies),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": _percentile(latencies, 0.99) if latencies else float("nan"),
        "max": max(latencies) if latencies else float("nan"),
        "rss_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=5000, help="Records per second published.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--backends", default="postgres,kafka")
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(__file__))
    results = {backend: run(backend, args.rate, args.seconds) for backend in args.backends.split(",")}
    print("| backend | records/s published | attacks | alerted | p50 s | p99 s | max s | worker RSS MB (every 10 s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for backend, result in results.items():
        rss = " ".join(f"{value:.0f}" for value in result["rss_mb"])
        print(
            f"| {backend} | {result['published_per_second']:,.0f} | {result['attacks']} | {result['alerted']} | "
            f"{result['p50']:.3f} | {result['p99']:.3f} | {result['max']:.3f} | {rss} |"
        )


if __name__ == "__main__":
    main()
