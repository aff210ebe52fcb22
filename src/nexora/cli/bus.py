"""``nexora bus``: topics, consumer lag and dead letters, on either backend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from nexora.cli.output import Format, FormatOption, emit, fail
from nexora.cli.server import database_for, settings_for

if TYPE_CHECKING:
    from nexora.core.bus import EventBus

app = typer.Typer(help="Event bus operations.", no_args_is_help=True)
dlq = typer.Typer(help="Dead letters: events a consumer group gave up on.", no_args_is_help=True)
app.add_typer(dlq, name="dlq")

DataDir = typer.Option(None, "--data-dir", help="Data dir of the embedded database (when no URL is set).")
T = TypeVar("T")


def _with_bus(data_dir: Path | None, action: Callable[[EventBus], Awaitable[T]]) -> T:
    from nexora.core.bus.factory import create_bus
    from nexora.core.db import Database
    from nexora.core.errors import NexoraError

    settings = settings_for(data_dir)

    async def run() -> T:
        assert settings.database.url is not None
        db = Database(settings.database.url.get_secret_value(), settings.database, pool_size=2)
        try:
            bus = create_bus(settings, db)
            try:
                return await action(bus)
            finally:
                await bus.stop()
        finally:
            await db.dispose()

    try:
        with database_for(settings, migrate_schema=False):
            return asyncio.run(run())
    except typer.Exit:
        raise
    except NexoraError as error:
        fail(error.message)
    except Exception as error:
        fail(f"{type(error).__name__}: {error}")


@app.command("topics")
def topics(data_dir: Path = DataDir, fmt: Format = FormatOption) -> None:
    """Topics with their event counts."""
    emit(_with_bus(data_dir, lambda bus: bus.topics()), fmt, title="topics")


@app.command("lag")
def lag(data_dir: Path = DataDir, fmt: Format = FormatOption) -> None:
    """Events each consumer group has not handled yet."""
    result = _with_bus(data_dir, lambda bus: bus.lag())
    emit([{"group": group, "lag": value} for group, value in result.items()], fmt, title="consumer lag")


@dlq.command("list")
def dlq_list(
    group: str = typer.Option(None, help="Only this consumer group."),
    limit: int = typer.Option(100, min=1, max=10_000),
    data_dir: Path = DataDir,
    fmt: Format = FormatOption,
) -> None:
    """Dead letters with the error that stopped them."""
    letters = _with_bus(data_dir, lambda bus: bus.dead_letters(group=group, limit=limit))
    rows: list[dict[str, Any]] = [
        {
            "id": letter.id,
            "group": letter.group,
            "type": letter.type,
            "event_id": str(letter.event_id) if letter.event_id else None,
            "attempts": letter.attempts,
            "failed_at": letter.failed_at.isoformat(),
            "replayed_at": letter.replayed_at.isoformat() if letter.replayed_at else None,
            "error": letter.error,
        }
        for letter in letters
    ]
    emit(
        rows,
        fmt,
        columns=["id", "group", "type", "attempts", "failed_at", "replayed_at", "error"],
        title="dead letters",
    )


@dlq.command("replay")
def dlq_replay(
    ids: list[str] = typer.Argument(None, help="Dead-letter ids to replay."),
    all_: bool = typer.Option(False, "--all", help="Replay every dead letter not yet replayed."),
    group: str = typer.Option(None, help="With --all: only this consumer group."),
    data_dir: Path = DataDir,
) -> None:
    """Deliver dead letters again to the group that failed them (after fixing the cause)."""
    if not ids and not all_:
        fail("name dead-letter ids to replay, or pass --all")

    async def replay(bus: EventBus) -> int:
        chosen = list(ids or [])
        if all_:
            letters = await bus.dead_letters(group=group, limit=100_000)
            chosen = [letter.id for letter in letters if letter.replayed_at is None]
        return await bus.replay(chosen)

    count = _with_bus(data_dir, replay)
    typer.echo(f"replayed {count} dead letter(s)")
