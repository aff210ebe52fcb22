/**
 * The analytics vocabulary as people read it: alert statuses and severities with their colours, and the
 * MITRE ATT&CK (Enterprise, cloud) tactics the detectors map to. Values the console does not know yet (from
 * a newer server) still display, as their raw name made readable.
 */
import type { Schemas } from "../api/client";

export type AlertStatus = Schemas["AlertOut"]["status"];
export type AlertSeverity = Schemas["AlertOut"]["severity"];

export const ALERT_STATUSES: readonly AlertStatus[] = ["open", "acknowledged", "resolved", "false_positive"];
/** Open and acknowledged: what still needs someone (the list's default, the overview's count). */
export const ACTIVE_STATUSES: readonly AlertStatus[] = ["open", "acknowledged"];
/** Most severe first. */
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ["critical", "high", "medium", "low"];

const STATUS_LABELS: Record<AlertStatus, string> = {
  open: "Open",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
  false_positive: "False positive",
};

export const STATUS_COLOR: Record<string, string> = {
  open: "red",
  acknowledged: "yellow",
  resolved: "teal",
  false_positive: "gray",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status as AlertStatus] ?? readable(status);
}

export const TACTICS: readonly { id: string; name: string }[] = [
  { id: "TA0001", name: "Initial Access" },
  { id: "TA0002", name: "Execution" },
  { id: "TA0003", name: "Persistence" },
  { id: "TA0004", name: "Privilege Escalation" },
  { id: "TA0005", name: "Defense Evasion" },
  { id: "TA0006", name: "Credential Access" },
  { id: "TA0007", name: "Discovery" },
  { id: "TA0008", name: "Lateral Movement" },
  { id: "TA0009", name: "Collection" },
  { id: "TA0010", name: "Exfiltration" },
  { id: "TA0011", name: "Command and Control" },
  { id: "TA0040", name: "Impact" },
];

/** A MITRE ATT&CK page for a tactic (TA0004) or (sub-)technique (T1098.001). */
export function attackUrl(id: string): string | null {
  if (/^TA\d{4}$/.test(id)) return `https://attack.mitre.org/tactics/${id}/`;
  const technique = /^T(\d{4})(?:\.(\d{3}))?$/.exec(id);
  if (!technique) return null;
  return `https://attack.mitre.org/techniques/T${technique[1]}/${technique[2] ? `${technique[2]}/` : ""}`;
}

/** `rate_per_active_hour` -> "Rate per active hour". */
export function readable(name: string): string {
  const words = name.replace(/[_.]+/g, " ").trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : name;
}
