"""HTTP verifiers: one small request per provider, interpreted into valid / invalid / unknown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from nexora.scanner.model import Verification


@dataclass(frozen=True, slots=True)
class Provider:
    """How to ask one provider whether a token works."""

    default_base: str
    method: str
    path: str
    headers: Callable[[str], dict[str, str]]
    auth: Callable[[str], tuple[str, str]] | None = None
    invalid_statuses: tuple[int, ...] = (401,)
    interpret: Callable[[httpx.Response], tuple[Verification, str]] | None = None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _slack(response: httpx.Response) -> tuple[Verification, str]:
    if response.status_code == 429:
        return Verification.UNKNOWN, "rate limited"
    try:
        body = response.json()
    except ValueError:
        return Verification.UNKNOWN, f"HTTP {response.status_code}"
    if body.get("ok") is True:
        return Verification.VALID, f"team {body.get('team', '?')}, user {body.get('user', '?')}"
    error = str(body.get("error", ""))
    if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
        return Verification.INVALID, error
    return Verification.UNKNOWN, error or "unexpected answer"


PROVIDERS: dict[str, Provider] = {
    "github": Provider("https://api.github.com", "GET", "/user", lambda t: {"Authorization": f"token {t}"}),
    "gitlab": Provider(
        "https://gitlab.com", "GET", "/api/v4/personal_access_tokens/self", lambda t: {"PRIVATE-TOKEN": t}
    ),
    "slack": Provider("https://slack.com", "POST", "/api/auth.test", _bearer, interpret=_slack),
    "stripe": Provider("https://api.stripe.com", "GET", "/v1/balance", lambda t: {}, auth=lambda t: (t, "")),
    "openai": Provider("https://api.openai.com", "GET", "/v1/models", _bearer),
    "anthropic": Provider(
        "https://api.anthropic.com", "GET", "/v1/models", lambda t: {"x-api-key": t, "anthropic-version": "2023-06-01"}
    ),
    "npm": Provider("https://registry.npmjs.org", "GET", "/-/whoami", _bearer),
    "sendgrid": Provider("https://api.sendgrid.com", "GET", "/v3/scopes", _bearer, invalid_statuses=(401, 403)),
}


def check(name: str, token: str, endpoint: str | None, timeout: float) -> tuple[Verification, str]:
    """One live check; network errors, throttling and surprises are ``unknown``, never an exception."""
    provider = PROVIDERS.get(name)
    if provider is None:
        return Verification.UNKNOWN, f"no verifier for {name}"
    url = (endpoint or provider.default_base).rstrip("/") + provider.path
    try:
        response = httpx.request(
            provider.method,
            url,
            headers={"User-Agent": "nexora-scan", **provider.headers(token)},
            auth=provider.auth(token) if provider.auth else None,
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        return Verification.UNKNOWN, type(error).__name__
    if provider.interpret is not None:
        return provider.interpret(response)
    if response.status_code == 200:
        return Verification.VALID, "HTTP 200"
    if response.status_code in provider.invalid_statuses:
        return Verification.INVALID, f"HTTP {response.status_code}"
    return Verification.UNKNOWN, f"HTTP {response.status_code}"
