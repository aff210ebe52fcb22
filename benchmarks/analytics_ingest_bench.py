"""Activity ingest through the CLI, end to end: files -> `nexora activity ingest` -> API -> stored,
attributed and scored, on a throw-away database and a real `nexora api` process.

The records are CloudTrail files as AWS writes them (``{"Records": [...]}``, gzip), made by the same
generator the tests use, for the identities of the demo inventory (so nearly every record is attributed)
plus a share of unknown identities, with a few attacks mixed in so detectors fire.

In-run comparison: the same records loaded into an unindexed PostgreSQL table with ``COPY`` by a plain
script (json parse + COPY, no attribution, profiles, detectors or alerts): the floor any ingest pays.
The ratio says what Nexora's analytics cost on top of storing the rows at all.

With ``--soak-seconds N`` the files are then sent again and again, each round with fresh event ids, for
N seconds, sampling the API process's resident memory every 10 s: the memory must stay flat.

Goal (issue 14): >= 20,000 CloudTrail events/s ingested, attributed and scored through the CLI on files.

Run: .venv/bin/python benchmarks/analytics_ingest_bench.py [--records 200000] [--files 20] [--soak-seconds 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from _harness import api_process, bench_database

CALLS = [
    ("ListBuckets", "s3.amazonaws.com"),
    ("GetObject", "s3.amazonaws.com"),
    ("PutObject", "s3.amazonaws.com"),
    ("DescribeInstances", "ec2.amazonaws.com"),
    ("GetCallerIdentity", "sts.amazonaws.com"),
    ("ListUsers", "iam.amazonaws.com"),
    ("Decrypt", "kms.amazonaws.com"),
    ("SendMessage", "sqs.amazonaws.com"),
    ("PutMetricData", "monitoring.amazonaws.com"),
    ("Query", "dynamodb.amazonaws.com"),
]
AGENTS = [
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.1",
    "Boto3/1.34.10 md/Botocore#1.34.10 Python/3.11.6",
    "aws-sdk-go-v2/1.24.0",
]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(rng: random.Random, identity: dict[str, str], at: datetime) -> dict[str, Any]:
    name, source = rng.choice(CALLS)
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA" + identity["key"][4:],
            "arn": f"arn:aws:iam::{identity['account']}:user/{identity['user']}",
            "accountId": identity["account"],
            "accessKeyId": identity["key"],
            "userName": identity["user"],
        },
        "eventTime": iso(at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": identity["ip"],
        "userAgent": identity["agent"],
        "requestParameters": {"bucketName": "data-" + identity["user"], "key": f"obj/{rng.randrange(1000)}"},
        "responseElements": None,
        "requestID": uuid.UUID(int=rng.getrandbits(128)).hex,
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "readOnly": name.startswith(("List", "Get", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": identity["account"],
    }


def identities_of(url: str, headers: dict[str, str], unknown: int, rng: random.Random) -> list[dict[str, str]]:
    page = httpx.get(
        f"{url}/api/v1/nhis", headers=headers, params={"kind": "access_key", "limit": 500}, timeout=30
    ).json()
    known = [
        {"key": row["external_id"], "user": row["name"].split("/")[0], "account": row["account"]}
        for row in page["items"]
    ]
    strangers = [
        {
            "key": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            "user": f"ghost-{i}",
            "account": "999988887777",
        }
        for i in range(unknown)
    ]
    for identity in known + strangers:
        identity["ip"] = f"198.51.{rng.randrange(100)}.{rng.randrange(1, 250)}"
        identity["agent"] = rng.choice(AGENTS)
    return known + strangers


def write_files(
    folder: Path, identities: list[dict[str, str]], records: int, files: int, seed: int
) -> list[dict[str, Any]]:
    """``records`` CloudTrail records over the last 20 hours in ``files`` gzip files; returns them all."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=20)
    every = timedelta(hours=19) / records
    written: list[dict[str, Any]] = []
    per_file = records // files
    for number in range(files):
        batch = [_record(rng, rng.choice(identities), start + (number * per_file + i) * every) for i in range(per_file)]
        (folder / f"trail-{number:04d}.json.gz").write_bytes(gzip.compress(json.dumps({"Records": batch}).encode(), 6))
        written.extend(batch)
    return written


def cli_ingest(url: str, token: str, folder: Path) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "NEXORA_URL": url, "NEXORA_API_KEY": token}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nexora",
            "activity",
            "ingest",
            "--source",
            "cloudtrail",
            str(folder),
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr.decode()[-2000:])
    return elapsed, json.loads(done.stdout)


def copy_floor(superuser_url: str, folder: Path) -> float:
    """json-parse every file and COPY its rows into a plain table: storing the rows and nothing else."""
    started = time.perf_counter()
    with psycopg.connect(superuser_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TEMP TABLE floor (time timestamptz, event_id text, identity text, action text, raw jsonb)"
        )
        for file in sorted(folder.iterdir()):
            records = json.loads(gzip.decompress(file.read_bytes()))["Records"]
            with connection.cursor().copy("COPY floor FROM STDIN") as copy:
                for record in records:
                    copy.write_row(
                        (
                            record["eventTime"],
                            record["eventID"],
                            record["userIdentity"]["accessKeyId"],
                            record["eventName"],
                            json.dumps(record),
                        )
                    )
    return time.perf_counter() - started


def write_big_file(path: Path, identities: list[dict[str, str]], megabytes: int) -> tuple[int, int]:
    """An uncompressed JSON-lines file of about ``megabytes`` MB, one malformed line in every 10,000 and a
    truncated last line; returns (valid records, damaged lines)."""
    rng = random.Random(5)
    start = datetime.now(UTC) - timedelta(hours=20)
    valid = damaged = 0
    target = megabytes * 1_000_000
    with path.open("wb") as out:
        while out.tell() < target:
            if (valid + damaged) % 10_000 == 9_999:
                out.write(b'{"eventVersion": "1.09", "eventTime": 17, "broken\n')
                damaged += 1
                continue
            record = _record(rng, rng.choice(identities), start + timedelta(milliseconds=valid * 50))
            out.write(json.dumps(record).encode() + b"\n")
            valid += 1
        out.write(b'{"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "accessKey')
        damaged += 1
    return valid, damaged


def api_pid(port: str) -> int | None:
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "api" in command and "--port" in command and port in command:
            return int(process.pid)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--unknown", type=int, default=20, help="Identities missing from the inventory.")
    parser.add_argument("--soak-seconds", type=float, default=0.0)
    parser.add_argument("--big-file-mb", type=int, default=0, help="Also ingest one JSON-lines file of this size.")
    args = parser.parse_args()

    rng = random.Random(7)
    with bench_database() as database, api_process(database) as url, tempfile.TemporaryDirectory() as tmp:
        login = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"email": "bench@nexora.example", "password": "bench-admin-password"},
            timeout=30,
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        httpx.post(f"{url}/api/v1/demo", headers=headers, timeout=300).raise_for_status()
        key = httpx.post(
            f"{url}/api/v1/api-keys", headers=headers, json={"name": "bench", "scopes": ["analyst"]}, timeout=30
        ).json()
        identities = identities_of(url, headers, args.unknown, rng)
        folder = Path(tmp) / "trail"
        folder.mkdir()
        write_files(folder, identities, args.records, args.files, seed=1)
        size = sum(file.stat().st_size for file in folder.iterdir())
        print(
            f"{args.records:,} records in {args.files} files ({size / 1e6:.1f} MB gzip), {len(identities)} identities"
        )

        elapsed, summary = cli_ingest(url, key["key"], folder)
        totals = summary["totals"]
        rate = totals["accepted"] / elapsed
        floor = copy_floor(database.superuser_url, folder)
        print(
            f"nexora activity ingest: {elapsed:.2f} s, {rate:,.0f} events/s "
            f"(accepted {totals['accepted']:,}, attributed {totals['attributed']:,}, "
            f"rejected {totals['rejected']}, alerts {totals['alerts']})"
        )
        print(f"floor (json + COPY, no analytics): {floor:.2f} s, {args.records / floor:,.0f} records/s")
        print(f"nexora / floor time: {elapsed / floor:.2f}x")
        again, repeat = cli_ingest(url, key["key"], folder)
        print(
            f"the same files again: {again:.2f} s, {repeat['totals']['duplicates']:,} duplicates, "
            f"{repeat['totals']['accepted']} new"
        )

        if args.big_file_mb:
            big = Path(tmp) / "big"
            big.mkdir()
            valid, damaged = write_big_file(big / "big.jsonl", identities, args.big_file_mb)
            pid = api_pid(url.rsplit(":", 1)[1])
            process = psutil.Process(pid) if pid else None
            before = process.memory_info().rss / 1e6 if process else float("nan")
            took, result = cli_ingest(url, key["key"], big)
            after = process.memory_info().rss / 1e6 if process else float("nan")
            totals = result["totals"]
            print(
                f"big file: {(big / 'big.jsonl').stat().st_size / 1e6:,.0f} MB, {valid:,} valid records and "
                f"{damaged} damaged lines -> accepted {totals['accepted']:,}, rejected {totals['rejected']}, "
                f"{took:.1f} s ({totals['accepted'] / took:,.0f} events/s); API RSS {before:.0f} -> {after:.0f} MB"
            )

        if args.soak_seconds:
            pid = api_pid(url.rsplit(":", 1)[1])
            process = psutil.Process(pid) if pid else None
            samples: list[tuple[float, float]] = []
            started = time.monotonic()
            round_number = 1
            next_sample = 0.0
            while time.monotonic() - started < args.soak_seconds:
                round_number += 1
                for file in folder.iterdir():
                    file.unlink()
                write_files(folder, identities, args.records // 4, max(1, args.files // 4), seed=round_number)
                cli_ingest(url, key["key"], folder)
                now = time.monotonic() - started
                if process is not None and now >= next_sample:
                    samples.append((now, process.memory_info().rss / 1e6))
                    next_sample = now + 10
            if samples:
                print("soak: RSS MB at t=" + ", ".join(f"{t:.0f}s:{rss:.0f}" for t, rss in samples))
                first, last = samples[min(2, len(samples) - 1)][1], samples[-1][1]
                print(
                    f"soak: {round_number - 1} rounds, RSS {first:.0f} MB after warm-up -> {last:.0f} MB "
                    f"at the end ({(last - first) / first:+.1%})"
                )


if __name__ == "__main__":
    main()
