"""``nexora scan``: placeholder until the scanner lands (owned by the scanner work)."""

from __future__ import annotations

import typer


def scan_command(path: str = typer.Argument(".", help="File, folder or '-' for stdin.")) -> None:
    """Scan files, folders or git history for leaked secrets."""
    typer.echo("the scanner is not built yet", err=True)
    raise typer.Exit(2)
