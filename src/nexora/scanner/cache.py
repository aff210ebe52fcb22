"""The scanner's on-disk cache: state derived from the rules (the parsed rule set, the compiled Hyperscan
database and its triggers) kept between processes, so a start-up reads it instead of deriving it again.

Files live under ``$XDG_CACHE_HOME/nexora/`` (``~/.cache/nexora/``); ``NEXORA_SCANNER_CACHE`` names another
folder, or ``off`` turns the cache off. Every file name carries a digest of everything its content is derived
from, including the source of the code that derives it (:func:`source_digest`), so an edited rule file, an
upgrade or a local code change never loads stale state. Failing to read or write is never an error: the
state is then derived afresh.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path


def _path(name: str) -> Path | None:
    configured = os.environ.get("NEXORA_SCANNER_CACHE")
    if configured == "off":
        return None
    base = (
        Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nexora"
    )
    return base / name


def read(name: str) -> bytes | None:
    """The cached file ``name``, or None when it is missing, unreadable or the cache is off."""
    path = _path(name)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def write(name: str, blob: bytes) -> None:
    """Store ``blob`` as ``name`` atomically (a reader sees the old file or the whole new one)."""
    path = _path(name)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(blob)
        temporary.replace(path)
    except OSError:
        return


def source_digest(*modules: str) -> str:
    """A digest of the named modules' source files (their names where a source cannot be read) and of the
    interpreter's version: part of every key whose cached state those modules compute."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for name in modules:
        module = sys.modules[name]
        digest.update(name.encode() + b"\0")
        try:
            digest.update(Path(str(module.__file__)).read_bytes())
        except (OSError, TypeError):
            continue
    return digest.hexdigest()
