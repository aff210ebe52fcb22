/** The findings page's filters and open finding, kept in the URL (hostile or stale values are dropped). */
import type { FindingFilters } from "../useFindings";
import { CATEGORIES, SEVERITIES } from "../labels";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUSES = ["open", "resolved", "all"] as const;

export interface FindingsView extends FindingFilters {
  /** The finding shown in the side panel. */
  open: string | null;
}

function known(params: URLSearchParams, key: string, allowed: readonly string[]): string[] {
  const values = params.getAll(key).flatMap((value) => value.split(","));
  return allowed.filter((value) => values.includes(value));
}

function uuid(value: string | null): string | null {
  return value && UUID.test(value) ? value.toLowerCase() : null;
}

export function parseFindingsView(params: URLSearchParams): FindingsView {
  const status = params.get("status");
  return {
    status: STATUSES.includes(status as FindingFilters["status"]) ? (status as FindingFilters["status"]) : "open",
    category: known(params, "category", CATEGORIES),
    severity: known(params, "severity", SEVERITIES),
    nhiId: uuid(params.get("nhi")),
    open: uuid(params.get("open")),
  };
}

export function findingsSearchParams(view: FindingsView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.status !== "open") params.set("status", view.status);
  for (const value of view.category) params.append("category", value);
  for (const value of view.severity) params.append("severity", value);
  if (view.nhiId) params.set("nhi", view.nhiId);
  if (view.open) params.set("open", view.open);
  return params;
}
