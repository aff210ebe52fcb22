"""Sources: folders, ignores, binaries, sizes, archives, notebooks, stdin, and bad input that never stops a scan."""

from __future__ import annotations

import io
import json
import os
import random
import tarfile
import zipfile
from pathlib import Path

from nexora.scanner.model import ScanStats
from nexora.scanner.runner import ScanOptions, ScanRun
from nexora.scanner.sources.archives import ArchiveLimits
from tests.scanner.fixtures.files import write
from tests.scanner.fixtures.samples import github_token

RNG = random.Random(11)


def _run(*paths: Path | str, **options: object) -> tuple[list[tuple[str, int, str]], ScanRun]:
    run = ScanRun(ScanOptions(paths=[str(p) for p in paths], jobs=1, **options))  # type: ignore[arg-type]
    found = sorted((f.path, f.line, f.rule_id) for f in run.findings())
    return found, run


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_folders_are_walked_and_git_folders_skipped(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "src" / "app.py", f'TOKEN = "{token}"\n')
    write(tmp_path / ".git" / "config", f"token = {token}\n")
    found, run = _run(tmp_path)
    assert found == [("src/app.py", 1, "github-ghp")]
    assert run.stats.files == 1


def test_binary_and_oversized_files_are_skipped_and_counted(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "image.bin", b"\x89PNG\0\0" + token.encode())
    write(tmp_path / "big.txt", f"{token}\n" + "x" * 5000)
    found, run = _run(tmp_path, max_file_size=1000)
    assert found == []
    assert run.stats.skipped_binary == 1
    assert run.stats.skipped_large == 1


def test_gitignore_is_respected_only_when_asked(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / ".gitignore", "build/\n*.log\n!keep.log\n")
    write(tmp_path / "build" / "out.txt", token)
    write(tmp_path / "debug.log", token)
    write(tmp_path / "keep.log", token)
    ignoring, _ = _run(tmp_path, respect_gitignore=True)
    everything, _ = _run(tmp_path)
    assert [path for path, _, _ in ignoring] == ["keep.log"]
    assert len(everything) == 3


def test_invalid_utf8_does_not_hide_a_secret(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "latin.txt", b"caf\xe9 \xff\xfe broken\n" + f"token={token}\n".encode())
    found, _ = _run(tmp_path)
    assert found == [("latin.txt", 2, "github-ghp")]


def test_bad_input_is_reported_and_scanning_continues(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "good.env", f"GITHUB_TOKEN={token}\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing-target")
    write(tmp_path / "huge-line.js", "var a='" + "z" * 300_000 + "';\n")
    write(tmp_path / "corrupt.zip", b"PK\x03\x04 this is not a zip")
    write(tmp_path / "broken.ipynb", '{"cells": [ {"source": "GITHUB_TOKEN=' + token + '" ')
    unreadable = write(tmp_path / "secret.txt", "x")
    unreadable.chmod(0)
    found, run = _run(tmp_path)
    reasons = {issue.path: issue.reason for issue in run.stats.issues}
    assert ("good.env", 1, "github-ghp") in found
    assert ("broken.ipynb", 1, "github-ghp") in found, "a broken notebook is still scanned as text"
    assert reasons["dangling"] == "broken symlink"
    assert reasons["corrupt.zip"].startswith("corrupt archive")
    assert reasons["broken.ipynb"].startswith("malformed notebook")
    if os.geteuid() != 0:
        assert reasons["secret.txt"].startswith("cannot read")


def test_a_file_that_vanishes_before_reading_is_an_issue(tmp_path: Path) -> None:
    from nexora.scanner.batch import Worker, WorkerSpec
    from nexora.scanner.sources.files import FileTask

    run = ScanRun(ScanOptions(paths=[str(tmp_path)], jobs=1))
    worker = Worker(WorkerSpec(rules=run.rules, prefilter="hyperscan", database=None))
    result = worker.scan_batch([FileTask(str(tmp_path / "gone.txt"), "gone.txt", 10)])
    assert result.findings == []
    assert result.stats.issues[0].reason.startswith("cannot read")


def test_archives_are_scanned_with_member_paths(tmp_path: Path) -> None:
    token = github_token(RNG)
    inner = _zip({"config/settings.py": f'TOKEN = "{token}"\n'.encode()})
    write(tmp_path / "release.tar.gz", _tar_gz({"lib/app.jar": inner, "README.md": b"hello"}))
    write(tmp_path / "wheel-1.0-py3-none-any.whl", _zip({"pkg/keys.py": f"key = '{token}'\n".encode()}))
    found, _ = _run(tmp_path)
    assert found == [
        ("release.tar.gz!lib/app.jar!config/settings.py", 1, "github-ghp"),
        ("wheel-1.0-py3-none-any.whl!pkg/keys.py", 1, "github-ghp"),
    ]


def test_a_zip_bomb_is_reported_and_skipped(tmp_path: Path) -> None:
    token = github_token(RNG)
    write(tmp_path / "bomb.zip", _zip({"zeros.txt": b"\0" * 3_000_000, "note.txt": token.encode()}))
    write(tmp_path / "big.zip", _zip({f"part{i}.txt": os.urandom(300_000) for i in range(4)}))
    write(tmp_path / "ok.env", f"GITHUB_TOKEN={token}\n")
    found, run = _run(tmp_path, archive_limits=ArchiveLimits(max_depth=3, max_total_size=1_000_000))
    reasons = {issue.path: issue.reason for issue in run.stats.issues}
    assert found == [("ok.env", 1, "github-ghp")]
    assert "zip bomb" in reasons["bomb.zip"]
    assert "expands beyond" in reasons["big.zip"]


def test_archives_nested_deeper_than_the_limit_are_reported(tmp_path: Path) -> None:
    token = github_token(RNG)
    nested = f"t={token}".encode()
    for level in range(4):
        nested = _zip({f"level{level}.zip" if level else "secret.txt": nested})
    write(tmp_path / "deep.zip", nested)
    found, run = _run(tmp_path, archive_limits=ArchiveLimits(max_depth=2))
    assert found == []
    assert any("nested deeper" in issue.reason for issue in run.stats.issues)


def test_notebook_cells_and_outputs_map_to_file_lines(tmp_path: Path) -> None:
    token = github_token(RNG)
    other = github_token(RNG, "gho_")
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Setup\n", "Nothing here\n"]},
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["import os\n", f'os.environ["GITHUB_TOKEN"] = "{token}"\n'],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"token is {other}\n"]}],
                "execution_count": 1,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(notebook, indent=1)
    write(tmp_path / "analysis.ipynb", text)
    lines = text.split("\n")
    source_line = next(i for i, line in enumerate(lines, 1) if token in line)
    output_line = next(i for i, line in enumerate(lines, 1) if other in line)
    found, _ = _run(tmp_path)
    assert found == [("analysis.ipynb", source_line, "github-ghp"), ("analysis.ipynb", output_line, "github-gho")]


def test_stdin_is_scanned_with_dash(cli: object) -> None:
    token = github_token(RNG)
    result = cli("-", "--format", "json", input=f"GITHUB_TOKEN={token}\n")  # type: ignore[operator]
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["findings"][0]["path"] == "-"
    assert token not in result.stdout


def test_scan_stats_merge_adds_counters() -> None:
    total, part = ScanStats(files=1, bytes=10), ScanStats(files=2, bytes=5)
    total.merge(part)
    assert (total.files, total.bytes) == (3, 15)
