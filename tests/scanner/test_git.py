"""Git history (unique blobs, first-introducing commit, --since, all refs) and --staged."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from nexora.scanner.runner import ScanOptions, ScanRun
from nexora.scanner.sources.git import GitError
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import github_token

RNG = random.Random(3)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    return tmp_path


def _history(repo: Path, **options: object) -> list:  # type: ignore[type-arg]
    run = ScanRun(ScanOptions(paths=[str(repo)], git=True, jobs=1, **options))  # type: ignore[arg-type]
    return sorted(run.findings(), key=lambda f: (f.path, f.line))


def test_a_secret_is_reported_once_with_the_commit_that_introduced_it(repo: Path) -> None:
    token = github_token(RNG)
    write(repo / "app.py", f'TOKEN = "{token}"\n')
    first = commit_all(repo, "add app", date="2024-03-01T10:00:00+00:00")
    write(repo / "README.md", "docs\n")
    commit_all(repo, "docs", date="2024-03-02T10:00:00+00:00")
    (repo / "app.py").unlink()
    commit_all(repo, "remove the token", date="2024-03-03T10:00:00+00:00")
    write(repo / "copy.py", f'TOKEN = "{token}"\n')
    commit_all(repo, "same content again: same blob", date="2024-03-04T10:00:00+00:00")

    findings = _history(repo)

    assert len(findings) == 1
    finding = findings[0]
    assert (finding.path, finding.line, finding.rule_id) == ("app.py", 1, "github-ghp")
    assert finding.commit is not None
    assert finding.commit.commit == first
    assert finding.commit.author == "Test Author"
    assert finding.commit.email == "author@test.invalid"
    assert finding.commit.date.startswith("2024-03-01T10:00:00")


def test_every_ref_is_scanned_not_only_the_current_branch(repo: Path) -> None:
    write(repo / "a.txt", "hello\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo / "feature.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    commit_all(repo, "feature work")
    git(repo, "checkout", "-q", "main")

    assert [f.path for f in _history(repo)] == ["feature.env"]


def test_since_limits_history_to_commits_after_the_ref(repo: Path) -> None:
    write(repo / "old.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    base = commit_all(repo, "old secret")
    write(repo / "new.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    commit_all(repo, "new secret")

    assert [f.path for f in _history(repo, since=base)] == ["new.env"]
    assert [f.path for f in _history(repo)] == ["new.env", "old.env"]


def test_blobs_are_counted_once_per_unique_content(repo: Path) -> None:
    for index in range(3):
        write(repo / f"f{index}.txt", "identical\n")
    commit_all(repo, "three files, one blob")
    run = ScanRun(ScanOptions(paths=[str(repo)], git=True, jobs=1))
    list(run.findings())
    assert run.stats.blobs == 1


def test_staged_scans_only_what_the_next_commit_contains(repo: Path) -> None:
    write(repo / "base.txt", "base\n")
    commit_all(repo, "base")
    staged_token, unstaged_token = github_token(RNG), github_token(RNG)
    write(repo / "staged.env", f"GITHUB_TOKEN={staged_token}\n")
    git(repo, "add", "staged.env")
    write(repo / "unstaged.env", f"GITHUB_TOKEN={unstaged_token}\n")

    run = ScanRun(ScanOptions(paths=[str(repo)], staged=True, jobs=1))
    findings = list(run.findings())

    assert [(f.path, f.secret) for f in findings] == [("staged.env", staged_token)]


def test_a_folder_that_is_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    run = ScanRun(ScanOptions(paths=[str(tmp_path)], git=True, jobs=1))
    with pytest.raises(GitError, match="not a git repository"):
        list(run.findings())


def test_a_secret_added_while_resolving_a_merge_conflict_is_found(repo: Path) -> None:
    write(repo / "config.env", "MODE=base\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "side")
    write(repo / "config.env", "MODE=side\n")
    commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    write(repo / "config.env", "MODE=main\n")
    commit_all(repo, "main")
    merge = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@test.invalid", "merge", "-q", "side"],
        capture_output=True,
        check=False,
    )
    assert merge.returncode != 0, "the merge must conflict"
    token = github_token(RNG)
    write(repo / "config.env", f"MODE=merged\nGITHUB_TOKEN={token}\n")
    commit_all(repo, "resolve the conflict")

    assert [(f.path, f.secret) for f in _history(repo)] == [("config.env", token)]
