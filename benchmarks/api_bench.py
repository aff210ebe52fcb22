"""API latency: authenticated reads and logins against `/healthz` as the in-run baseline.

Goal (issue 2): an authenticated read costs under 2x the `/healthz` round trip at p50 on this machine.
Run: .venv/bin/python benchmarks/api_bench.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _harness import api_process, bench_database, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with bench_database() as database, api_process(database) as url:
        credentials = {"email": "bench@nexora.example", "password": "bench-admin-password"}
        tokens = httpx.post(f"{url}/api/v1/auth/login", json=credentials).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        key = httpx.post(f"{url}/api/v1/api-keys", headers=bearer, json={"name": "bench", "scopes": ["read"]}).json()[
            "key"
        ]

        common = {"concurrency": args.concurrency, "seconds": args.seconds}
        # Warm up connections, caches and the interpreter.
        load(url, "warm-up", "GET", "/api/v1/auth/me", headers=bearer, concurrency=4, seconds=1)
        results = [
            load(url, "GET /healthz (baseline)", "GET", "/healthz", **common),
            load(url, "GET /api/v1/auth/me (JWT)", "GET", "/api/v1/auth/me", headers=bearer, **common),
            load(
                url,
                "GET /api/v1/auth/me (API key)",
                "GET",
                "/api/v1/auth/me",
                headers={"Authorization": f"Bearer {key}"},
                **common,
            ),
            load(
                url,
                "POST /api/v1/auth/login (argon2id 64 MiB, t=3)",
                "POST",
                "/api/v1/auth/login",
                body=json.dumps(credentials).encode(),
                concurrency=4,
                seconds=args.seconds,
            ),
        ]

    print(f"\nconcurrency {args.concurrency}, {args.seconds:.0f} s per endpoint, one uvicorn worker\n")
    print("| endpoint | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    baseline, jwt, api_key = results[0], results[1], results[2]
    print(f"\nJWT read p50 / healthz p50 = {jwt.percentile(0.5) / baseline.percentile(0.5):.2f}x (goal < 2x)")
    print(f"API-key read p50 / healthz p50 = {api_key.percentile(0.5) / baseline.percentile(0.5):.2f}x")


if __name__ == "__main__":
    main()
