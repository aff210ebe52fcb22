"""Entry point of the ``nexora`` command."""

from __future__ import annotations

import typer

from nexora import __version__
from nexora.cli.scan import scan_command

app = typer.Typer(
    name="nexora",
    help="Nexora: security for non-human identities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("scan")(scan_command)


@app.command("version")
def version() -> None:
    """Print the Nexora version."""
    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
