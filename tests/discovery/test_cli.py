"""The discovery CLI against a real ``nexora api`` process: demo, paging, inventory, findings, connectors, runs.

The installed ``nexora`` command is run as a process where the process boundary matters (the demo load
and an exit code); the other commands run in-process through Typer's runner, against the same server.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from nexora.cli.main import app
from tests.discovery.recorded_api import DATA
from tests.fixtures.app import TenantFactory
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import github_token


@dataclass
class Cli:
    url: str
    key: str
    demo: subprocess.CompletedProcess[str]

    @property
    def env(self) -> dict[str, str]:
        return {"NEXORA_URL": self.url, "NEXORA_API_KEY": self.key, "COLUMNS": "200"}

    def process(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The installed ``nexora`` command in its own process."""
        binary = str(Path(sys.executable).parent / "nexora")
        env = {**os.environ, **self.env}
        return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=120)

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(app, list(args), env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    async def api(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint, straight from the API (what the CLI output is checked against)."""
        items: list[dict[str, Any]] = []
        cursor = None
        async with httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}) as http:
            while True:
                query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
                response = await http.get(path, params=query)
                assert response.status_code == 200, response.text
                items += response.json()["items"]
                cursor = response.json()["next_cursor"]
                if not cursor:
                    return items


@pytest.fixture(scope="module")
async def cli(live_api, new_tenant: TenantFactory) -> Cli:
    """A tenant with an admin API key, filled by ``nexora demo load`` run as a process."""
    admin = await new_tenant()
    async with httpx.AsyncClient(base_url=live_api.url) as http:
        login = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": admin.password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = await http.post(
            "/api/v1/api-keys", headers=headers, json={"name": "cli", "scopes": ["read", "admin"]}
        )
    shell = Cli(live_api.url, created.json()["key"], demo=subprocess.CompletedProcess([], 0))
    shell.demo = shell.process("demo", "load")
    return shell


async def test_demo_load_reports_the_inventory_it_loaded(cli: Cli) -> None:
    assert cli.demo.returncode == 0, cli.demo.stderr
    nhis = await cli.api("/api/v1/nhis")
    assert cli.demo.stdout.startswith(f"demo loaded: {len(nhis)} NHIs, ")
    assert len(nhis) > 300


async def test_nhi_list_filters_and_show(cli: Cli) -> None:
    roles = cli.json("nhi", "list", "--kind", "iam_role", "--all")

    assert [role["id"] for role in roles] == [n["id"] for n in await cli.api("/api/v1/nhis", kind="iam_role")]
    assert {role["kind"] for role in roles} == {"iam_role"}
    assert cli.json("nhi", "show", roles[0]["id"])["id"] == roles[0]["id"]


async def test_nhi_list_follows_the_pages_to_the_end_and_stops_at_the_limit(cli: Cli) -> None:
    everything = [n["id"] for n in await cli.api("/api/v1/nhis")]

    paged = cli.json("nhi", "list", "--all", "--page-size", "37")
    limited = cli.json("nhi", "list", "--limit", "120", "--page-size", "50")
    default = cli.json("nhi", "list")

    assert [n["id"] for n in paged] == everything
    assert [n["id"] for n in limited] == everything[:120]
    assert [n["id"] for n in default] == everything[:50]


async def test_findings_filter_by_category_and_check_and_report_as_of_a_later_date(cli: Cli) -> None:
    everything = await cli.api("/api/v1/findings")
    assert len(everything) > 100, "the demo must have more open findings than the default page"

    listed = cli.json("findings", "list", "--all")
    overprivileged = cli.json("findings", "list", "--category", "NHI5", "--all")
    stale_now = cli.json("findings", "list", "--check", "usage.stale", "--all")
    stale_2030 = cli.json("findings", "list", "--check", "usage.stale", "--as-of", "2030-01-01", "--all")

    assert sorted(f["id"] for f in listed) == sorted(f["id"] for f in everything)
    assert {f["category"] for f in overprivileged} == {"NHI5"}
    assert len(overprivileged) == len([f for f in everything if f["category"] == "NHI5"])
    assert {f["check_id"] for f in stale_now + stale_2030} == {"usage.stale"}
    # By 2030 every identity whose use is tracked is stale: the report is a strict superset of today.
    assert {f["nhi_id"] for f in stale_now} < {f["nhi_id"] for f in stale_2030}
    assert len(stale_2030) == len(
        await cli.api("/api/v1/findings", check_id="usage.stale", as_of="2030-01-01T00:00:00+00:00")
    )


async def test_connectors_add_then_run_over_an_uploaded_folder_waits_for_the_result(cli: Cli) -> None:
    added = cli.run("connectors", "add", "gcp-export", "--name", "gcp")
    assert added.exit_code == 0, added.stderr

    ran = cli.json("connectors", "run", "gcp", "--upload", str(DATA / "gcp"), "--wait")
    table = cli.run("nhi", "list", "--provider", "gcp")
    runs = cli.json("discover", "runs", "--connector", "gcp")

    assert ran["status"] == "succeeded", ran["errors"]
    assert ran["trigger"] == "upload"
    assert ran["counts"]["upload_files"] == len(list((DATA / "gcp").iterdir()))
    assert ran["counts"]["discovered"] == ran["counts"]["seen"] > 0
    assert "deployer" in table.stdout
    assert "legacy" in table.stdout
    assert [run["id"] for run in runs] == [ran["id"]]


async def test_a_large_git_bundle_is_streamed_by_name_and_its_history_scanned(cli: Cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo / "deploy.sh", f"export GITHUB_TOKEN={github_token(random.Random(5))}\n")
    write(repo / "assets.bin", random.Random(6).randbytes(2 << 20))  # a bundle past one chunk: progress shown
    commit_all(repo, "first")
    git(repo, "bundle", "create", str(tmp_path / "repo.bundle"), "--all")
    cli.run("connectors", "add", "code", "--name", "repo-history")

    ran = cli.json("connectors", "run", "repo-history", "--upload", str(tmp_path / "repo.bundle"), "--wait")

    assert (tmp_path / "repo.bundle").stat().st_size > 2 << 20
    assert ran["status"] == "succeeded", ran["errors"]
    assert ran["counts"]["upload_bytes"] == (tmp_path / "repo.bundle").stat().st_size
    leaks = await cli.api("/api/v1/nhis", kind="leaked_secret", connector_id=ran["connector_id"])
    assert [leak["name"] for leak in leaks] == ["deploy.sh:1"]


async def test_nexora_api_reads_no_host_path_unless_the_operator_allows_one(cli: Cli) -> None:
    refused = cli.run("connectors", "add", "gcp-export", "--name", "gcp-host", "--path", str(DATA / "gcp"))
    cli.run("connectors", "add", "azure-export", "--name", "azure-uploads")
    without_upload = cli.process("discover", "run", "--connector", "azure-uploads", "--wait")

    assert refused.exit_code == 1
    assert "path: the path is outside the folders this Nexora allows" in refused.stderr
    assert without_upload.returncode == 1
    assert "send its files with an upload" in without_upload.stderr


async def test_bad_input_is_a_one_line_error_and_a_non_zero_exit(cli: Cli) -> None:
    malformed = cli.run("connectors", "add", "gcp-export", "--name", "broken", "--set", "nonsense")
    wrong = cli.run("connectors", "add", "gcp-export", "--name", "bad", "--set", "pathx=1")
    missing = cli.process("discover", "run", "--connector", "nope")

    assert malformed.exit_code != 0
    assert "key=value" in malformed.stderr
    assert wrong.exit_code == 1
    assert "invalid gcp-export connector config" in wrong.stderr
    assert missing.returncode == 1
    assert "no connector named 'nope'" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not {c["name"] for c in await cli.api("/api/v1/connectors")} & {"broken", "bad"}
