"""Archives (zip, jar, whl, tar, tar.gz…): members are scanned in memory under depth and size limits,
so a zip bomb is reported and skipped instead of exhausting memory. Only regular files are read:
links in an archive are never followed, nothing is ever written to disk."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

ZIP_SUFFIXES = (".zip", ".jar", ".war", ".ear", ".whl", ".apk", ".nupkg", ".egg")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Ratios above this are not produced by real source trees; they are how zip bombs are built.
MAX_COMPRESSION_RATIO = 1000


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How deep nested archives are opened and how many bytes one top-level archive may expand to."""

    max_depth: int = 3
    max_total_size: int = 256 * 1024 * 1024


class ArchiveRejected(Exception):
    """The archive breaks a limit (bomb, depth) or is corrupt; the message says which."""


class Budget:
    """Uncompressed bytes still allowed for one top-level archive."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    def take(self, size: int, name: str) -> None:
        """Charge ``size`` bytes or raise :class:`ArchiveRejected`."""
        if size > self.remaining:
            raise ArchiveRejected(f"zip bomb or oversized archive: expands beyond {self.limit} bytes at {name}")
        self.remaining -= size


def is_archive(name: str) -> bool:
    """True when the file name says zip or tar."""
    lowered = name.lower()
    return lowered.endswith(ZIP_SUFFIXES) or lowered.endswith(TAR_SUFFIXES)


def members(name: str, data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of each regular file; raises :class:`ArchiveRejected` on bombs or corruption."""
    try:
        if name.lower().endswith(ZIP_SUFFIXES):
            yield from _zip_members(data, budget)
        else:
            yield from _tar_members(data, budget)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, NotImplementedError) as error:
        raise ArchiveRejected(f"corrupt archive: {error}") from error


def _zip_members(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                continue  # a symbolic link member holds a path; it is neither followed nor scanned
            if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
                raise ArchiveRejected(
                    f"zip bomb: {info.filename} claims a compression ratio above {MAX_COMPRESSION_RATIO}"
                )
            budget.take(info.file_size, info.filename)
            with archive.open(info) as handle:
                # Declared sizes can lie: never read more than the declared size plus one byte.
                content = handle.read(info.file_size + 1)
            if len(content) > info.file_size:
                raise ArchiveRejected(f"zip bomb: {info.filename} expands beyond its declared size")
            yield info.filename, content


def _tar_members(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            if not member.isfile():
                continue
            budget.take(member.size, member.name)
            handle = archive.extractfile(member)
            if handle is not None:
                yield member.name, handle.read(member.size)
