"""Pydantic models at the discovery API edge. Connector credentials go in, never out.

Response models read the ORM objects (and list rows) they show: ``Model.model_validate(obj)``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nexora.discovery.connectors import KINDS
from nexora.discovery.records import Environment, NhiKind, Provider

ConnectorKind = Literal["aws", "kubernetes", "github", "gcp-export", "azure-export", "vault", "code", "demo"]
assert set(KINDS) == set(ConnectorKind.__args__)  # type: ignore[attr-defined]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ConnectorCreate(_Input):
    name: str = Field(pattern=NAME_PATTERN, description="Unique name within the tenant.")
    kind: ConnectorKind
    config: dict[str, Any] = Field(default_factory=dict, description="Kind-specific settings (no secrets).")
    credentials: dict[str, Any] | None = Field(
        default=None, description="Kind-specific credentials; stored encrypted and never returned."
    )
    interval_seconds: int | None = Field(default=None, ge=60, le=30 * 24 * 3600, description="Run interval.")
    enabled: bool = True


class ConnectorUpdate(_Input):
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    config: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = None
    interval_seconds: int | None = Field(default=None, ge=60, le=30 * 24 * 3600)
    enabled: bool | None = None


class ConnectorOut(_Output):
    id: uuid.UUID
    name: str
    kind: str
    config: dict[str, Any]
    has_credentials: bool = Field(description="Credentials are stored (they are never returned).")
    interval_seconds: int | None
    enabled: bool
    baseline_run_id: uuid.UUID | None
    last_run_at: datetime | None
    last_status: str | None
    created_at: datetime
    updated_at: datetime


class ConnectionTest(BaseModel):
    ok: bool
    message: str


class RunError(_Output):
    scope: str
    message: str


class RunOut(_Output):
    id: uuid.UUID
    connector_id: uuid.UUID
    trigger: str
    status: Literal["running", "succeeded", "partial", "failed"]
    stage: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    counts: dict[str, int]
    errors: list[RunError]
    is_baseline: bool


class NhiOut(_Output):
    id: uuid.UUID
    connector_id: uuid.UUID
    provider: Provider
    kind: NhiKind
    account: str
    external_id: str
    name: str
    environment: str
    environment_overridden: bool = Field(description="The environment is an override (survives runs).")
    owner: str | None
    owner_source: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    last_rotated_at: datetime | None
    expires_at: datetime | None
    privilege_level: str
    status: str
    risk_score: int
    open_findings: int
    first_seen_at: datetime
    last_seen_at: datetime


class FindingOut(_Output):
    id: uuid.UUID | None = Field(description="Null in what-if reports (`as_of`), which are not stored.")
    nhi_id: uuid.UUID | None
    connector_id: uuid.UUID | None
    check_id: str
    category: str
    severity: str
    title: str
    evidence: dict[str, Any]
    recommendation: str
    status: str
    nhi_name: str
    nhi_kind: NhiKind
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    resolved_at: datetime | None


class NhiDetail(NhiOut):
    permissions: dict[str, Any]
    attributes: dict[str, Any]
    risk_factors: list[dict[str, Any]]
    findings: list[FindingOut]


class NhiUpdate(_Input):
    owner: str | None = Field(default=None, min_length=1, max_length=200, description="Null clears the override.")
    environment: Environment | None = Field(default=None, description="Null clears the override.")


class GraphNode(_Output):
    id: uuid.UUID
    kind: NhiKind
    name: str
    provider: Provider
    account: str
    environment: str
    privilege_level: str
    risk_score: int
    depth: int
    via: str | None


class GraphEdge(BaseModel):
    source: uuid.UUID
    target: uuid.UUID
    kind: str


class GraphOwner(_Output):
    id: uuid.UUID
    kind: NhiKind
    name: str
    owner: str | None
    source: str | None
    depth: int


class GraphExposure(_Output):
    relationship: str
    id: uuid.UUID
    kind: NhiKind
    name: str
    location: str | None
    preview: str | None


class GraphOut(BaseModel):
    root: uuid.UUID
    depth: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    owners: list[GraphOwner]
    exposures: list[GraphExposure]
    truncated: bool


class ChangeOut(_Output):
    id: int
    run_id: uuid.UUID
    nhi_id: uuid.UUID | None
    external_id: str
    kind: NhiKind
    name: str
    change: str
    changed_fields: list[str]
    at: datetime


class Count(BaseModel):
    model_config = ConfigDict(extra="allow")
    count: int


class FindingCount(BaseModel):
    category: str
    severity: str
    count: int


class TrendPoint(BaseModel):
    day: date
    open: int


class Overview(BaseModel):
    total: int
    orphaned: int
    stale: int
    with_findings: int
    by_provider: list[Count]
    by_kind: list[Count]
    by_environment: list[Count]
    risk_distribution: list[Count]
    open_findings: list[FindingCount]
    trend: list[TrendPoint]


class DemoLoaded(BaseModel):
    connector_id: uuid.UUID
    run: RunOut
