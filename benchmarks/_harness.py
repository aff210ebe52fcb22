"""Shared benchmark helpers: a throw-away database, a Nexora API process, and a fast HTTP load loop."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from nexora.ops import migrate, provision

SUPERUSER_URL = os.environ.get("NEXORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def bench_database() -> Iterator[provision.ProvisionedDatabase]:
    """A freshly provisioned and migrated database, dropped afterwards."""
    name = f"nexora_bench_{secrets.token_hex(4)}"
    provisioned = provision.provision(SUPERUSER_URL, name)
    migrate.upgrade(provisioned.owner_url)
    try:
        yield provisioned
    finally:
        provision.drop(SUPERUSER_URL, name)


def nexora_env(database: provision.ProvisionedDatabase, data_dir: Path, **env: str) -> dict[str, str]:
    """The environment of a Nexora process on ``database`` (an API or a worker sharing the same keys)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEXORA_")},
        "NEXORA_DATABASE_URL": database.app_url,
        "NEXORA_DATABASE_OWNER_URL": database.owner_url,
        "NEXORA_DATA_DIR": str(data_dir),
        "NEXORA_BOOTSTRAP_ADMIN_EMAIL": "bench@nexora.example",
        "NEXORA_BOOTSTRAP_ADMIN_PASSWORD": "bench-admin-password",
        "NEXORA_AUTH_LOGIN_IP_LIMIT": "1000000/minute",
        "NEXORA_AUTH_LOGIN_MAX_FAILURES": "1000000",
        # The benchmarks measure the API's work, not the per-user request budget.
        "NEXORA_AUTH_RATE_LIMIT_PER_PRINCIPAL": "100000000/minute",
        "NEXORA_AUTH_RATE_LIMIT_PER_TENANT": "100000000/minute",
        "NEXORA_LOG_LEVEL": "warning",
        **env,
    }


@contextmanager
def api_process(database: provision.ProvisionedDatabase, data_dir: Path | None = None, **env: str) -> Iterator[str]:
    """Bootstrap an admin and run ``nexora api`` (one uvicorn worker) against ``database``."""
    environment = nexora_env(database, data_dir or Path(tempfile.mkdtemp(prefix="nexora-bench-")), **env)
    bootstrap = (
        "import asyncio; from nexora.cli.server import _bootstrap, settings_for; "
        "asyncio.run(_bootstrap(settings_for(None)))"
    )
    subprocess.run([sys.executable, "-c", bootstrap], env=environment, check=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nexora", "api", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(20)


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000

    def row(self) -> str:
        return (
            f"| {self.name} | {self.rate:,.0f} | {self.percentile(0.50):.2f} | {self.percentile(0.99):.2f} | "
            f"{self.errors} |"
        )


async def _client(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith((b"HTTP/1.1 2", b"HTTP/1.1 3")):
                errors[0] += 1
    finally:
        writer.close()


def load(
    url: str,
    name: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    concurrency: int = 16,
    seconds: float = 5.0,
) -> LoadResult:
    """Closed-loop load: ``concurrency`` keep-alive connections sending requests for ``seconds``."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors = [0]

    async def run() -> float:
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_client(host, int(port), request, stop_at, latencies, errors) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    return LoadResult(name, len(latencies), elapsed, latencies, errors[0])


def median(values: list[float]) -> float:
    return statistics.median(values)
