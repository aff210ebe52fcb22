"""Live verification against real peers: moto_server for AWS, one local HTTP server playing every provider.

The local server answers each provider's documented identity endpoint the way the provider does: the
documented answer for a valid key, the provider's own rejection for a revoked one, 429 when throttling,
a redirect on demand. It only recognises a key sent the documented way (header, basic auth, query, path
or body), so a verifier that sent it elsewhere would get a 404 and fail its test.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import re
import string
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from nexora.scanner.model import Finding, Verification
from nexora.scanner.ruleset import load_rules
from nexora.scanner.verify import VerifyOptions, allowed_networks, verifier_names, verify_findings
from nexora.scanner.verify import http as http_verify
from nexora.scanner.verify.docs import builtin_block, update_verifiers_doc
from nexora.scanner.verify.http import HTTPVerifier
from nexora.scanner.verify.limits import RateLimiter
from nexora.scanner.verify.outcome import REDACTED
from nexora.scanner.verify.providers import PROVIDERS
from tests.scanner.fixtures.files import write
from tests.scanner.fixtures.peers import MOTO_FREE_ACTIONS, MotoServer, free_port, start_moto
from tests.scanner.fixtures.samples import aws_key_pair, expand, github_token, random_token

RNG = random.Random(17)
BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
LOOPBACK = "127.0.0.0/8"
DOC = Path(__file__).parents[2] / "docs" / "scanner.md"


# -- the providers' documented answers ------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    match: re.Match[str]


Extract = Callable[[Request], str | None]


def header(name: str, prefix: str = "") -> Extract:
    def extract(request: Request) -> str | None:
        value = request.headers.get(name)
        return value[len(prefix) :] if value is not None and value.startswith(prefix) else None

    return extract


def basic(part: int) -> Extract:
    def extract(request: Request) -> str | None:
        value = request.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return None
        return base64.b64decode(value[6:]).decode().split(":", 1)[part]

    return extract


def query(name: str) -> Extract:
    return lambda request: request.query.get(name)


def body_field(name: str) -> Extract:
    def extract(request: Request) -> str | None:
        try:
            value = json.loads(request.body).get(name)
        except ValueError:
            return None
        return value if isinstance(value, str) else None

    return extract


def in_path(request: Request) -> str | None:
    return request.match.group("token")


BEARER = header("Authorization", "Bearer ")
Body = dict[str, Any] | list[Any] | Callable[[str], Any]


@dataclass(frozen=True)
class Play:
    """A provider's documented endpoint and answers; ``identity`` is what the verifier must extract."""

    method: str
    path: str
    auth: Extract
    valid: Body
    identity: dict[str, str] = field(default_factory=dict)
    revoked: tuple[int, Any] = (401, {"message": "Bad credentials"})
    headers: dict[str, str] = field(default_factory=dict)
    token: Callable[[random.Random], str] = lambda rng: random_token(rng, 40)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.path).replace(re.escape("{token}"), "(?P<token>[^/]+)") + "$")


def _mailchimp_key(rng: random.Random) -> str:
    return random_token(rng, 32, "0123456789abcdef") + "-us6"


def _telegram_token(rng: random.Random) -> str:
    return f"{random_token(rng, 9, string.digits)}:AA{random_token(rng, 33)}"


def _openrouter(token: str) -> dict[str, Any]:
    # OpenRouter echoes the key's label; here the label is the key itself, which must never reach a report.
    return {"data": {"label": token, "usage": 0, "limit": None, "is_free_tier": False}}


PLAYS: dict[str, Play] = {
    "github": Play(
        "GET",
        "/user",
        header("Authorization", "token "),
        {"login": "ci-bot", "id": 583231, "type": "User"},
        {"user": "ci-bot", "id": "583231", "type": "User", "scopes": "repo, read:org"},
        headers={"X-OAuth-Scopes": "repo, read:org"},
    ),
    "gitlab": Play(
        "GET",
        "/api/v4/personal_access_tokens/self",
        header("PRIVATE-TOKEN"),
        {"id": 42, "name": "deploy", "revoked": False, "active": True, "user_id": 7, "scopes": ["api", "read_user"]},
        {"token_name": "deploy", "user_id": "7", "scopes": "api, read_user"},
        revoked=(401, {"message": "401 Unauthorized"}),
    ),
    "circleci": Play(
        "GET",
        "/api/v2/me",
        header("Circle-Token"),
        {"id": "5e3b", "login": "ci-bot", "name": "CI Bot"},
        {"user": "ci-bot", "name": "CI Bot"},
    ),
    "travis": Play(
        "GET",
        "/user",
        header("Authorization", "token "),
        {"@type": "user", "id": 9, "login": "travis-bot", "name": "Travis Bot", "email": "t@acme.test"},
        {"user": "travis-bot", "email": "t@acme.test"},
        revoked=(403, {"@type": "error", "error_type": "login_required", "error_message": "login required"}),
    ),
    "buildkite": Play(
        "GET",
        "/v2/access-token",
        BEARER,
        {"uuid": "b1", "scopes": ["read_builds", "read_user"], "description": "ci", "user": {"name": "Ops"}},
        {"id": "b1", "scopes": "read_builds, read_user", "token_name": "ci", "user": "Ops"},
    ),
    "bitrise": Play(
        "GET",
        "/v0.1/me",
        header("Authorization"),
        {"data": {"username": "mobile-ci", "slug": "ab12", "email": "m@acme.test"}},
        {"user": "mobile-ci", "id": "ab12", "email": "m@acme.test"},
    ),
    "sonarcloud": Play("GET", "/api/authentication/validate", BEARER, {"valid": True}),
    "snyk": Play(
        "GET",
        "/v1/user/me",
        header("Authorization", "token "),
        {"id": "u-1", "username": "sec-bot", "email": "s@acme.test"},
        {"user": "sec-bot", "email": "s@acme.test"},
    ),
    "postman": Play(
        "GET",
        "/me",
        header("X-Api-Key"),
        {"user": {"id": 12, "username": "api-team", "email": "a@acme.test", "teamName": "Acme"}},
        {"user": "api-team", "team": "Acme"},
    ),
    "launchdarkly": Play(
        "GET",
        "/api/v2/caller-identity",
        header("Authorization"),
        {"accountId": "acc-1", "tokenName": "terraform", "tokenKind": "auth", "serviceToken": True},
        {"account": "acc-1", "token_name": "terraform", "type": "auth"},
    ),
    "npm": Play("GET", "/-/whoami", BEARER, {"username": "publisher"}, {"user": "publisher"}),
    "cloudsmith": Play(
        "GET",
        "/v1/user/self/",
        header("X-Api-Key"),
        {"authenticated": True, "slug": "pkg-bot", "name": "Pkg Bot", "email": "p@acme.test"},
        {"user": "pkg-bot", "email": "p@acme.test"},
        revoked=(401, {"detail": "Invalid API key."}),
    ),
    "hex": Play(
        "GET",
        "/api/users/me",
        header("Authorization"),
        {"username": "elixir-ci", "email": "e@acme.test"},
        {"user": "elixir-ci"},
    ),
    "digitalocean": Play(
        "GET",
        "/v2/account",
        BEARER,
        {"account": {"uuid": "do-1", "email": "ops@acme.test", "status": "active", "team": {"name": "Acme"}}},
        {"id": "do-1", "email": "ops@acme.test", "team": "Acme"},
        revoked=(401, {"id": "unauthorized", "message": "Unable to authenticate you"}),
    ),
    "linode": Play(
        "GET", "/v4/profile", BEARER, {"uid": 77, "username": "infra", "email": "i@acme.test"}, {"user": "infra"}
    ),
    "vultr": Play(
        "GET",
        "/v2/account",
        BEARER,
        {"account": {"name": "Acme", "email": "v@acme.test", "acls": ["manage_servers", "billing"]}},
        {"name": "Acme", "scopes": "manage_servers, billing"},
    ),
    "cloudflare": Play(
        "GET",
        "/client/v4/user/tokens/verify",
        BEARER,
        {"success": True, "errors": [], "result": {"id": "cf-tok", "status": "active"}},
        {"id": "cf-tok", "status": "active"},
        revoked=(401, {"success": False, "errors": [{"code": 1000, "message": "Invalid API Token"}]}),
    ),
    "fastly": Play(
        "GET",
        "/tokens/self",
        header("Fastly-Key"),
        {"id": "t1", "name": "purge", "user_id": "u9", "customer_id": "c3", "scope": "purge_all"},
        {"token_name": "purge", "account": "c3", "scopes": "purge_all"},
        revoked=(401, {"msg": "Provided credentials are missing or invalid"}),
    ),
    "heroku": Play(
        "GET",
        "/account",
        BEARER,
        {"id": "h-1", "email": "deploy@acme.test", "name": "Deploy"},
        {"email": "deploy@acme.test"},
        revoked=(401, {"id": "unauthorized", "message": "Invalid credentials provided."}),
    ),
    "netlify": Play(
        "GET",
        "/api/v1/user",
        BEARER,
        {"id": "n1", "email": "web@acme.test", "full_name": "Web Team", "slug": "web"},
        {"email": "web@acme.test", "user": "web"},
    ),
    "vercel": Play(
        "GET",
        "/v2/user",
        BEARER,
        {"user": {"id": "v1", "username": "front", "email": "f@acme.test"}},
        {"user": "front", "email": "f@acme.test"},
        revoked=(403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}),
    ),
    "render": Play(
        "GET",
        "/v1/owners",
        BEARER,
        [{"owner": {"id": "own-1", "name": "Acme", "email": "r@acme.test", "type": "team"}, "cursor": "x"}],
        {"org": "Acme", "email": "r@acme.test"},
    ),
    "supabase": Play(
        "GET",
        "/v1/organizations",
        BEARER,
        [{"id": "org-a", "name": "Acme"}, {"id": "org-b", "name": "Labs"}],
        {"org": "Acme, Labs"},
    ),
    "neon": Play(
        "GET",
        "/api/v2/users/me",
        BEARER,
        {"id": "ne-1", "email": "db@acme.test", "name": "DB"},
        {"email": "db@acme.test"},
    ),
    "doppler": Play(
        "GET",
        "/v3/me",
        BEARER,
        {"name": "ci-token", "type": "service_token", "slug": "s-1", "workplace": {"name": "Acme"}},
        {"token_name": "ci-token", "type": "service_token", "org": "Acme"},
    ),
    "terraform": Play(
        "GET",
        "/api/v2/account/details",
        BEARER,
        {"data": {"id": "user-1", "type": "users", "attributes": {"username": "tf", "email": "tf@acme.test"}}},
        {"user": "tf", "email": "tf@acme.test"},
    ),
    "pulumi": Play(
        "GET",
        "/api/user",
        header("Authorization", "token "),
        {"id": "p1", "githubLogin": "stack-bot", "name": "Stack", "organizations": [{"githubLogin": "acme"}]},
        {"user": "stack-bot", "org": "acme"},
    ),
    "slack": Play(
        "POST",
        "/api/auth.test",
        BEARER,
        {
            "ok": True,
            "team": "acme",
            "team_id": "T1",
            "user": "ci-bot",
            "user_id": "U1",
            "url": "https://acme.slack.com/",
        },
        {"team": "acme", "user": "ci-bot", "scopes": "chat:write"},
        revoked=(200, {"ok": False, "error": "invalid_auth"}),
        headers={"x-oauth-scopes": "chat:write"},
    ),
    "discord": Play(
        "GET",
        "/api/v10/users/@me",
        header("Authorization", "Bot "),
        {"id": "80351110224678912", "username": "helper", "bot": True},
        {"user": "helper", "bot": "true"},
        revoked=(401, {"message": "401: Unauthorized", "code": 0}),
    ),
    "telegram": Play(
        "GET",
        "/bot{token}/getMe",
        in_path,
        {"ok": True, "result": {"id": 1234, "is_bot": True, "first_name": "Alerts", "username": "acme_alerts_bot"}},
        {"user": "acme_alerts_bot", "name": "Alerts"},
        revoked=(401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
        token=_telegram_token,
    ),
    "line": Play(
        "GET",
        "/v2/bot/info",
        BEARER,
        {"userId": "Ub1", "basicId": "@acme", "displayName": "Acme Bot"},
        {"user": "@acme", "name": "Acme Bot"},
    ),
    "webex": Play(
        "GET",
        "/v1/people/me",
        BEARER,
        {"id": "Y2", "emails": ["bot@webex.bot"], "displayName": "Acme bot", "orgId": "O1"},
        {"email": "bot@webex.bot", "org": "O1"},
    ),
    "pushbullet": Play(
        "GET",
        "/v2/users/me",
        header("Access-Token"),
        {"iden": "ujp", "email": "push@acme.test", "name": "Push"},
        {"email": "push@acme.test"},
    ),
    "twitch": Play(
        "GET",
        "/oauth2/validate",
        header("Authorization", "OAuth "),
        {"client_id": "c1", "login": "streamer", "scopes": ["chat:read"], "user_id": "141981764", "expires_in": 3600},
        {"user": "streamer", "scopes": "chat:read", "client": "c1"},
        revoked=(401, {"status": 401, "message": "invalid access token"}),
    ),
    "facebook": Play(
        "GET",
        "/me",
        query("access_token"),
        {"id": "1020", "name": "Acme Page"},
        {"id": "1020", "name": "Acme Page"},
        revoked=(400, {"error": {"message": "Invalid OAuth access token", "type": "OAuthException", "code": 190}}),
    ),
    "sendgrid": Play(
        "GET",
        "/v3/scopes",
        BEARER,
        {"scopes": ["mail.send", "alerts.read"]},
        {"scopes": "mail.send, alerts.read"},
        revoked=(401, {"errors": [{"field": None, "message": "authorization required"}]}),
    ),
    "mailgun": Play(
        "GET",
        "/v3/domains",
        basic(1),
        {"total_count": 3, "items": [{"name": "mg.acme.test", "state": "active"}]},
        {"domain": "mg.acme.test", "domains": "3"},
        revoked=(401, {"message": "Invalid private key"}),
    ),
    "mailchimp": Play(
        "GET",
        "/3.0/",
        basic(1),
        {"account_id": "8d3a", "account_name": "Acme", "email": "news@acme.test", "username": "acme"},
        {"account": "8d3a", "org": "Acme", "email": "news@acme.test"},
        revoked=(401, {"title": "API Key Invalid", "status": 401}),
        token=_mailchimp_key,
    ),
    "mandrill": Play(
        "POST",
        "/api/1.0/users/info",
        body_field("key"),
        {"username": "tx@acme.test", "public_id": "pub-1", "reputation": 50},
        {"user": "tx@acme.test", "id": "pub-1"},
        revoked=(500, {"status": "error", "code": -1, "name": "Invalid_Key", "message": "Invalid API key"}),
    ),
    "postmark": Play(
        "GET",
        "/server",
        header("X-Postmark-Server-Token"),
        {"ID": 1, "Name": "Production"},
        {"id": "1", "name": "Production"},
        revoked=(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied"}),
    ),
    "brevo": Play(
        "GET",
        "/v3/account",
        header("api-key"),
        {"email": "crm@acme.test", "companyName": "Acme", "plan": [{"type": "free", "credits": 300}]},
        {"email": "crm@acme.test", "org": "Acme", "plan": "free"},
        revoked=(401, {"message": "Key not found", "code": "unauthorized"}),
    ),
    "sparkpost": Play(
        "GET",
        "/api/v1/account",
        header("Authorization"),
        {"results": {"customer_id": 12345, "company_name": "Acme", "status": "active"}},
        {"account": "12345", "org": "Acme"},
        revoked=(401, {"errors": [{"message": "Unauthorized."}]}),
    ),
    "klaviyo": Play(
        "GET",
        "/api/accounts",
        header("Authorization", "Klaviyo-API-Key "),
        {
            "data": [
                {
                    "type": "account",
                    "id": "XyZ123",
                    "attributes": {
                        "contact_information": {"organization_name": "Acme", "default_sender_email": "k@acme.test"}
                    },
                }
            ]
        },
        {"account": "XyZ123", "org": "Acme", "email": "k@acme.test"},
        revoked=(401, {"errors": [{"status": 401, "code": "not_authenticated"}]}),
    ),
    "stripe": Play(
        "GET",
        "/v1/account",
        basic(0),
        {"id": "acct_1", "email": "pay@acme.test", "country": "DE", "business_profile": {"name": "Acme GmbH"}},
        {"account": "acct_1", "email": "pay@acme.test", "name": "Acme GmbH"},
        revoked=(401, {"error": {"message": "Invalid API Key provided", "type": "invalid_request_error"}}),
    ),
    "square": Play(
        "GET",
        "/v2/merchants/me",
        BEARER,
        {"merchant": {"id": "ML1", "business_name": "Acme Café", "country": "US", "status": "ACTIVE"}},
        {"account": "ML1", "name": "Acme Café"},
        revoked=(401, {"errors": [{"category": "AUTHENTICATION_ERROR", "code": "UNAUTHORIZED"}]}),
    ),
    "wise": Play(
        "GET", "/v1/me", BEARER, {"id": 101, "name": "Acme Ltd", "email": "fin@acme.test"}, {"email": "fin@acme.test"}
    ),
    "openai": Play(
        "GET",
        "/v1/models",
        BEARER,
        {"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]},
        {"org": "org-acme"},
        revoked=(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}),
        headers={"openai-organization": "org-acme"},
    ),
    "anthropic": Play(
        "GET",
        "/v1/models",
        header("x-api-key"),
        {"data": [{"id": "claude-sonnet-4", "type": "model"}], "has_more": False},
        {"org": "5f1e"},
        revoked=(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        headers={"anthropic-organization-id": "5f1e"},
    ),
    "groq": Play("GET", "/openai/v1/models", BEARER, {"object": "list", "data": [{"id": "llama-3.3-70b"}]}),
    "mistral": Play("GET", "/v1/models", BEARER, {"object": "list", "data": [{"id": "mistral-large-latest"}]}),
    "cohere": Play(
        "POST",
        "/v1/check-api-key",
        BEARER,
        {"valid": True, "organization_id": "org-9", "owner_id": "own-9"},
        {"org": "org-9", "user_id": "own-9"},
        revoked=(401, {"message": "invalid api token"}),
    ),
    "huggingface": Play(
        "GET",
        "/api/whoami-v2",
        BEARER,
        {
            "type": "user",
            "name": "ml-bot",
            "orgs": [{"name": "acme-ml"}],
            "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "read"}},
        },
        {"user": "ml-bot", "org": "acme-ml", "token_name": "ci", "role": "read"},
        revoked=(401, {"error": "Invalid credentials in Authorization header"}),
    ),
    "replicate": Play(
        "GET",
        "/v1/account",
        BEARER,
        {"type": "organization", "username": "acme", "name": "Acme"},
        {"user": "acme", "type": "organization"},
        revoked=(401, {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token"}),
    ),
    "deepseek": Play("GET", "/models", BEARER, {"object": "list", "data": [{"id": "deepseek-chat"}]}),
    "xai": Play(
        "GET",
        "/v1/api-key",
        BEARER,
        {"name": "prod", "acls": ["api-key:model:*"], "team_id": "team-1", "api_key_blocked": False},
        {"token_name": "prod", "team": "team-1", "scopes": "api-key:model:*"},
        revoked=(400, {"code": "Client specified an invalid argument", "error": "Incorrect API key provided"}),
    ),
    "openrouter": Play("GET", "/api/v1/key", BEARER, _openrouter, {"token_name": REDACTED, "free_tier": "false"}),
    "together": Play("GET", "/v1/models", BEARER, [{"id": "meta-llama/Llama-3-8b", "object": "model"}]),
    "elevenlabs": Play(
        "GET",
        "/v1/user",
        header("xi-api-key"),
        {"user_id": "el-1", "subscription": {"tier": "creator"}},
        {"user_id": "el-1", "plan": "creator"},
        revoked=(401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}),
    ),
    "deepgram": Play(
        "GET",
        "/v1/projects",
        header("Authorization", "Token "),
        {"projects": [{"project_id": "p-1", "name": "Voice"}]},
        {"project": "Voice", "project_id": "p-1"},
    ),
    "stability": Play(
        "GET",
        "/v1/user/account",
        BEARER,
        {"id": "user-1", "email": "art@acme.test", "organizations": [{"id": "org-1", "name": "Acme Art"}]},
        {"email": "art@acme.test", "org": "Acme Art"},
    ),
    "deepl": Play(
        "GET",
        "/v2/usage",
        header("Authorization", "DeepL-Auth-Key "),
        {"character_count": 180118, "character_limit": 1250000},
        revoked=(403, {"message": "Forbidden"}),
    ),
    "deepl-free": Play(
        "GET",
        "/v2/usage",
        header("Authorization", "DeepL-Auth-Key "),
        {"character_count": 10, "character_limit": 500000},
        revoked=(403, {"message": "Forbidden"}),
    ),
    "datadog": Play(
        "GET", "/api/v1/validate", header("DD-API-KEY"), {"valid": True}, revoked=(403, {"errors": ["Forbidden"]})
    ),
    "newrelic": Play(
        "POST",
        "/graphql",
        header("API-Key"),
        {"data": {"actor": {"user": {"id": 1001, "name": "Obs", "email": "o@acme.test"}}}},
        {"id": "1001", "email": "o@acme.test"},
        revoked=(401, {"errors": [{"message": "Invalid API key"}]}),
    ),
    "sentry": Play(
        "GET",
        "/api/0/organizations/",
        BEARER,
        [{"slug": "acme", "name": "Acme"}],
        {"org": "acme"},
        revoked=(401, {"detail": "Invalid token"}),
    ),
    "pagerduty": Play(
        "GET",
        "/abilities",
        header("Authorization", "Token token="),
        {"abilities": ["teams", "read_only_users"]},
        revoked=(401, {"error": {"message": "Authentication required", "code": 2006}}),
    ),
    "opsgenie": Play(
        "GET",
        "/v2/account",
        header("Authorization", "GenieKey "),
        {"data": {"name": "acme", "userCount": 12, "plan": {"name": "Standard"}}},
        {"account": "acme", "plan": "Standard"},
        revoked=(401, {"message": "Key format is not valid!", "took": 0.0}),
    ),
    "honeycomb": Play(
        "GET",
        "/1/auth",
        header("X-Honeycomb-Team"),
        {"id": "k1", "type": "configuration", "team": {"slug": "acme"}, "environment": {"slug": "prod"}},
        {"team": "acme", "environment": "prod", "type": "configuration"},
    ),
    "statuspage": Play(
        "GET",
        "/v1/pages",
        header("Authorization", "OAuth "),
        [{"id": "pg1", "name": "Acme Status"}],
        {"page": "Acme Status", "page_id": "pg1"},
    ),
    "posthog": Play(
        "GET",
        "/api/users/@me/",
        BEARER,
        {"uuid": "u-77", "email": "pa@acme.test", "first_name": "Pat", "organization": {"name": "Acme"}},
        {"email": "pa@acme.test", "org": "Acme"},
    ),
    "linear": Play(
        "POST",
        "/graphql",
        header("Authorization"),
        {"data": {"viewer": {"id": "lv1", "name": "Lin", "email": "l@acme.test", "organization": {"name": "Acme"}}}},
        {"email": "l@acme.test", "org": "Acme"},
        revoked=(
            400,
            {"errors": [{"message": "Authentication required", "extensions": {"code": "AUTHENTICATION_ERROR"}}]},
        ),
    ),
    "notion": Play(
        "GET",
        "/v1/users/me",
        BEARER,
        {"object": "user", "id": "n-1", "name": "Sync", "type": "bot", "bot": {"workspace_name": "Acme HQ"}},
        {"name": "Sync", "type": "bot", "workspace": "Acme HQ"},
        revoked=(401, {"object": "error", "status": 401, "code": "unauthorized"}),
    ),
    "airtable": Play(
        "GET",
        "/v0/meta/whoami",
        BEARER,
        {"id": "usr1", "email": "at@acme.test", "scopes": ["data.records:read"]},
        {"email": "at@acme.test", "scopes": "data.records:read"},
    ),
    "asana": Play(
        "GET",
        "/api/1.0/users/me",
        BEARER,
        {"data": {"gid": "12", "name": "PM", "email": "pm@acme.test", "workspaces": [{"name": "Acme"}]}},
        {"id": "12", "email": "pm@acme.test", "workspace": "Acme"},
    ),
    "figma": Play(
        "GET",
        "/v1/me",
        header("X-Figma-Token"),
        {"id": "f1", "email": "d@acme.test", "handle": "designer"},
        {"user": "designer"},
        revoked=(403, {"status": 403, "err": "Invalid token"}),
    ),
    "hubspot": Play(
        "GET",
        "/account-info/v3/details",
        BEARER,
        {"portalId": 62515, "accountType": "STANDARD", "uiDomain": "app.hubspot.com"},
        {"account": "62515", "type": "STANDARD"},
    ),
    "intercom": Play(
        "GET",
        "/me",
        BEARER,
        {
            "type": "admin",
            "id": "99",
            "name": "Support",
            "email": "sup@acme.test",
            "app": {"name": "Acme", "id_code": "x1"},
        },
        {"email": "sup@acme.test", "workspace": "Acme"},
    ),
    "typeform": Play(
        "GET", "/me", BEARER, {"alias": "forms", "email": "tf@acme.test", "language": "en"}, {"user": "forms"}
    ),
    "clickup": Play(
        "GET",
        "/api/v2/user",
        header("Authorization"),
        {"user": {"id": 123, "username": "tasks", "email": "c@acme.test"}},
        {"user": "tasks", "id": "123"},
    ),
    "dropbox": Play(
        "POST",
        "/2/users/get_current_account",
        BEARER,
        {"account_id": "dbid:1", "email": "files@acme.test", "name": {"display_name": "Files"}},
        {"email": "files@acme.test", "name": "Files"},
        revoked=(401, {"error_summary": "invalid_access_token/...", "error": {".tag": "invalid_access_token"}}),
    ),
    "box": Play(
        "GET",
        "/2.0/users/me",
        BEARER,
        {"id": "11", "login": "box@acme.test", "name": "Box"},
        {"email": "box@acme.test"},
    ),
    "miro": Play(
        "GET",
        "/v1/oauth-token",
        BEARER,
        {"type": "oauth-token", "scopes": ["boards:read"], "team": {"name": "Acme"}, "user": {"name": "Board"}},
        {"team": "Acme", "scopes": "boards:read"},
    ),
    "smartsheet": Play(
        "GET",
        "/2.0/users/me",
        BEARER,
        {"id": 48, "email": "ss@acme.test", "account": {"name": "Acme"}},
        {"email": "ss@acme.test", "account": "Acme"},
        revoked=(401, {"errorCode": 1002, "message": "Your Access Token is invalid."}),
    ),
    "shortcut": Play(
        "GET",
        "/api/v3/member",
        header("Shortcut-Token"),
        {"id": "m1", "mention_name": "dev", "name": "Dev", "workspace2": {"url_slug": "acme"}},
        {"user": "dev", "workspace": "acme"},
    ),
    "coda": Play(
        "GET",
        "/apis/v1/whoami",
        BEARER,
        {"name": "Doc Bot", "loginId": "coda@acme.test", "scoped": False, "workspace": {"name": "Acme"}},
        {"email": "coda@acme.test", "workspace": "Acme"},
    ),
    "toggl": Play(
        "GET",
        "/api/v9/me",
        basic(0),
        {"id": 5, "email": "time@acme.test", "fullname": "Time"},
        {"email": "time@acme.test"},
        revoked=(403, {"message": "Incorrect username and/or password"}),
    ),
    "pipedrive": Play(
        "GET",
        "/v1/users/me",
        query("api_token"),
        {"success": True, "data": {"id": 3, "email": "sales@acme.test", "name": "Sales", "company_name": "Acme"}},
        {"email": "sales@acme.test", "org": "Acme"},
        revoked=(401, {"success": False, "error": "unauthorized access", "errorCode": 401}),
    ),
    "close": Play(
        "GET",
        "/api/v1/me/",
        basic(0),
        {"id": "user_1", "email": "crm@acme.test", "first_name": "Cy", "organizations": [{"name": "Acme"}]},
        {"email": "crm@acme.test", "org": "Acme"},
    ),
    "contentful": Play(
        "GET",
        "/users/me",
        BEARER,
        {"sys": {"id": "cf-u"}, "email": "cms@acme.test", "firstName": "Cam"},
        {"id": "cf-u", "email": "cms@acme.test"},
    ),
    "mapbox": Play(
        "GET",
        "/tokens/v2",
        query("access_token"),
        {"code": "TokenValid", "token": {"usage": "sk", "user": "acme-maps", "authorization": "x"}},
        {"user": "acme-maps", "type": "sk"},
        revoked=(401, {"code": "TokenInvalid"}),
    ),
    "google-oauth": Play(
        "GET",
        "/tokeninfo",
        query("access_token"),
        {"azp": "123.apps", "aud": "123.apps", "scope": "openid email", "email": "g@acme.test", "expires_in": "3599"},
        {"email": "g@acme.test", "scopes": "openid email"},
        revoked=(400, {"error": "invalid_token", "error_description": "Invalid Value"}),
    ),
    "bitly": Play(
        "GET",
        "/v4/user",
        BEARER,
        {"login": "links", "name": "Links", "default_group_guid": "Bg1"},
        {"user": "links"},
        revoked=(403, {"message": "FORBIDDEN"}),
    ),
    "crowdin": Play(
        "GET",
        "/api/v2/user",
        BEARER,
        {"data": {"id": 1, "username": "l10n", "email": "l@acme.test"}},
        {"user": "l10n"},
    ),
    "vimeo": Play(
        "GET", "/me", BEARER, {"uri": "/users/1", "name": "Video", "link": "https://vimeo.com/acme"}, {"id": "/users/1"}
    ),
    "shodan": Play(
        "GET",
        "/api-info",
        query("key"),
        {"plan": "dev", "query_credits": 100},
        {"plan": "dev"},
        revoked=(401, {"error": "Invalid API key"}),
    ),
    "hibp": Play(
        "GET",
        "/api/v3/subscription/status",
        header("hibp-api-key"),
        {"SubscriptionName": "Pwned 1", "Rpm": 10},
        {"plan": "Pwned 1"},
        revoked=(401, {"statusCode": 401, "message": "Access denied due to invalid hibp-api-key."}),
    ),
}


# -- the local provider ---------------------------------------------------------------------------------
@dataclass
class Playground:
    """The running server: which keys it knows and how to treat them, and every request it received."""

    url: str
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def key(self, name: str, behaviour: str) -> str:
        """A fresh key for verifier ``name`` that the server treats as ``behaviour``."""
        token = PLAYS[name].token(RNG)
        with self.lock:
            self.keys[token] = (name, behaviour)
        return token

    def saw(self, text: str) -> bool:
        with self.lock:
            return any(text in request for request in self.seen)


def _handler(ground: Playground) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without this, Nagle and delayed ACKs add 40 ms a request.
        disable_nagle_algorithm = True

        def log_message(self, *_args: object) -> None:
            return

        def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with ground.lock:
                ground.seen.append(f"{method} {self.path}\n{self.headers}\n{body.decode(errors='replace')}")
            parts = urlsplit(self.path)
            params = {key: values[0] for key, values in parse_qs(parts.query).items()}
            for name, play in PLAYS.items():
                match = play.pattern.match(parts.path)
                if play.method != method or match is None:
                    continue
                token = play.auth(Request(method, parts.path, params, self.headers, body, match))
                known = ground.keys.get(token or "")
                if known is None or known[0] != name:
                    continue
                self._play(play, token or "", known[1])
                return
            self._send(404, {"message": "Not Found"})

        def _play(self, play: Play, token: str, behaviour: str) -> None:
            if behaviour == "slow":
                ground.release.wait(timeout=30)
            if behaviour == "throttled":
                self._send(429, {"message": "Too Many Requests"}, {"Retry-After": "7"})
            elif behaviour == "redirect":
                self._send(302, {}, {"Location": f"{ground.url}/elsewhere/{len(token)}"})
            elif behaviour == "revoked":
                self._send(*play.revoked)
            else:
                self._send(200, play.valid(token) if callable(play.valid) else play.valid, play.headers)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

    return Handler


@pytest.fixture(scope="session")
def ground() -> Iterator[Playground]:
    playground = Playground("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(playground))
    playground.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield playground
    finally:
        playground.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def verifier() -> Iterator[HTTPVerifier]:
    """One guarded client for the session, allowed to reach loopback (where the local provider listens)."""
    with HTTPVerifier(timeout=5, allowed_networks=allowed_networks([LOOPBACK])) as shared:
        yield shared


@pytest.fixture(scope="session")
def strict() -> Iterator[HTTPVerifier]:
    """A client with the default guard: no network allowed (as ``nexora scan --verify`` without options)."""
    with HTTPVerifier(timeout=2) as shared:
        yield shared


def _assert_secret_free(outcome: http_verify.Outcome, token: str) -> None:
    assert token not in outcome.detail
    assert all(token not in value for _, value in outcome.identity)


NAMES = sorted(PLAYS)


def test_every_http_verifier_is_played_by_the_local_provider() -> None:
    assert set(PLAYS) == set(PROVIDERS)
    assert len(verifier_names()) >= 50


@pytest.mark.parametrize("name", NAMES)
def test_a_valid_key_is_valid_and_names_its_owner(name: str, ground: Playground, verifier: HTTPVerifier) -> None:
    token = ground.key(name, "valid")
    outcome = verifier.check(name, token, ground.url)
    assert (outcome.result, outcome.detail) == (Verification.VALID, "HTTP 200")
    identity = dict(outcome.identity)
    assert {key: identity.get(key) for key in PLAYS[name].identity} == PLAYS[name].identity
    _assert_secret_free(outcome, token)


@pytest.mark.parametrize("name", NAMES)
def test_a_revoked_key_is_invalid(name: str, ground: Playground, verifier: HTTPVerifier) -> None:
    token = ground.key(name, "revoked")
    outcome = verifier.check(name, token, ground.url)
    assert outcome.result is Verification.INVALID, outcome.detail
    assert outcome.identity == ()
    _assert_secret_free(outcome, token)


@pytest.mark.parametrize("name", NAMES)
def test_throttling_is_unknown_and_reports_retry_after(name: str, ground: Playground, verifier: HTTPVerifier) -> None:
    token = ground.key(name, "throttled")
    outcome = verifier.check(name, token, ground.url)
    assert (outcome.result, outcome.detail) == (Verification.UNKNOWN, "rate limited (Retry-After: 7)")


@pytest.mark.parametrize("name", NAMES)
def test_a_redirect_is_unknown_and_not_followed(name: str, ground: Playground, verifier: HTTPVerifier) -> None:
    token = ground.key(name, "redirect")
    outcome = verifier.check(name, token, ground.url)
    assert (outcome.result, outcome.detail) == (Verification.UNKNOWN, "HTTP 302: redirect not followed")
    assert not ground.saw("/elsewhere/")


@pytest.mark.parametrize("name", NAMES)
def test_a_default_base_on_loopback_is_refused_without_the_allow_option(
    name: str, ground: Playground, strict: HTTPVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = ground.key(name, "valid")
    monkeypatch.setitem(PROVIDERS, name, dataclasses.replace(PROVIDERS[name], base=ground.url))
    outcome = strict.check(name, token)
    assert outcome.result is Verification.UNKNOWN
    assert outcome.detail.startswith("refused by the outbound network guard: the address 127.0.0.1 is a loopback")
    assert not ground.saw(token)
    _assert_secret_free(outcome, token)


def test_metadata_and_private_bases_are_refused_before_any_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, base in (
        ("github", "http://169.254.169.254"),
        ("slack", "http://10.1.2.3:8080"),
        ("npm", "http://[::1]"),
    ):
        monkeypatch.setitem(PROVIDERS, name, dataclasses.replace(PROVIDERS[name], base=base))
        outcome = http_verify.check(name, "k" * 40, timeout=1)
        assert outcome.result is Verification.UNKNOWN
        assert "refused by the outbound network guard" in outcome.detail
    metadata = http_verify.check("github", "k" * 40, "http://169.254.169.254/latest", timeout=1)
    assert "a cloud metadata service address" in metadata.detail


def test_answers_are_read_by_status_then_the_provider_rules() -> None:
    interpret = http_verify.interpret
    github, slack = PROVIDERS["github"], PROVIDERS["slack"]
    exhausted = interpret(github, 403, {"x-ratelimit-remaining": "0", "retry-after": "60"}, b"{}")
    assert (exhausted.result, exhausted.detail) == (Verification.UNKNOWN, "rate limited (Retry-After: 60)")
    assert interpret(github, 403, {}, b"{}").detail == "HTTP 403"
    assert interpret(github, 500, {}, b"").result is Verification.UNKNOWN
    assert interpret(github, 429, {"retry-after": "soon\r\nX: y"}, b"").detail == "rate limited"
    assert interpret(slack, 200, {}, b'{"ok": false, "error": "ratelimited"}').detail == "rate limited"
    assert interpret(slack, 200, {}, b'{"ok": false, "error": "missing_scope"}').result is Verification.UNKNOWN
    revoked = interpret(slack, 200, {}, b'{"ok": false, "error": "token_revoked"}')
    assert (revoked.result, revoked.detail) == (Verification.INVALID, "HTTP 200, error: token_revoked")
    # An answer too large to read (None) still counts by status, but cannot satisfy a required field.
    assert interpret(github, 200, {}, None).result is Verification.VALID
    assert interpret(slack, 200, {}, None).result is Verification.UNKNOWN
    # A JSON false must not pass for 0 (nor true for 1) when a rule compares values.
    assert interpret(PROVIDERS["cohere"], 200, {}, b'{"valid": 0}').result is Verification.UNKNOWN
    assert http_verify.pluck({"a": [{"b": 1}, {"b": 2}, {"c": 3}]}, "a.*.b") == [1, 2]
    assert http_verify.pluck([{"x": {"y": "z"}}], "0.x.y") == ["z"]


def test_keys_an_endpoint_cannot_judge_are_not_sent(ground: Playground, verifier: HTTPVerifier) -> None:
    refresh = "ghr_" + random_token(RNG, 36)
    outcome = verifier.check("github", refresh, ground.url)
    assert outcome.result is Verification.UNKNOWN
    assert "refresh tokens" in outcome.detail
    assert not ground.saw(refresh)
    assert verifier.check("github", "token\nInjected: yes", ground.url).result is Verification.UNKNOWN
    assert verifier.check("nonexistent", "x" * 20).detail == "no verifier named 'nonexistent'"
    assert "absolute http" in verifier.check("github", "x" * 20, "ftp://example.com").detail


def test_the_mailchimp_host_comes_from_the_key_data_centre(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = PROVIDERS["mailchimp"]
    no_dc = http_verify.check("mailchimp", "0" * 32, timeout=1)
    assert no_dc.result is Verification.UNKNOWN
    assert "which Mailchimp host" in no_dc.detail
    # A data centre resolves to a public name; point it at a metadata address to prove the host is built from it.
    monkeypatch.setitem(PROVIDERS, "mailchimp", dataclasses.replace(provider, base="http://169.254.169.254/{param}"))
    built = http_verify.check("mailchimp", "0" * 32 + "-us6", timeout=1)
    assert "refused by the outbound network guard" in built.detail


def test_unreachable_or_slow_providers_give_unknown_never_an_error(ground: Playground) -> None:
    slow = ground.key("telegram", "slow")
    closed = f"http://127.0.0.1:{free_port()}"
    with HTTPVerifier(timeout=0.5, allowed_networks=allowed_networks([LOOPBACK])) as quick:
        timed_out = quick.check("telegram", slow, ground.url)
        refused = quick.check("telegram", PLAYS["telegram"].token(RNG), closed)
    assert (timed_out.result, timed_out.detail) == (Verification.UNKNOWN, "timed out (ReadTimeout)")
    assert (refused.result, refused.detail) == (Verification.UNKNOWN, "ConnectError")


def test_the_rate_limiter_bounds_concurrency_and_spaces_requests() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(1, 0.5, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        with limiter.slot():
            pass
    assert waits == [0.5, 0.5]
    gate = RateLimiter(2, 0)
    inside, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with gate.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


# -- rules, findings and reports ------------------------------------------------------------------------
RULES = load_rules()


def test_every_verifier_a_rule_names_exists_and_every_verifier_is_used() -> None:
    used = {rule.verifier for rule in RULES if rule.verifier}
    assert used <= verifier_names()
    assert verifier_names() <= used


def test_each_wired_rule_hands_its_provider_exactly_the_key_it_found(
    ground: Playground, detect: Callable[..., list[Finding]]
) -> None:
    """Every rule's first example, found and verified end to end against the local provider."""
    findings: list[Finding] = []
    for rule in RULES:
        if not rule.verifier or rule.verifier == "aws":
            continue
        found = [f for f in detect(expand(rule.tp[0]), path=f"{rule.id}.env") if f.rule_id == rule.id]
        assert found, rule.id
        with ground.lock:
            ground.keys[found[0].secret] = (rule.verifier, "valid")
        findings.append(found[0])
    options = VerifyOptions(
        {name: ground.url for name in PROVIDERS},
        timeout=5,
        allowed_networks=allowed_networks([LOOPBACK]),
        min_interval=0,
    )
    verified = verify_findings(findings, options, {rule.id: rule.verifier for rule in RULES if rule.verifier})
    outcomes = {f.rule_id: (f.verification, f.verification_detail) for f in verified}
    unsupported = {f.rule_id for f in verified if f.secret.startswith(("ghr_", "xoxr-"))}
    assert {rule: outcome for rule, outcome in outcomes.items() if rule not in unsupported} == {
        rule: (Verification.VALID, "HTTP 200") for rule in outcomes if rule not in unsupported
    }
    assert all(outcomes[rule][0] is Verification.UNKNOWN for rule in unsupported)


def _verify(cli: object, root: Path, *args: str, allow: bool = True) -> list[dict[str, object]]:
    options: list[str] = [str(root), "--verify", "--format", "json", "--verify-timeout", "2"]
    if allow:
        options += ["--verify-allow-network", LOOPBACK]
    for arg in args:
        options += ["--verify-endpoint", arg]
    result = cli(*options)  # type: ignore[operator]
    return json.loads(result.stdout)["findings"]  # type: ignore[no-any-return]


def test_github_tokens_are_valid_invalid_or_unknown_when_throttled(
    tmp_path: Path, cli: object, ground: Playground
) -> None:
    valid, revoked, throttled = github_token(RNG), github_token(RNG), github_token(RNG)
    with ground.lock:
        ground.keys.update(
            {valid: ("github", "valid"), revoked: ("github", "revoked"), throttled: ("github", "throttled")}
        )
    write(tmp_path / "a.env", f"A={valid}\nB={revoked}\nC={throttled}\n")
    findings = sorted(_verify(cli, tmp_path, f"github={ground.url}"), key=lambda f: int(str(f["line"])))
    assert [f["verification"] for f in findings] == ["valid", "invalid", "unknown"]
    assert findings[0]["verification_identity"] == {
        "user": "ci-bot",
        "id": "583231",
        "type": "User",
        "scopes": "repo, read:org",
    }
    assert findings[1]["verification_identity"] is None
    assert findings[2]["verification_detail"] == "rate limited (Retry-After: 7)"


def test_slack_gitlab_stripe_and_openai_speak_their_own_apis(tmp_path: Path, cli: object, ground: Playground) -> None:
    slack = f"xoxb-{random_token(RNG, 12, '0123456789')}-{random_token(RNG, 13, '0123456789')}-{random_token(RNG, 24)}"
    gitlab = "glpat-" + random_token(RNG, 20)
    stripe = "sk_live_" + random_token(RNG, 32)
    openai = f"sk-{random_token(RNG, 20)}T3BlbkFJ{random_token(RNG, 20)}"
    with ground.lock:
        ground.keys.update(
            {
                slack: ("slack", "valid"),
                gitlab: ("gitlab", "valid"),
                stripe: ("stripe", "valid"),
                openai: ("openai", "revoked"),
            }
        )
    write(tmp_path / "keys.env", f"SLACK={slack}\nGITLAB={gitlab}\nSTRIPE={stripe}\nOPENAI={openai}\n")
    endpoints = [f"{name}={ground.url}" for name in ("slack", "gitlab", "stripe", "openai")]
    findings = {f["rule_id"]: f for f in _verify(cli, tmp_path, *endpoints)}
    assert {rule: f["verification"] for rule, f in findings.items()} == {
        "slack-bot-token": "valid",
        "gitlab-pat": "valid",
        "stripe-secret-key": "valid",
        "openai-api-key": "invalid",
    }
    assert findings["slack-bot-token"]["verification_identity"] == {
        "team": "acme",
        "team_id": "T1",
        "user": "ci-bot",
        "user_id": "U1",
        "url": "https://acme.slack.com/",
        "scopes": "chat:write",
    }


def test_without_the_allow_option_a_loopback_endpoint_is_refused(
    tmp_path: Path, cli: object, ground: Playground
) -> None:
    token = github_token(RNG)
    with ground.lock:
        ground.keys[token] = ("github", "valid")
    write(tmp_path / "a.env", f"A={token}\n")
    (finding,) = _verify(cli, tmp_path, f"github={ground.url}", allow=False)
    assert finding["verification"] == "unknown"
    assert str(finding["verification_detail"]).startswith("refused by the outbound network guard")
    assert not ground.saw(token)


def test_text_and_sarif_reports_show_the_identity(tmp_path: Path, cli: object, ground: Playground) -> None:
    token = github_token(RNG)
    with ground.lock:
        ground.keys[token] = ("github", "valid")
    write(tmp_path / "a.env", f"A={token}\n")
    common = [
        str(tmp_path),
        "--verify",
        "--verify-allow-network",
        LOOPBACK,
        "--verify-endpoint",
        f"github={ground.url}",
    ]
    text = cli(*common).stdout  # type: ignore[operator]
    assert "verified valid: HTTP 200" in text
    assert "    identity: user=ci-bot, id=583231, type=User, scopes=repo, read:org" in text
    sarif = json.loads(cli(*common, "--format", "sarif").stdout)  # type: ignore[operator]
    properties = sarif["runs"][0]["results"][0]["properties"]
    assert properties["verification_identity"]["user"] == "ci-bot"
    assert token not in text
    assert token not in json.dumps(sarif)


def test_a_bad_allow_network_is_a_usage_error(tmp_path: Path, cli: object) -> None:
    write(tmp_path / "a.env", "nothing\n")
    result = cli(tmp_path, "--verify", "--verify-allow-network", "loopback")  # type: ignore[operator]
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--verify-allow-network" in result.stderr  # type: ignore[attr-defined]


def test_verification_is_off_by_default(tmp_path: Path, cli: object) -> None:
    write(tmp_path / "a.env", f"A={github_token(RNG)}\n")
    result = cli(tmp_path, "--format", "json")  # type: ignore[operator]
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["verification"] is None
    assert finding["verification_identity"] is None


def test_the_generated_verifier_table_of_the_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == update_verifiers_doc(text, builtin_block()), (
        "run: python -m nexora.scanner.verify.docs --docs docs/scanner.md"
    )


# -- AWS through moto -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    yield from start_moto()


@pytest.fixture(scope="module")
def aws_credentials(moto: MotoServer) -> tuple[str, str]:
    """A key pair that moto issued, shaped like real AWS keys (base32), minted before authentication starts."""
    iam = boto3.client(
        "iam",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAFREEACTIONSFREE2",
        aws_secret_access_key="x" * 40,
    )
    used = 0
    found: tuple[str, str] | None = None
    while found is None and used + 3 < MOTO_FREE_ACTIONS:
        user = f"ci-{used}"
        iam.create_user(UserName=user)
        used += 1
        for _ in range(2):
            key = iam.create_access_key(UserName=user)["AccessKey"]
            used += 1
            if set(key["AccessKeyId"][4:]) <= BASE32:
                found = (key["AccessKeyId"], key["SecretAccessKey"])
                break
    assert found is not None, "moto never issued a base32 key id"
    # Spend the remaining free actions so every later request is authenticated.
    while used < MOTO_FREE_ACTIONS:
        iam.list_users()
        used += 1
    return found


def test_aws_keys_issued_by_moto_verify_as_valid(
    tmp_path: Path, cli: object, moto: MotoServer, aws_credentials: tuple[str, str]
) -> None:
    key_id, secret = aws_credentials
    write(tmp_path / "creds.ini", f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert {f["rule_id"]: f["verification"] for f in findings} == {
        "aws-access-key-id": "valid",
        "aws-secret-access-key": "valid",
    }
    assert "arn:aws:iam::" in str(findings[0]["verification_detail"])
    identity = findings[0]["verification_identity"]
    assert isinstance(identity, dict)
    assert identity["arn"].startswith("arn:aws:iam::")
    assert identity["account"]


def test_aws_keys_unknown_to_moto_verify_as_invalid(
    tmp_path: Path, cli: object, moto: MotoServer, aws_credentials: tuple[str, str]
) -> None:
    key_id, secret = aws_key_pair(RNG)
    write(tmp_path / "creds.ini", f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert {f["verification"] for f in findings} == {"invalid"}


def test_aws_through_the_guard_needs_the_allow_option(tmp_path: Path, cli: object, moto: MotoServer) -> None:
    key_id, secret = aws_key_pair(RNG)
    write(tmp_path / "creds.ini", f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}", allow=False)
    assert {f["verification"] for f in findings} == {"unknown"}
    assert all(str(f["verification_detail"]).startswith("refused by the outbound network guard") for f in findings)
    assert all(secret not in str(f["verification_detail"]) for f in findings)


def test_an_aws_key_id_without_a_secret_is_unknown(tmp_path: Path, cli: object, moto: MotoServer) -> None:
    write(tmp_path / "id-only.env", f"AWS_ACCESS_KEY_ID={aws_key_pair(RNG)[0]}\n")
    findings = _verify(cli, tmp_path, f"aws={moto.url}")
    assert findings[0]["verification"] == "unknown"
