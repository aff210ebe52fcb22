"""The one shape every activity source is parsed into, and the reasons a record is refused.

Parsers (``nexora.analytics.ingest``) turn CloudTrail, Kubernetes audit, GitHub audit-log and generic
JSON records into :class:`ActivityEvent`; detectors (``nexora.analytics.detectors``) read them; the
service stores them. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Source = Literal["cloudtrail", "k8s-audit", "github", "generic"]
SOURCES: tuple[Source, ...] = ("cloudtrail", "k8s-audit", "github", "generic")
Outcome = Literal["success", "failure"]


@dataclass(slots=True)
class IdentityKeys:
    """Every key a record carries about who acted; attribution matches them against the inventory.

    ``key`` is the canonical identity the behaviour profile is kept under (one per actor):
    ``aws:key/<access key id>`` for long-lived keys (AKIA…), ``aws:role/<account>/<role name>`` for
    assumed-role sessions, ``aws:user/<account>/<user name>`` for IAM users without a key id,
    ``aws:root/<account>``, ``k8s:sa/<namespace>/<name>`` for service accounts, ``k8s:user/<name>``,
    ``github:token/<hashed token>`` or ``github:actor/<login>``, ``generic:<identity>``. Other AWS principals:
    ``aws:federated/<account>/<name>``, ``aws:account/<account>/<principal id>``,
    ``aws:identity-center/<user id>``, and ``aws:principal/<arn or id>`` when nothing better is known.
    """

    key: str
    name: str  # what a person reads: a user name, role name, "namespace/sa", a login
    # iam_user | access_key | assumed_role | root | aws_service | k8s_service_account | k8s_user | github_token
    # | github_user | other
    kind: str
    access_key_id: str | None = None
    principal_arn: str | None = None  # userIdentity.arn as sent
    session_issuer_arn: str | None = None  # the role behind an assumed-role session
    account: str | None = None
    k8s_username: str | None = None  # system:serviceaccount:<ns>:<name>
    token_fingerprint: str | None = None  # a hashed token id as the source gives it; never a raw token


@dataclass(slots=True)
class ActivityEvent:
    time: datetime  # timezone-aware UTC
    source: Source
    source_event_id: str  # unique within the source (CloudTrail eventID, audit auditID, GitHub _document_id)
    identity: IdentityKeys
    action: str  # the API call as the source names it: "CreateAccessKey", "create", "repo.create"
    service: str  # "iam", "sts", "ec2"; "k8s" + resource kind for Kubernetes ("k8s:pods"); "github"
    resource: str | None = None  # ARN, "namespace/kind/name", "org/repo"
    source_ip: str | None = None
    user_agent: str | None = None
    outcome: Outcome = "success"
    error_code: str | None = None
    region: str | None = None
    read_only: bool | None = None
    # Fields detectors need, source-specific but parsed once: for CloudTrail the record's
    # requestParameters, responseElements, additionalEventData, mfa flags; for K8s the verb/subresource.
    details: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # the record as read, with secret-looking values scrubbed


@dataclass(slots=True, frozen=True)
class Reject:
    """A record that could not be read: where it was and why, never its content."""

    position: str  # "file.json.gz:record 17", "stdin:line 4"
    reason: str
