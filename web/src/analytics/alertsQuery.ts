/** The alerts page's filters and open alert, kept in the URL (hostile or stale values are dropped). */
import {
  ACTIVE_STATUSES,
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  TACTICS,
  type AlertSeverity,
  type AlertStatus,
} from "./labels";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DETECTOR = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface AlertFilters {
  /** Empty means every status. */
  status: AlertStatus[];
  severity: AlertSeverity[];
  detector: string;
  tacticId: string | null;
  nhiId: string | null;
}

export interface AlertsView extends AlertFilters {
  /** The alert shown in the side panel. */
  open: string | null;
}

export const DEFAULT_VIEW: AlertsView = {
  status: [...ACTIVE_STATUSES],
  severity: [],
  detector: "",
  tacticId: null,
  nhiId: null,
  open: null,
};

function known<T extends string>(params: URLSearchParams, key: string, allowed: readonly T[]): T[] {
  const values = params.getAll(key).flatMap((value) => value.split(","));
  return allowed.filter((value) => values.includes(value));
}

function uuid(value: string | null): string | null {
  return value && UUID.test(value) ? value.toLowerCase() : null;
}

function sameStatuses(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((value) => right.includes(value));
}

export function parseAlertsView(params: URLSearchParams): AlertsView {
  const detector = (params.get("detector") ?? "").trim();
  const tactic = params.get("tactic");
  const status = known(params, "status", ALERT_STATUSES);
  return {
    // "all" is every status; none (or none the console knows) is the default, what still needs someone.
    status: params.getAll("status").includes("all") ? [] : status.length > 0 ? status : [...ACTIVE_STATUSES],
    severity: known(params, "severity", ALERT_SEVERITIES),
    detector: DETECTOR.test(detector) ? detector : "",
    tacticId: TACTICS.some((item) => item.id === tactic) ? tactic : null,
    nhiId: uuid(params.get("nhi")),
    open: uuid(params.get("open")),
  };
}

export function alertsSearchParams(view: AlertsView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.status.length === 0) params.set("status", "all");
  else if (!sameStatuses(view.status, ACTIVE_STATUSES)) for (const value of view.status) params.append("status", value);
  for (const value of view.severity) params.append("severity", value);
  if (view.detector) params.set("detector", view.detector);
  if (view.tacticId) params.set("tactic", view.tacticId);
  if (view.nhiId) params.set("nhi", view.nhiId);
  if (view.open) params.set("open", view.open);
  return params;
}

/** Whether anything narrows the list beyond the default. */
export function isFiltered(view: AlertFilters): boolean {
  return (
    !sameStatuses(view.status, ACTIVE_STATUSES) ||
    view.severity.length > 0 ||
    view.detector !== "" ||
    view.tacticId !== null ||
    view.nhiId !== null
  );
}

/** A detector id as typed: usable, or null (the field then says why). */
export function detectorProblem(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === "" || DETECTOR.test(trimmed) ? null : "Letters, digits and . _ : - only (a detector id).";
}
