"""``nexora activity`` (send activity logs, read batches and identities) and ``nexora alerts``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from nexora.cli.client import ApiClient
from nexora.cli.output import Format, FormatOption, emit, error_console, fail

activity = typer.Typer(
    help="Activity logs of machine identities (CloudTrail, Kubernetes audit, GitHub).", no_args_is_help=True
)
alerts = typer.Typer(help="Alerts raised by the analytics detectors.", no_args_is_help=True)

UrlOption = typer.Option(None, envvar="NEXORA_URL", help="Nexora URL.")
SOURCES = ("cloudtrail", "k8s-audit", "github", "generic")
CHUNK = 1024 * 1024
READ_TIMEOUT = 3600.0  # a large file is scored while it streams; the answer comes at the end
SUMMARY_COLUMNS = ["origin", "accepted", "duplicates", "rejected", "skipped", "attributed", "alerts"]
ALERT_COLUMNS = ["id", "severity", "status", "title", "identity_name", "technique_id", "last_seen_at", "event_count"]


def _inputs(paths: list[str]) -> list[tuple[str, Path | None]]:
    """Each input as (name, path); ``-`` is stdin. Folders are walked, sorted, without following links."""
    found: list[tuple[str, Path | None]] = []
    for raw in paths:
        if raw == "-":
            found.append(("stdin", None))
            continue
        path = Path(raw)
        if path.is_dir():
            for current, folders, names in os.walk(path):
                folders[:] = sorted(name for name in folders if not Path(current, name).is_symlink())
                for name in sorted(names):
                    file = Path(current, name)
                    if file.is_file() and not file.is_symlink():
                        found.append((str(file), file))
        elif path.is_file():
            found.append((str(path), path))
        else:
            fail(f"{raw}: no such file or folder")
    if not found:
        fail("no files to ingest")
    return found


def _post(
    client: ApiClient, source: str, name: str, handle: IO[bytes], progress: Progress, task: Any
) -> dict[str, Any]:
    def chunks() -> Iterator[bytes]:
        while block := handle.read(CHUNK):
            progress.advance(task, len(block))
            yield block

    return client.post_stream(
        "/api/v1/activity/batches",
        chunks(),
        content_type="application/octet-stream",
        params={"source": source, "name": Path(name).name[:200] or "upload"},
        read_timeout=READ_TIMEOUT,
        what=name,
    )


@activity.command("ingest")
def ingest(
    paths: list[str] = typer.Argument(..., help="Files, folders (walked) or - for stdin."),
    source: str = typer.Option(..., "--source", "-s", help="cloudtrail, k8s-audit, github or generic."),
    show_rejects: int = typer.Option(10, "--show-rejects", min=0, help="Rejects to print per file."),
    parallel: int = typer.Option(
        3, "--parallel", min=1, max=8, help="Files sent at once (1: strictly in order, e.g. for replaying history)."
    ),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Send activity records: each file is stored, attributed to the inventory and scored by the detectors.

    Records that cannot be read are rejected with their position and reason; everything valid in the
    same file is still ingested; records sent before are skipped. Exits 1 when any record was rejected.
    """
    if source not in SOURCES:
        fail(f"unknown source '{source}'; choose from {', '.join(SOURCES)}")
    client = ApiClient.from_environment(url)
    if not client.api_key and not client.access_token:
        fail("not signed in: run 'nexora login --url URL' or set NEXORA_API_KEY")
    inputs = _inputs(paths)
    total = sum(path.stat().st_size for _, path in inputs if path is not None) or None
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    started = time.monotonic()
    with Progress(*columns, console=error_console, transient=True, disable=not error_console.is_terminal) as progress:
        task = progress.add_task("ingesting", total=total)

        def send(item: tuple[str, Path | None]) -> dict[str, Any]:
            name, path = item
            progress.update(task, description=f"ingesting {Path(name).name}")
            if path is None:
                return _post(client, source, name, sys.stdin.buffer, progress, task)
            with path.open("rb") as handle:
                return _post(client, source, name, handle, progress, task)

        # Files in flight together keep the server busy while one of them waits for the database.
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            summaries = list(pool.map(send, inputs))
    elapsed = time.monotonic() - started
    totals = {key: sum(int(s[key]) for s in summaries) for key in SUMMARY_COLUMNS[1:]}
    if fmt == Format.json:
        emit({"batches": summaries, "totals": totals, "seconds": round(elapsed, 3)}, fmt)
    else:
        emit([*summaries, {"origin": "total", **totals}], fmt, columns=SUMMARY_COLUMNS, title=f"{source} activity")
        for summary in summaries:
            for reject in summary["rejects"][:show_rejects]:
                error_console.print(f"rejected {reject['position']}: {reject['reason']}", highlight=False)
    if totals["rejected"]:
        raise typer.Exit(1)


@activity.command("batches")
def batches(limit: int = typer.Option(20, min=1, max=500), url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Recent ingests with their counts."""
    rows = ApiClient.from_environment(url).get("/api/v1/activity/batches", params={"limit": limit})
    emit(rows, fmt, columns=["id", "status", "source", *SUMMARY_COLUMNS, "started_at"], title="activity batches")


@activity.command("rejects")
def rejects(
    batch_id: str = typer.Argument(...),
    limit: int = typer.Option(100, min=1, max=1000),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Why each rejected record of a batch was refused."""
    rows = ApiClient.from_environment(url).get(f"/api/v1/activity/batches/{batch_id}/rejects", params={"limit": limit})
    emit(rows, fmt, columns=["position", "reason"], title="rejected records")


@activity.command("identities")
def identities(
    unknown: bool = typer.Option(False, "--unknown", help="Only identities the inventory does not know."),
    limit: int = typer.Option(100, min=1, max=500),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Identities seen in activity, most recently active first."""
    rows = ApiClient.from_environment(url).get(
        "/api/v1/activity/identities", params={"unknown": unknown, "limit": limit}
    )
    emit(rows, fmt, columns=["key", "name", "kind", "nhi_id", "event_count", "last_seen_at"], title="identities")


@alerts.command("list")
def list_alerts(
    status: list[str] = typer.Option(None, "--status", help="open, acknowledged, resolved, false_positive."),
    severity: list[str] = typer.Option(None, "--severity", help="low, medium, high, critical."),
    detector: str = typer.Option(None, help="Only this detector id."),
    nhi: str = typer.Option(None, "--nhi", help="Only alerts of this NHI id."),
    limit: int = typer.Option(50, min=1, max=500),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Alerts, most recently seen first."""
    params: dict[str, Any] = {"limit": limit, "status": status or None, "severity": severity or None}
    params.update({"detector": detector, "nhi_id": nhi})
    page = ApiClient.from_environment(url).get(
        "/api/v1/alerts", params={key: value for key, value in params.items() if value is not None}
    )
    emit(page["items"], fmt, columns=ALERT_COLUMNS, title="alerts")


@alerts.command("show")
def show(alert_id: str = typer.Argument(...), url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """One alert: its explanation, ATT&CK mapping and the records of its evidence."""
    alert = ApiClient.from_environment(url).get(f"/api/v1/alerts/{alert_id}")
    if fmt == Format.json:
        emit(alert, fmt)
        return
    fields = [
        {"field": key, "value": json.dumps(value) if isinstance(value, dict) else value}
        for key, value in alert.items()
        if key not in ("events", "event_ids")
    ]
    emit(fields, fmt, columns=["field", "value"], title=alert["title"])
    emit(
        alert["events"],
        fmt,
        columns=["time", "action", "service", "source_ip", "outcome", "source_event_id"],
        title="evidence",
    )


def _set_status(alert_ids: list[str], status: str, note: str | None, url: str | None, fmt: Format) -> None:
    client = ApiClient.from_environment(url)
    body: dict[str, Any] = {"status": status, "note": note}
    if len(alert_ids) == 1:
        changed = [client.patch(f"/api/v1/alerts/{alert_ids[0]}", json=body)]
    else:
        changed = client.patch("/api/v1/alerts", json={**body, "ids": alert_ids})
    emit(changed, fmt, columns=["id", "status", "status_changed_by", "title"], title="alerts")


NoteOption = typer.Option(None, "--note", help="Why (kept with the alert and in the audit log).")


@alerts.command("ack")
def ack(
    alert_ids: list[str] = typer.Argument(...), note: str = NoteOption, url: str = UrlOption, fmt: Format = FormatOption
) -> None:
    """Acknowledge alerts (someone is on it)."""
    _set_status(alert_ids, "acknowledged", note, url, fmt)


@alerts.command("resolve")
def resolve(
    alert_ids: list[str] = typer.Argument(...),
    false_positive: bool = typer.Option(False, "--false-positive", help="Not an attack: also silence repeats."),
    note: str = NoteOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Resolve alerts; ``--false-positive`` also silences the same identity + detector from now on."""
    _set_status(alert_ids, "false_positive" if false_positive else "resolved", note, url, fmt)


@alerts.command("reopen")
def reopen(
    alert_ids: list[str] = typer.Argument(...), note: str = NoteOption, url: str = UrlOption, fmt: Format = FormatOption
) -> None:
    """Open alerts again (a false positive's silence is lifted)."""
    _set_status(alert_ids, "open", note, url, fmt)


@alerts.command("tail")
def tail(
    interval: float = typer.Option(2.0, min=0.2, help="Seconds between polls."),
    count: int = typer.Option(0, min=0, help="Stop after this many alerts (0: never)."),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Print new alerts as they are raised (one line each, or one JSON object per line)."""
    client = ApiClient.from_environment(url)
    cursor = client.get("/api/v1/alerts/feed")["next_cursor"]
    shown = 0
    try:
        while True:
            page = client.get("/api/v1/alerts/feed", params={"after": cursor} if cursor else {})
            for alert in page["items"]:
                if fmt == Format.json:
                    typer.echo(json.dumps(alert))
                else:
                    typer.echo(
                        f"{alert['created_at']}  {alert['severity']:<8} {alert['technique_id']:<10} "
                        f"{alert['title']}  [{alert['identity_name']}] {alert['id']}"
                    )
                shown += 1
                if count and shown >= count:
                    return
            cursor = page["next_cursor"] or cursor
            time.sleep(interval)
    except KeyboardInterrupt:
        return
