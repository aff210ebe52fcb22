/**
 * API payloads for the analytics pages' tests, shaped by the generated schema so a change of the API
 * breaks the tests at compile time. Each factory takes overrides for what a test cares about.
 */
import type { components } from "../api/schema";
import { uuid } from "../test/discoveryData";

type Schemas = components["schemas"];

export function alert(overrides: Partial<Schemas["AlertOut"]> = {}): Schemas["AlertOut"] {
  return {
    id: uuid(),
    detector: "privesc.create_key_other_user",
    title: "Created an access key for another user",
    severity: "high",
    status: "open",
    identity: "aws:key/AKIAEXAMPLE000000001",
    identity_name: "svc-billing/AKIAEXAMPLE000000001",
    nhi_id: "00000000-0000-4000-8000-0000000000b1",
    tactic_id: "TA0003",
    tactic: "Persistence",
    technique_id: "T1098.001",
    technique: "Account Manipulation: Additional Cloud Credentials",
    explanation: { seen: "iam:CreateAccessKey for user admin-bob", baseline: "never created keys for other users" },
    event_ids: ["e-1"],
    event_count: 1,
    first_seen_at: "2026-12-01T10:00:00Z",
    last_seen_at: "2026-12-01T10:05:00Z",
    created_at: "2026-12-01T10:05:10Z",
    status_changed_by: null,
    status_changed_at: null,
    note: null,
    ...overrides,
  };
}

export function activityEvent(overrides: Partial<Schemas["ActivityEventOut"]> = {}): Schemas["ActivityEventOut"] {
  return {
    time: "2026-12-01T10:05:00Z",
    source: "cloudtrail",
    source_event_id: "e-1",
    identity: "aws:key/AKIAEXAMPLE000000001",
    nhi_id: "00000000-0000-4000-8000-0000000000b1",
    action: "iam:CreateAccessKey",
    service: "iam",
    resource: "arn:aws:iam::111111111111:user/admin-bob",
    source_ip: "203.0.113.7",
    user_agent: "aws-cli/2.15.0",
    outcome: "success",
    error_code: null,
    region: "us-east-1",
    country: "NL",
    asn: 64500,
    raw: {
      eventName: "CreateAccessKey",
      eventSource: "iam.amazonaws.com",
      requestParameters: { userName: "admin-bob" },
    },
    ...overrides,
  };
}

export function alertDetail(
  base: Schemas["AlertOut"],
  events: Schemas["ActivityEventOut"][] = [activityEvent()],
): Schemas["AlertDetail"] {
  return { ...base, events };
}

export function alertSummary(overrides: Partial<Schemas["AlertSummary"]> = {}): Schemas["AlertSummary"] {
  return {
    by_status: { open: 7, acknowledged: 2, resolved: 30, false_positive: 4 },
    active_by_severity: { critical: 1, high: 3, medium: 4, low: 1 },
    active: 9,
    ...overrides,
  };
}

/** A profile summary as `Profile.summary()` writes it (top lists, hour-of-week, rates). */
export function identity(overrides: Partial<Schemas["IdentityOut"]> = {}): Schemas["IdentityOut"] {
  const hours = Array.from({ length: 168 }, (_, index) => (index % 24 >= 9 && index % 24 < 17 && index < 120 ? 4 : 0));
  return {
    key: "aws:key/AKIAEXAMPLE000000001",
    name: "svc-billing/AKIAEXAMPLE000000001",
    kind: "access_key",
    source: "cloudtrail",
    nhi_id: "00000000-0000-4000-8000-0000000000b1",
    account: "111111111111",
    first_seen_at: "2026-11-01T00:00:00Z",
    last_seen_at: "2026-12-01T10:05:00Z",
    event_count: 1520,
    profile: {
      events: 1520,
      learning: false,
      rate_per_active_hour: 12.5,
      error_rate: 0.012,
      active_hours: 120,
      hour_of_week: hours,
      top: {
        actions: [
          { value: "s3:GetObject", count: 1200, first_seen: null, last_seen: null },
          { value: "s3:PutObject", count: 300, first_seen: null, last_seen: null },
        ],
        services: [{ value: "s3", count: 1500 }],
        countries: [{ value: "NL", count: 1520 }],
        regions: [],
      },
      distinct: { actions: 2 },
    },
    ...overrides,
  };
}
