"""``nexora audit`` against a real ``nexora api`` process: export, verify (live and offline), search,
sign, keys; and clear one-line errors."""

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from nexora.cli.main import app
from tests.fixtures.app import SignedIn, TenantFactory
from tests.fixtures.audit import AuditLogs, tampering

runner = CliRunner()


async def _api_key(client: httpx.AsyncClient, admin: SignedIn, scope: str) -> str:
    response = await client.post("/api/v1/api-keys", headers=admin.headers, json={"name": scope, "scopes": [scope]})
    assert response.status_code == 201
    return str(response.json()["key"])


@pytest.fixture
async def cli_env(live_api, client: httpx.AsyncClient, new_tenant: TenantFactory, audit_logs: AuditLogs) -> dict:
    admin = await new_tenant()
    key = await _api_key(client, admin, "admin")
    await audit_logs.catch_up_all()
    return {"NEXORA_URL": live_api.url, "NEXORA_API_KEY": key, "admin": admin}


def _run(env: dict, *args: str):
    return runner.invoke(app, ["audit", *args], env={k: v for k, v in env.items() if isinstance(v, str)})


async def test_export_then_verify_offline_with_pinned_keys(cli_env: dict, tmp_path: Path) -> None:
    signed = _run(cli_env, "sign", "--format", "json")
    assert signed.exit_code == 0, signed.output
    head = json.loads(signed.output)
    keys = tmp_path / "keys.json"
    assert _run(cli_env, "public-key", "--out", str(keys)).exit_code == 0
    bundle = tmp_path / "audit.jsonl"

    exported = _run(cli_env, "export", "--out", str(bundle))
    assert exported.exit_code == 0, exported.output
    assert f"nexora audit verify --bundle {bundle}" in exported.output
    assert not bundle.with_name("audit.jsonl.partial").exists()

    verified = runner.invoke(app, ["audit", "verify", "--bundle", str(bundle), "--trusted-keys", str(keys)])
    assert verified.exit_code == 0, verified.output
    assert f"{head['tree_size']} entries covered by a signature" in verified.output

    again = _run(cli_env, "export", "--out", str(bundle))
    assert again.exit_code == 2
    assert "pass --force" in again.output


async def test_live_verify_search_and_key_rotation(cli_env: dict, database) -> None:
    assert _run(cli_env, "sign").exit_code == 0
    entries = _run(cli_env, "entries", "--action", "auth.tenant_created", "--format", "json")
    assert entries.exit_code == 0, entries.output
    [created] = json.loads(entries.output)
    assert created["seq"] == 0

    rotated = _run(cli_env, "rotate-key", "--format", "json")
    assert rotated.exit_code == 0, rotated.output
    keys = json.loads(_run(cli_env, "public-key", "--format", "json").output)
    assert [k["status"] for k in keys] == ["current", "retired"]
    assert keys[0]["key_id"] == json.loads(rotated.output)["key_id"]

    live = _run(cli_env, "verify")
    assert live.exit_code == 0, live.output
    assert ": OK:" in live.output

    with tampering(database, "audit.entry") as connection:
        connection.execute(
            "UPDATE audit.entry SET outcome = 'denied' WHERE tenant_id = %s AND seq = 2", (cli_env["admin"].tenant_id,)
        )
    broken = _run(cli_env, "verify", "--format", "json")
    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert report["first_bad_seq"] == 2
    assert report["problems"][0]["kind"] == "modified"


async def test_a_caller_without_the_role_gets_a_one_line_error_and_no_file(
    cli_env: dict, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    viewer = {**cli_env, "NEXORA_API_KEY": await _api_key(client, cli_env["admin"], "viewer")}
    bundle = tmp_path / "denied.jsonl"
    result = _run(viewer, "export", "--out", str(bundle))
    assert result.exit_code == 1
    assert "needs one of the roles: admin, auditor (HTTP 403)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not bundle.exists()
    assert not bundle.with_name("denied.jsonl.partial").exists()
    assert _run(viewer, "verify").exit_code == 1
    assert _run(cli_env, "verify", "--trusted-keys", "keys.json").exit_code == 2
