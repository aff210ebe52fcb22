"""``nexora connectors``, ``discover``, ``nhi``, ``findings`` and ``demo``: the discovery API from the shell."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nexora.cli.client import ApiClient
from nexora.cli.output import Format, FormatOption, emit, error_console, fail

connectors = typer.Typer(help="Discovery connectors: add, list, test, run, delete.", no_args_is_help=True)
discover = typer.Typer(help="Discovery runs.", no_args_is_help=True)
nhi = typer.Typer(help="The inventory of non-human identities.", no_args_is_help=True)
findings = typer.Typer(help="Posture findings (OWASP NHI Top 10).", no_args_is_help=True)
demo = typer.Typer(help="A demo environment to explore Nexora.", no_args_is_help=True)

UrlOption = typer.Option(None, envvar="NEXORA_URL", help="Nexora URL.")
KINDS = ("aws", "kubernetes", "github", "gcp-export", "azure-export", "vault", "code")
NHI_COLUMNS = ["id", "kind", "name", "provider", "account", "environment", "owner", "risk_score", "open_findings"]
FINDING_COLUMNS = ["category", "severity", "check_id", "nhi_kind", "nhi_name", "title"]
RUN_COLUMNS = ["id", "status", "stage", "started_at", "duration_ms", "counts", "errors"]
CONNECTOR_COLUMNS = ["id", "name", "kind", "enabled", "last_status", "last_run_at", "has_credentials"]
WAIT_SECONDS = 3600
PAGE_SIZE = 500  # the API's largest page
PageSizeOption = typer.Option(PAGE_SIZE, "--page-size", min=1, max=PAGE_SIZE, help="Items fetched per request.")
AllOption = typer.Option(False, "--all", help="Every matching item, following the pages to the end.")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(values: list[str], what: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} must look like key=value, got '{key or item[:20]}'")
        result[key.strip()] = _value(value)
    return result


def _read_json_file(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        fail(f"cannot read {what} file {path}: {error.strerror}")
    except ValueError:
        fail(f"{what} file {path} is not valid JSON")
    if not isinstance(data, dict):
        fail(f"{what} file {path} must hold a JSON object")
    return data


@connectors.command("add")
def add_connector(
    kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}."),
    name: str = typer.Option(..., "--name", help="A unique name."),
    setting: list[str] = typer.Option([], "--set", help="A config value, key=value (repeatable; JSON values allowed)."),
    path: list[str] = typer.Option([], "--path", help="Folder or file (code, exports, offline Kubernetes)."),
    credential: list[str] = typer.Option([], "--credential", help="A credential field to prompt for (hidden)."),
    credentials_file: Path = typer.Option(None, "--credentials-file", help="Credentials as a JSON object."),
    kubeconfig: Path = typer.Option(None, "--kubeconfig", help="kubeconfig file (kubernetes live mode)."),
    interval: int = typer.Option(None, "--interval", help="Seconds between scheduled runs."),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Add a connector, e.g. `nexora connectors add aws --name prod --set region=eu-west-1 --credential access_key_id
    --credential secret_access_key`."""
    if kind not in KINDS:
        fail(f"unknown connector kind '{kind}'; choose one of: {', '.join(KINDS)}")
    config = _pairs(setting, "--set")
    if path:
        if kind == "code":
            config["paths"] = [str(Path(p).expanduser().resolve()) for p in path]
        else:
            config["path"] = str(Path(path[0]).expanduser().resolve())
            if kind == "kubernetes":
                config.setdefault("mode", "offline")
    credentials: dict[str, Any] | None = _read_json_file(credentials_file, "credentials") if credentials_file else None
    if kubeconfig is not None:
        try:
            credentials = {**(credentials or {}), "kubeconfig": kubeconfig.read_text()}
        except OSError as error:
            fail(f"cannot read kubeconfig {kubeconfig}: {error.strerror}")
    for field in credential:
        credentials = {**(credentials or {}), field: typer.prompt(field, hide_input=True)}
    body: dict[str, Any] = {"name": name, "kind": kind, "config": config}
    if credentials is not None:
        body["credentials"] = credentials
    if interval is not None:
        body["interval_seconds"] = interval
    emit(ApiClient.from_environment(url).post("/api/v1/connectors", json=body), fmt, CONNECTOR_COLUMNS)


@connectors.command("list")
def list_connectors(url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """The tenant's connectors."""
    emit(ApiClient.from_environment(url).get("/api/v1/connectors")["items"], fmt, CONNECTOR_COLUMNS)


def _connector(client: ApiClient, name: str) -> dict[str, Any]:
    for item in client.get("/api/v1/connectors")["items"]:
        if name in (item["name"], item["id"]):
            return dict(item)
    fail(f"no connector named '{name}' (see 'nexora connectors list')", code=1)


@connectors.command("test")
def check_connector(name: str = typer.Argument(..., help="Connector name or id."), url: str = UrlOption) -> None:
    """Try a connector's connection."""
    client = ApiClient.from_environment(url)
    result = client.post(f"/api/v1/connectors/{_connector(client, name)['id']}/test")
    if not result["ok"]:
        fail(f"connection failed: {result['message']}", code=1)
    typer.echo(result["message"])


@connectors.command("delete")
def delete_connector(name: str = typer.Argument(..., help="Connector name or id."), url: str = UrlOption) -> None:
    """Delete a connector and the inventory it discovered."""
    client = ApiClient.from_environment(url)
    client.delete(f"/api/v1/connectors/{_connector(client, name)['id']}")
    typer.echo(f"deleted connector {name}")


# Content types by file name, for `connectors run --upload` (the API's list of upload types).
UPLOAD_TYPES = (
    ((".zip",), "application/zip"),
    ((".tar.gz", ".tgz"), "application/gzip"),
    ((".tar",), "application/x-tar"),
    ((".json",), "application/json"),
    ((".yaml", ".yml"), "application/yaml"),
    ((".bundle",), "application/x-git-bundle"),
)
UPLOAD_READ_TIMEOUT = 600.0  # the server unpacks the upload before it answers
UPLOAD_CHUNK = 1 << 20


def _upload_type(path: Path, given: str | None) -> str:
    if given:
        return given
    name = path.name.lower()
    for suffixes, media in UPLOAD_TYPES:
        if name.endswith(suffixes):
            return media
    known = ", ".join(suffix for suffixes, _ in UPLOAD_TYPES for suffix in suffixes)
    fail(f"cannot tell the type of {path.name} from its name ({known}); pass --type")


def _zip_folder(folder: Path, destination: Path) -> None:
    """Zip ``folder``'s regular files (links and .git folders are left out: the server refuses links)."""
    import os
    import zipfile

    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for current, folders, names in os.walk(folder):
            folders[:] = sorted(name for name in folders if name != ".git" and not Path(current, name).is_symlink())
            for name in sorted(names):
                path = Path(current, name)
                if path.is_file() and not path.is_symlink():
                    archive.write(path, path.relative_to(folder).as_posix())


def _send_upload(client: ApiClient, path: str, upload: Path, media: str, params: dict[str, Any]) -> dict[str, Any]:
    """POST the file as the raw body, streamed in chunks, with a progress bar on stderr for large files."""
    from rich.progress import BarColumn, DownloadColumn, TransferSpeedColumn

    size = upload.stat().st_size
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=error_console, transient=True, disable=size < UPLOAD_CHUNK) as progress:
        task = progress.add_task(f"uploading {upload.name}", total=size)

        def chunks() -> Any:
            with upload.open("rb") as handle:
                while chunk := handle.read(UPLOAD_CHUNK):
                    progress.advance(task, len(chunk))
                    yield chunk

        return client.post_stream(
            path, chunks(), content_type=media, params=params, read_timeout=UPLOAD_READ_TIMEOUT, size=size
        )


@connectors.command("run")
def run_connector(
    name: str = typer.Argument(..., help="Connector name or id."),
    upload: Path = typer.Option(
        None,
        "--upload",
        help="Read this instead of the connector's host path: a .zip, .tar(.gz), .json, .yaml or git .bundle"
        " file, or a folder (sent as a zip).",
    ),
    media: str = typer.Option(None, "--type", help="Content type of --upload when its name does not tell."),
    filename: str = typer.Option(None, "--filename", help="Name the server reads a single JSON/YAML file under."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the run and show progress."),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Run one connector now, over its host path or over files you send with --upload (e.g. a SaaS tenant:
    `nexora connectors run gcp --upload gcloud-exports.zip --wait`). Exit code 1 if the run was partial or
    failed (with --wait)."""
    import tempfile

    client = ApiClient.from_environment(url)
    connector = _connector(client, name)  # also renews an expired session before the upload
    if upload is None:
        run = client.post(f"/api/v1/connectors/{connector['id']}/runs")
    else:
        upload = upload.expanduser()
        if not upload.exists():
            fail(f"no such file or folder: {upload}")
        params = {"filename": filename} if filename else {}
        path = f"/api/v1/connectors/{connector['id']}/runs/upload"
        if upload.is_dir():
            with tempfile.TemporaryDirectory(prefix="nexora-upload-") as scratch:
                archive = Path(scratch) / f"{upload.resolve().name or 'folder'}.zip"
                _zip_folder(upload, archive)
                run = _send_upload(client, path, archive, "application/zip", params)
        else:
            run = _send_upload(client, path, upload, _upload_type(upload, media), params)
    if wait:
        run = _wait(client, run, connector["name"])
    emit(run, fmt, RUN_COLUMNS)
    if wait and run["status"] in ("partial", "failed"):
        fail(f"the run did not complete: {'; '.join(e['message'] for e in run['errors'][:3])}", 1)


def paged(
    client: ApiClient, path: str, params: dict[str, Any], limit: int | None, page_size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """Up to ``limit`` items (every item when ``None``) of a cursor-paginated list, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while limit is None or len(items) < limit:
        size = page_size if limit is None else min(page_size, limit - len(items))
        page = client.get(path, params={**params, "limit": size, **({"cursor": cursor} if cursor else {})})
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items


def _wait(client: ApiClient, run: dict[str, Any], label: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    interval = 0.1
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=error_console, transient=True
    ) as progress:
        task = progress.add_task(f"{label}: starting")
        while run["status"] == "running":
            if time.monotonic() > deadline:
                fail(f"run {run['id']} did not finish in {WAIT_SECONDS}s; check 'nexora discover runs'")
            # Short runs answer within a few polls; long ones are polled about once a second.
            time.sleep(interval)
            interval = min(interval * 1.5, 1.0)
            run = client.get(f"/api/v1/runs/{run['id']}")
            counts = run.get("counts") or {}
            detail = ", ".join(f"{key} {value}" for key, value in counts.items() if key in ("collected", "seen"))
            progress.update(task, description=f"{label}: {run['stage']} {detail}".rstrip())
    return run


@discover.command("run")
def run_discovery(
    connector: list[str] = typer.Option([], "--connector", "-c", help="Connector name or id (default: all)."),
    wait: bool = typer.Option(False, "--wait", help="Wait for the runs and show progress."),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Run connectors now. Exit code 1 if a run was partial or failed (with --wait)."""
    client = ApiClient.from_environment(url)
    chosen = [_connector(client, name) for name in connector] or [
        c for c in client.get("/api/v1/connectors")["items"] if c["enabled"]
    ]
    if not chosen:
        fail("no connectors to run; add one with 'nexora connectors add'", code=1)
    runs = []
    for item in chosen:
        run = client.post(f"/api/v1/connectors/{item['id']}/runs")
        runs.append(_wait(client, run, item["name"]) if wait else run)
    emit(runs, fmt, RUN_COLUMNS)
    bad = [run for run in runs if run["status"] in ("partial", "failed")]
    if bad:
        fail(f"{len(bad)} run(s) did not complete: " + "; ".join(e["message"] for r in bad for e in r["errors"][:1]), 1)


@discover.command("runs")
def list_runs(
    connector: str = typer.Option(None, "--connector", "-c", help="Connector name or id."),
    limit: int = typer.Option(20, "--limit", min=1, help="Runs to show (pages are followed beyond 500)."),
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Run history, newest first."""
    client = ApiClient.from_environment(url)
    params: dict[str, Any] = {}
    if connector:
        params["connector_id"] = _connector(client, connector)["id"]
    emit(paged(client, "/api/v1/runs", params, limit), fmt, RUN_COLUMNS)


@nhi.command("list")
def list_nhis(
    provider: list[str] = typer.Option([], "--provider"),
    kind: list[str] = typer.Option([], "--kind"),
    environment: list[str] = typer.Option([], "--environment"),
    owner: str = typer.Option(None, "--owner", help="Owner; 'none' for unowned."),
    risk_min: int = typer.Option(None, "--risk-min", min=0, max=100),
    stale: bool = typer.Option(None, "--stale/--not-stale"),
    has_findings: bool = typer.Option(None, "--has-findings/--no-findings"),
    query: str = typer.Option(None, "--query", "-q", help="Text in name, id or owner."),
    sort: str = typer.Option("-risk", "--sort"),
    limit: int = typer.Option(50, "--limit", min=1, help="Items to show (pages are followed beyond 500)."),
    everything: bool = AllOption,
    page_size: int = PageSizeOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """List NHIs, riskiest first."""
    params: dict[str, Any] = {"provider": provider, "kind": kind, "environment": environment, "sort": sort}
    for key, value in (
        ("owner", owner),
        ("risk_min", risk_min),
        ("stale", stale),
        ("has_findings", has_findings),
        ("q", query),
    ):
        if value is not None:
            params[key] = value
    client = ApiClient.from_environment(url)
    emit(paged(client, "/api/v1/nhis", params, None if everything else limit, page_size), fmt, NHI_COLUMNS)


@nhi.command("show")
def show_nhi(
    nhi_id: str = typer.Argument(..., help="NHI id."), url: str = UrlOption, fmt: Format = FormatOption
) -> None:
    """One NHI with its findings."""
    data = ApiClient.from_environment(url).get(f"/api/v1/nhis/{nhi_id}")
    if fmt == Format.json:
        emit(data, fmt)
        return
    emit({key: data[key] for key in [*NHI_COLUMNS, "external_id", "privilege_level", "last_used_at"]}, fmt)
    emit(data["findings"], fmt, ["status", *FINDING_COLUMNS[:3], "title"], title="findings")


@findings.command("list")
def list_findings(
    category: list[str] = typer.Option([], "--category", help="NHI1..NHI10."),
    severity: list[str] = typer.Option([], "--severity"),
    check: str = typer.Option(None, "--check", help="One check id, e.g. usage.stale."),
    status: str = typer.Option("open", "--status", help="open, resolved or all."),
    as_of: str = typer.Option(None, "--as-of", help="Evaluate as of this ISO time, e.g. 2027-01-01 (a report)."),
    limit: int = typer.Option(100, "--limit", min=1, help="Items to show (pages are followed beyond 500)."),
    everything: bool = AllOption,
    page_size: int = PageSizeOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Posture findings; --as-of asks what will be stale or unrotated at that time."""
    params: dict[str, Any] = {"category": category, "severity": severity, "status": status}
    if check:
        params["check_id"] = check
    if as_of:
        params["as_of"] = as_of
    client = ApiClient.from_environment(url)
    emit(paged(client, "/api/v1/findings", params, None if everything else limit, page_size), fmt, FINDING_COLUMNS)


@demo.command("load")
def load_demo(url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Fill your tenant with a realistic demo environment (through the normal discovery pipeline)."""
    result = ApiClient.from_environment(url).post("/api/v1/demo")
    run = result["run"]
    if fmt == Format.json:
        emit(result, fmt)
        return
    typer.echo(
        f"demo loaded: {run['counts'].get('seen', 0)} NHIs, {run['counts'].get('findings_opened', 0)} new findings "
        f"in {run['duration_ms']} ms; try 'nexora nhi list' and 'nexora findings list'"
    )
