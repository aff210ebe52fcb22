"""Bundles: exported from the live log, verified offline; edits to the file are caught and located."""

import base64
import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexora.audit import service
from nexora.audit.verifier import BundleError, load_trusted_keys, verify_bundle
from nexora.cli.main import app
from tests.fixtures.audit import AuditLogs

runner = CliRunner()


@pytest.fixture(scope="module")
async def bundle_log(runtime, audit_consumer) -> uuid.UUID:
    return await AuditLogs(runtime, audit_consumer).build((10, 20), 24)


@pytest.fixture
async def bundle(runtime, bundle_log: uuid.UUID, tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    with path.open("wb") as handle:
        async for line in service.bundle_lines(runtime.db, bundle_log):
            handle.write(line)
    return path


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _entry_index(records: list[dict], seq: int) -> int:
    return next(i for i, r in enumerate(records) if r["kind"] == "entry" and r["seq"] == seq)


def test_an_exported_bundle_holds_everything_and_verifies_offline(bundle: Path, bundle_log: uuid.UUID) -> None:
    records = _records(bundle)
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "header"
    assert kinds.count("key") == 1
    assert kinds.count("head") == 2
    assert kinds.count("consistency") == 1
    assert kinds.count("entry") == 24
    assert records[0]["log"] == str(bundle_log)
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert (report.entries, report.signed_size) == (24, 20)
    assert report.warnings == ["keys are not pinned: the published keys were believed (pass trusted keys)"]


def test_cli_verifies_a_bundle_without_server_or_database(bundle: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--bundle", str(bundle)], env={"NEXORA_DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert "OK: 24 entries, 2 signed heads, 20 entries covered" in result.output


@pytest.mark.parametrize(
    ("edit", "kind", "seq"),
    [
        ("modify", "modified", 6),
        ("delete", "deleted", 6),
        ("duplicate", "inserted", 6),
        ("swap", "reordered", 6),
        ("truncate", "truncated", 12),
        ("forge_head", "forged_head", 10),
    ],
)
def test_an_edited_bundle_fails_and_names_the_first_bad_entry(bundle: Path, edit: str, kind: str, seq: int) -> None:
    records = _records(bundle)
    at = _entry_index(records, 6)
    if edit == "modify":
        records[at]["payload"] = records[at]["payload"].replace("user-6", "user-666")
    elif edit == "delete":
        del records[at]
    elif edit == "duplicate":
        records.insert(at + 1, dict(records[at]))
    elif edit == "swap":
        records[at], records[at + 1] = records[at + 1], records[at]
    elif edit == "truncate":
        records = records[: _entry_index(records, 12)]
    else:
        head = next(r for r in records if r["kind"] == "head" and r["tree_size"] == 20)
        head["root_hash"] = "00" * 32
    _write(bundle, records)
    report = verify_bundle(bundle)
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.problems[0].kind == kind

    result = runner.invoke(app, ["audit", "verify", "--bundle", str(bundle)])
    assert result.exit_code == 1
    assert f"first bad sequence number {seq}" in result.output


def test_pinned_keys_catch_a_bundle_re_signed_with_another_key(
    bundle: Path, runtime, audit_consumer, tmp_path: Path
) -> None:
    keys = [r for r in _records(bundle) if r["kind"] == "key"]
    pinned = tmp_path / "keys.json"
    pinned.write_text(json.dumps({"keys": keys}))
    assert verify_bundle(bundle, load_trusted_keys(pinned)).ok

    other = tmp_path / "other.json"
    other.write_text(json.dumps({"keys": [dict(keys[0], public_key=base64.b64encode(b"\x01" * 32).decode())]}))
    report = verify_bundle(bundle, load_trusted_keys(other))
    assert {p.kind for p in report.problems} == {"unknown_key"}
    assert report.first_bad_seq == 0

    result = runner.invoke(app, ["audit", "verify", "--bundle", str(bundle), "--trusted-keys", str(other)])
    assert result.exit_code == 1
    assert "signed by an unknown key" in result.output.splitlines()[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a Nexora audit bundle"),
        (b"PK\x03\x04 binary junk\n", "line 1 is not valid JSON"),
        (b'{"kind":"header","format":"nexora-audit-bundle","version":9,"log":"x","entries":0}\n', "version 9"),
        (
            b'{"kind":"header","format":"nexora-audit-bundle","version":1,"log":"x","entries":1}\n'
            b'{"kind":"entry","seq":"zero"}\n',
            "line 2: field 'seq' is missing or has the wrong type",
        ),
        (
            b'{"kind":"header","format":"nexora-audit-bundle","version":1,"log":"x","entries":0}\n{"kind":"<script>"}\n',
            "line 2: unknown record kind",
        ),
    ],
)
def test_a_file_that_is_not_a_bundle_gets_a_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(BundleError, match=message.replace("(", r"\(")):
        verify_bundle(path)
    result = runner.invoke(app, ["audit", "verify", "--bundle", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_missing_bundle_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--bundle", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
