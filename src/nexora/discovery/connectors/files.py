"""Reading export and manifest files safely: bounded size, clear errors, JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from nexora.core.errors import ValidationFailed
from nexora.discovery.records import Collection


def files_under(path: str, suffixes: tuple[str, ...]) -> list[Path]:
    """The files at ``path`` (a file or a folder, searched recursively) with one of ``suffixes``."""
    root = Path(path)
    if not root.exists():
        raise ValidationFailed(f"the path '{path}' does not exist on the Nexora host")
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def read_documents(path: Path, max_bytes: int, collection: Collection) -> list[Any] | None:
    """The JSON or YAML documents of one file; a bad file adds a run error and returns ``None``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            collection.error(str(path), f"file is {size} bytes, larger than the {max_bytes}-byte limit")
            return None
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return [json.loads(text)]
        return [document for document in yaml.safe_load_all(text) if document is not None]
    except (OSError, UnicodeDecodeError) as error:
        collection.error(str(path), f"cannot read the file: {type(error).__name__}")
    except (ValueError, yaml.YAMLError) as error:
        line = getattr(error, "lineno", None) or getattr(getattr(error, "problem_mark", None), "line", None)
        where = f" near line {line}" if line else ""
        collection.error(str(path), f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}{where}")
    return None
