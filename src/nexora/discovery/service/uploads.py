"""Run inputs sent by upload: streamed to disk under a size limit, unpacked safely, read by one run, deleted.

A tenant of a shared Nexora has no folder on the host: it sends a run's files instead (an archive, one
export or manifest, or a git bundle). The body is written to ``<upload dir>/<tenant>/<run>/`` as it
arrives and refused past ``max_upload_bytes``. Archives are unpacked here, entry by entry, never with a
library's extract-all: an entry must be a regular file or a folder whose relative name stays inside the
run folder (no absolute names, no ``..``, no links, no devices), and the files and bytes written are
counted while they are written, against ``max_unpacked_files`` and ``max_unpacked_bytes``, whatever the
headers claim. A git bundle is cloned bare with the scanner's safe git settings (no hooks, no fsmonitor)
and its history held to the same limits. The folder is deleted when the run ends, however it ends.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
import stat
import subprocess
import tarfile
import time
import uuid
import zipfile
import zlib
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import select

from nexora.core.config import ConnectorSettings
from nexora.core.errors import NexoraError, PayloadTooLarge, UpstreamUnavailable, ValidationFailed
from nexora.core.runtime import Runtime
from nexora.discovery.connectors.files import upload_root
from nexora.discovery.models import Run
from nexora.discovery.service.connectors import get_connector
from nexora.discovery.service.runs import RunInput, execute_run, refuse_run, run_in_background, start_run

# Content types a run input may be sent as, and the form each names.
UPLOAD_MEDIA_TYPES = {
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/gzip": "tar",
    "application/x-gzip": "tar",
    "application/x-tar": "tar",
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "application/x-git-bundle": "bundle",
}
# What each connector kind reads from an upload (the kinds that read files rather than an API).
ACCEPTED = {
    "code": ("zip", "tar", "json", "yaml", "bundle"),
    "gcp-export": ("zip", "tar", "json"),
    "azure-export": ("zip", "tar", "json"),
    "kubernetes": ("zip", "tar", "json", "yaml"),
}
SINGLE_FILE_SUFFIXES = {"json": (".json",), "yaml": (".yaml", ".yml")}
BUNDLE_HEADERS = (b"# v2 git bundle\n", b"# v3 git bundle\n")
CLONE_TIMEOUT_SECONDS = 600
LEFTOVER_AGE_SECONDS = 600  # a run folder this old whose run is not running was left by a stopped process
_CHUNK = 1 << 16
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_DRIVE = re.compile(r"[A-Za-z]:")


class UnsupportedMediaType(NexoraError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


def upload_form(kind: str, config: dict[str, Any], media_type: str | None) -> str:
    """The form (zip, tar, json, yaml, bundle) of an upload to a ``kind`` connector; raises 415 or 422."""
    media = (media_type or "").split(";", 1)[0].strip().lower()
    form = UPLOAD_MEDIA_TYPES.get(media)
    if form is None:
        raise UnsupportedMediaType(
            f"send the run's files with a Content-Type of {', '.join(UPLOAD_MEDIA_TYPES)}; got '{media[:100]}'"
        )
    accepted = ACCEPTED.get(kind)
    if accepted is None:
        raise ValidationFailed(f"{kind} connectors read a provider's API; they take no uploads")
    if kind == "kubernetes" and config.get("mode", "live") != "offline":
        raise ValidationFailed("uploads feed offline-mode kubernetes connectors (manifests); this one reads the API")
    if form not in accepted:
        raise UnsupportedMediaType(f"{kind} connectors read {', '.join(accepted)} uploads, not {media}")
    return form


def single_file_name(form: str, requested: str | None) -> str:
    """The name a single uploaded file is read under: ``requested`` (a plain file name) or ``upload.<form>``."""
    suffixes = SINGLE_FILE_SUFFIXES.get(form)
    if suffixes is None:
        return ""
    if requested is None:
        return f"upload{suffixes[0]}"
    if not _FILE_NAME.fullmatch(requested) or not requested.lower().endswith(suffixes):
        raise ValidationFailed(f"filename must be a plain file name (letters, digits, . _ -) ending in {suffixes[0]}")
    return requested


async def run_upload(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    media_type: str | None,
    body: AsyncIterator[bytes],
    *,
    wait: bool,
    filename: str | None = None,
) -> Run:
    """Run the connector over the files in ``body`` instead of its host paths (trigger ``upload``).

    The files are stored and unpacked under the run's own folder before the run reads them; a refused
    upload (too large, unsafe or corrupt archive) fails the run with the reason, changes no inventory and
    raises the 4xx error. The folder is deleted when the run ends. With ``wait``, returns the finished run.
    """
    started = time.monotonic()
    async with runtime.db.unit_of_work(tenant_id) as session:
        connector = await get_connector(session, tenant_id, connector_id)
        form = upload_form(connector.kind, connector.config, media_type)
        name = single_file_name(form, filename)
        run = await start_run(session, tenant_id, connector_id, "upload")
        running = set(
            (await session.scalars(select(Run.id).where(Run.tenant_id == tenant_id, Run.status == "running"))).all()
        )
    limits = runtime.settings.connector
    folder = upload_root(runtime.settings) / str(tenant_id) / str(run.id)
    received = 0

    async def count(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        nonlocal received
        async for chunk in chunks:
            received += len(chunk)
            yield chunk

    try:
        await asyncio.to_thread(_prepare, folder, {str(run_id) for run_id in running})
        await _receive(count(body), folder / "upload", limits.max_upload_bytes)
        run_input = await asyncio.to_thread(_unpack, form, folder, name, received, limits)
    except BaseException as error:  # also a body refused by the edge and a client that went away
        await asyncio.shield(asyncio.to_thread(partial(shutil.rmtree, folder, ignore_errors=True)))
        errors = [{"scope": "upload", "message": _refusal(error, limits.max_upload_bytes)}]
        await asyncio.shield(refuse_run(runtime, tenant_id, run.id, {"upload_bytes": received}, errors, started))
        raise
    if wait:
        return await execute_run(runtime, tenant_id, run.id, run_input)
    run_in_background(runtime, tenant_id, run.id, run_input)
    return run


def _refusal(error: BaseException, limit: int) -> str:
    if isinstance(error, NexoraError):
        return error.message
    if getattr(error, "status_code", None) == 413:
        return _too_large(limit)
    return f"the upload was not received completely ({type(error).__name__})"


def _too_large(limit: int) -> str:
    return f"the upload is larger than the limit of {limit} bytes (NEXORA_CONNECTOR_MAX_UPLOAD_BYTES)"


def _prepare(folder: Path, running: set[str]) -> None:
    """Create the run's folder (owner-only) and delete the tenant's run folders left behind by a stopped
    process: those of runs no longer ``running`` (and not just created by a concurrent upload)."""
    folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    cutoff = time.time() - LEFTOVER_AGE_SECONDS
    for entry in folder.parent.iterdir():
        try:
            if entry.name not in running and entry.lstat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue
    folder.mkdir(mode=0o700)


async def _receive(body: AsyncIterator[bytes], destination: Path, limit: int) -> int:
    """Write ``body`` to ``destination`` as it arrives; refuse it (413) once it passes ``limit`` bytes."""
    size = 0
    with destination.open("xb") as handle:
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(_too_large(limit))
            await asyncio.to_thread(handle.write, chunk)
    if size == 0:
        raise ValidationFailed("the upload is empty")
    return size


def _unpack(form: str, folder: Path, name: str, size: int, limits: ConnectorSettings) -> RunInput:
    """The run input made from ``folder/upload``: unpacked into ``folder/input`` or cloned into ``folder/repo.git``."""
    received = folder / "upload"
    if form == "bundle":
        repository = folder / "repo.git"
        blobs = _clone_bundle(received, repository, limits)
        received.unlink()
        return RunInput(folder, repository, True, size, blobs)
    target = folder / "input"
    target.mkdir(mode=0o700)
    target = Path(os.path.realpath(target))  # entries are checked against the resolved folder
    if form in SINGLE_FILE_SUFFIXES:
        received.rename(target / name)
        return RunInput(folder, target, False, size, 1)
    budget = _Budget(limits)
    if form == "zip":
        _unzip(received, target, budget)
    else:
        _untar(received, target, budget)
    received.unlink()
    if budget.files == 0:
        raise ValidationFailed("the archive holds no files")
    return RunInput(folder, target, False, size, budget.files)


class _Budget:
    """Entries and bytes an archive may still unpack to, charged as they are written."""

    def __init__(self, limits: ConnectorSettings) -> None:
        self.max_entries = limits.max_unpacked_files
        self.max_bytes = limits.max_unpacked_bytes
        self.entries = self.files = self.bytes = 0

    def entry(self) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise ValidationFailed(
                f"the archive holds more than {self.max_entries} files and folders"
                " (NEXORA_CONNECTOR_MAX_UNPACKED_FILES)"
            )

    def take(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise ValidationFailed(
                f"the archive unpacks to more than {self.max_bytes} bytes (NEXORA_CONNECTOR_MAX_UNPACKED_BYTES)"
            )


def _shown(name: str) -> str:
    return "".join(character if character.isprintable() else "?" for character in name[:120])


def _member_path(name: str) -> PurePosixPath | None:
    """Where an entry named ``name`` is unpacked, relative to the input folder; refuses names that leave it."""
    cleaned = name.replace("\\", "/")
    if "\x00" in cleaned or cleaned.startswith("/") or _DRIVE.match(cleaned):
        raise ValidationFailed(f"the archive entry '{_shown(name)}' has an absolute path; uploads hold relative paths")
    parts = [part for part in cleaned.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValidationFailed(f"the archive entry '{_shown(name)}' leads out of its folder ('..')")
    return PurePosixPath(*parts) if parts else None


def _not_a_file(name: str) -> ValidationFailed:
    return ValidationFailed(
        f"the archive entry '{_shown(name)}' is a link or a special file; uploads may hold only files and folders"
    )


def _unwritable(relative: PurePosixPath, error: OSError) -> NexoraError:
    """A refusal for an entry the file system would not take: the tenant's fault, or the host's."""
    if isinstance(error, FileExistsError | IsADirectoryError | NotADirectoryError):
        return ValidationFailed(f"the archive holds '{_shown(str(relative))}' twice, or as a file and a folder")
    if error.errno == errno.ENAMETOOLONG:
        return ValidationFailed(f"the archive entry '{_shown(str(relative))}' has a name too long to unpack")
    return UpstreamUnavailable(f"the upload could not be stored on the Nexora host ({os.strerror(error.errno or 0)})")


def _make_folder(folder: Path, relative: PurePosixPath) -> None:
    try:
        (folder / relative).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise _unwritable(relative, error) from None


def _write(source: IO[bytes], folder: Path, relative: PurePosixPath, budget: _Budget) -> None:
    """Copy one entry to a new file (never over an existing one, never through a link), charging the budget."""
    if relative.parent != PurePosixPath("."):
        _make_folder(folder, relative.parent)
    target = folder / relative
    # Nothing unpacked is ever a link, so this holds by construction; checked anyway, before writing.
    if not Path(os.path.realpath(target.parent)).is_relative_to(folder):
        raise ValidationFailed(f"the archive entry '{_shown(str(relative))}' leads out of its folder")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise _unwritable(relative, error) from None
    budget.files += 1
    with os.fdopen(descriptor, "wb") as handle:
        # Errors reading the entry are the archive's (the caller says so); errors writing it are the host's.
        while chunk := source.read(_CHUNK):
            budget.take(len(chunk))
            try:
                handle.write(chunk)
            except OSError as error:
                raise _unwritable(relative, error) from None


def _unzip(archive_path: Path, folder: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for info in archive.infolist():
                budget.entry()
                relative = _member_path(info.filename)
                kind = stat.S_IFMT(info.external_attr >> 16)
                if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise _not_a_file(info.filename)
                if relative is None:
                    continue
                if info.is_dir() or kind == stat.S_IFDIR:
                    _make_folder(folder, relative)
                    continue
                if info.flag_bits & 0x1:
                    raise ValidationFailed(f"the archive entry '{_shown(info.filename)}' is encrypted")
                with archive.open(info) as source:
                    _write(source, folder, relative, budget)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
        raise ValidationFailed("the upload is not a valid zip archive") from None


def _untar(archive_path: Path, folder: Path, budget: _Budget) -> None:
    try:
        with tarfile.open(archive_path, mode="r:*") as archive:
            for member in archive:
                budget.entry()
                relative = _member_path(member.name)
                if not (member.isreg() or member.isdir()):
                    raise _not_a_file(member.name)
                if relative is None:
                    continue
                if member.isdir():
                    _make_folder(folder, relative)
                    continue
                source = archive.extractfile(member)
                if source is not None:
                    _write(source, folder, relative, budget)
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError):
        raise ValidationFailed("the upload is not a valid tar or tar.gz archive") from None


def _clone_bundle(bundle: Path, repository: Path, limits: ConnectorSettings) -> int:
    """Clone the bundle into a bare repository (nothing checked out, no hooks); returns its number of blobs."""
    from nexora.scanner.sources.git import git_command, git_environment

    with bundle.open("rb") as handle:
        if handle.readline(64) not in BUNDLE_HEADERS:
            raise ValidationFailed("the upload is not a git bundle (make one with 'git bundle create FILE --all')")
    only_local = ("-c", "protocol.allow=never", "-c", "protocol.file.allow=always")
    clone = git_command(None, *only_local, "clone", "--bare", "--quiet", "--", str(bundle), str(repository))
    check = git_command(repository, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)")
    try:
        cloned = subprocess.run(  # noqa: S603 - fixed argument vector, no shell
            clone, capture_output=True, env=git_environment(), timeout=CLONE_TIMEOUT_SECONDS, check=False
        )
        listed = (
            subprocess.run(  # noqa: S603 - fixed argument vector, no shell
                check, capture_output=True, env=git_environment(), timeout=CLONE_TIMEOUT_SECONDS, check=False
            )
            if cloned.returncode == 0
            else None
        )
    except subprocess.TimeoutExpired:
        raise ValidationFailed(f"the git bundle took longer than {CLONE_TIMEOUT_SECONDS}s to unpack") from None
    if listed is None or listed.returncode != 0:
        # git's own message names folders of the Nexora host: it is not passed on.
        raise ValidationFailed("the git bundle cannot be read: it is corrupt or needs commits it does not hold")
    blobs = total = 0
    for line in listed.stdout.decode("ascii", "replace").splitlines():
        kind, _, size = line.partition(" ")
        if kind == "blob":
            blobs += 1
            total += int(size)
    if blobs > limits.max_unpacked_files or total > limits.max_unpacked_bytes:
        raise ValidationFailed(
            f"the git history holds {blobs} file versions of {total} bytes, more than the limits"
            f" ({limits.max_unpacked_files} files, {limits.max_unpacked_bytes} bytes)"
        )
    if blobs == 0:
        raise ValidationFailed("the git bundle holds no files")
    return blobs
