"""Jupyter notebooks: cell sources and text outputs are scanned as text, positions mapped back to the file."""

from __future__ import annotations

import json
from typing import Any

_SEARCH_HORIZON = 2000


class NotebookError(ValueError):
    """The notebook is not valid JSON or not shaped like nbformat."""


def _texts(cell: dict[str, Any]) -> list[Any]:
    texts: list[Any] = [cell.get("source", "")]
    for output in cell.get("outputs", []) or []:
        if not isinstance(output, dict):
            continue
        texts.append(output.get("text", ""))
        # Error outputs: the exception value and each traceback entry (one string each, not newline-ended).
        texts.append(output.get("evalue", ""))
        traceback = output.get("traceback")
        texts.extend(traceback if isinstance(traceback, list) else [])
        data = output.get("data")
        if isinstance(data, dict):
            texts.extend(value for key, value in data.items() if key.startswith("text/") or key.endswith("json"))
    return texts


def _lines(value: Any) -> list[str]:
    if isinstance(value, list):
        joined = "".join(part for part in value if isinstance(part, str))
    elif isinstance(value, str):
        joined = value
    else:
        joined = json.dumps(value)
    return joined.split("\n")


def extract(data: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """The notebook's cell text joined by newlines, and for each text line its (file line, column offset).

    Each text line is located in the raw file through its JSON-escaped form, searching forward, so a
    finding in a cell points at the line of the ``.ipynb`` file that holds it.
    """
    try:
        text = data.decode("utf-8")
        notebook = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError(f"malformed notebook: {error}") from error
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("malformed notebook: no cells list")
    raw_lines = text.split("\n")
    cursor = 0
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict):
            continue
        for value in _texts(cell):
            for line in _lines(value):
                needle = json.dumps(line, ensure_ascii=False)[1:-1]
                position = cursor
                # A bounded look-ahead keeps lines that cannot be located from making this quadratic.
                horizon = min(len(raw_lines), cursor + _SEARCH_HORIZON)
                while position < horizon and needle not in raw_lines[position]:
                    position += 1
                if position < horizon:
                    cursor = position
                    offset = raw_lines[position].index(needle) if needle else 0
                else:
                    offset = 0
                lines.append(line)
                line_map.append((cursor + 1, offset))
    return "\n".join(lines).encode("utf-8"), line_map
