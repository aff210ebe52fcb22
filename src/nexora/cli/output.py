"""Rendering CLI output as JSON or a table, and one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    json = "json"
    table = "table"


FormatOption = typer.Option(Format.table, "--format", "-f", help="Output format.", case_sensitive=False)

console = Console()
error_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error to stderr and exit with ``code``."""
    error_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def emit(data: Any, fmt: Format, columns: Sequence[str] | None = None, title: str | None = None) -> None:
    """Print ``data`` (a dict or a list of dicts) as JSON or as a table of ``columns``."""
    if fmt == Format.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    if not rows:
        console.print("(none)")
        return
    names = list(columns or rows[0].keys())
    table = Table(title=title, show_lines=False)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*[_cell(row.get(name)) for name in names])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
