"""The records connectors produce: pure values, no I/O, the common language of transform, load and posture."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

# The kinds of inventoried nodes: each Literal is the one spelling, the API's schema is generated from it
# and the tuples are read from it, so they cannot drift apart.
IdentityKind = Literal[
    "iam_user",
    "iam_role",
    "access_key",
    "service_account",
    "service_account_key",
    "k8s_service_account",
    "k8s_secret",
    "api_token",
    "oauth_app",
    "github_app",
    "deploy_key",
    "ci_secret",
    "vault_approle",
    "vault_token",
    "certificate",
    "leaked_secret",
    "managed_secret",
]
# Nodes that are not identities themselves but anchor relationships (workloads, repositories, ...).
ResourceKind = Literal[
    "workload", "repository", "oidc_provider", "instance_profile", "webhook", "auth_method", "policy"
]
NhiKind = Literal[IdentityKind, ResourceKind]
Provider = Literal["aws", "kubernetes", "github", "gcp", "azure", "vault", "code"]
Environment = Literal["prod", "staging", "dev", "unknown"]
NHI_KINDS: tuple[IdentityKind, ...] = get_args(IdentityKind)
RESOURCE_KINDS: tuple[ResourceKind, ...] = get_args(ResourceKind)
KINDS: tuple[NhiKind, ...] = get_args(NhiKind)
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
ENVIRONMENTS: tuple[Environment, ...] = get_args(Environment)
EDGE_KINDS = (
    "owns",
    "has_credential",
    "can_assume",
    "trusts",
    "grants_access_to",
    "used_by",
    "stored_in",
    "exposed_in",
    "same_secret_as",
)
PRIVILEGE_LEVELS = ("admin", "high", "medium", "low", "none", "unknown")


@dataclass(frozen=True)
class NhiColumn:
    """A column of the inventory table (``discovery.nhi``) and where it travels."""

    name: str
    load: str | None = None  # element type of the load's batch array; None: Nexora sets it, records do not
    listed: bool = True  # in list rows (the API's ``NhiOut``)
    exported: bool = True  # in the CSV export
    expression: str | None = None  # how a list row computes it, for a column that is not stored


# The one list of the inventory's columns, in the CSV export's column order: the load's batch arrays,
# the select of list rows and the export's columns are all taken from it.
NHI_COLUMNS = (
    NhiColumn("id", load="uuid"),
    NhiColumn("provider", load="text"),
    NhiColumn("kind", load="text"),
    NhiColumn("account", load="text"),
    NhiColumn("external_id", load="text"),
    NhiColumn("name", load="text"),
    NhiColumn("environment", load="text"),
    NhiColumn("owner", load="text"),
    NhiColumn("privilege_level", load="text"),
    NhiColumn("status", load="text"),
    NhiColumn("risk_score"),
    NhiColumn("open_findings"),
    NhiColumn("created_at", load="timestamptz"),
    NhiColumn("last_used_at", load="timestamptz"),
    NhiColumn("last_rotated_at", load="timestamptz"),
    NhiColumn("expires_at", load="timestamptz"),
    NhiColumn("first_seen_at"),
    NhiColumn("last_seen_at"),
    NhiColumn("connector_id", exported=False),
    NhiColumn("owner_source", load="text", exported=False),
    NhiColumn("environment_overridden", exported=False, expression="environment_override IS NOT NULL"),
    NhiColumn("permissions", load="text", listed=False, exported=False),  # JSON text, stored as jsonb
    NhiColumn("fingerprint", load="text", listed=False, exported=False),
    NhiColumn("attributes", load="text", listed=False, exported=False),  # JSON text, stored as jsonb
    NhiColumn("content_hash", load="text", listed=False, exported=False),
)

_ENVIRONMENT_WORDS = {
    "prod": ("prod", "production", "prd", "live"),
    "staging": ("staging", "stage", "stg", "uat", "preprod", "qa"),
    "dev": ("dev", "development", "test", "sandbox", "sbx", "local"),
}
_ENVIRONMENT_TAGS = ("environment", "env", "stage", "tier")
_OWNER_TAGS = ("owner", "team", "owning-team", "contact", "maintainer", "created-by", "createdby")
_WORD = re.compile(r"[a-z0-9]+")


def canonical_json(value: Any) -> str:
    """The one JSON spelling of ``value`` (sorted keys, no spaces): what is stored and what is hashed."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _text(value: str | datetime | None) -> str:
    if value is None:
        return "\x00"
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class NhiRecord:
    """One inventoried node, keyed within its connector by ``external_id`` (the provider's own id)."""

    provider: str
    kind: str
    external_id: str
    name: str
    account: str = ""
    environment: str = "unknown"
    owner: str | None = None
    owner_source: str | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    last_rotated_at: datetime | None = None
    expires_at: datetime | None = None
    privilege_level: str = "unknown"
    permissions: dict[str, Any] = field(default_factory=dict)
    status: str = "active"
    fingerprint: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def content_hash(self, permissions_json: str | None = None, attributes_json: str | None = None) -> str:
        """A digest of everything the provider told us: equal digests mean nothing changed.

        The load passes the JSON it already made for storage (``canonical_json``) so it is not made twice.
        """
        parts = [
            _text(self.provider),
            _text(self.kind),
            _text(self.name),
            _text(self.account),
            _text(self.environment),
            _text(self.owner),
            _text(self.owner_source),
            _text(self.created_at),
            _text(self.last_used_at),
            _text(self.last_rotated_at),
            _text(self.expires_at),
            _text(self.privilege_level),
            _text(self.status),
            _text(self.fingerprint),
            permissions_json if permissions_json is not None else canonical_json(self.permissions),
            attributes_json if attributes_json is not None else canonical_json(self.attributes),
        ]
        # A separator provider text does not contain keeps neighbouring fields apart.
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class EdgeRecord:
    """A relationship between two records named by external id.

    An end marked ``anywhere`` is matched against every connector of the tenant (a leaked AWS key
    id found by the code connector points at the access key the AWS connector inventoried).
    """

    source: str
    target: str
    kind: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    source_anywhere: bool = False
    target_anywhere: bool = False


@dataclass(frozen=True)
class RunError:
    """Something a run could not read: the run becomes partial and removes nothing."""

    scope: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"scope": self.scope, "message": self.message}


@dataclass
class Collection:
    """What one connector run gathered: records, relationships and what could not be read."""

    nhis: list[NhiRecord] = field(default_factory=list)
    edges: list[EdgeRecord] = field(default_factory=list)
    errors: list[RunError] = field(default_factory=list)

    def extend(self, other: Collection) -> None:
        self.nhis.extend(other.nhis)
        self.edges.extend(other.edges)
        self.errors.extend(other.errors)

    def error(self, scope: str, message: str) -> None:
        self.errors.append(RunError(scope, message))

    @property
    def partial(self) -> bool:
        return bool(self.errors)


def infer_environment(tags: Mapping[str, str] | None = None, *names: str | None) -> str:
    """``prod``/``staging``/``dev`` from an environment tag, else from words in the names; else ``unknown``."""
    for key, value in (tags or {}).items():
        if key.lower() in _ENVIRONMENT_TAGS:
            found = _environment_of_words(_WORD.findall(str(value).lower()))
            if found:
                return found
    for name in names:
        if name:
            found = _environment_of_words(_WORD.findall(name.lower()))
            if found:
                return found
    return "unknown"


def _environment_of_words(words: Iterable[str]) -> str | None:
    words = list(words)
    for environment, markers in _ENVIRONMENT_WORDS.items():
        if any(word in markers for word in words):
            return environment
    return None


def infer_owner(tags: Mapping[str, str] | None) -> str | None:
    """The owner named by an owner/team tag, if any."""
    lowered = {key.lower(): value for key, value in (tags or {}).items()}
    for key in _OWNER_TAGS:
        value = lowered.get(key)
        if value and str(value).strip():
            return str(value).strip()
    return None


def tags_of(items: Iterable[Mapping[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS-style ``[{"Key": ..., "Value": ...}]`` tag lists as a dict."""
    return {str(item.get(key)): str(item.get(value, "")) for item in items or [] if item.get(key) is not None}


NEVER = ("N/A", "no_information", "not_supported", "", None)


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware datetime from a provider's timestamp (ISO text or datetime); ``None`` if absent."""
    if value in NEVER:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.year >= 9999:
        return None  # "never expires" sentinels (e.g. GCP keys valid before 9999-12-31)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
