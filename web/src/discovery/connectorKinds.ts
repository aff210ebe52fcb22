/**
 * The add-connector form of each provider: its fields, where each goes (settings or encrypted credentials),
 * and the checks the server makes, run in the browser first so mistakes are named next to the field before
 * anything is sent. The server stays the authority: its problem details are shown when it still refuses.
 */

export type FieldType = "text" | "url" | "secret" | "multiline-secret" | "lines" | "select" | "switch" | "number";

export interface FieldSpec {
  name: string;
  label: string;
  type: FieldType;
  /** `config` is stored as is and shown back; `credentials` is encrypted on the server and never returned. */
  section: "config" | "credentials";
  required?: boolean;
  description?: string;
  placeholder?: string;
  pattern?: RegExp;
  patternMessage?: string;
  maxLength?: number;
  min?: number;
  max?: number;
  options?: { value: string; label: string }[];
  defaultValue?: string | boolean;
  /** Shown (and sent) only when this holds for the other values. */
  when?: (values: FormValues) => boolean;
}

export interface KindSpec {
  kind: string;
  label: string;
  description: string;
  fields: FieldSpec[];
  /** Credential fields that must be given together (or all left empty, for a default credential chain). */
  credentialsTogether?: string[];
}

export type FormValues = Record<string, string | boolean>;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
const MAX_URL = 2048;
const MAX_PATH = 4096;

const live = (values: FormValues) => values.mode !== "offline";

export const CONNECTOR_KINDS: KindSpec[] = [
  {
    kind: "aws",
    label: "AWS",
    description: "IAM users, access keys, roles and trust, policies, OIDC providers and Secrets Manager.",
    credentialsTogether: ["access_key_id", "secret_access_key"],
    fields: [
      {
        name: "region",
        label: "Region",
        type: "text",
        section: "config",
        required: true,
        defaultValue: "us-east-1",
        pattern: /^[a-z]{2}(-[a-z]+)+-\d$/,
        patternMessage: "Use a region code such as us-east-1 or eu-west-2",
      },
      {
        name: "endpoint_url",
        label: "Endpoint URL",
        type: "url",
        section: "config",
        description: "Only for a proxy or an AWS-compatible endpoint; leave empty for AWS itself.",
        placeholder: "https://iam.example.internal",
      },
      {
        name: "access_key_id",
        label: "Access key ID",
        type: "text",
        section: "credentials",
        description: "Leave both key fields empty to use the server's default AWS credentials (role, profile).",
        pattern: /^[A-Z0-9]{16,128}$/,
        patternMessage: "An access key ID is 16 or more upper-case letters and digits",
        placeholder: "AKIA…",
      },
      { name: "secret_access_key", label: "Secret access key", type: "secret", section: "credentials", maxLength: 256 },
      { name: "session_token", label: "Session token", type: "secret", section: "credentials", maxLength: 4096 },
    ],
  },
  {
    kind: "kubernetes",
    label: "Kubernetes",
    description: "Service accounts, token secrets (metadata only), RBAC bindings and workloads.",
    fields: [
      {
        name: "mode",
        label: "Source",
        type: "select",
        section: "config",
        required: true,
        defaultValue: "live",
        options: [
          { value: "live", label: "Live cluster API" },
          { value: "offline", label: "Manifest folder on the Nexora host" },
        ],
      },
      {
        name: "cluster",
        label: "Cluster name",
        type: "text",
        section: "config",
        required: true,
        defaultValue: "default",
        maxLength: 100,
        description: "Shown as the account of everything this connector finds.",
      },
      { name: "context", label: "kubeconfig context", type: "text", section: "config", maxLength: 200, when: live },
      {
        name: "kubeconfig",
        label: "kubeconfig",
        type: "multiline-secret",
        section: "credentials",
        description: "The kubeconfig YAML; stored encrypted, never shown again.",
        maxLength: 256 * 1024,
        when: live,
      },
      {
        name: "path",
        label: "Manifest folder",
        type: "text",
        section: "config",
        required: true,
        maxLength: MAX_PATH,
        placeholder: "/srv/manifests/prod",
        when: (values) => !live(values),
      },
    ],
  },
  {
    kind: "github",
    label: "GitHub",
    description: "Apps, fine-grained tokens, deploy keys, Actions secrets and webhooks of an organisation.",
    fields: [
      {
        name: "org",
        label: "Organisation",
        type: "text",
        section: "config",
        required: true,
        pattern: /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/,
        patternMessage: "A GitHub organisation login: letters, digits and hyphens, up to 39 characters",
      },
      {
        name: "base_url",
        label: "API base URL",
        type: "url",
        section: "config",
        required: true,
        defaultValue: "https://api.github.com",
        description: "Change it for GitHub Enterprise Server (https://github.example.com/api/v3).",
      },
      {
        name: "token",
        label: "Token",
        type: "secret",
        section: "credentials",
        required: true,
        maxLength: 1024,
        description: "A token that can read the organisation's settings.",
      },
    ],
  },
  {
    kind: "vault",
    label: "HashiCorp Vault",
    description: "Auth methods, AppRoles and their secret-id TTLs, token roles and ACL policies.",
    fields: [
      {
        name: "url",
        label: "Vault address",
        type: "url",
        section: "config",
        required: true,
        placeholder: "https://vault.example.com:8200",
      },
      { name: "namespace", label: "Namespace", type: "text", section: "config", maxLength: 200 },
      {
        name: "environment",
        label: "Environment",
        type: "select",
        section: "config",
        options: [
          { value: "", label: "Infer from names" },
          { value: "prod", label: "Production" },
          { value: "staging", label: "Staging" },
          { value: "dev", label: "Development" },
          { value: "unknown", label: "Unknown" },
        ],
      },
      {
        name: "token",
        label: "Token",
        type: "secret",
        section: "credentials",
        required: true,
        maxLength: 1024,
        description: "A token with read access to sys/ and auth/.",
      },
    ],
  },
  {
    kind: "gcp-export",
    label: "Google Cloud (exports)",
    description: "Service accounts, keys and IAM bindings from gcloud JSON exports on the Nexora host.",
    fields: [
      {
        name: "path",
        label: "Export file or folder",
        type: "text",
        section: "config",
        required: true,
        maxLength: MAX_PATH,
        placeholder: "/srv/exports/gcp",
      },
      { name: "project", label: "Project ID", type: "text", section: "config", maxLength: 200 },
    ],
  },
  {
    kind: "azure-export",
    label: "Azure (exports)",
    description: "Service principals and app credentials from az CLI JSON exports on the Nexora host.",
    fields: [
      {
        name: "path",
        label: "Export file or folder",
        type: "text",
        section: "config",
        required: true,
        maxLength: MAX_PATH,
        placeholder: "/srv/exports/azure",
      },
    ],
  },
  {
    kind: "code",
    label: "Code",
    description: "Secrets leaked in source code, found by Nexora's scanner in folders or git history.",
    fields: [
      {
        name: "paths",
        label: "Folders or repositories",
        type: "lines",
        section: "config",
        required: true,
        description: "One path on the Nexora host per line (at most 50).",
        placeholder: "/srv/repos/payments\n/srv/repos/web",
        maxLength: MAX_PATH,
      },
      { name: "git", label: "Scan the git history", type: "switch", section: "config", defaultValue: false },
    ],
  },
  {
    kind: "demo",
    label: "Demo",
    description: "A synthetic environment with typical problems, for trying Nexora.",
    fields: [
      { name: "seed", label: "Seed", type: "number", section: "config", min: 0, max: 2 ** 31 - 1, defaultValue: "7" },
      { name: "scale", label: "Scale", type: "number", section: "config", min: 1, max: 50, defaultValue: "3" },
    ],
  },
];

export const INTERVALS = [
  { value: "", label: "Server default" },
  { value: "3600", label: "Every hour" },
  { value: "21600", label: "Every 6 hours" },
  { value: "86400", label: "Every day" },
  { value: "604800", label: "Every week" },
];

export function kindSpec(kind: string): KindSpec | undefined {
  return CONNECTOR_KINDS.find((spec) => spec.kind === kind);
}

/** The form's starting values for a kind: each field's default, or empty. */
export function initialValues(spec: KindSpec): FormValues {
  return Object.fromEntries(
    spec.fields.map((field) => [field.name, field.defaultValue ?? (field.type === "switch" ? false : "")]),
  );
}

export function visibleFields(spec: KindSpec, values: FormValues): FieldSpec[] {
  return spec.fields.filter((field) => !field.when || field.when(values));
}

function str(values: FormValues, name: string): string {
  const value = values[name];
  return typeof value === "string" ? value : "";
}

function lines(value: string): string[] {
  return value
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** An http(s) URL with a host, or why not. */
export function urlProblem(value: string): string | null {
  if (value.length > MAX_URL) return `At most ${MAX_URL} characters`;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return "Enter a full URL starting with https:// or http://";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "Only http:// and https:// URLs work here";
  if (!parsed.hostname) return "The URL needs a host name";
  if (parsed.username || parsed.password) return "Put credentials in their own fields, not in the URL";
  return null;
}

function fieldProblem(field: FieldSpec, values: FormValues): string | null {
  if (field.type === "switch") return null;
  const raw = str(values, field.name);
  const value = field.type === "secret" || field.type === "multiline-secret" ? raw : raw.trim();
  if (!value) return field.required ? `${field.label} is required` : null;
  if (field.maxLength !== undefined && value.length > field.maxLength) return `At most ${field.maxLength} characters`;
  if (field.type === "url") return urlProblem(value);
  if (field.type === "number") {
    if (!/^\d+$/.test(value)) return "Enter a whole number";
    const number = Number(value);
    if (field.min !== undefined && number < field.min) return `At least ${field.min}`;
    if (field.max !== undefined && number > field.max) return `At most ${field.max}`;
  }
  if (field.type === "lines") {
    const paths = lines(value);
    if (paths.length > 50) return "At most 50 paths";
    if (paths.some((path) => !path.startsWith("/"))) return "Each path must be absolute (start with /)";
  }
  if (field.pattern && !field.pattern.test(value)) return field.patternMessage ?? "Not in the expected format";
  return null;
}

/** Problems keyed by field name ("name" for the connector name); empty when the form can be sent. */
export function validateConnector(spec: KindSpec, name: string, values: FormValues): Record<string, string> {
  const problems: Record<string, string> = {};
  const trimmed = name.trim();
  if (!trimmed) problems.name = "Name is required";
  else if (!NAME_PATTERN.test(trimmed)) {
    problems.name = "Start with a letter or digit; use letters, digits, spaces, dots, dashes and underscores";
  }
  const fields = visibleFields(spec, values);
  for (const field of fields) {
    const problem = fieldProblem(field, values);
    if (problem) problems[field.name] = problem;
  }
  const together = (spec.credentialsTogether ?? []).filter((fieldName) => fields.some((f) => f.name === fieldName));
  const given = together.filter((fieldName) => str(values, fieldName).trim());
  if (given.length > 0 && given.length < together.length) {
    for (const fieldName of together) {
      if (!str(values, fieldName).trim() && !problems[fieldName]) {
        const label = spec.fields.find((field) => field.name === fieldName)?.label ?? fieldName;
        problems[fieldName] = `${label} is needed with the other key field`;
      }
    }
  }
  return problems;
}

/** The request body's `config` and `credentials` (null when no credential was given) from valid values. */
export function connectorSettings(
  spec: KindSpec,
  values: FormValues,
): { config: Record<string, unknown>; credentials: Record<string, unknown> | null } {
  const config: Record<string, unknown> = {};
  const credentials: Record<string, unknown> = {};
  for (const field of visibleFields(spec, values)) {
    const target = field.section === "config" ? config : credentials;
    if (field.type === "switch") {
      target[field.name] = values[field.name] === true;
      continue;
    }
    const raw = str(values, field.name);
    const value = field.type === "secret" || field.type === "multiline-secret" ? raw : raw.trim();
    if (!value) continue;
    if (field.type === "number") target[field.name] = Number(value);
    else if (field.type === "lines") target[field.name] = lines(value);
    else target[field.name] = value;
  }
  return { config, credentials: Object.keys(credentials).length ? credentials : null };
}
