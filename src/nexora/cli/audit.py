"""``nexora audit``: search the log, sign heads, export a bundle and verify it (live or offline)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import typer

from nexora.audit import verifier
from nexora.cli.client import ApiClient, problem_message
from nexora.cli.output import Format, FormatOption, emit, fail

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

UrlOption = typer.Option(None, envvar="NEXORA_URL", help="Nexora URL.")
PlatformOption = typer.Option(False, "--platform", help="The platform log (platform administrators only).")


def _params(platform: bool, **values: Any) -> dict[str, Any]:
    params = {name: value for name, value in values.items() if value is not None}
    if platform:
        params["log"] = "platform"
    return params


@app.command("entries")
def entries(
    actor: str = typer.Option(None, help="Only this actor (user:<id>, api_key:<id>, system:<component>)."),
    action: str = typer.Option(None, help="Only this action (event type), e.g. auth.login_failed."),
    target: str = typer.Option(None, help="Only this target."),
    outcome: str = typer.Option(None, help="success, failure or denied."),
    since: str = typer.Option(None, help="Occurred at or after (ISO 8601)."),
    until: str = typer.Option(None, help="Occurred before (ISO 8601)."),
    limit: int = typer.Option(50, min=1, max=500),
    platform: bool = PlatformOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Search the log, newest first."""
    params = _params(
        platform, actor=actor, action=action, target=target, outcome=outcome, since=since, until=until, limit=limit
    )
    page = ApiClient.from_environment(url).get("/api/v1/audit/entries", params=params)
    emit(page["items"], fmt, columns=["seq", "occurred_at", "actor", "action", "target", "outcome"], title="audit log")


@app.command("sign")
def sign(platform: bool = PlatformOption, url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Sign a tree head now (the worker also signs one at an interval)."""
    head = ApiClient.from_environment(url).post("/api/v1/audit/tree-heads", params=_params(platform))
    emit(head, fmt, columns=["tree_size", "root_hash", "timestamp", "key_id"])


@app.command("public-key")
def public_key(
    out: Path = typer.Option(None, "--out", help="Save the keys to pin them for 'verify --trusted-keys'."),
    platform: bool = PlatformOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """The log's public keys (current and retired)."""
    keys = ApiClient.from_environment(url).get("/api/v1/audit/public-key", params=_params(platform))
    if out is not None:
        out.write_text(json.dumps(keys, indent=2) + "\n")
        typer.echo(f"saved {len(keys['keys'])} key(s) to {out}")
        return
    emit(keys["keys"], fmt, columns=["key_id", "status", "created_at", "retired_at"], title="signing keys")


@app.command("rotate-key")
def rotate_key(platform: bool = PlatformOption, url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Make a new signing key (admins); older heads stay verifiable with the retired key."""
    rotated = ApiClient.from_environment(url).post("/api/v1/audit/keys/rotate", params=_params(platform))
    emit(rotated["key"], fmt, columns=["key_id", "status", "created_at"])


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="Where to write the bundle (JSON lines)."),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT if it exists."),
    platform: bool = PlatformOption,
    url: str = UrlOption,
) -> None:
    """Write a self-contained bundle (entries, signed heads, public keys) that verifies offline."""
    if out.exists() and not force:
        fail(f"{out} exists; pass --force to overwrite it")
    client = ApiClient.from_environment(url)
    client.get("/api/v1/auth/me")  # refreshes an expired session before the long download
    token = client.api_key or client.access_token
    partial = out.with_name(out.name + ".partial")
    lines = 0
    try:
        with (
            httpx.stream(
                "GET",
                f"{client.url}/api/v1/audit/bundle",
                params=_params(platform),
                headers={"Authorization": f"Bearer {token}"},
                timeout=client.timeout,
            ) as response,
            partial.open("wb") as handle,
        ):
            if response.status_code >= 400:
                response.read()
                fail(problem_message(response), code=1)
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
                handle.write(chunk)
    except httpx.HTTPError as error:
        partial.unlink(missing_ok=True)
        fail(f"the download from {client.url} failed: {type(error).__name__}")
    except typer.Exit:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    typer.echo(f"wrote {lines} lines to {out}; check it with: nexora audit verify --bundle {out}")


def _summary(report: dict[str, Any]) -> str:
    if report["ok"]:
        return (
            f"log {report['log']}: OK: {report['entries']} entries, {report['heads']} signed heads, "
            f"{report['signed_size']} entries covered by a signature"
        )
    first = report["problems"][0]["message"] if report["problems"] else "see the problems"
    return (
        f"log {report['log']}: FAILED: {report['problem_count']} problem(s); "
        f"first bad sequence number {report['first_bad_seq']}: {first}"
    )


def _show(report: dict[str, Any], fmt: Format) -> None:
    if fmt == Format.json:
        emit(report, fmt)
    else:
        typer.echo(_summary(report))
        if report["problems"]:
            emit(report["problems"], fmt, columns=["seq", "kind", "message"], title="problems")
        for warning in report["warnings"]:
            typer.echo(f"warning: {warning}", err=True)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command("verify")
def verify(
    bundle: Path = typer.Option(None, "--bundle", help="Check this bundle offline (no server, no database)."),
    trusted_keys: Path = typer.Option(
        None, "--trusted-keys", help="Pinned keys saved with 'nexora audit public-key --out' (bundles only)."
    ),
    platform: bool = PlatformOption,
    url: str = UrlOption,
    fmt: Format = FormatOption,
) -> None:
    """Check the log: every entry against the signed heads and keys. Exit code 1 names what is wrong."""
    if bundle is None:
        if trusted_keys is not None:
            fail("--trusted-keys applies to --bundle; the server checks its keys against its master key")
        _show(ApiClient.from_environment(url).get("/api/v1/audit/verify", params=_params(platform)), fmt)
        return
    try:
        pinned = verifier.load_trusted_keys(trusted_keys) if trusted_keys else None
        result = verifier.verify_bundle(bundle, pinned)
    except verifier.BundleError as error:
        fail(str(error))
    _show(result.to_dict(), fmt)
