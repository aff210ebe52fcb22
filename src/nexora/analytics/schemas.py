"""Pydantic models at the analytics API edge."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

AlertStatus = Literal["open", "acknowledged", "resolved", "false_positive"]
Severity = Literal["low", "medium", "high", "critical"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AlertOut(_Output):
    id: uuid.UUID
    detector: str = Field(description="Stable detector id, e.g. `privesc.create_key_other_user`.")
    title: str
    severity: Severity
    status: AlertStatus
    identity: str = Field(description="The canonical identity key, e.g. `aws:key/AKIA…`.")
    identity_name: str
    nhi_id: uuid.UUID | None = Field(description="The inventoried NHI the identity is attributed to.")
    tactic_id: str = Field(description="MITRE ATT&CK tactic, e.g. TA0004.")
    tactic: str
    technique_id: str = Field(description="MITRE ATT&CK technique, e.g. T1098.001.")
    technique: str
    explanation: dict[str, Any] = Field(description="What was seen, against which baseline.")
    event_ids: list[str] = Field(description="Source event ids of the evidence (the latest 200).")
    event_count: int = Field(description="Detections folded into this alert.")
    first_seen_at: datetime
    last_seen_at: datetime
    created_at: datetime
    status_changed_by: str | None
    status_changed_at: datetime | None
    note: str | None


class ActivityEventOut(BaseModel):
    time: datetime
    source: str
    source_event_id: str
    identity: str
    nhi_id: uuid.UUID | None
    action: str
    service: str
    resource: str | None
    source_ip: str | None
    user_agent: str | None
    outcome: str
    error_code: str | None
    region: str | None
    country: str | None
    asn: int | None
    raw: dict[str, Any] = Field(description="The record as received (secret-looking values redacted).")


class AlertDetail(AlertOut):
    events: list[ActivityEventOut] = Field(description="The stored records of the evidence, oldest first.")


class AlertUpdate(_Input):
    status: AlertStatus
    note: str | None = Field(default=None, max_length=2000)


class AlertBulkUpdate(_Input):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    status: AlertStatus
    note: str | None = Field(default=None, max_length=2000)


class AlertSummary(BaseModel):
    by_status: dict[str, int]
    active_by_severity: dict[str, int]
    active: int


class RejectOut(BaseModel):
    id: int | None = Field(default=None, description="Paging key of a stored reject.")
    position: str = Field(description="Where the record was: `file.json.gz:record 17`, `stdin:line 4`.")
    reason: str


class BatchOut(BaseModel):
    id: uuid.UUID
    source: str
    origin: str
    status: str = "done"
    accepted: int = Field(description="New records stored and scored.")
    duplicates: int = Field(description="Records stored before (same source and event id): skipped.")
    rejected: int
    skipped: int = Field(description="Records the source marks as not activity (e.g. audit stages).")
    attributed: int = Field(description="New records matched to an inventoried NHI.")
    alerts: int = Field(description="Alerts opened.")
    rejects: list[RejectOut] = Field(default_factory=list, description="The first 100 rejects.")


class BatchRow(_Output):
    id: uuid.UUID
    source: str
    origin: str
    status: str
    accepted: int
    duplicates: int
    rejected: int
    skipped: int
    attributed: int
    alerts: int
    started_at: datetime
    finished_at: datetime | None
    created_by: str | None


class IdentityOut(BaseModel):
    key: str
    name: str
    kind: str
    source: str
    nhi_id: uuid.UUID | None
    account: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int
    profile: dict[str, Any] | None = Field(
        description="Behaviour profile: top actions, services, networks, countries, agents, hours, rates."
    )


class S3CredentialsIn(_Input):
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")
    secret_access_key: SecretStr = Field(min_length=1, max_length=256)
    session_token: SecretStr | None = Field(default=None, max_length=4096)


class S3SourceCreate(_Input):
    name: str = Field(pattern=NAME_PATTERN)
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: str = Field(default="", max_length=1024, description="e.g. AWSLogs/123456789012/CloudTrail/eu-west-1/")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    endpoint_url: str | None = Field(default=None, max_length=2048, description="An S3-compatible endpoint.")
    credentials: S3CredentialsIn | None = Field(default=None, description="Stored encrypted, never returned.")
    interval_seconds: int = Field(default=300, ge=30, le=24 * 3600)


class S3SourceOut(_Output):
    id: uuid.UUID
    name: str
    bucket: str
    prefix: str
    region: str | None
    endpoint_url: str | None
    has_credentials: bool
    interval_seconds: int
    enabled: bool
    last_key: str | None = None
    last_polled_at: datetime | None = None
    last_status: str | None = None


class WebhookCreate(_Input):
    name: str = Field(pattern=NAME_PATTERN)
    url: str = Field(pattern=r"^https?://", max_length=2048)
    secret: SecretStr | None = Field(default=None, description="Signs each body (X-Nexora-Signature); never returned.")
    min_severity: Severity = "high"


class WebhookOut(_Output):
    id: uuid.UUID
    name: str
    url: str
    min_severity: Severity
    enabled: bool
    has_secret: bool
    last_status: str | None = None
    last_sent_at: datetime | None = None
