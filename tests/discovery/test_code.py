"""The code connector: leaked secrets are stored as fingerprints only and linked to inventoried credentials."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nexora.core.crypto import redact
from nexora.core.ids import utcnow, uuid7
from nexora.core.runtime import Runtime
from nexora.discovery import service
from nexora.discovery.records import NhiRecord
from tests.discovery.fixtures import Api

KEY_ID = "AKIA64CFSUOSG2WPIZZX"
SECRETS = {
    "aws_secret": "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",
    "slack": "xoxb-296530442543-1044271362275-17miYjr85syXn3Hey1dW1VTH",
    "github": "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",
}


def _write_repositories(root: Path) -> list[str]:
    first, second = root / "billing", root / "website"
    (first / "config").mkdir(parents=True)
    second.mkdir()
    (first / "config" / "settings.py").write_text(
        f'aws_access_key_id = "{KEY_ID}"\n'
        f'aws_secret_access_key = "{SECRETS["aws_secret"]}"\n'
        f'SLACK_BOT_TOKEN = "{SECRETS["slack"]}"\n'
    )
    (first / "deploy.sh").write_text(f"export GITHUB_TOKEN={SECRETS['github']}\n")
    (second / ".env").write_text(f"GITHUB_TOKEN={SECRETS['github']}\n")
    return [str(first), str(second)]


async def _inventory_access_key(runtime: Runtime, tenant_id) -> None:
    async with runtime.db.unit_of_work(tenant_id) as session:
        connector = await service.create_connector(
            session,
            runtime.cipher,
            tenant_id,
            name="aws-inventory",
            kind="aws",
            config={},
            credentials=None,
            interval_seconds=None,
        )
        record = NhiRecord("aws", "access_key", KEY_ID, f"deployer/{KEY_ID}", "123456789012", status="active")
        await service.upsert_nhis(
            session,
            tenant_id=tenant_id,
            connector_id=connector.id,
            run_id=uuid7(),
            records=[record],
            now=utcnow(),
            record_changes=False,
        )


def _pg_dump() -> str:
    """The pg_dump shipped with pgserver (PostgreSQL 16): it dumps the embedded server and any older one,
    where the system's may be older than the server."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "pg_dump")


async def test_leaked_secrets_are_fingerprinted_linked_and_never_stored_raw(
    api: Api, runtime: Runtime, database, tmp_path: Path
) -> None:
    await _inventory_access_key(runtime, api.admin.tenant_id)
    paths = _write_repositories(tmp_path)
    connector = await api.create_connector("code", "code", {"paths": paths})

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded", run["errors"]
    leaks = await api.nhis(kind="leaked_secret")
    rules = sorted([(await api.get(f"/api/v1/nhis/{leak['id']}"))["attributes"]["rule"] for leak in leaks])
    assert rules.count("aws-access-key-id") == 1
    assert {"aws-secret-access-key", "slack-bot-token"} <= set(rules)
    github = [leak for leak in leaks if leak["name"].endswith((".env:1", "deploy.sh:1"))]
    assert len(github) == 2

    key = (await api.nhis(kind="access_key"))[0]
    graph = await api.get(f"/api/v1/nhis/{key['id']}/graph", depth=1)
    assert [(e["relationship"], e["kind"]) for e in graph["exposures"]] == [("exposed_in", "leaked_secret")]
    assert graph["exposures"][0]["preview"] == redact(KEY_ID) == "AKI…ZZX"
    shared = await api.get(f"/api/v1/nhis/{github[0]['id']}/graph", depth=1)
    assert [e["relationship"] for e in shared["exposures"]] == ["same_secret_as"]

    findings = await api.findings()
    assert (key["name"], "credential.exposed") in {(f["nhi_name"], f["check_id"]) for f in findings}
    assert {f["nhi_name"] for f in findings if f["check_id"] == "secret.leaked"} == {leak["name"] for leak in leaks}

    dump = subprocess.run(
        [_pg_dump(), "--data-only", database.superuser_url], capture_output=True, text=True, check=True
    ).stdout
    assert "aws-secret-access-key" in dump, "the dump must contain the findings"
    for name, value in SECRETS.items():
        assert value not in dump, f"the raw {name} secret is in the database"
    for value in SECRETS.values():
        assert value not in str(findings)
        assert value not in str(leaks)
