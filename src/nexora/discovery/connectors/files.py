"""Host paths and the files connectors read: only under the operator's roots, bounded, JSON or YAML.

A connector acting for a tenant never reads an arbitrary place on the Nexora host. A configured path is
resolved (symlinks and ``..``) and accepted only inside one of ``NEXORA_CONNECTOR_PATH_ROOTS`` and outside
Nexora's own state (data dir, run inputs); files found by walking a folder are checked again, so a link
inside an allowed folder cannot lead out of it. Refusals never say whether a path exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nexora.core.config import Settings
from nexora.core.errors import ValidationFailed
from nexora.discovery.records import Collection

OUTSIDE_ROOTS = (
    "the path is outside the folders this Nexora allows connectors to read (NEXORA_CONNECTOR_PATH_ROOTS);"
    " send the files with an upload instead"
)
OUTSIDE_LINK = "a symbolic link to a place outside the allowed folders; not followed"
NO_HOST_PATH = (
    "this connector has no host path: send its files with an upload (POST /api/v1/connectors/{id}/runs/upload)"
)
# Config fields naming host paths, by connector kind: checked when a connector is created or changed.
HOST_PATH_FIELDS = {"code": "paths", "gcp-export": "path", "azure-export": "path", "kubernetes": "path"}


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def upload_root(settings: Settings) -> Path:
    """Where uploaded run inputs wait for their run (``<data dir>/run-inputs`` unless configured)."""
    return settings.connector.upload_dir or settings.data_dir / "run-inputs"


@dataclass(frozen=True)
class HostPaths:
    """Where connectors may read on the host: inside one of ``roots``, never inside ``private`` (both resolved).

    The default allows nothing.
    """

    roots: tuple[Path, ...] = ()
    private: tuple[Path, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> HostPaths:
        """The operator's roots (``NEXORA_CONNECTOR_PATH_ROOTS``; unset or ``[]``: none) minus Nexora's own state."""
        roots = tuple(_real(root) for root in settings.connector.path_roots or [])
        private = (_real(settings.data_dir), _real(upload_root(settings)), _real(settings.master_key_path))
        return cls(roots, private)

    @classmethod
    def only(cls, folder: Path) -> HostPaths:
        """Nothing but ``folder`` (an uploaded run's input)."""
        return cls((_real(folder),))

    def allows(self, path: Path) -> bool:
        """Whether the resolved ``path`` lies inside a root and outside Nexora's own state."""
        return any(_within(path, root) for root in self.roots) and not any(_within(path, p) for p in self.private)


def resolve_host_path(path: str, host: HostPaths) -> Path:
    """``path`` resolved (symlinks, ``..``) if it lies inside the allowed folders; else :class:`ValidationFailed`.

    Every path outside gets the same message, whether it exists or not. A path inside may not exist yet.
    """
    if not path or "\x00" in path:
        raise ValidationFailed("the path is empty or holds a NUL character")
    if not os.path.isabs(path):
        raise ValidationFailed("the path must be absolute (start with /)")
    real = Path(os.path.realpath(path))
    if not host.allows(real):
        raise ValidationFailed(OUTSIDE_ROOTS)
    return real


def check_host_paths(kind: str, config: Mapping[str, Any], host: HostPaths) -> None:
    """Refuse a config naming a host path outside the allowed folders; the message names the field."""
    name = HOST_PATH_FIELDS.get(kind)
    value = config.get(name) if name else None
    if isinstance(value, str):
        named = [(str(name), value)]
    elif isinstance(value, list):
        named = [(f"{name}.{index}", item) for index, item in enumerate(value) if isinstance(item, str)]
    else:
        return
    problems = []
    for field, path in named:
        try:
            resolve_host_path(path, host)
        except ValidationFailed as error:
            problems.append(f"{field}: {error.message}")
    if problems:
        raise ValidationFailed(f"invalid {kind} connector config: " + "; ".join(problems[:5]))


@dataclass(frozen=True)
class ReadRoot:
    """What one run reads: a resolved file or folder, where links in it may lead, and how its files are named.

    Files are named by the configured path (host) or relative to the input folder (upload), never by
    where Nexora keeps them.
    """

    path: Path
    host: HostPaths
    label: str  # the configured path; empty for an upload

    def shown(self, file: Path) -> str:
        """How ``file`` (the root or a file under it) appears in run errors and records."""
        if file == self.path:
            return self.label or file.name
        relative = file.relative_to(self.path)
        return (Path(self.label) / relative).as_posix() if self.label else relative.as_posix()


def read_root(configured: str | None, input_dir: Path | None, host: HostPaths) -> ReadRoot:
    """The uploaded input when there is one, else the configured host path checked against ``host``."""
    if input_dir is not None:
        return ReadRoot(_real(input_dir), HostPaths.only(input_dir), "")
    if not configured:
        raise ValidationFailed(NO_HOST_PATH)
    return ReadRoot(resolve_host_path(configured, host), host, configured)


def files_under(root: ReadRoot, suffixes: tuple[str, ...], errors: Collection) -> list[Path]:
    """The files at ``root`` (a file or a folder, walked recursively) with one of ``suffixes``.

    Symlinked folders are not followed; a symlinked file is read only if it resolves to an allowed place,
    else it is skipped with a run error (:data:`OUTSIDE_LINK`).
    """
    if not root.path.exists():
        raise ValidationFailed(f"the path '{root.label}' does not exist")
    if root.path.is_file():
        return [root.path]
    found: list[Path] = []
    for folder, folders, names in os.walk(root.path, followlinks=False):
        folders.sort()
        for name in sorted([*names, *(entry for entry in folders if Path(folder, entry).is_symlink())]):
            path = Path(folder, name)
            if path.is_symlink():
                if not root.host.allows(_real(path)):
                    errors.error(root.shown(path), OUTSIDE_LINK)
                    continue
                if not path.is_file():
                    continue  # a folder link, or a broken one
            if path.suffix.lower() in suffixes:
                found.append(path)
    return found


def read_documents(path: Path, max_bytes: int, collection: Collection, shown: str | None = None) -> list[Any] | None:
    """The JSON or YAML documents of one file; a bad file adds a run error (under ``shown``) and returns ``None``."""
    scope = shown or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            collection.error(scope, f"file is {size} bytes, larger than the {max_bytes}-byte limit")
            return None
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return [json.loads(text)]
        return [document for document in yaml.safe_load_all(text) if document is not None]
    except (OSError, UnicodeDecodeError) as error:
        collection.error(scope, f"cannot read the file: {type(error).__name__}")
    except (ValueError, yaml.YAMLError) as error:
        line = getattr(error, "lineno", None) or getattr(getattr(error, "problem_mark", None), "line", None)
        where = f" near line {line}" if line else ""
        collection.error(scope, f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}{where}")
    return None
