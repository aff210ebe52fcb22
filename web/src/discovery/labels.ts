/**
 * The discovery vocabulary as people read it: providers, kinds, environments, OWASP NHI categories,
 * severities and risk bands, with their colours. Providers and kinds are typed against the generated API
 * schema, so a kind the server adds fails the type check until it has a label here; values the console
 * does not know yet (from a newer server) still display, as their raw name made readable.
 */

import type { Schemas } from "../api/client";

export const ENVIRONMENTS = ["prod", "staging", "dev", "unknown"] as const;
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export const CATEGORIES = ["NHI1", "NHI2", "NHI3", "NHI4", "NHI5", "NHI6", "NHI7", "NHI8", "NHI9", "NHI10"] as const;

export type Environment = (typeof ENVIRONMENTS)[number];
export type Severity = (typeof SEVERITIES)[number];
/** The providers and NHI kinds the API can send (from the generated schema). */
export type Provider = Schemas["NhiOut"]["provider"];
export type NhiKind = Schemas["NhiOut"]["kind"];

const PROVIDER_LABELS: Record<Provider, string> = {
  aws: "AWS",
  kubernetes: "Kubernetes",
  github: "GitHub",
  gcp: "Google Cloud",
  azure: "Azure",
  vault: "Vault",
  code: "Code",
};

/** Every provider, in the order the inventory's provider filter lists them when no counts are known. */
export const PROVIDERS = Object.keys(PROVIDER_LABELS) as Provider[];

const KIND_LABELS: Record<NhiKind, string> = {
  iam_user: "IAM user",
  iam_role: "IAM role",
  access_key: "Access key",
  service_account: "Service account",
  service_account_key: "Service account key",
  k8s_service_account: "K8s service account",
  k8s_secret: "K8s secret",
  api_token: "API token",
  oauth_app: "OAuth app",
  github_app: "GitHub app",
  deploy_key: "Deploy key",
  ci_secret: "CI secret",
  vault_approle: "Vault AppRole",
  vault_token: "Vault token",
  certificate: "Certificate",
  leaked_secret: "Leaked secret",
  managed_secret: "Managed secret",
  workload: "Workload",
  repository: "Repository",
  oidc_provider: "OIDC provider",
  instance_profile: "Instance profile",
  webhook: "Webhook",
  auth_method: "Auth method",
  policy: "Policy",
};

/** Every kind discovery knows, in the order the inventory's kind filter lists them when no counts are known. */
export const KINDS = Object.keys(KIND_LABELS) as NhiKind[];

const ENVIRONMENT_LABELS: Record<string, string> = {
  prod: "Production",
  staging: "Staging",
  dev: "Development",
  unknown: "Unknown",
};

export const ENVIRONMENT_COLOR: Record<string, string> = {
  prod: "red",
  staging: "yellow",
  dev: "teal",
  unknown: "gray",
};

/** The OWASP Non-Human Identities Top 10 (2025). */
export const CATEGORY_INFO: Record<string, { name: string; summary: string }> = {
  NHI1: {
    name: "Improper offboarding",
    summary: "Identities nobody owns or uses any more stay active and keep their access.",
  },
  NHI2: { name: "Secret leakage", summary: "Credentials exposed in code, logs, tickets or other unsafe places." },
  NHI3: {
    name: "Vulnerable third-party NHI",
    summary: "Vendors and integrations hold access that outlives or exceeds what they need.",
  },
  NHI4: {
    name: "Insecure authentication",
    summary: "Static, long-lived or weak credentials where short-lived federation is possible.",
  },
  NHI5: {
    name: "Overprivileged NHI",
    summary: "More permission than the workload uses: admin, wildcards, escalation.",
  },
  NHI6: {
    name: "Insecure cloud deployment",
    summary: "CI/CD and workload identity set up so others can assume or reuse it.",
  },
  NHI7: { name: "Long-lived secrets", summary: "Keys and tokens that are never rotated or never expire." },
  NHI8: { name: "Environment isolation", summary: "One identity shared between production and other environments." },
  NHI9: { name: "NHI reuse", summary: "One identity used by several applications, so none can be contained." },
  NHI10: { name: "Human use of NHI", summary: "People sign in with a machine identity, hiding who did what." },
};

export const SEVERITY_COLOR: Record<string, string> = {
  critical: "red",
  high: "orange",
  medium: "yellow",
  low: "blue",
  info: "gray",
};

/** Risk bands as the overview API groups scores. */
export const RISK_BANDS = [
  { band: "critical", label: "Critical", min: 75, max: 100, color: "red" },
  { band: "high", label: "High", min: 50, max: 74, color: "orange" },
  { band: "medium", label: "Medium", min: 25, max: 49, color: "yellow" },
  { band: "low", label: "Low", min: 1, max: 24, color: "blue" },
  { band: "none", label: "None", min: 0, max: 0, color: "gray" },
] as const;

export function riskBand(score: number): (typeof RISK_BANDS)[number] {
  return RISK_BANDS.find((band) => score >= band.min) ?? RISK_BANDS[RISK_BANDS.length - 1]!;
}

/** "some_value" -> "Some value": a readable fallback for names the console has no label for. */
export function humanize(value: string): string {
  const spaced = value.replace(/[_-]+/g, " ").trim();
  return spaced ? spaced.charAt(0).toUpperCase() + spaced.slice(1) : value;
}

/** The label of `value` in `labels` (own keys only: "constructor" is no label). */
function labelOf(labels: Readonly<Record<string, string>>, value: string): string | undefined {
  return Object.hasOwn(labels, value) ? labels[value] : undefined;
}

export function providerLabel(value: string): string {
  return labelOf(PROVIDER_LABELS, value) ?? humanize(value);
}

export function kindLabel(value: string): string {
  return labelOf(KIND_LABELS, value) ?? humanize(value);
}

export function environmentLabel(value: string): string {
  return ENVIRONMENT_LABELS[value] ?? humanize(value);
}

export function categoryLabel(value: string): string {
  const info = CATEGORY_INFO[value];
  return info ? `${value} · ${info.name}` : value;
}

/** A risk factor's machine name as a sentence fragment ("privilege:admin" -> "Privilege: admin"). */
export function factorLabel(factor: string): string {
  const [head, tail] = factor.split(":", 2);
  if (tail !== undefined) return `${humanize(head ?? "")}: ${tail}`;
  return humanize(factor.replace(/\./g, " "));
}
