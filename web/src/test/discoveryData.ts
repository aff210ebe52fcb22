/**
 * API payloads for the discovery and audit pages' tests, shaped by the generated schema so a change of the
 * API breaks the tests at compile time. Each factory takes overrides for what a test cares about.
 */
import type { components } from "../api/schema";

type Schemas = components["schemas"];

let counter = 0;

export function uuid(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`;
}

export function nhi(overrides: Partial<Schemas["NhiOut"]> = {}): Schemas["NhiOut"] {
  return {
    id: uuid(),
    connector_id: "00000000-0000-4000-8000-00000000c0c0",
    provider: "aws",
    kind: "access_key",
    account: "111111111111",
    external_id: "AKIAEXAMPLE000000001",
    name: "svc-billing/AKIAEXAMPLE000000001",
    environment: "prod",
    environment_overridden: false,
    owner: "payments",
    owner_source: "tag",
    created_at: "2026-01-01T00:00:00Z",
    last_used_at: null,
    last_rotated_at: null,
    expires_at: null,
    privilege_level: "high",
    status: "active",
    risk_score: 80,
    open_findings: 2,
    first_seen_at: "2026-11-01T00:00:00Z",
    last_seen_at: "2026-11-26T00:00:00Z",
    ...overrides,
  };
}

export function finding(overrides: Partial<Schemas["FindingOut"]> = {}): Schemas["FindingOut"] {
  return {
    id: uuid(),
    nhi_id: uuid(),
    connector_id: uuid(),
    check_id: "rotation.key_age",
    category: "NHI7",
    severity: "high",
    title: "Not rotated for 400 days (limit 90)",
    evidence: { age_days: 400, limit_days: 90 },
    recommendation: "Rotate the key, then delete the old one.",
    status: "open",
    nhi_name: "svc-billing/AKIAEXAMPLE000000001",
    nhi_kind: "access_key",
    first_seen_at: "2026-11-20T00:00:00Z",
    last_seen_at: "2026-11-26T00:00:00Z",
    resolved_at: null,
    ...overrides,
  };
}

export function nhiDetail(overrides: Partial<Schemas["NhiDetail"]> = {}): Schemas["NhiDetail"] {
  return {
    ...nhi(),
    permissions: {},
    attributes: { user: "svc-billing" },
    risk_factors: [
      { factor: "rotation.key_age", category: "NHI7", points: 25 },
      { factor: "privilege:high", points: 10 },
      { factor: "environment:prod", multiplier: 1.25 },
    ],
    findings: [finding()],
    ...overrides,
  };
}

export function graph(root: string, overrides: Partial<Schemas["GraphOut"]> = {}): Schemas["GraphOut"] {
  const holder = uuid();
  const role = uuid();
  return {
    root,
    depth: 2,
    nodes: [
      {
        id: root,
        kind: "access_key",
        name: "svc-billing/AKIA…",
        provider: "aws",
        account: "1",
        environment: "prod",
        privilege_level: "high",
        risk_score: 80,
        depth: 0,
        via: null,
      },
      {
        id: holder,
        kind: "iam_user",
        name: "svc-billing",
        provider: "aws",
        account: "1",
        environment: "prod",
        privilege_level: "high",
        risk_score: 40,
        depth: 1,
        via: "held_by",
      },
      {
        id: role,
        kind: "iam_role",
        name: "billing-admin",
        provider: "aws",
        account: "1",
        environment: "prod",
        privilege_level: "admin",
        risk_score: 60,
        depth: 2,
        via: "can_assume",
      },
    ],
    edges: [
      { source: holder, target: root, kind: "has_credential" },
      { source: holder, target: role, kind: "can_assume" },
    ],
    owners: [],
    exposures: [],
    truncated: false,
    ...overrides,
  };
}

export function overview(overrides: Partial<Schemas["Overview"]> = {}): Schemas["Overview"] {
  return {
    total: 1234,
    orphaned: 12,
    stale: 34,
    with_findings: 56,
    by_provider: [
      { provider: "aws", count: 1000 },
      { provider: "github", count: 234 },
    ],
    by_kind: [
      { kind: "access_key", count: 700 },
      { kind: "iam_role", count: 534 },
    ],
    by_environment: [
      { environment: "prod", count: 600 },
      { environment: "dev", count: 634 },
    ],
    risk_distribution: [
      { band: "critical", count: 5 },
      { band: "none", count: 1229 },
    ],
    open_findings: [
      { category: "NHI7", severity: "high", count: 40 },
      { category: "NHI2", severity: "critical", count: 3 },
    ],
    trend: [
      { day: "2026-11-25", open: 40 },
      { day: "2026-11-26", open: 43 },
    ],
    ...overrides,
  };
}

export function connector(overrides: Partial<Schemas["ConnectorOut"]> = {}): Schemas["ConnectorOut"] {
  return {
    id: uuid(),
    name: "aws-prod",
    kind: "aws",
    config: { region: "eu-west-1" },
    has_credentials: true,
    interval_seconds: null,
    enabled: true,
    baseline_run_id: null,
    last_run_at: null,
    last_status: null,
    created_at: "2026-11-26T00:00:00Z",
    updated_at: "2026-11-26T00:00:00Z",
    ...overrides,
  };
}

export function entry(overrides: Partial<Schemas["EntryOut"]> = {}): Schemas["EntryOut"] {
  return {
    log: "00000000-0000-4000-8000-0000000000aa",
    seq: 7,
    event_id: uuid(),
    occurred_at: "2026-11-26T10:00:00.000000Z",
    recorded_at: "2026-11-26T10:00:00.100000Z",
    actor: "user:00000000-0000-4000-8000-000000000001",
    action: "auth.login_succeeded",
    target: "00000000-0000-4000-8000-000000000001",
    outcome: "success",
    source: "nexora.auth",
    source_address: "127.0.0.1",
    request_id: "abc",
    payload: { email: "admin@example.com", method: "password" },
    leaf_hash: "ab".repeat(32),
    ...overrides,
  };
}

export function verification(overrides: Partial<Schemas["VerificationOut"]> = {}): Schemas["VerificationOut"] {
  return {
    ok: true,
    log: "00000000-0000-4000-8000-0000000000aa",
    entries: 120,
    heads: 3,
    signed_size: 100,
    unsigned_entries: 20,
    first_bad_seq: null,
    problems: [],
    problem_count: 0,
    warnings: [],
    ...overrides,
  };
}
