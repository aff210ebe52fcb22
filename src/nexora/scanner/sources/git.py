"""Git sources: every unique blob in history (scanned once, attributed to the commit that introduced it),
and the staged index for pre-commit."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from nexora.scanner.model import CommitInfo, ScanIssue
from nexora.scanner.sources.files import Skipped

_EMPTY = "0" * 40
_NOT_BLOB_MODES = ("160000", "120000")  # submodule links and symlinks carry no file content
_READ_CHUNK = 256
# Command-line configuration outranks every config file, so a repository's own .git/config cannot make
# the commands Nexora runs start a program: no fsmonitor hook, no hooks, no signature check (which would
# run gpg.program), no pager.
SAFE_CONFIG = (
    "core.fsmonitor=",
    "core.hooksPath=/dev/null",
    "log.showSignature=false",
    "core.pager=cat",
)


class GitError(RuntimeError):
    """A git command failed; the message carries git's own explanation."""


@dataclass(frozen=True, slots=True)
class BlobTask:
    """One git blob to scan, with the path and commit that first introduced it."""

    repo: str
    blob: str
    display: str
    size: int
    commit: CommitInfo | None


def _git_binary() -> str:
    binary = shutil.which("git")
    if binary is None:
        raise GitError("git is not installed or not on PATH")
    return binary


def git_command(repo: Path | str | None, *args: str) -> list[str]:
    """The argument vector of a git command on ``repo`` with :data:`SAFE_CONFIG` (no shell is ever involved)."""
    safe = [option for setting in SAFE_CONFIG for option in ("-c", setting)]
    where = ["-C", str(repo)] if repo is not None else []
    return [_git_binary(), "--no-pager", *safe, *where, *args]


def git_environment() -> dict[str, str]:
    """The environment of git commands: no system-wide config, no prompts, no pager, no index writes."""
    return {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_OPTIONAL_LOCKS": "0",
    }


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    # A fixed argument vector without a shell: refs and paths cannot inject commands.
    completed = subprocess.run(  # noqa: S603
        git_command(repo, *args), input=stdin, capture_output=True, check=False, env=git_environment()
    )
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(completed.returncode)}")
    return completed.stdout


def _raw_entries(chunk: bytes) -> Iterator[tuple[str, str]]:
    """(blob id, path) of each added or modified file in a ``--raw -z`` section.

    Merge commits (``-c``) list one mode and id per parent before the result's: ``::m1 m2 m id1 id2 id MM``.
    """
    tokens = chunk.lstrip(b"\n\0").split(b"\0")
    for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        parents = len(meta) - len(meta.lstrip(b":"))
        fields = meta.lstrip(b":").split()
        if len(fields) < 2 * parents + 3:
            continue
        mode, blob, status = fields[parents], fields[2 * parents + 1], fields[2 * parents + 2]
        if b"D" in status[:1] or mode.decode() in _NOT_BLOB_MODES or blob.decode() == _EMPTY:
            continue
        yield blob.decode(), path.decode("utf-8", "surrogateescape")


def _sizes(repo: Path, blobs: Sequence[str]) -> dict[str, tuple[str, int]]:
    if not blobs:
        return {}
    output = _git(repo, "cat-file", "--batch-check", stdin="\n".join(blobs).encode() + b"\n")
    result: dict[str, tuple[str, int]] = {}
    for line in output.decode().splitlines():
        parts = line.split()
        if len(parts) == 3:
            result[parts[0]] = (parts[1], int(parts[2]))
    return result


def history_blobs(repo: Path, since: str | None, max_file_size: int) -> Iterator[BlobTask | Skipped | ScanIssue]:
    """Each unique blob reachable from all refs (after ``since`` when given), with the oldest commit adding it."""
    revisions = ["--all"] + ([f"^{since}"] if since else [])
    # Sizes of every blob in one cheap pass, so the log can stream straight into the workers.
    sizes = _all_blob_sizes(repo)
    seen: set[str] = set()
    # ``-c`` adds merge commits' own changes, so blobs created while resolving conflicts are not missed.
    arguments = ["log", *revisions, "--reverse", "--no-renames", "--raw", "-c", "--no-abbrev", "-z"]
    for commit, chunk in _stream_log(repo, [*arguments, "--format=%x01%H%x00%an%x00%ae%x00%aI"]):
        for blob, path in _raw_entries(chunk):
            if blob in seen:
                continue
            seen.add(blob)
            size = sizes.get(blob)
            if size is None:
                continue
            if size > max_file_size:
                yield Skipped(path, "too large")
                continue
            yield BlobTask(str(repo), blob, path, size, commit)


def _all_blob_sizes(repo: Path) -> dict[str, int]:
    check = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
    listing = _git(repo, "cat-file", "--batch-all-objects", "--unordered", check)
    sizes: dict[str, int] = {}
    for line in listing.decode().splitlines():
        name, kind, size = line.split()
        if kind == "blob":
            sizes[name] = int(size)
    return sizes


def _stream_log(repo: Path, arguments: list[str]) -> Iterator[tuple[CommitInfo, bytes]]:
    """(commit, raw section) per commit, parsed while git is still writing."""
    process = subprocess.Popen(  # noqa: S603 - fixed argument vector, no shell
        git_command(repo, *arguments), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=git_environment()
    )
    assert process.stdout is not None
    pending = b""
    try:
        while True:
            block = process.stdout.read(1 << 16)
            pending += block
            records = pending.split(b"\x01")
            pending = records.pop() if block else b""
            for record in records if block else [*records, pending]:
                header = record.split(b"\0", 4)
                if len(header) == 5:
                    yield CommitInfo(*(field.decode("utf-8", "replace") for field in header[:4])), header[4]
            if not block:
                break
    finally:
        process.stdout.close()
        error = process.stderr.read().decode("utf-8", "replace").strip() if process.stderr else ""
        if process.wait() != 0:
            raise GitError(f"git log failed: {error.splitlines()[-1] if error else 'exit ' + str(process.returncode)}")


def staged_blobs(repo: Path, max_file_size: int) -> Iterator[BlobTask | Skipped | ScanIssue]:
    """Blobs of files added, copied or modified in the index: what the next commit would contain."""
    raw = _git(repo, "diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACM")
    entries = list(_raw_entries(raw))
    sizes = _sizes(repo, [blob for blob, _ in entries])
    for blob, path in entries:
        size = sizes.get(blob, ("blob", 0))[1]
        if size > max_file_size:
            yield Skipped(path, "too large")
            continue
        yield BlobTask(str(repo), blob, path, size, None)


def repository_folders(repo: Path) -> list[Path]:
    """Every folder git reads ``repo``'s history from: its git folder, the common folder of its worktrees and
    the object folders it borrows (alternates, followed transitively). Callers check where these lie."""
    output = _git(repo, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir")
    folders = [Path(line) for line in output.decode("utf-8", "surrogateescape").splitlines() if line]
    pending = [folders[-1] / "objects"] if folders else []
    seen: set[Path] = set()
    while pending:
        objects = pending.pop()
        if objects in seen:
            continue
        seen.add(objects)
        folders.append(objects)
        try:
            listed = (objects / "info" / "alternates").read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            continue
        for line in listed.splitlines():
            if line.strip() and not line.startswith("#"):
                pending.append(objects / line.strip())  # relative entries are relative to the objects folder
    return folders


def repository_root(path: Path) -> Path:
    """The top folder of the work tree containing ``path``."""
    return Path(_git(path, "rev-parse", "--show-toplevel").decode().strip())


class BlobReader:
    """Reads blobs through one long-lived ``git cat-file --batch`` process."""

    def __init__(self, repo: str) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - fixed argument vector, no shell
            git_command(repo, "cat-file", "--batch"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=git_environment(),
        )
        if self._process.stdin is None or self._process.stdout is None:
            raise GitError("could not open pipes to git cat-file")
        self._stdin: IO[bytes] = self._process.stdin
        self._stdout: IO[bytes] = self._process.stdout

    def read_many(self, blobs: Sequence[str]) -> Iterator[tuple[str, bytes | None]]:
        """(blob id, content or None when missing), in order; requests are pipelined in small chunks."""
        for offset in range(0, len(blobs), _READ_CHUNK):
            chunk = blobs[offset : offset + _READ_CHUNK]
            # A chunk of ids fits in the pipe buffer, so writing it cannot deadlock against git's output.
            self._stdin.write("".join(f"{blob}\n" for blob in chunk).encode())
            self._stdin.flush()
            for blob in chunk:
                header = self._stdout.readline().split()
                if len(header) != 3:
                    yield blob, None
                    continue
                size = int(header[2])
                data = self._stdout.read(size)
                self._stdout.read(1)
                yield blob, data

    def close(self) -> None:
        """Stop the git process."""
        self._stdin.close()
        self._stdout.close()
        self._process.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
