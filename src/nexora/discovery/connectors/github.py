"""The GitHub connector (REST over httpx; base URL configurable for GitHub Enterprise).

Org GitHub App installations and their permissions, OAuth app and PAT credential authorizations,
fine-grained PAT grants, repositories with their deploy keys and Actions secrets (names and dates
only), org Actions secrets and webhooks. CODEOWNERS names the owner of a repository's credentials.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr

from nexora.core.errors import UpstreamUnavailable, ValidationFailed
from nexora.core.outbound import outbound_client
from nexora.discovery.connectors.base import (
    CollectContext,
    ConfigModel,
    ConnectorType,
    CredentialsModel,
    HttpUrl,
    Read,
    http_classify,
)
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment, parse_time

PROVIDER = "github"
MAX_PAGES = 100


class GithubConfig(ConfigModel):
    org: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$", description="Organisation login.")
    base_url: HttpUrl = Field(default="https://api.github.com", max_length=2048, description="REST API base URL.")


class GithubCredentials(CredentialsModel):
    token: SecretStr = Field(min_length=1, max_length=1024, description="A token that can read the org's settings.")


class GithubApi:
    """GET with pagination (``Link: rel=next`` on the same origin), retries on 429 and a circuit breaker."""

    def __init__(self, config: GithubConfig, credentials: GithubCredentials | None, context: CollectContext) -> None:
        context.check_url(config.base_url)
        self.base = config.base_url.rstrip("/")
        self.origin = urlsplit(self.base).netloc
        self.context = context
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if credentials is not None:
            headers["Authorization"] = f"Bearer {credentials.token.get_secret_value()}"
        # Redirects are followed through the guarded client (each new connection is checked); httpx drops
        # the Authorization header when a redirect leaves the origin.
        self.http = outbound_client(context.guard, headers=headers, timeout=context.timeout, follow_redirects=True)

    def close(self) -> None:
        self.http.close()

    def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        def send() -> httpx.Response:
            response = self.http.get(url, params=params)
            response.raise_for_status()
            return response

        try:
            response: httpx.Response = self.context.call(f"github:{self.origin}", send, http_classify)
        except httpx.HTTPStatusError as error:
            raise UpstreamUnavailable(
                f"GitHub answered HTTP {error.response.status_code} for {urlsplit(url).path}"
            ) from None
        except httpx.TransportError as error:
            raise UpstreamUnavailable(f"GitHub cannot be reached at {self.origin} ({type(error).__name__})") from None
        return response

    def get(self, path: str) -> Any:
        response = self._get(self.base + path)
        try:
            return response.json()
        except ValueError:
            raise UpstreamUnavailable(f"GitHub sent a response that is not JSON for {path}") from None

    def pages(self, path: str, key: str | None = None) -> Iterator[dict[str, Any]]:
        url: str | None = self.base + path
        params: dict[str, Any] | None = {"per_page": 100}
        for _ in range(MAX_PAGES):
            assert url is not None
            response = self._get(url, params)
            try:
                body = response.json()
            except ValueError:
                raise UpstreamUnavailable(f"GitHub sent a response that is not JSON for {path}") from None
            items = body.get(key, []) if key and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise UpstreamUnavailable(f"GitHub sent an unexpected document for {path}")
            yield from items
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            if urlsplit(following).netloc != self.origin:
                raise UpstreamUnavailable("GitHub pagination pointed at another host; refusing to follow it")
            url, params = following, None
        raise UpstreamUnavailable(f"more than {MAX_PAGES} pages for {path}")


# ---- get ---------------------------------------------------------------------------------------------


def _optional(api: GithubApi, path: str) -> Any:
    try:
        return api.get(path)
    except UpstreamUnavailable as error:
        if "HTTP 404" in error.message:
            return None
        raise


def _listed(api: GithubApi, path: str, key: str | None = None) -> list[dict[str, Any]]:
    return list(api.pages(path, key))


def get_org(api: GithubApi, org: str, collection: Collection) -> dict[str, Any]:
    """Raw payloads of the organisation; each failing endpoint is a run error.

    Independent endpoints are read at once, then every repository's deploy keys, secrets and
    CODEOWNERS at once (bounded by ``provider_concurrency``).
    """
    context = api.context
    installations, pat_grants, authorizations, hooks, org_secrets, repos = context.gather(
        collection,
        [
            Read("github:installations", [], partial(_listed, api, f"/orgs/{org}/installations", "installations")),
            Read("github:personal-access-tokens", [], partial(_listed, api, f"/orgs/{org}/personal-access-tokens")),
            Read(
                "github:credential-authorizations",
                [],
                lambda: _optional(api, f"/orgs/{org}/credential-authorizations") or [],
            ),
            Read("github:hooks", [], partial(_listed, api, f"/orgs/{org}/hooks")),
            Read("github:org-secrets", [], partial(_listed, api, f"/orgs/{org}/actions/secrets", "secrets")),
            Read("github:repos", [], partial(_listed, api, f"/orgs/{org}/repos")),
        ],
    )
    selected = [secret for secret in org_secrets if secret.get("visibility") == "selected"]
    granted = context.gather(
        collection,
        [
            Read(
                f"github:org-secret-repositories:{secret['name']}",
                [],
                partial(_listed, api, f"/orgs/{org}/actions/secrets/{secret['name']}/repositories", "repositories"),
            )
            for secret in selected
        ],
    )
    for secret, repositories in zip(selected, granted, strict=True):
        secret["repositories"] = [repository.get("full_name") for repository in repositories]
    names = [repo.get("full_name") or f"{org}/{repo.get('name')}" for repo in repos]
    reads = []
    for full in names:
        reads += [
            Read(f"github:deploy-keys:{full}", [], partial(_listed, api, f"/repos/{full}/keys")),
            Read(f"github:repo-secrets:{full}", [], partial(_listed, api, f"/repos/{full}/actions/secrets", "secrets")),
            Read(
                f"github:codeowners:{full}", None, partial(_optional, api, f"/repos/{full}/contents/.github/CODEOWNERS")
            ),
        ]
    details = context.gather(collection, reads)
    return {
        "org": org,
        "installations": installations,
        "pat_grants": pat_grants,
        "credential_authorizations": authorizations,
        "hooks": hooks,
        "org_secrets": org_secrets,
        "repos": repos,
        "repo_details": {
            full: {"keys": keys, "secrets": secrets, "codeowners": codeowners}
            for full, keys, secrets, codeowners in zip(names, details[0::3], details[1::3], details[2::3], strict=True)
        },
    }


# ---- transform -----------------------------------------------------------------------------------------


def codeowner(document: Any) -> str | None:
    """The owner of ``*`` (else the first rule) in a CODEOWNERS file returned by the contents API."""
    if not isinstance(document, dict) or document.get("encoding") != "base64":
        return None
    try:
        text = base64.b64decode(document.get("content", "")).decode("utf-8", errors="replace")
    except ValueError:
        return None
    first = None
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2:
            if parts[0] == "*":
                return parts[1]
            first = first or parts[1]
    return first


def _level(permissions: dict[str, str]) -> str:
    if (
        permissions.get("administration") in ("write", "admin")
        or permissions.get("organization_administration") == "write"
    ):
        return "admin"
    if any(value in ("write", "admin") for value in permissions.values()):
        return "high" if permissions.get("contents") == "write" or permissions.get("workflows") == "write" else "medium"
    return "low" if permissions else "none"


def transform(raw: dict[str, Any]) -> Collection:
    """GitHub payloads into NHIs and relationships (pure; names and dates only, never secret values)."""
    collection = Collection()
    org = raw["org"]
    repos = [r.get("full_name") or f"{org}/{r.get('name')}" for r in raw.get("repos", [])]
    for full in repos:
        collection.nhis.append(
            NhiRecord(PROVIDER, "repository", full, full, org, infer_environment(None, full), privilege_level="none")
        )
    for installation in raw.get("installations", []):
        permissions = installation.get("permissions") or {}
        slug = installation.get("app_slug") or str(installation.get("app_id"))
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "github_app",
                f"{org}/installation/{installation.get('id')}",
                slug,
                org,
                created_at=parse_time(installation.get("created_at")),
                privilege_level=_level(permissions),
                permissions={"grants": permissions},
                attributes={
                    "app_id": installation.get("app_id"),
                    "repository_selection": installation.get("repository_selection"),
                    "events": installation.get("events", []),
                    "suspended": installation.get("suspended_at") is not None,
                },
                status="suspended" if installation.get("suspended_at") else "active",
            )
        )
    for grant in raw.get("pat_grants", []):
        permissions = {
            **((grant.get("permissions") or {}).get("repository") or {}),
            **((grant.get("permissions") or {}).get("organization") or {}),
        }
        login = (grant.get("owner") or {}).get("login")
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "api_token",
                f"{org}/pat/{grant.get('id')}",
                f"fine-grained PAT of {login}",
                org,
                owner=login,
                owner_source="creator" if login else None,
                created_at=parse_time(grant.get("access_granted_at")),
                last_used_at=parse_time(grant.get("token_last_used_at")),
                expires_at=parse_time(grant.get("token_expires_at")),
                privilege_level=_level(permissions),
                permissions={"grants": permissions},
                status="expired" if grant.get("token_expired") else "active",
                attributes={"repository_selection": grant.get("repository_selection"), "usage_tracked": True},
            )
        )
    for authorization in raw.get("credential_authorizations", []):
        kind = {"OAuth app token": "oauth_app", "personal access token": "api_token"}.get(
            str(authorization.get("credential_type"))
        )
        if kind is None:
            continue
        login = authorization.get("login")
        title = authorization.get("authorized_credential_title") or authorization.get("credential_type")
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                kind,
                f"{org}/credential/{authorization.get('credential_id')}",
                f"{title} ({login})",
                org,
                owner=login,
                owner_source="creator" if login else None,
                created_at=parse_time(authorization.get("credential_authorized_at")),
                last_used_at=parse_time(authorization.get("credential_accessed_at")),
                expires_at=parse_time(authorization.get("authorized_credential_expires_at")),
                privilege_level="high" if {"repo", "admin:org"} & set(authorization.get("scopes") or []) else "medium",
                permissions={"scopes": authorization.get("scopes") or []},
                attributes={"usage_tracked": authorization.get("credential_accessed_at") is not None},
            )
        )
    for hook in raw.get("hooks", []):
        config = hook.get("config") or {}
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "webhook",
                f"{org}/hook/{hook.get('id')}",
                f"webhook to {urlsplit(str(config.get('url', ''))).netloc or 'unknown host'}",
                org,
                created_at=parse_time(hook.get("created_at")),
                privilege_level="none",
                status="active" if hook.get("active", True) else "inactive",
                attributes={
                    "has_secret": bool(config.get("secret")),
                    "insecure_ssl": str(config.get("insecure_ssl", "0")) == "1",
                    "events": hook.get("events", []),
                },
            )
        )
    for secret in raw.get("org_secrets", []):
        secret_id = f"{org}/actions/{secret['name']}"
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "ci_secret",
                secret_id,
                f"{org}: {secret['name']}",
                org,
                environment=infer_environment(None, secret["name"]),
                created_at=parse_time(secret.get("created_at")),
                last_rotated_at=parse_time(secret.get("updated_at")),
                privilege_level="none",
                attributes={"scope": "organization", "visibility": secret.get("visibility")},
            )
        )
        users = repos if secret.get("visibility") in ("all", "private") else secret.get("repositories", [])
        for full in users:
            collection.edges.append(EdgeRecord(secret_id, full, "used_by"))
    for full, detail in raw.get("repo_details", {}).items():
        owner = codeowner(detail.get("codeowners"))
        for key in detail.get("keys", []):
            collection.nhis.append(
                NhiRecord(
                    PROVIDER,
                    "deploy_key",
                    f"{full}/keys/{key.get('id')}",
                    f"{full}: {key.get('title') or key.get('id')}",
                    org,
                    environment=infer_environment(None, key.get("title"), full),
                    owner=owner,
                    owner_source="codeowners" if owner else None,
                    created_at=parse_time(key.get("created_at")),
                    last_used_at=parse_time(key.get("last_used")),
                    privilege_level="medium" if key.get("read_only") is False else "low",
                    attributes={"read_only": key.get("read_only"), "repository": full, "verified": key.get("verified")},
                )
            )
            collection.edges.append(EdgeRecord(f"{full}/keys/{key.get('id')}", full, "grants_access_to"))
        for secret in detail.get("secrets", []):
            secret_id = f"{full}/actions/{secret['name']}"
            collection.nhis.append(
                NhiRecord(
                    PROVIDER,
                    "ci_secret",
                    secret_id,
                    f"{full}: {secret['name']}",
                    org,
                    environment=infer_environment(None, secret["name"], full),
                    owner=owner,
                    owner_source="codeowners" if owner else None,
                    created_at=parse_time(secret.get("created_at")),
                    last_rotated_at=parse_time(secret.get("updated_at")),
                    privilege_level="none",
                    attributes={"scope": "repository", "repository": full},
                )
            )
            collection.edges.append(EdgeRecord(secret_id, full, "used_by"))
    return collection


def collect(config: GithubConfig, credentials: GithubCredentials | None, context: CollectContext) -> Collection:
    api = GithubApi(config, credentials, context)
    try:
        collection = Collection()
        raw = get_org(api, config.org, collection)
    finally:
        api.close()
    collection.extend(transform(raw))
    return collection


def test(config: GithubConfig, credentials: GithubCredentials | None, context: CollectContext) -> str:
    api = GithubApi(config, credentials, context)
    try:
        org = api.get(f"/orgs/{config.org}")
    finally:
        api.close()
    if not isinstance(org, dict):
        raise ValidationFailed("GitHub sent an unexpected answer for the organisation")
    return f"connected to GitHub organisation {org.get('login', config.org)}"


TYPE = ConnectorType(
    kind="github",
    provider=PROVIDER,
    description="GitHub apps, tokens, deploy keys, Actions secrets and webhooks of an organisation",
    config_model=GithubConfig,
    credentials_model=GithubCredentials,
    collect=collect,
    test=test,
)
