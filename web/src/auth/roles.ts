import type { Schemas } from "../api/client";

export type Role = Schemas["UserCreate"]["roles"][number];
export type Scope = Schemas["ApiKeyCreate"]["scopes"][number];

export const ROLES: { value: Role; label: string; description: string }[] = [
  { value: "admin", label: "Admin", description: "Everything, including users, API keys and tenant settings" },
  { value: "analyst", label: "Analyst", description: "Investigates identities and findings, runs connectors" },
  { value: "approver", label: "Approver", description: "Approves remediation steps" },
  { value: "auditor", label: "Auditor", description: "Reads the audit log and compliance evidence" },
  { value: "viewer", label: "Viewer", description: "Read-only access" },
];

export const SCOPES: { value: Scope; label: string }[] = [
  { value: "read", label: "read — read-only" },
  ...ROLES.map((role) => ({ value: role.value, label: `${role.value} — ${role.description.toLowerCase()}` })),
];

export function hasRole(roles: readonly string[] | undefined, role: Role): boolean {
  // Admins pass every role check on the server; mirror that so the console offers the same actions.
  return !!roles && (roles.includes(role) || roles.includes("admin"));
}
