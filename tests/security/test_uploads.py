"""Run inputs sent by upload: a hostile tenant admin cannot write outside the run's folder or exhaust the host.

``POST /api/v1/connectors/{id}/runs/upload`` takes the run's files as the raw body. Archives with
``..`` or absolute entries, links, devices, too many files or too many bytes are refused with a clear
problem+json, the run is recorded as failed with the reason and nothing is written outside the run's
folder, which is deleted when the run ends. Valid uploads (archives, single exports, git bundles)
feed the connector exactly as a host folder would.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import stat
import tarfile
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nexora.core.config import Settings
from nexora.discovery.connectors.files import upload_root
from tests.discovery.fixtures import Api
from tests.discovery.recorded_api import DATA
from tests.fixtures.app import SignedIn
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import aws_key_pair, github_token

PROBLEM = "application/problem+json"
RNG = random.Random(43)


@pytest.fixture
def api(client: httpx.AsyncClient, tenant_admin: SignedIn) -> Api:
    return Api(client, tenant_admin)


@pytest.fixture
def limits(settings: Settings) -> Iterator[Any]:
    """Set connector limits for one test: ``limits(max_unpacked_files=5)``."""
    previous = settings.connector

    def apply(**changes: Any) -> None:
        settings.connector = previous.model_copy(update=changes)

    yield apply
    settings.connector = previous


def zipped(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, target in (links or {}).items():
            link = zipfile.ZipInfo(name)
            link.create_system = 3
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, target)
    return buffer.getvalue()


def tarred(members: dict[str, bytes], specials: list[tarfile.TarInfo] | None = None) -> bytes:
    """A tar.gz whose special entries (links, devices) come first, so later files could be written through them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for entry in specials or []:
            archive.addfile(entry)
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


async def connector(api: Api, kind: str, config: dict[str, Any] | None = None) -> str:
    created = await api.create_connector(f"{kind}-{uuid.uuid4().hex[:8]}", kind, config or {})
    return str(created["id"])


async def upload(api: Api, connector_id: str, body: Any, media: str, **params: Any) -> httpx.Response:
    return await api.client.post(
        f"/api/v1/connectors/{connector_id}/runs/upload",
        headers={**api.admin.headers, "Content-Type": media},
        params={"wait": "true", **params},
        content=body,
    )


async def runs_of(api: Api, connector_id: str) -> list[dict[str, Any]]:
    return await api.every("/api/v1/runs", connector_id=connector_id)


def run_folders(settings: Settings, api: Api) -> list[Path]:
    tenant = upload_root(settings) / str(api.admin.tenant_id)
    return sorted(tenant.iterdir()) if tenant.exists() else []


async def test_a_zip_of_files_with_secrets_becomes_findings_and_its_folder_is_deleted(
    api: Api, settings: Settings
) -> None:
    key_id, secret_key = aws_key_pair(RNG)
    token = github_token(RNG)
    body = zipped(
        {
            "billing/config/settings.py": (
                f'aws_access_key_id = "{key_id}"\naws_secret_access_key = "{secret_key}"\n'
            ).encode(),
            "website/.env": f"GITHUB_TOKEN={token}\n".encode(),
            "website/README.md": b"nothing here\n",
        }
    )
    code = await connector(api, "code")

    response = await upload(api, code, body, "application/zip")

    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "succeeded", run["errors"]
    assert run["trigger"] == "upload"
    assert run["counts"]["upload_files"] == 3
    assert run["counts"]["upload_bytes"] == len(body)
    leaks = await api.nhis(kind="leaked_secret")
    rules = sorted([(await api.get(f"/api/v1/nhis/{leak['id']}"))["attributes"]["rule"] for leak in leaks])
    assert {"aws-access-key-id", "aws-secret-access-key", "github-ghp"} <= set(rules)
    assert {leak["account"] for leak in leaks} == {"upload"}
    assert "website/.env:1" in {leak["name"] for leak in leaks}
    for value in (secret_key, token):
        assert value not in response.text + str(leaks)
    assert run_folders(settings, api) == []


async def test_a_git_bundle_upload_has_its_history_scanned(api: Api, tmp_path: Path, settings: Settings) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    token = github_token(RNG)
    write(repo / "deploy.sh", f"export GITHUB_TOKEN={token}\n")
    added = commit_all(repo, "add deploy script", date="2024-03-01T10:00:00+00:00")
    write(repo / "deploy.sh", "export GITHUB_TOKEN=$FROM_VAULT\n")
    commit_all(repo, "read the token from vault", date="2024-03-02T10:00:00+00:00")
    git(repo, "bundle", "create", str(tmp_path / "repo.bundle"), "--all")
    code = await connector(api, "code")

    response = await upload(api, code, (tmp_path / "repo.bundle").read_bytes(), "application/x-git-bundle")

    run = response.json()
    assert run["status"] == "succeeded", run["errors"]
    assert run["counts"]["upload_files"] == 2  # two versions of deploy.sh
    leaks = await api.nhis(kind="leaked_secret")
    assert [leak["name"] for leak in leaks] == ["deploy.sh:1"]
    detail = await api.get(f"/api/v1/nhis/{leaks[0]['id']}")
    assert detail["attributes"]["commit"] == added
    assert run_folders(settings, api) == []


async def test_an_archive_holding_a_git_folder_is_scanned_as_plain_files_never_with_git(
    api: Api, tmp_path: Path
) -> None:
    marker = tmp_path / "fsmonitor-ran"
    token = github_token(RNG)
    hostile_config = f"[core]\n\tfsmonitor = touch {marker}\n\thooksPath = hooks\n[log]\n\tshowSignature = true\n"
    body = zipped(
        {
            ".git/config": hostile_config.encode(),
            ".git/HEAD": b"ref: refs/heads/main\n",
            ".git/hooks/post-checkout": f"#!/bin/sh\ntouch {marker}\n".encode(),
            "app.py": f'TOKEN = "{token}"\n'.encode(),
        }
    )
    code = await connector(api, "code", {"git": True})

    run = (await upload(api, code, body, "application/zip")).json()

    assert run["status"] == "succeeded", run["errors"]
    assert [leak["name"] for leak in await api.nhis(kind="leaked_secret")] == ["app.py:1"]
    assert not marker.exists()


async def test_single_exports_and_manifests_feed_their_connectors(api: Api) -> None:
    gcp = await connector(api, "gcp-export")
    k8s = await connector(api, "kubernetes", {"mode": "offline", "cluster": "prod-eu", "path": str(DATA / "gcp")})

    accounts = await upload(api, gcp, (DATA / "gcp" / "service-accounts.json").read_bytes(), "application/json")
    manifests = await upload(
        api, k8s, (DATA / "k8s-manifests" / "kubectl-get-all.yaml").read_bytes(), "application/yaml"
    )

    assert accounts.json()["status"] == "succeeded", accounts.json()["errors"]
    assert manifests.json()["status"] == "succeeded", manifests.json()["errors"]
    names = {(nhi["provider"], nhi["kind"]) for nhi in await api.nhis()}
    assert ("gcp", "service_account") in names
    assert ("kubernetes", "workload") in names


async def test_a_run_in_the_background_deletes_its_folder_when_it_ends(api: Api, settings: Settings) -> None:
    gcp = await connector(api, "gcp-export")
    body = zipped({path.name: path.read_bytes() for path in (DATA / "gcp").iterdir()})

    response = await upload(api, gcp, body, "application/zip", wait="false")
    run = response.json()
    deadline = time.monotonic() + 30
    while run["status"] == "running" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        run = await api.get(f"/api/v1/runs/{run['id']}")

    assert response.status_code == 202
    assert run["status"] == "succeeded", run["errors"]
    assert run_folders(settings, api) == []


async def test_folders_left_by_a_stopped_process_are_deleted_by_the_next_upload(api: Api, settings: Settings) -> None:
    leftover = upload_root(settings) / str(api.admin.tenant_id) / str(uuid.uuid4())
    write(leftover / "input" / "app.py", "x = 1\n")
    an_hour_ago = time.time() - 3600
    for path in (leftover / "input" / "app.py", leftover / "input", leftover):
        os.utime(path, (an_hour_ago, an_hour_ago))
    code = await connector(api, "code")

    response = await upload(api, code, zipped({"a.py": b"y = 2\n"}), "application/zip")

    assert response.json()["status"] == "succeeded", response.json()["errors"]
    assert not leftover.exists()
    assert run_folders(settings, api) == []


def _unsafe_uploads(tmp_path: Path, name: str) -> dict[str, tuple[bytes, str, str]]:
    """case -> (body, content type, what the refusal says)."""
    evil = f"{name}.txt"
    return {
        "zip entry with ..": (zipped({f"../../{evil}": b"x", "ok.txt": b"y"}), "application/zip", "leads out of"),
        "zip entry with a deep ..": (zipped({f"a/../../../{evil}": b"x"}), "application/zip", "leads out of"),
        "zip entry with an absolute path": (zipped({f"{tmp_path}/{evil}": b"x"}), "application/zip", "absolute"),
        "zip symlink entry": (
            zipped({"ok.txt": b"y"}, links={"passwd": "/etc/passwd"}),
            "application/zip",
            "a link or a special file",
        ),
        "tar entry with ..": (tarred({f"../{evil}": b"x"}), "application/gzip", "leads out of"),
        "tar entry with an absolute path": (tarred({f"/{tmp_path}/{evil}": b"x"}), "application/gzip", "absolute"),
        "tar symlink to /etc/passwd": (
            tarred({"ok.txt": b"y"}, [special("passwd", tarfile.SYMTYPE, "/etc/passwd")]),
            "application/gzip",
            "a link or a special file",
        ),
        "tar symlink then a write through it": (
            tarred({"escape/evil.txt": b"x"}, [special("escape", tarfile.SYMTYPE, str(tmp_path))]),
            "application/x-tar",
            "a link or a special file",
        ),
        "tar hard link to /etc/passwd": (
            tarred({}, [special("passwd", tarfile.LNKTYPE, "/etc/passwd")]),
            "application/gzip",
            "a link or a special file",
        ),
        "tar device": (tarred({}, [special("zero", tarfile.CHRTYPE)]), "application/gzip", "a link or a special file"),
        "not an archive": (b"PK\x03\x04 not really a zip", "application/zip", "not a valid zip archive"),
        "not a bundle": (b"just text", "application/x-git-bundle", "not a git bundle"),
    }


CASES = list(_unsafe_uploads(Path("/x"), "x"))


@pytest.mark.parametrize("case", CASES)
async def test_an_unsafe_upload_is_refused_and_nothing_is_written_outside_its_folder(
    api: Api, tmp_path: Path, settings: Settings, case: str
) -> None:
    name = f"evil-{uuid.uuid4().hex}"
    body, media, reason = _unsafe_uploads(tmp_path, name)[case]
    code = await connector(api, "code")
    before = set(tmp_path.rglob("*"))

    response = await upload(api, code, body, media)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert reason in response.json()["detail"]
    (run,) = await runs_of(api, code)
    assert (run["status"], run["trigger"]) == ("failed", "upload")
    assert [error["scope"] for error in run["errors"]] == ["upload"]
    assert reason in run["errors"][0]["message"]
    assert set(tmp_path.rglob("*")) == before
    assert not list(upload_root(settings).parent.rglob(f"{name}*"))
    assert not Path(f"/tmp/{name}.txt").exists()
    assert run_folders(settings, api) == []


@pytest.mark.parametrize(
    ("case", "body", "media", "reason"),
    [
        (
            "too many files",
            zipped({f"file-{number}.txt": b"x" for number in range(20)}),
            "application/zip",
            "more than 10 files and folders",
        ),
        ("zip bomb", zipped({"zeros.txt": b"\0" * (4 << 20)}), "application/zip", "unpacks to more than 1048576 bytes"),
        (
            "tar.gz bomb",
            tarred({"zeros.txt": b"\0" * (4 << 20)}),
            "application/gzip",
            "unpacks to more than 1048576 bytes",
        ),
    ],
)
async def test_archives_past_the_unpacked_limits_are_refused_as_they_unpack(
    api: Api, settings: Settings, limits: Any, case: str, body: bytes, media: str, reason: str
) -> None:
    limits(max_unpacked_files=10, max_unpacked_bytes=1 << 20)
    code = await connector(api, "code")

    response = await upload(api, code, body, media)

    assert len(body) < 64 * 1024, "the bomb is small; what it unpacks to is not"
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert reason in response.json()["detail"]
    assert run_folders(settings, api) == []
    assert await api.nhis() == []


async def test_a_declared_oversize_body_is_refused_before_any_run_starts(
    api: Api, settings: Settings, limits: Any
) -> None:
    limits(max_upload_bytes=4096)
    code = await connector(api, "code")

    response = await upload(api, code, b"x" * 5000, "application/zip")

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "4096 bytes" in response.json()["detail"]
    assert await runs_of(api, code) == []


async def test_an_oversize_streamed_body_is_refused_while_it_streams(api: Api, settings: Settings, limits: Any) -> None:
    limits(max_upload_bytes=4096)
    code = await connector(api, "code")
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1024
            yield b"x" * 1024

    response = await upload(api, code, chunks(), "application/zip")

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    (run,) = await runs_of(api, code)
    assert run["status"] == "failed"
    assert run["errors"] == [
        {
            "scope": "upload",
            "message": "the upload is larger than the limit of 4096 bytes (NEXORA_CONNECTOR_MAX_UPLOAD_BYTES)",
        }
    ]
    assert run_folders(settings, api) == []


async def test_only_the_upload_route_takes_bodies_past_the_api_limit(api: Api) -> None:
    token = github_token(RNG)
    large = zipped({"app.py": f'TOKEN = "{token}"\n'.encode(), "noise.bin": random.Random(1).randbytes(200_000)})
    code = await connector(api, "code")

    uploaded = await upload(api, code, large, "application/zip")
    elsewhere = await api.client.post(
        "/api/v1/connectors",
        headers=api.admin.headers,
        json={"name": "big", "kind": "code", "config": {}, "padding": "x" * 200_000},
    )

    assert len(large) > 64 * 1024  # the tests' api.max_body_bytes
    assert uploaded.status_code == 202, uploaded.text
    assert elsewhere.status_code == 413


async def test_uploads_are_refused_where_they_make_no_sense(api: Api) -> None:
    code = await connector(api, "code")
    gcp = await connector(api, "gcp-export")
    aws = await connector(api, "aws")
    live = await connector(api, "kubernetes", {"mode": "live"})

    wrong_type = await upload(api, code, b"hello", "text/plain")
    bundle_to_exports = await upload(api, gcp, b"# v2 git bundle\n", "application/x-git-bundle")
    to_an_api = await upload(api, aws, zipped({"a.txt": b"x"}), "application/zip")
    to_live = await upload(api, live, b"kind: List\n", "application/yaml")
    bad_name = await upload(api, gcp, b"[]", "application/json", filename="../../etc/passwd.json")
    empty = await upload(api, code, b"", "application/json")

    assert [r.status_code for r in (wrong_type, bundle_to_exports, to_an_api, to_live, bad_name, empty)] == [
        415,
        415,
        422,
        422,
        422,
        422,
    ]
    assert all(r.headers["content-type"] == PROBLEM for r in (wrong_type, to_an_api, to_live, bad_name, empty))
    assert "application/zip" in wrong_type.json()["detail"]
    assert "take no uploads" in to_an_api.json()["detail"]
    assert "offline-mode" in to_live.json()["detail"]
    assert "plain file name" in bad_name.json()["detail"]
    assert empty.json()["detail"] == "the upload is empty"


async def test_a_refused_upload_leaves_the_inventory_as_it_was(api: Api) -> None:
    gcp = await connector(api, "gcp-export")
    good = zipped({path.name: path.read_bytes() for path in (DATA / "gcp").iterdir()})
    first = (await upload(api, gcp, good, "application/zip")).json()
    before = sorted(nhi["id"] for nhi in await api.nhis())

    refused = await upload(api, gcp, zipped({"../escape.json": b"[]"}), "application/zip")

    assert first["status"] == "succeeded", first["errors"]
    assert refused.status_code == 422
    assert sorted(nhi["id"] for nhi in await api.nhis()) == before
    assert len(before) > 0


async def test_only_admins_may_upload(api: Api, client: httpx.AsyncClient, runtime: Any) -> None:
    code = await connector(api, "code")
    created = await client.post(
        "/api/v1/users",
        headers=api.admin.headers,
        json={
            "email": f"viewer-{uuid.uuid4().hex[:8]}@t.example",
            "password": "viewer-password-1",
            "roles": ["viewer"],
        },
    )
    assert created.status_code == 201, created.text
    login = await client.post(
        "/api/v1/auth/login", json={"email": created.json()["email"], "password": "viewer-password-1"}
    )
    viewer = {"Authorization": f"Bearer {login.json()['access_token']}", "Content-Type": "application/zip"}

    response = await client.post(
        f"/api/v1/connectors/{code}/runs/upload", headers=viewer, content=zipped({"a.txt": b"x"})
    )

    assert response.status_code == 403
    assert await runs_of(api, code) == []
