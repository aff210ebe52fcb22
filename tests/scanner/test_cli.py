"""The ``nexora scan`` command end to end: exit codes, processes, progress bar, pre-commit hook, library API."""

from __future__ import annotations

import json
import os
import pty
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

import nexora.scanner
from nexora.scanner.runner import ScanOptions, ScanRun
from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import github_token, random_token

RNG = random.Random(13)
ROOT = Path(__file__).resolve().parents[2]
NEXORA = shutil.which("nexora", path=str(Path(sys.executable).parent)) or "nexora"


def _nexora(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEXORA, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)


def test_exit_codes_are_0_clean_1_findings_2_error(tmp_path: Path) -> None:
    write(tmp_path / "clean" / "a.py", "print('hi')\n")
    write(tmp_path / "dirty" / "a.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    write(tmp_path / "bad.toml", "this is = = not toml")
    assert _nexora("scan", tmp_path / "clean").returncode == 0
    assert _nexora("scan", tmp_path / "dirty").returncode == 1
    error = _nexora("scan", tmp_path / "clean", "--config", tmp_path / "bad.toml")
    assert error.returncode == 2
    assert "not valid TOML" in error.stderr


def test_unknown_format_is_an_error(tmp_path: Path, cli: object) -> None:
    result = cli(tmp_path, "--format", "xml")  # type: ignore[operator]
    assert result.exit_code == 2


def test_several_processes_find_exactly_what_one_process_finds(tmp_path: Path) -> None:
    expected = set()
    for index in range(40):
        token = github_token(RNG)
        filler = "\n".join(f"value_{i} = {i * index}" for i in range(2000))
        write(tmp_path / f"pkg{index % 5}" / f"module{index}.py", f"{filler}\nTOKEN = '{token}'\n")
        expected.add((f"pkg{index % 5}/module{index}.py", token))

    def run(jobs: int) -> tuple[set[tuple[str, str]], ScanRun]:
        scan = ScanRun(ScanOptions(paths=[str(tmp_path)], jobs=jobs, pool_threshold=0))
        return {(f.path, f.secret) for f in scan.findings()}, scan

    single, _ = run(1)
    parallel, parallel_run = run(2)
    assert single == parallel == expected
    assert parallel_run.stats.files == 40


def test_progress_bar_is_drawn_on_an_interactive_terminal(tmp_path: Path) -> None:
    for index in range(20):
        write(tmp_path / f"f{index}.txt", random_token(RNG, 2000) + "\n")
    controller, terminal = pty.openpty()
    code = "import typer\nfrom nexora.cli.scan import scan_command\ntyper.run(scan_command)"
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.DEVNULL, stderr=terminal, cwd=ROOT
    )
    os.close(terminal)
    drawn = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0
    assert b"scanning" in drawn


def test_progress_bar_is_not_drawn_when_output_is_piped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello\n")
    code = "import typer\nfrom nexora.cli.scan import scan_command\ntyper.run(scan_command)"
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0
    assert "scanning" not in result.stderr


def test_pre_commit_hook_blocks_a_staged_secret(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "nexora-scan")
    assert hook["pass_filenames"] is False
    command = hook["entry"].split()
    git(tmp_path, "init", "-q")
    write(tmp_path / "README.md", "hello\n")
    commit_all(tmp_path, "base")
    write(tmp_path / "ci.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    git(tmp_path, "add", "ci.env")

    blocked = subprocess.run([NEXORA, *command[1:]], cwd=tmp_path, capture_output=True, text=True, check=False)
    git(tmp_path, "rm", "-q", "--cached", "ci.env")
    allowed = subprocess.run([NEXORA, *command[1:]], cwd=tmp_path, capture_output=True, text=True, check=False)

    assert command[0] == "nexora"
    assert blocked.returncode == 1, blocked.stderr
    assert "ci.env:1" in blocked.stdout
    assert allowed.returncode == 0, allowed.stderr


def test_library_api_yields_findings_without_any_server(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "a.json", json.dumps({"token": token}))
    findings = list(nexora.scanner.scan(str(tmp_path)))
    assert [(f.rule_id, f.path, f.line) for f in findings] == [("github-ghp", "a.json", 1)]
    assert token not in repr(findings[0])
    assert findings[0].redacted == f"{token[:4]}…{token[-4:]}"
