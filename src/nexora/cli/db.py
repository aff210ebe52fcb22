"""``nexora db``: schema migrations and provisioning."""

from __future__ import annotations

from pathlib import Path

import typer

from nexora.cli.output import Format, FormatOption, emit, fail
from nexora.cli.server import database_for, settings_for

app = typer.Typer(help="Database schema and roles.", no_args_is_help=True)

DataDir = typer.Option(None, "--data-dir", help="Data dir of the embedded database (when no URL is set).")


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", help="Target revision."),
    data_dir: Path = DataDir,
) -> None:
    """Apply pending migrations as the owner role (NEXORA_DATABASE_OWNER_URL, else NEXORA_DATABASE_URL)."""
    from nexora.ops import migrate

    settings = settings_for(data_dir)
    try:
        with database_for(settings, migrate_schema=False):
            owner = settings.database.owner_url or settings.database.url
            assert owner is not None
            migrate.upgrade(owner.get_secret_value(), settings.database.app_role, revision)
            state = migrate.status(owner.get_secret_value())
    except SystemExit as error:
        fail(str(error))
    except Exception as error:
        fail(f"migration failed: {type(error).__name__}: {error}")
    typer.echo(f"database at revision {state.current} (head {state.head})")


@app.command("status")
def status(data_dir: Path = DataDir, fmt: Format = FormatOption) -> None:
    """Show the current and newest schema revision. Exit code 1 when migrations are pending."""
    from nexora.core.db import redacted_url
    from nexora.ops import migrate

    settings = settings_for(data_dir)
    try:
        with database_for(settings, migrate_schema=False):
            assert settings.database.url is not None
            url = settings.database.url.get_secret_value()
            state = migrate.status(url)
    except Exception as error:
        fail(f"cannot read the schema version: {type(error).__name__}: {error}")
    emit(
        {
            "database": redacted_url(url),
            "current": state.current,
            "head": state.head,
            "pending": state.pending,
            "up_to_date": state.up_to_date,
        },
        fmt,
    )
    if not state.up_to_date:
        raise typer.Exit(1)


@app.command("provision")
def provision_command(
    superuser_url: str = typer.Option(..., envvar="NEXORA_SUPERUSER_URL", help="URL of a role that can create roles."),
    database: str = typer.Option("nexora", help="Database to create."),
    owner_role: str = typer.Option("nexora_owner", help="Role that owns the tables and runs migrations."),
    app_role: str = typer.Option("nexora_app", help="Role the application connects as (no BYPASSRLS)."),
) -> None:
    """Create the database, the owner role and the app role (idempotent), then print their URLs."""
    from nexora.core.db import redacted_url
    from nexora.ops import provision

    try:
        result = provision.provision(superuser_url, database, owner_role=owner_role, app_role=app_role)
    except Exception as error:
        fail(f"provisioning failed: {type(error).__name__}: {error}")
    typer.echo(f"NEXORA_DATABASE_OWNER_URL={redacted_url(result.owner_url)}")
    typer.echo(f"NEXORA_DATABASE_URL={redacted_url(result.app_url)}")
