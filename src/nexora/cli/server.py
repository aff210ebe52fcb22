"""``nexora up``, ``nexora api`` and ``nexora worker``: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from nexora.cli.output import console, fail

# Heavy imports (FastAPI, SQLAlchemy, the domains) happen inside the commands, so that
# `nexora scan` and `nexora --help` start quickly.
if TYPE_CHECKING:
    from nexora.auth.service import BootstrapResult
    from nexora.core.config import Settings


def settings_for(data_dir: Path | None) -> Settings:
    from nexora.core.config import load_settings
    from nexora.core.observability import configure_logging

    settings = load_settings()
    if data_dir is not None:
        settings.data_dir = data_dir.expanduser().resolve()
    configure_logging(settings.observability.log_level, settings.observability.log_format)
    return settings


def default_path_roots(settings: Settings) -> str | None:
    """For ``nexora up`` (one user on their own machine): when ``NEXORA_CONNECTOR_PATH_ROOTS`` is unset,
    let connectors read the user's home directory. Returns what to tell the user, or ``None`` if it was set."""
    if settings.connector.path_roots is not None:
        return None
    home = str(Path.home())
    settings.connector.path_roots = [home]
    return (
        f"Connectors may read host folders under {home} (NEXORA_CONNECTOR_PATH_ROOTS is unset; set it to a JSON"
        " list of folders, or [] for none)"
    )


@contextlib.contextmanager
def database_for(settings: Settings, *, migrate_schema: bool) -> Iterator[Settings]:
    """Point ``settings`` at a database: the configured one, or the embedded one (started here and
    stopped on exit). With ``migrate_schema``, bring the schema to head as the owner role."""
    from pydantic import SecretStr

    from nexora.ops import migrate
    from nexora.ops.embedded import EmbeddedPostgres

    embedded: EmbeddedPostgres | None = None
    try:
        if settings.database.url is None:
            embedded = EmbeddedPostgres(settings.data_dir)
            provisioned = embedded.start()
            settings.database.url = SecretStr(provisioned.app_url)
            settings.database.owner_url = SecretStr(provisioned.owner_url)
        if migrate_schema:
            owner = settings.database.owner_url or settings.database.url
            migrate.upgrade(owner.get_secret_value(), settings.database.app_role)
        yield settings
    finally:
        if embedded is not None:
            embedded.stop()


async def _bootstrap(settings: Settings) -> BootstrapResult | None:
    from nexora.assembly import open_runtime
    from nexora.auth import service as auth_service

    async with open_runtime(settings) as runtime, runtime.db.unit_of_work() as session:
        password = settings.bootstrap.admin_password
        return await auth_service.bootstrap(
            session,
            runtime.services["auth"],
            tenant_name=settings.bootstrap.tenant_name,
            admin_email=settings.bootstrap.admin_email,
            admin_password=password.get_secret_value() if password else None,
        )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _serve(settings: Settings, host: str, port: int, roles: list[str] | None) -> None:
    """Serve the API and, with ``roles``, run those workers beside it, on one runtime and one event loop.

    SIGINT and SIGTERM stop the server gracefully (in-flight requests finish), then the workers, then the
    bus; the process exits 0.
    """
    import uvicorn

    from nexora.assembly import create_api, create_workers, open_runtime
    from nexora.core.runtime import run_service, tune_collector

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Stop gracefully on SIGINT/SIGTERM and exit 0; uvicorn would re-raise the signal afterwards.
            previous = {signum: signal.signal(signum, self.handle_exit) for signum in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

    async def main() -> None:
        async with open_runtime(settings) as runtime:
            app = create_api(settings, runtime=runtime)
            workers = create_workers(runtime, roles) if roles is not None else None
            bus = runtime.bus
            if workers is not None:
                await workers.start()
            elif bus is not None:
                await bus.start(consume=False)  # the relay side: publishing needs no consumer here
            tune_collector()
            config = uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                proxy_headers=False,
                server_header=False,
                timeout_graceful_shutdown=10,
            )
            try:
                await Server(config).serve()
            finally:
                if workers is not None:
                    await workers.stop()
                elif bus is not None:
                    await bus.stop()

    run_service(main())


def up(
    host: str = typer.Option(None, help="Address to listen on (default NEXORA_API_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to listen on (default NEXORA_API_PORT or 8080; 0 picks one)."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Where the embedded database and keys live."),
) -> None:
    """Run everything in one process: API, web console and all workers (embedded PostgreSQL if no URL)."""
    from nexora.core.errors import NexoraError

    settings = settings_for(data_dir)
    roots_note = default_path_roots(settings)
    if roots_note is not None:
        from nexora.core.observability import get_logger

        get_logger("nexora.cli").info("connector path roots defaulted", path_roots=settings.connector.path_roots)
        console.print(roots_note, highlight=False)
    host = host or settings.api.host
    port = settings.api.port if port is None else port
    port = port or _free_port(host)
    try:
        with database_for(settings, migrate_schema=True):
            created = asyncio.run(_bootstrap(settings))
            url = f"http://{host}:{port}"
            if created is not None:
                console.print(
                    f"First start: created tenant '{settings.bootstrap.tenant_name}' and platform admin "
                    f"[bold]{created.email}[/]"
                )
                if created.generated_password:
                    console.print(
                        f"Admin password (shown once, store it now): [bold]{created.generated_password}[/]",
                        highlight=False,
                    )
            console.print(f"Nexora is running at [bold]{url}[/] (Ctrl+C to stop)", highlight=False)
            _serve(settings, host, port, roles=["all"])
    except NexoraError as error:
        fail(error.message)


def api(
    host: str = typer.Option(None, help="Address to listen on."),
    port: int = typer.Option(None, help="Port to listen on."),
) -> None:
    """Run the API only (stateless; scale out behind a load balancer). Needs NEXORA_DATABASE_URL."""
    settings = settings_for(None)
    if settings.database.url is None:
        fail("set NEXORA_DATABASE_URL (the embedded database is only for 'nexora up')")
    _serve(settings, host or settings.api.host, port or settings.api.port, roles=None)


def worker(
    role: list[str] = typer.Option(
        ["all"], "--role", "-r", help="discovery, analytics, remediation, threatintel, audit or all (repeatable)."
    ),
) -> None:
    """Run the consumers and schedules of some worker roles. Needs NEXORA_DATABASE_URL."""
    from nexora.assembly import create_workers, expand_roles, open_runtime
    from nexora.core.errors import NexoraError
    from nexora.core.runtime import run_service, tune_collector

    settings = settings_for(None)
    if settings.database.url is None:
        fail("set NEXORA_DATABASE_URL (the embedded database is only for 'nexora up')")
    try:
        roles = expand_roles(role)
    except NexoraError as error:
        fail(error.message)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with open_runtime(settings) as runtime:
            workers = create_workers(runtime, roles)
            tune_collector()
            await workers.start()
            console.print(f"worker running roles: {', '.join(roles)}")
            await stop.wait()
            await workers.stop()

    run_service(run())
