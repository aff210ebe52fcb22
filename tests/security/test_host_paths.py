"""A hostile tenant admin cannot make a connector read the Nexora host outside the operator's roots.

Through the public API, connectors that read files (code, gcp-export, azure-export, offline
kubernetes) are refused paths outside ``NEXORA_CONNECTOR_PATH_ROOTS`` once symlinks and ``..`` are
resolved, with one message that never says whether the path exists; links found inside an allowed
folder are not followed out of it; Nexora's own state is never readable; and git reads no program
from a repository's config.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nexora.cli.server import default_path_roots
from nexora.core.config import ConnectorSettings, Settings
from nexora.core.runtime import Runtime
from nexora.discovery import service
from nexora.discovery.connectors.files import OUTSIDE_LINK, OUTSIDE_ROOTS, HostPaths
from nexora.scanner.sources.files import OUTSIDE_LINK as OUTSIDE_SCANNED_FOLDER
from tests.discovery.fixtures import Api
from tests.discovery.recorded_api import DATA
from tests.fixtures.app import SignedIn
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import github_token

PROBLEM = "application/problem+json"
RNG = random.Random(41)


@dataclass
class Area:
    allowed: Path  # the operator's only root
    outside: Path  # a folder next to it, readable by Nexora's process but not allowed


@pytest.fixture
def area(tmp_path: Path, settings: Settings) -> Iterator[Area]:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    previous = settings.connector
    settings.connector = previous.model_copy(update={"path_roots": [str(allowed)]})
    yield Area(allowed, outside)
    settings.connector = previous


@pytest.fixture
def api(client: httpx.AsyncClient, tenant_admin: SignedIn) -> Api:
    return Api(client, tenant_admin)


def config_of(kind: str, path: str) -> dict[str, Any]:
    if kind == "code":
        return {"paths": [path]}
    if kind == "kubernetes":
        return {"mode": "offline", "path": path}
    return {"path": path}


FIELD = {"code": "paths.0", "gcp-export": "path", "azure-export": "path", "kubernetes": "path"}
KINDS = list(FIELD)


async def create(api: Api, kind: str, config: dict[str, Any]) -> httpx.Response:
    body = {"name": f"{kind}-{uuid.uuid4().hex[:8]}", "kind": kind, "config": config}
    return await api.client.post("/api/v1/connectors", headers=api.admin.headers, json=body)


async def legacy_connector(runtime: Runtime, tenant_id: uuid.UUID, kind: str, path: str) -> uuid.UUID:
    """A connector stored before its path was checked (or before the operator narrowed the roots)."""
    async with runtime.db.unit_of_work(tenant_id) as session:
        connector = await service.create_connector(
            session,
            runtime.cipher,
            tenant_id,
            name=f"legacy-{uuid.uuid4().hex[:8]}",
            kind=kind,
            config=config_of(kind, path),
            credentials=None,
            interval_seconds=None,
            host=HostPaths((Path("/"),)),
        )
    return connector.id


HOSTILE_PATHS: dict[str, Callable[[Area], str]] = {
    "etc": lambda area: "/etc",
    "proc-self": lambda area: "/proc/self",
    "dot-dot into a sibling": lambda area: f"{area.allowed}/../outside",
    "dot-dot up to etc": lambda area: f"{area.allowed}/sub/../../../../../../../../etc",
    "symlink to etc": lambda area: f"{area.allowed}/link-to-etc",
    "through a symlinked folder": lambda area: f"{area.allowed}/link-to-outside/secret.env",
}


@pytest.mark.parametrize("case", list(HOSTILE_PATHS))
async def test_a_code_path_outside_the_roots_is_refused_at_create_naming_the_field(
    api: Api, area: Area, case: str
) -> None:
    (area.allowed / "link-to-etc").symlink_to("/etc")
    (area.allowed / "link-to-outside").symlink_to(area.outside)
    write(area.outside / "secret.env", "x")

    response = await create(api, "code", {"paths": [str(area.allowed), HOSTILE_PATHS[case](area)]})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == f"invalid code connector config: paths.1: {OUTSIDE_ROOTS}"
    assert (await api.get("/api/v1/connectors"))["items"] == []


async def test_a_relative_path_is_refused(api: Api, area: Area) -> None:
    response = await create(api, "code", {"paths": ["../../etc"]})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (
        "invalid code connector config: paths.0: the path must be absolute (start with /)"
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_an_outside_path_gets_the_same_refusal_whether_it_exists_or_not(api: Api, area: Area, kind: str) -> None:
    write(area.outside / "exports" / "keys.json", "[]")
    pairs = [
        (str(area.outside / "exports"), str(area.outside / f"missing-{uuid.uuid4().hex}")),
        ("/etc/passwd", f"/etc/no-such-file-{uuid.uuid4().hex}"),
    ]

    for existing, missing in pairs:
        refused = [await create(api, kind, config_of(kind, path)) for path in (existing, missing)]

        assert [response.status_code for response in refused] == [422, 422]
        assert refused[0].json()["detail"] == refused[1].json()["detail"]
        assert refused[0].json()["detail"] == f"invalid {kind} connector config: {FIELD[kind]}: {OUTSIDE_ROOTS}"
    assert (await api.get("/api/v1/connectors"))["items"] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_tests_and_runs_of_a_stored_outside_path_read_nothing_and_reveal_nothing(
    api: Api, area: Area, runtime: Runtime, kind: str
) -> None:
    existing = await legacy_connector(runtime, api.admin.tenant_id, kind, "/etc")
    missing = await legacy_connector(runtime, api.admin.tenant_id, kind, f"/etc/no-such-{uuid.uuid4().hex}")

    tests = [
        (await api.client.post(f"/api/v1/connectors/{connector}/test", headers=api.admin.headers)).json()
        for connector in (existing, missing)
    ]
    runs = [await api.run(str(connector)) for connector in (existing, missing)]

    assert tests == [{"ok": False, "message": OUTSIDE_ROOTS}] * 2
    assert [run["status"] for run in runs] == ["failed", "failed"]
    assert [[error["message"] for error in run["errors"]] for run in runs] == [[OUTSIDE_ROOTS]] * 2
    assert await api.nhis() == []


async def test_a_missing_path_inside_the_roots_is_named_plainly(api: Api, area: Area) -> None:
    created = await create(api, "code", {"paths": [str(area.allowed / "not-yet")]})
    assert created.status_code == 201, created.text

    tested = await api.client.post(f"/api/v1/connectors/{created.json()['id']}/test", headers=api.admin.headers)

    assert tested.json() == {"ok": False, "message": f"not found: {area.allowed / 'not-yet'}"}


async def test_links_inside_an_allowed_folder_are_not_followed_out_of_it(api: Api, area: Area) -> None:
    inside, stolen = github_token(RNG), github_token(RNG)
    repo = area.allowed / "repo"
    write(repo / "app.env", f"GITHUB_TOKEN={inside}\n")
    write(area.outside / "secret.env", f"GITHUB_TOKEN={stolen}\n")
    (repo / "stolen.env").symlink_to(area.outside / "secret.env")
    (repo / "passwd").symlink_to("/etc/passwd")
    (repo / "etc").symlink_to("/etc")
    connector = (await create(api, "code", {"paths": [str(repo)]})).json()

    run = await api.run(connector["id"])
    leaks = await api.nhis(kind="leaked_secret")

    assert run["status"] == "partial"
    assert sorted((error["scope"], error["message"]) for error in run["errors"]) == [
        ("etc", OUTSIDE_SCANNED_FOLDER),
        ("passwd", OUTSIDE_SCANNED_FOLDER),
        ("stolen.env", OUTSIDE_SCANNED_FOLDER),
    ]
    assert [leak["name"] for leak in leaks] == ["app.env:1"]
    assert stolen not in str(run) + str(leaks)


@pytest.mark.parametrize(
    ("kind", "config", "data", "link"),
    [
        ("gcp-export", {}, DATA / "gcp", "keys-deployer.json"),
        ("kubernetes", {"mode": "offline", "cluster": "prod-eu"}, DATA / "k8s-manifests", "service-accounts.yaml"),
    ],
)
async def test_a_linked_export_or_manifest_leading_outside_is_skipped_with_a_run_error(
    api: Api, area: Area, kind: str, config: dict[str, Any], data: Path, link: str
) -> None:
    folder = area.allowed / "files"
    shutil.copytree(data, folder)
    shutil.move(folder / link, area.outside / link)
    (folder / link).symlink_to(area.outside / link)
    (folder / "etc").symlink_to("/etc")
    connector = (await create(api, kind, {**config, "path": str(folder)})).json()

    run = await api.run(connector["id"])

    assert sorted((error["scope"], error["message"]) for error in run["errors"]) == [
        (f"{folder}/etc", OUTSIDE_LINK),
        (f"{folder}/{link}", OUTSIDE_LINK),
    ]
    assert run["status"] == "partial"


async def test_nexora_own_state_is_never_readable_even_inside_a_root(api: Api, settings: Settings) -> None:
    previous = settings.connector
    settings.connector = previous.model_copy(update={"path_roots": [str(settings.data_dir.parent)]})
    try:
        responses = [
            await create(api, "code", {"paths": [str(path)]})
            for path in (settings.data_dir, settings.data_dir / "run-inputs", settings.master_key_path)
        ]
    finally:
        settings.connector = previous

    assert [response.status_code for response in responses] == [422, 422, 422]
    assert {response.json()["detail"] for response in responses} == {
        f"invalid code connector config: paths.0: {OUTSIDE_ROOTS}"
    }


async def test_a_connector_cannot_be_changed_to_an_outside_path_but_a_legacy_one_can_be_disabled(
    api: Api, area: Area, runtime: Runtime
) -> None:
    connector = (await create(api, "code", {"paths": [str(area.allowed)]})).json()
    legacy = await legacy_connector(runtime, api.admin.tenant_id, "code", "/etc")

    changed = await api.client.patch(
        f"/api/v1/connectors/{connector['id']}", headers=api.admin.headers, json={"config": {"paths": ["/etc"]}}
    )
    disabled = await api.client.patch(
        f"/api/v1/connectors/{legacy}", headers=api.admin.headers, json={"enabled": False}
    )

    assert changed.status_code == 422
    assert changed.json()["detail"] == f"invalid code connector config: paths.0: {OUTSIDE_ROOTS}"
    assert (await api.get(f"/api/v1/connectors/{connector['id']}"))["config"] == {"paths": [str(area.allowed)]}
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False


async def test_git_history_is_not_read_from_a_git_folder_outside_the_roots(api: Api, area: Area) -> None:
    token = github_token(RNG)
    source = area.outside / "source"
    source.mkdir()
    git(source, "init", "-q")
    write(source / "app.py", f'TOKEN = "{token}"\n')
    commit_all(source, "add app")
    work = area.allowed / "work"
    write(work / ".git", f"gitdir: {source / '.git'}\n")
    connector = (await create(api, "code", {"paths": [str(work)], "git": True})).json()

    run = await api.run(connector["id"])

    assert run["status"] == "failed"
    assert [error["message"] for error in run["errors"]] == [
        "the repository's git folder is outside the folders this Nexora allows connectors to read"
    ]
    assert await api.nhis() == []


async def test_a_repository_config_runs_no_program_during_a_history_scan(api: Api, area: Area) -> None:
    repo = area.allowed / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    token = github_token(RNG)
    write(repo / "app.py", f'TOKEN = "{token}"\n')
    commit = commit_all(repo, "add app")
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    signed = (
        f"tree {tree}\nparent {commit}\nauthor A <a@test.invalid> 1700000000 +0000\n"
        "committer A <a@test.invalid> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nsigned\n"
    )
    object_id = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=signed.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    git(repo, "update-ref", "refs/heads/signed", object_id.strip())
    marker = area.outside / "program-ran"
    program = write(area.outside / "program.sh", f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    program.chmod(0o755)
    for setting, value in (("core.fsmonitor", program), ("gpg.program", program), ("log.showSignature", "true")):
        git(repo, "config", setting, str(value))
    connector = (await create(api, "code", {"paths": [str(repo)], "git": True})).json()

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded", run["errors"]
    assert [leak["name"] for leak in await api.nhis(kind="leaked_secret")] == ["app.py:1"]
    assert not marker.exists()


def test_nexora_up_allows_the_home_directory_only_when_the_operator_set_nothing() -> None:
    unset, none, chosen = (
        Settings(connector=ConnectorSettings()),
        Settings(connector=ConnectorSettings(path_roots=[])),
        Settings(connector=ConnectorSettings(path_roots=["/srv/repos"])),
    )

    notes = [default_path_roots(settings) for settings in (unset, none, chosen)]

    assert unset.connector.path_roots == [str(Path.home())]
    assert notes[0] is not None
    assert str(Path.home()) in notes[0]
    assert "NEXORA_CONNECTOR_PATH_ROOTS" in notes[0]
    assert notes[1:] == [None, None]
    assert none.connector.path_roots == []
    assert chosen.connector.path_roots == ["/srv/repos"]


def test_nexora_api_and_worker_read_no_host_path_when_the_roots_are_unset(tmp_path: Path) -> None:
    host = HostPaths.of(Settings(data_dir=tmp_path, connector=ConnectorSettings()))

    assert host.roots == ()
    assert not host.allows(Path("/"))
    assert not host.allows(tmp_path / "anything")
