"""Web console: bundle size and time to interactive of the inventory on 100,000 NHIs, in headless Chromium.

1. Bundle: the JavaScript a browser must load before the first page renders, gzip. Baseline in the same run:
   a production build (same Vite) of React 18 + ReactDOM rendering one element, the floor any React console
   pays. Goal (issue 7): initial JS under 400 KB gzip.
2. Time to interactive of /inventory (Debian's Chromium via playwright-core, ``web/e2e/bench/tti.mjs``)
   against a real ``nexora api`` over a fresh database, first with 1,000 NHIs and then with 100,000, both
   loaded through discovery's run load path (``discovery.service.load``, records from
   ``benchmarks/inventory_bench.py``). Baselines in the same run: the same page at 1,000 NHIs, and the
   Settings > Users page (the shell and one small table). Goal: inventory interactive in under 1.5 s.

Run: .venv/bin/python benchmarks/web_bench.py [--level 6] [--nhis 100000] [--runs 5] [--bundle-only]
(NEXORA_BENCH_DATABASE_URL names the PostgreSQL superuser URL, default the machine's server.)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
STATIC = ROOT / "src" / "nexora" / "api" / "static"
WORK = ROOT / "benchmarks" / ".work" / "web-baseline"
GOAL_KB = 400.0
GOAL_TTI_MS = 1500.0
TTI_SCRIPT = WEB / "e2e" / "bench" / "tti.mjs"
ADMIN = {"email": "bench@nexora.example", "password": "bench-admin-password"}

BASELINE_ENTRY = """import { createElement } from "react";
import { createRoot } from "react-dom/client";
createRoot(document.getElementById("root")).render(createElement("p", null, "hello"));
"""
BASELINE_HTML = """<!doctype html><html><body><div id="root"></div>
<script type="module" src="./main.js"></script></body></html>
"""


@dataclass
class Asset:
    path: Path
    raw: int
    gzipped: int


def measure(path: Path, level: int) -> Asset:
    data = path.read_bytes()
    return Asset(path=path, raw=len(data), gzipped=len(gzip.compress(data, compresslevel=level, mtime=0)))


def initial_assets(out_dir: Path) -> tuple[list[Path], list[Path]]:
    """Scripts and stylesheets index.html loads before the first render (entry, modulepreloads, CSS)."""
    html = (out_dir / "index.html").read_text()
    scripts = re.findall(r'<script[^>]+type="module"[^>]+src="/?([^"]+)"', html)
    scripts += re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/?([^"]+)"', html)
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="/?([^"]+)"', html)
    return [out_dir / s for s in dict.fromkeys(scripts)], [out_dir / s for s in dict.fromkeys(styles)]


def build_console() -> None:
    subprocess.run(["make", "--no-print-directory", "-C", str(WEB), "build"], check=True)


def build_baseline() -> Path:
    """React 18 + ReactDOM alone, built by the console's own Vite (modules resolved from web/node_modules)."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    (WORK / "main.js").write_text(BASELINE_ENTRY)
    (WORK / "index.html").write_text(BASELINE_HTML)
    modules = WEB / "node_modules"
    config = {
        "root": str(WORK),
        "logLevel": "warn",
        "resolve": {"alias": {"react-dom": str(modules / "react-dom"), "react": str(modules / "react")}},
        "build": {"outDir": str(WORK / "dist"), "emptyOutDir": True},
    }
    (WORK / "vite.config.mjs").write_text(f"export default {json.dumps(config)};\n")
    subprocess.run(
        [str(modules / ".bin" / "vite"), "build", "--config", str(WORK / "vite.config.mjs")], check=True, cwd=WEB
    )
    return WORK / "dist"


def kb(size: int) -> float:
    return size / 1024


def bundle_report(level: int) -> bool:
    build_console()
    baseline_dir = build_baseline()

    scripts, styles = initial_assets(STATIC)
    initial_js = [measure(path, level) for path in scripts]
    initial_css = [measure(path, level) for path in styles]
    all_js = [measure(path, level) for path in sorted((STATIC / "assets").glob("*.js"))]
    baseline_js = [measure(path, level) for path in initial_assets(baseline_dir)[0]]

    initial_gz = sum(asset.gzipped for asset in initial_js)
    baseline_gz = sum(asset.gzipped for asset in baseline_js)
    print(f"gzip level {level}; sizes in KB (1024 bytes)\n")
    print("| Bundle | Files | Raw KB | Gzip KB | x React floor | of 400 KB goal |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [
        ("React 18 + ReactDOM floor (baseline)", baseline_js),
        ("Console initial JS (entry + preloads)", initial_js),
        ("Console initial CSS", initial_css),
        ("Console all JS (incl. lazy routes)", all_js),
    ]
    for name, assets in rows:
        raw = sum(asset.raw for asset in assets)
        gz = sum(asset.gzipped for asset in assets)
        ratio = f"{gz / baseline_gz:.2f}" if "JS" in name or "floor" in name else "-"
        goal = f"{100 * gz / (GOAL_KB * 1024):.0f}%" if "JS" in name or "floor" in name else "-"
        print(f"| {name} | {len(assets)} | {kb(raw):.1f} | {kb(gz):.1f} | {ratio} | {goal} |")
    print("\nLargest chunks:")
    for asset in sorted(all_js, key=lambda item: item.gzipped, reverse=True)[:5]:
        initial = "initial" if asset.path in scripts else "lazy"
        print(f"  {asset.path.name}: {kb(asset.gzipped):.1f} KB gzip ({initial})")
    verdict = "meets" if kb(initial_gz) < GOAL_KB else "MISSES"
    print(f"\nInitial JS {kb(initial_gz):.1f} KB gzip {verdict} the {GOAL_KB:.0f} KB goal.")
    return kb(initial_gz) < GOAL_KB


# ---- time to interactive -----------------------------------------------------------------------------


async def load_inventory(settings: object, tenant_id: uuid.UUID, connector_id: uuid.UUID, count: int) -> float:
    """One discovery run's load of the first ``count`` benchmark records (a later, larger run keeps them)."""
    from inventory_bench import records

    from nexora.assembly import open_runtime
    from nexora.core.ids import uuid7
    from nexora.discovery import service
    from nexora.discovery.records import Collection

    collection = Collection(nhis=records()[:count], edges=[])
    async with open_runtime(settings) as runtime:  # type: ignore[arg-type]
        started = time.perf_counter()
        await service.load(runtime, tenant_id, connector_id, uuid7(), collection, record_changes=False)
        return time.perf_counter() - started


def spread_risk(owner_url: str) -> None:
    """Scores come from posture in real runs; spread them so the default sort (riskiest first) has work to do."""
    import psycopg

    with psycopg.connect(owner_url, autocommit=True) as connection:
        connection.execute("UPDATE discovery.nhi SET risk_score = (hashtext(external_id) & 100)")
        connection.execute("ANALYZE discovery.nhi")


def measure_pages(url: str, runs: int, targets: list[dict[str, str]]) -> list[dict[str, object]]:
    """Run ``tti.mjs`` (one Chromium) and return its measurements."""
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("NEXORA_")},
        "NEXORA_BENCH_BASE_URL": url,
        "NEXORA_BENCH_EMAIL": ADMIN["email"],
        "NEXORA_BENCH_PASSWORD": ADMIN["password"],
        "NEXORA_BENCH_RUNS": str(runs),
        "NEXORA_BENCH_TARGETS": json.dumps(targets),
    }
    completed = subprocess.run(
        ["node", str(TTI_SCRIPT)], env=environment, cwd=WEB, capture_output=True, text=True, timeout=900, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"tti.mjs failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def summarise(label: str, nhis: int, rows: list[dict[str, object]]) -> dict[str, float | str | int]:
    def med(field: str) -> float:
        return float(statistics.median(float(str(row[field])) for row in rows))

    return {
        "label": label,
        "nhis": nhis,
        "runs": len(rows),
        "ready": med("ready_ms"),
        "interactive": med("interactive_ms"),
        "worst": max(float(str(row["interactive_ms"])) for row in rows),
        "dcl": med("dom_content_loaded_ms"),
        "js": med("js_transferred_kb"),
    }


def tti_report(total: int, baseline: int, runs: int) -> bool:
    """Load ``baseline`` then ``total`` NHIs, measuring the inventory (and the settings page) after each."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _harness import api_process, bench_database
    from pydantic import SecretStr

    from nexora.core.config import CryptoSettings, DatabaseSettings, Settings

    # inventory_bench.records() makes BENCH_NHIS records, read when it is first imported (in load_inventory).
    os.environ["BENCH_NHIS"] = str(total)
    import httpx

    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    targets = [
        {"name": "inventory", "path": "/inventory", "mark": "nexora:inventory-ready"},
        {"name": "settings-users", "path": "/settings/users", "selector": "table tbody tr"},
    ]
    results: list[dict[str, float | str | int]] = []
    with bench_database() as database, api_process(database, NEXORA_CRYPTO_MASTER_KEY=master_key) as url:
        with httpx.Client(base_url=url, timeout=60) as client:
            token = client.post("/api/v1/auth/login", json=ADMIN).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            tenant_id = uuid.UUID(client.get("/api/v1/auth/me").json()["tenant_id"])
            connector = client.post("/api/v1/connectors", json={"name": "bench", "kind": "demo"}).json()
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="nexora-web-bench-")),
            database=DatabaseSettings(url=SecretStr(database.app_url), owner_url=SecretStr(database.owner_url)),
            crypto=CryptoSettings(master_key=SecretStr(master_key)),
        )
        for count in (baseline, total):
            seconds = asyncio.run(load_inventory(settings, tenant_id, uuid.UUID(connector["id"]), count))
            spread_risk(database.owner_url)
            print(f"loaded {count:,} NHIs through discovery's run load path in {seconds:.1f} s", flush=True)
            rows = measure_pages(url, runs, targets)
            for target in targets:
                for cache in ("cold", "warm"):
                    chosen = [row for row in rows if row["target"] == target["name"] and row["cache"] == cache]
                    results.append(summarise(f"{target['path']} ({cache} cache)", count, chosen))

    print(f"\nTime to interactive, headless Chromium 1440x900, median of {runs} runs (ms from navigation start)\n")
    print("| Page | NHIs | First rows | Interactive | Worst | DOMContentLoaded | JS transferred KB | vs 1,000 NHIs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        small = next(
            (r for r in results if r["label"] == row["label"] and r["nhis"] == baseline),
            row,
        )
        ratio = float(row["interactive"]) / max(float(small["interactive"]), 1.0)
        print(
            f"| {row['label']} | {int(row['nhis']):,} | {row['ready']:.0f} | {row['interactive']:.0f} | "
            f"{row['worst']:.0f} | {row['dcl']:.0f} | {row['js']:.1f} | {ratio:.2f} |"
        )
    inventory = [r for r in results if r["nhis"] == total and str(r["label"]).startswith("/inventory")]
    worst_median = max(float(r["interactive"]) for r in inventory)
    verdict = "meets" if worst_median < GOAL_TTI_MS else "MISSES"
    load = os.getloadavg()
    print(f"\nInventory on {total:,} NHIs interactive in {worst_median:.0f} ms (median, slower cache state):")
    print(f"{verdict} the {GOAL_TTI_MS:.0f} ms goal. Load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}.")
    return worst_median < GOAL_TTI_MS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--level", type=int, default=6, help="gzip level (servers and CDNs commonly use 6)")
    parser.add_argument("--nhis", type=int, default=100_000, help="NHIs in the inventory for time to interactive")
    parser.add_argument("--baseline-nhis", type=int, default=1_000, help="the smaller inventory measured first")
    parser.add_argument("--runs", type=int, default=5, help="page loads per page and inventory size")
    parser.add_argument("--bundle-only", action="store_true", help="measure the bundle, not time to interactive")
    args = parser.parse_args()

    bundle_ok = bundle_report(args.level)
    tti_ok = True if args.bundle_only else tti_report(args.nhis, args.baseline_nhis, args.runs)
    sys.exit(0 if bundle_ok and tti_ok else 1)


if __name__ == "__main__":
    main()
