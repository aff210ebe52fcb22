"""`nexora activity` and `nexora alerts` against a real `nexora api` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.analytics.cloudtrail import cloudtrail_file, routine, user_call
from tests.fixtures.app import TenantFactory


class Shell:
    def __init__(self, url: str, key: str, user: str, key_id: str) -> None:
        self.url, self.key, self.user, self.key_id = url, key, user, key_id

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        binary = str(Path(sys.executable).parent / "nexora")
        env = {**os.environ, "NEXORA_URL": self.url, "NEXORA_API_KEY": self.key, "COLUMNS": "200"}
        return subprocess.run([binary, *args], capture_output=True, env=env, timeout=120, input=stdin)

    def json(self, *args: str, stdin: bytes | None = None) -> object:
        done = self.run(*args, "--format", "json", stdin=stdin)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
async def shell(live_api, new_tenant: TenantFactory) -> Shell:
    admin = await new_tenant()
    async with httpx.AsyncClient(base_url=live_api.url) as http:
        login = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": admin.password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await http.post("/api/v1/demo", headers=headers)).status_code == 201
        key = (await http.get("/api/v1/nhis", headers=headers, params={"kind": "access_key", "limit": 1})).json()
        created = await http.post("/api/v1/api-keys", headers=headers, json={"name": "cli", "scopes": ["analyst"]})
    item = key["items"][0]
    return Shell(live_api.url, created.json()["key"], item["name"].split("/")[0], item["external_id"])


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_ingest_walks_folders_reads_stdin_and_sums_up(shell: Shell, tmp_path: Path) -> None:
    start = _now() - timedelta(hours=4)
    (tmp_path / "2026" / "12").mkdir(parents=True)
    (tmp_path / "2026" / "12" / "a.json.gz").write_bytes(cloudtrail_file(routine(shell.user, shell.key_id, start, 6)))
    (tmp_path / "b.json").write_bytes(
        cloudtrail_file(routine(shell.user, shell.key_id, start + timedelta(hours=1), 4), compress=False)
    )
    outside = tmp_path.parent / f"outside-{tmp_path.name}.json"
    outside.write_bytes(cloudtrail_file(routine(shell.user, shell.key_id, start, 50)))
    (tmp_path / "link.json").symlink_to(outside)

    summary = shell.json("activity", "ingest", "--source", "cloudtrail", str(tmp_path))
    assert summary["totals"]["accepted"] == 10  # the link to a file outside the folder is not followed
    assert summary["totals"]["attributed"] == 10
    assert sorted(batch["origin"] for batch in summary["batches"]) == ["api:a.json.gz", "api:b.json"]

    lines = "\n".join(json.dumps(r) for r in routine(shell.user, shell.key_id, start + timedelta(hours=2), 3)).encode()
    piped = shell.json("activity", "ingest", "--source", "cloudtrail", "-", stdin=lines)
    assert piped["totals"]["accepted"] == 3

    again = shell.json("activity", "ingest", "--source", "cloudtrail", str(tmp_path))
    assert (again["totals"]["accepted"], again["totals"]["duplicates"]) == (0, 10)
    table = shell.run("activity", "batches")
    assert table.returncode == 0
    assert b"a.json.gz" in table.stdout


def test_rejected_records_are_listed_and_the_exit_code_says_so(shell: Shell, tmp_path: Path) -> None:
    good = routine(shell.user, shell.key_id, _now() - timedelta(hours=3), 2)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(good[0]), "{oops", json.dumps(good[1]), '"a string"']))
    done = shell.run("activity", "ingest", "--source", "cloudtrail", str(bad))
    assert done.returncode == 1
    assert b"rejected bad.jsonl:line 2" in done.stderr
    assert b"rejected bad.jsonl:line 4" in done.stderr

    missing = shell.run("activity", "ingest", "--source", "cloudtrail", str(tmp_path / "nope"))
    assert missing.returncode != 0
    assert missing.stderr.decode().count("\n") <= 2
    assert b"no such file" in missing.stderr
    wrong = shell.run("activity", "ingest", "--source", "syslog", str(bad))
    assert wrong.returncode != 0
    assert b"unknown source" in wrong.stderr


def test_alerts_list_show_ack_resolve_and_tail(shell: Shell, tmp_path: Path) -> None:
    at = _now() - timedelta(hours=1)
    attack = user_call(
        "CreateAccessKey", user=shell.user, key_id=shell.key_id, at=at, request={"userName": "cli-victim"}
    )
    trail = tmp_path / "attack.json.gz"
    trail.write_bytes(cloudtrail_file([attack]))
    tail = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "nexora"),
            "alerts",
            "tail",
            "--count",
            "1",
            "--interval",
            "0.3",
            "--format",
            "json",
        ],
        env={**os.environ, "NEXORA_URL": shell.url, "NEXORA_API_KEY": shell.key},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        import time

        time.sleep(1.5)  # the tail starts from "now"; the alert must come after it
        assert shell.json("activity", "ingest", "--source", "cloudtrail", str(trail))["totals"]["alerts"] >= 1
        out, err = tail.communicate(timeout=30)
    finally:
        tail.kill()
    tailed = json.loads(out.decode().splitlines()[0])
    assert tailed["technique_id"] == "T1098.001", err

    listed = shell.json("alerts", "list", "--status", "open")
    (alert,) = [a for a in listed if a["technique_id"] == "T1098.001" and attack["eventID"] in a["event_ids"]]
    assert tailed["id"] == alert["id"]
    shown = shell.json("alerts", "show", alert["id"])
    assert [event["source_event_id"] for event in shown["events"]] == [attack["eventID"]]
    acked = shell.json("alerts", "ack", alert["id"], "--note", "looking")
    assert acked[0]["status"] == "acknowledged"
    resolved = shell.json("alerts", "resolve", alert["id"], "--false-positive")
    assert resolved[0]["status"] == "false_positive"
    assert shell.json("alerts", "list", "--status", "open") == [a for a in listed if a["id"] != alert["id"]]
    text = shell.run("alerts", "show", alert["id"])
    assert text.returncode == 0
    assert b"T1098.001" in text.stdout
    unknown = shell.run("alerts", "ack", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 1
    assert b"not found" in unknown.stderr
