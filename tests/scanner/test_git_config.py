"""A repository's own .git/config never makes the scanner run a program.

git reads the repository's config on every command, and some settings name programs: ``core.fsmonitor``
runs a hook when the index is read (``--staged``), ``log.showSignature`` makes ``git log`` call
``gpg.program`` on signed commits (history). The scanner passes settings that override both; each test
points them at a script that creates a marker file, and the marker must not appear.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from nexora.scanner.runner import ScanOptions, ScanRun
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import github_token

RNG = random.Random(31)


def _marker_script(tmp_path: Path, name: str) -> tuple[Path, Path]:
    marker = tmp_path / f"{name}-ran"
    script = write(tmp_path / f"{name}.sh", f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    script.chmod(0o755)
    return script, marker


def _signed_commit(repo: Path, message: str) -> None:
    """A commit carrying a (fake) signature on its own branch, so ``log.showSignature`` would verify it."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    body = (
        f"tree {tree}\nparent {parent}\nauthor A <a@test.invalid> 1700000000 +0000\n"
        "committer A <a@test.invalid> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\n"
        f"{message}\n"
    )
    commit = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
        input=body.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    git(repo, "update-ref", "refs/heads/signed", commit.strip())


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, str, list[Path]]:
    """A repository whose config runs marker scripts through fsmonitor and signature checks."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    token = github_token(RNG)
    write(repo / "app.py", f'TOKEN = "{token}"\n')
    commit_all(repo, "add app")
    _signed_commit(repo, "signed")
    write(repo / "staged.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    git(repo, "add", "staged.env")
    fsmonitor, fsmonitor_marker = _marker_script(tmp_path, "fsmonitor")
    gpg, gpg_marker = _marker_script(tmp_path, "gpg")
    git(repo, "config", "core.fsmonitor", str(fsmonitor))
    git(repo, "config", "gpg.program", str(gpg))
    git(repo, "config", "log.showSignature", "true")
    # The repository really is hostile: plain git runs both programs.
    subprocess.run(["git", "-C", str(repo), "diff", "--cached", "--quiet"], check=False, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "log", "--all"], check=False, capture_output=True)
    assert fsmonitor_marker.exists()
    assert gpg_marker.exists()
    fsmonitor_marker.unlink()
    gpg_marker.unlink()
    return repo, token, [fsmonitor_marker, gpg_marker]


def test_a_history_scan_runs_no_program_named_in_the_repository_config(
    hostile_repo: tuple[Path, str, list[Path]],
) -> None:
    repo, token, markers = hostile_repo

    run = ScanRun(ScanOptions(paths=[str(repo)], git=True, jobs=1))
    found = [finding.secret for finding in run.findings()]

    assert found == [token]
    assert [marker for marker in markers if marker.exists()] == []


def test_a_staged_scan_runs_no_fsmonitor_hook(hostile_repo: tuple[Path, str, list[Path]]) -> None:
    repo, _, markers = hostile_repo

    run = ScanRun(ScanOptions(paths=[str(repo)], staged=True, jobs=1))
    found = [finding.path for finding in run.findings()]

    assert found == ["staged.env"]
    assert [marker for marker in markers if marker.exists()] == []
