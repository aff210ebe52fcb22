"""Inventory benchmark: 100,000 NHIs and 300,000 edges through a run's load path, then API latency.

Loads through ``discovery.service.load`` (what a connector run does: batched set-based upserts, an
``nhi.discovered`` event per NHI written to the outbox, edge resolution, the sweep) and reports the NHI
upsert rate (goal >= 5,000 NHIs/s) with the CPU it took per NHI in Python and in PostgreSQL, the cost of
the events alone, the rate of a re-run where nothing changed, and p50/p99 against a real ``nexora api``
process of a filtered, sorted first page and of a deep cursor page of ``GET /api/v1/nhis`` (goal p99 <
100 ms), of text searches, and of a depth-3 blast radius (goal p99 < 200 ms). Each figure sits next to a
baseline measured in the same run: one statement per NHI, one unnest INSERT of the events, OFFSET
paging, the ``/auth/me`` floor, depth 1. The load average is printed: the machine is shared.

    .venv/bin/python benchmarks/inventory_bench.py        # BENCH_NHIS / BENCH_EDGES / BENCH_SAMPLES to resize
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from _harness import SUPERUSER_URL, api_process, bench_database

from nexora.assembly import open_runtime
from nexora.core.bus import write_outbox
from nexora.core.config import CryptoSettings, DatabaseSettings, Settings
from nexora.core.events import check_payload
from nexora.core.ids import utcnow, uuid7
from nexora.discovery import service
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord

NHIS = int(os.environ.get("BENCH_NHIS", "100000"))
EDGES = int(os.environ.get("BENCH_EDGES", "300000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
ROW_BASELINE = 500
OUTBOX_EVENTS = 20000
KINDS = ["iam_user", "iam_role", "access_key", "k8s_service_account", "ci_secret", "managed_secret"]
rng = random.Random(42)


def records() -> list[NhiRecord]:
    now = utcnow()
    found = []
    for index in range(NHIS):
        kind = KINDS[index % len(KINDS)]
        found.append(
            NhiRecord(
                provider="aws" if index % 3 else "kubernetes",
                kind=kind,
                external_id=f"bench-{index}",
                name=f"{kind}-{index:06d}",
                account=str(100000000000 + index % 40),
                environment=rng.choice(["prod", "staging", "dev", "unknown"]),
                owner=rng.choice(["payments", "platform", "data", None]),
                owner_source="tag",
                created_at=now - timedelta(days=index % 400),
                last_used_at=now - timedelta(hours=index % 2000) if index % 5 else None,
                privilege_level=rng.choice(["admin", "high", "medium", "low"]),
                permissions={"policies": [f"policy-{index % 50}"]},
                attributes={"path": "/", "index": index, "tags": {"team": f"team-{index % 12}"}},
            )
        )
    return found


def edges() -> list[EdgeRecord]:
    kinds = ["can_assume", "grants_access_to", "has_credential", "used_by"]
    found = set()
    while len(found) < EDGES:
        source = rng.randrange(NHIS)
        # Mostly local neighbourhoods, like accounts: chains stay bounded in size.
        target = (source + rng.randint(1, 50)) % NHIS
        found.add((source, target, rng.choice(kinds)))
    return [EdgeRecord(f"bench-{s}", f"bench-{t}", kind) for s, t, kind in sorted(found)]


def python_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu(database: str) -> float:
    """CPU seconds (user + system) the server processes of ``database`` have used so far (from /proc)."""
    with psycopg.connect(SUPERUSER_URL) as connection:
        pids = [
            row[0] for row in connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))
        ]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(client: httpx.Client, path: str, params: dict | None = None, samples: int = SAMPLES) -> list[float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path, params=params)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return latencies


def line(label: str, values: list[float], goal: float | None = None) -> str:
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    verdict = "" if goal is None else ("  (goal met)" if p99 < goal else f"  (GOAL {goal:.0f} ms MISSED)")
    return f"{label:<46} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms{verdict}"


def rate_line(label: str, count: int, seconds: float, unit: str, goal: float | None = None) -> str:
    rate = count / seconds
    verdict = "" if goal is None else ("  (goal met)" if rate >= goal else f"  (GOAL {goal:,.0f}/s MISSED)")
    return f"{label:<46} {rate:9,.0f} {unit}/s  ({count:,} in {seconds:.1f} s){verdict}"


async def load_inventory(
    settings: Settings, database: str, tenant_id: uuid.UUID, nhis: list[NhiRecord], relationships: list[EdgeRecord]
) -> dict[str, Any]:
    """Run the load path twice (first load, then nothing changed) plus the one-statement-per-row baseline."""
    async with open_runtime(settings) as runtime:
        async with runtime.db.unit_of_work(tenant_id) as session:
            connector = await service.create_connector(
                session,
                runtime.cipher,
                tenant_id,
                name="bench",
                kind="demo",
                config={},
                credentials=None,
                interval_seconds=None,
            )
        figures = {}
        collection = Collection(nhis=nhis, edges=relationships)
        batches = -(-len(nhis) // settings.discovery.load_batch_size)
        for label in ("first", "again"):
            marks: dict[str, float] = {}
            calls = [0]

            async def on_batch(done: object, marks: dict[str, float] = marks, calls: list[int] = calls) -> None:
                marks["nhis"] = time.perf_counter()  # the last call ends the NHI phase (edges follow)
                calls[0] += 1
                if calls[0] == batches:
                    marks["python"], marks["postgres"] = python_cpu(), postgres_cpu(database)

            # The pool's connections exist before the clock starts, so /proc sees their whole work.
            await asyncio.gather(*(runtime.db.ping() for _ in range(settings.discovery.load_concurrency + 1)))
            cpu_before = python_cpu(), postgres_cpu(database)
            started = time.perf_counter()
            result = await service.load(
                runtime, tenant_id, connector.id, uuid7(), collection, record_changes=False, on_batch=on_batch
            )
            finished = time.perf_counter()
            figures[label] = (marks["nhis"] - started, finished - marks["nhis"], finished - started, result)
            figures[f"{label}-cpu"] = (marks["python"] - cpu_before[0], marks["postgres"] - cpu_before[1])

        # Baseline: the same kind of records, one upsert statement (and transaction) per NHI.
        started = time.perf_counter()
        for record in nhis[:ROW_BASELINE]:
            async with runtime.db.unit_of_work(tenant_id) as session:
                await service.upsert_nhis(
                    session,
                    tenant_id=tenant_id,
                    connector_id=connector.id,
                    run_id=uuid7(),
                    records=[NhiRecord(**{**record.__dict__, "external_id": "row-" + record.external_id})],
                    now=utcnow(),
                    record_changes=False,
                )
        figures["row"] = (time.perf_counter() - started,)
        figures["outbox"] = await measure_outbox(runtime, database, tenant_id)
        return figures


async def measure_outbox(runtime: Any, database: str, tenant_id: uuid.UUID) -> dict[str, tuple[float, ...]]:
    """What the first load's events cost alone: ``write_outbox`` against one set-based INSERT of the same rows.

    Both run in transactions that are rolled back; CPU is Python (this process) and PostgreSQL (/proc).
    """
    count, found = OUTBOX_EVENTS, {}
    for label in ("write_outbox", "unnest"):
        events = service.build_events(
            "nhi.discovered",
            [
                {
                    "nhi_id": str(uuid7()),
                    "connector_id": str(tenant_id),
                    "provider": "aws",
                    "kind": "access_key",
                    "external_id": f"outbox-{index}",
                    "name": f"access_key-{index:06d}",
                    "account": "100000000000",
                    "environment": "prod",
                }
                for index in range(count)
            ],
            tenant_id,
        )
        cpu_before, started = (python_cpu(), postgres_cpu(database)), time.perf_counter()
        for start in range(0, count, 2000):
            chunk = events[start : start + 2000]
            async with runtime.db.sessionmaker() as session, session.begin():
                if label == "write_outbox":
                    await write_outbox(session, chunk)
                else:
                    for event in chunk:
                        check_payload(event.type, event.data)
                    await session.execute(
                        text(
                            "INSERT INTO core.outbox (event_id, topic, type, key, tenant_id, envelope) "
                            "SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:topic AS text[]), CAST(:type AS text[]), "
                            "CAST(:key AS text[]), CAST(:tenant AS uuid[]), CAST(:envelope AS jsonb[]))"
                        ),
                        {
                            "id": [event.id for event in chunk],
                            "topic": [event.topic for event in chunk],
                            "type": [event.type for event in chunk],
                            "key": [event.key for event in chunk],
                            "tenant": [event.tenant_id for event in chunk],
                            "envelope": [json.dumps(event.to_cloudevent()) for event in chunk],
                        },
                    )
                await session.rollback()
        elapsed = time.perf_counter() - started
        found[label] = (elapsed, python_cpu() - cpu_before[0], postgres_cpu(database) - cpu_before[1])
    return found


def main() -> None:
    print(f"inventory benchmark: {NHIS:,} NHIs, {EDGES:,} edges, {SAMPLES} samples per query", flush=True)
    nhis, relationships = records(), edges()
    load_before = os.getloadavg()
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    with bench_database() as database, api_process(database, NEXORA_CRYPTO_MASTER_KEY=master_key) as url:
        login = httpx.post(
            f"{url}/api/v1/auth/login", json={"email": "bench@nexora.example", "password": "bench-admin-password"}
        ).json()
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        tenant_id = httpx.get(f"{url}/api/v1/auth/me", headers=headers).json()["tenant_id"]
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="nexora-bench-")),
            database=DatabaseSettings(url=SecretStr(database.app_url), owner_url=SecretStr(database.owner_url)),
            crypto=CryptoSettings(master_key=SecretStr(master_key)),
        )
        name = make_url(database.app_url).database
        figures = asyncio.run(load_inventory(settings, name, uuid.UUID(tenant_id), nhis, relationships))

        with psycopg.connect(database.owner_url, autocommit=True) as connection:
            # Scores come from posture in real runs; spread them so sorting by risk is meaningful. Then
            # what a run does after posture: statistics and the search index's pending list.
            connection.execute("UPDATE discovery.nhi SET risk_score = (hashtext(external_id) & 100)")
            connection.execute("SELECT discovery.refresh_statistics(%s, 0)", (NHIS,))
            ids = [
                row[0]
                for row in connection.execute(
                    "SELECT id FROM discovery.nhi WHERE external_id LIKE 'bench-%%' ORDER BY md5(id::text) LIMIT %s",
                    (SAMPLES,),
                )
            ]
            offset_ms = []
            for _ in range(SAMPLES // 4):
                started = time.perf_counter()
                connection.execute(
                    "SELECT * FROM discovery.nhi WHERE tenant_id = %s ORDER BY risk_score DESC, id DESC "
                    "OFFSET 30000 LIMIT 100",
                    (tenant_id,),
                ).fetchall()
                offset_ms.append((time.perf_counter() - started) * 1000)

        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            filtered = {"provider": "aws", "kind": "access_key", "environment": "prod", "sort": "-risk", "limit": 50}
            timed(client, "/api/v1/nhis", filtered, samples=10)  # warm-up
            floor = timed(client, "/api/v1/auth/me")
            first = timed(client, "/api/v1/nhis", filtered)
            cursor, depth = None, 0
            while depth < 300:
                page = client.get("/api/v1/nhis", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
                cursor, depth = page.json()["next_cursor"], depth + 1
            deep = timed(client, "/api/v1/nhis", {"limit": 100, "cursor": cursor})
            # Text search: a substring of a few names (the trigram index finds them), and of a quarter of the rows.
            search = timed(client, "/api/v1/nhis", {"q": "-00012", "limit": 50}, samples=SAMPLES // 4)
            broad = timed(client, "/api/v1/nhis", {"q": "payments", "limit": 50}, samples=SAMPLES // 4)
            blast, blast_one, sizes = [], [], []
            for nhi_id in ids:
                started = time.perf_counter()
                response = client.get(f"/api/v1/nhis/{nhi_id}/graph", params={"depth": 3})
                blast.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
                sizes.append(len(response.json()["nodes"]))
                started = time.perf_counter()
                client.get(f"/api/v1/nhis/{nhi_id}/graph", params={"depth": 1})
                blast_one.append((time.perf_counter() - started) * 1000)
    load_after = os.getloadavg()

    nhi_seconds, edge_seconds, _, result = figures["first"]
    again_nhis, again_edges, _, again = figures["again"]
    assert result.discovered == NHIS, result
    assert (again.discovered, again.changed, again.removed) == (0, 0, 0), again
    print(rate_line("load NHIs (set-based upsert + outbox events)", NHIS, nhi_seconds, "NHIs", 5000))
    python_us, postgres_us = (seconds / NHIS * 1e6 for seconds in figures["first-cpu"])
    # Python is one thread; the database uses the other CPU: whichever bound is lower limits an idle machine.
    ceiling = min(1e6 / python_us, 2e6 / (python_us + postgres_us))
    print(
        f"{'  CPU per NHI (first load)':<46} python {python_us:5.0f} us, postgres {postgres_us:5.0f} us"
        f"  -> at most {ceiling:,.0f} NHIs/s on 2 idle CPUs"
    )
    print(rate_line("  baseline: one statement per NHI", ROW_BASELINE, figures["row"][0], "NHIs"))
    names = {
        "write_outbox": "  events alone: core.bus.write_outbox",
        "unnest": "  events alone: hand-written unnest INSERT",
    }
    for label, (seconds, python_s, postgres_s) in figures["outbox"].items():
        python_us, postgres_us = python_s / OUTBOX_EVENTS * 1e6, postgres_s / OUTBOX_EVENTS * 1e6
        print(
            rate_line(names[label], OUTBOX_EVENTS, seconds, "events") + f"  cpu {python_us:.0f} + {postgres_us:.0f} us"
        )
    print(rate_line("load edges (resolved by external id)", result.edges, edge_seconds, "edges"))
    print(rate_line("re-run, nothing changed: NHIs", NHIS, again_nhis, "NHIs"))
    print(rate_line("re-run, nothing changed: edges", again.edges, again_edges, "edges"))
    print(line("  floor: GET /auth/me (HTTP + auth, no query)", floor))
    print(line("GET /nhis filtered+sorted first page", first, 100))
    print(line(f"GET /nhis deep cursor page (row {depth * 100:,})", deep, 100))
    print(line("  baseline: OFFSET 30,000 (SQL only)", offset_ms))
    print(line("GET /nhis?q=-00012 (10 matches; no goal)", search))
    print(line("GET /nhis?q=payments (25% match; no goal)", broad))
    print(line("GET /nhis/{id}/graph depth=3", blast, 200) + f"  (median {statistics.median(sizes):.0f} nodes)")
    print(line("  baseline: depth=1", blast_one))
    print(
        f"load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
        f"after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
