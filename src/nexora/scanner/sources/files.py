"""Walking files and folders: skips ``.git``, binaries, oversized and ignored files, and reports the rest."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nexora.scanner.model import ScanIssue
from nexora.scanner.sources.gitignore import IgnoreRules

SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".bzr"})
# A link found inside a folder may point anywhere on the host: only places inside the folder are read.
OUTSIDE_LINK = "symbolic link to a place outside the scanned folder; not followed"
# Compiled and media files never hold text secrets; skipping them by name saves an open and a read each.
BINARY_SUFFIXES = frozenset(
    ".pyc .pyo .so .pyd .dll .dylib .exe .o .a .lib .class .png .jpg .jpeg .gif .ico .bmp .webp .tiff .woff "
    ".woff2 .ttf .otf .eot .mp3 .mp4 .wav .ogg .avi .mov .pdf .mo .db .sqlite .parquet .npy .npz .pkl .bin".split()
)


@dataclass(frozen=True, slots=True)
class FileTask:
    """A file to read and scan; ``display`` is its path relative to the scan root."""

    path: str
    display: str
    size: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out on purpose, counted in the summary."""

    display: str
    reason: str


def walk(
    root: Path,
    max_file_size: int,
    respect_gitignore: bool = False,
    excluded: object = None,
) -> Iterator[FileTask | Skipped | ScanIssue]:
    """Every regular file under ``root`` (or ``root`` itself), in a stable order, with reasons for skips.

    Symlinked folders are not followed (no loops); a symlinked file is read only when it resolves inside
    ``root`` (else an :data:`OUTSIDE_LINK` issue); a broken symlink is reported as an issue.
    ``excluded`` is an optional callable taking the display path and returning True to skip it.
    """
    base = root if root.is_dir() else root.parent
    if not root.is_dir():
        yield from _file(root, root.name, max_file_size, excluded, None)
        return
    inside = Path(os.path.realpath(root))
    ignore = IgnoreRules()
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, relative = stack.pop()
        if respect_gitignore and (folder / ".gitignore").is_file():
            ignore.add_file(relative, folder / ".gitignore")
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            yield ScanIssue(relative or str(base), f"cannot list folder: {error.strerror}")
            continue
        subfolders: list[tuple[Path, str]] = []
        for entry in entries:
            display = f"{relative}/{entry.name}" if relative else entry.name
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_directory = False
            if is_directory:
                if entry.name in SKIPPED_DIRECTORIES:
                    continue
                if respect_gitignore and ignore.ignored(display, True):
                    yield Skipped(display + "/", "ignored")
                    continue
                subfolders.append((Path(entry.path), display))
                continue
            if respect_gitignore and ignore.ignored(display, False):
                yield Skipped(display, "ignored")
                continue
            yield from _entry(entry, display, max_file_size, excluded, inside)
        stack.extend(reversed(subfolders))


def _entry(
    entry: os.DirEntry[str], display: str, max_file_size: int, excluded: object, inside: Path
) -> Iterator[FileTask | Skipped | ScanIssue]:
    # The common case (a regular file, not a symlink) costs one stat through the directory entry.
    try:
        if entry.is_file(follow_symlinks=False):
            dot = entry.name.rfind(".")
            if dot > 0 and entry.name[dot:].lower() in BINARY_SUFFIXES:
                yield Skipped(display, "binary")
                return
            if callable(excluded) and excluded(display):
                yield Skipped(display, "allowlisted")
                return
            size = entry.stat(follow_symlinks=False).st_size
            if size > max_file_size:
                yield Skipped(display, "too large")
            else:
                yield FileTask(entry.path, display, size)
            return
    except OSError as error:
        yield ScanIssue(display, f"cannot stat: {error.strerror}")
        return
    yield from _file(Path(entry.path), display, max_file_size, excluded, inside)


def _file(
    path: Path, display: str, max_file_size: int, excluded: object, inside: Path | None
) -> Iterator[FileTask | Skipped | ScanIssue]:
    """One file; with ``inside`` (the resolved scan root), a symlink is followed only to a place within it."""
    if callable(excluded) and excluded(display):
        yield Skipped(display, "allowlisted")
        return
    link = path.is_symlink()
    if inside is not None and link:
        target = Path(os.path.realpath(path))
        if target != inside and inside not in target.parents:
            yield ScanIssue(display, OUTSIDE_LINK)
            return
        path = target  # read what was checked, not the link, which could be changed in between
    try:
        status = path.stat()
    except FileNotFoundError:
        yield ScanIssue(display, "broken symlink" if link else "file vanished")
        return
    except OSError as error:
        yield ScanIssue(display, f"cannot stat: {error.strerror}")
        return
    if link and path.is_dir():
        return
    if not path.is_file():
        yield Skipped(display, "not a regular file")
        return
    if status.st_size > max_file_size:
        yield Skipped(display, "too large")
        return
    yield FileTask(str(path), display, status.st_size)


def read_file(task: FileTask) -> bytes:
    """The file's bytes; raises ``OSError`` if it cannot be read."""
    with open(task.path, "rb") as handle:
        return handle.read()
