"""Entry point of the ``nexora`` command."""

from __future__ import annotations

import typer

from nexora import __version__
from nexora.cli import analytics as analytics_cli
from nexora.cli import audit, auth, bus, db, server
from nexora.cli import discovery as discovery_cli
from nexora.cli.scan import scan_command

app = typer.Typer(
    name="nexora",
    help="Nexora: security for non-human identities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("up")(server.up)
app.command("api")(server.api)
app.command("worker")(server.worker)
app.command("scan")(scan_command)
app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.command("whoami")(auth.whoami)
app.add_typer(db.app, name="db")
app.add_typer(bus.app, name="bus")
app.add_typer(audit.app, name="audit")
app.add_typer(discovery_cli.connectors, name="connectors")
app.add_typer(discovery_cli.discover, name="discover")
app.add_typer(discovery_cli.nhi, name="nhi")
app.add_typer(discovery_cli.findings, name="findings")
app.add_typer(discovery_cli.demo, name="demo")
app.add_typer(analytics_cli.activity, name="activity")
app.add_typer(analytics_cli.alerts, name="alerts")


@app.command("version")
def version() -> None:
    """Print the Nexora version."""
    typer.echo(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
