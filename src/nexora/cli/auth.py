"""``nexora login``, ``logout`` and ``whoami``."""

from __future__ import annotations

import httpx
import typer

from nexora.cli.client import ApiClient, clear_credentials, load_credentials, problem_message, save_credentials
from nexora.cli.output import Format, FormatOption, emit, fail


def login(
    url: str = typer.Option(None, envvar="NEXORA_URL", help="Nexora URL, e.g. http://127.0.0.1:8080."),
    email: str = typer.Option(..., prompt=True, help="Your e-mail."),
    password: str = typer.Option(..., prompt=True, hide_input=True, envvar="NEXORA_PASSWORD", help="Your password."),
    tenant: str = typer.Option(
        None, envvar="NEXORA_TENANT", help="Tenant name or id; needed when your e-mail has accounts in several."
    ),
) -> None:
    """Sign in and store the session in the user config dir (permissions 0600)."""
    base = (url or "http://127.0.0.1:8080").rstrip("/")
    body = {"email": email, "password": password, **({"tenant": tenant} if tenant else {})}
    try:
        response = httpx.post(f"{base}/api/v1/auth/login", json=body, timeout=30)
    except httpx.HTTPError as error:
        fail(f"cannot reach Nexora at {base}: {type(error).__name__}")
    choices = _tenant_choices(response) if response.status_code == 409 else []
    if choices:
        fail(f"{problem_message(response)}; run again with --tenant (one of: {', '.join(choices)})", code=1)
    if response.status_code != 200:
        fail(problem_message(response), code=1)
    path = save_credentials(base, response.json())
    where = f" ({tenant})" if tenant else ""
    typer.echo(f"signed in to {base}{where} as {email} (session stored in {path})")


def _tenant_choices(response: httpx.Response) -> list[str]:
    """The tenants a 409 answer to a sign-in offers (the password opened an account in each)."""
    try:
        body = response.json()
    except ValueError:
        return []
    tenants = body.get("tenants") if isinstance(body, dict) else None
    return [str(t.get("name")) for t in tenants if isinstance(t, dict)] if isinstance(tenants, list) else []


def logout() -> None:
    """End the stored session on the server and forget it locally."""
    stored = load_credentials()
    if stored:
        try:
            httpx.post(
                f"{stored['url']}/api/v1/auth/logout", json={"refresh_token": stored["refresh_token"]}, timeout=10
            )
        except httpx.HTTPError:
            typer.echo("the server could not be reached; the local session was removed anyway", err=True)
    clear_credentials()
    typer.echo("signed out")


def whoami(
    url: str = typer.Option(None, envvar="NEXORA_URL", help="Nexora URL."),
    fmt: Format = FormatOption,
) -> None:
    """Show who the stored session or NEXORA_API_KEY belongs to."""
    emit(ApiClient.from_environment(url).get("/api/v1/auth/me"), fmt)
