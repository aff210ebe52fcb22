/**
 * The audit search in the URL: exact actor, action and target, an outcome and a time range. Times are kept
 * as ISO instants (what the API takes) and edited as local date-times; unusable values are dropped.
 */

export const OUTCOMES = ["success", "failure", "denied"] as const;
export type Outcome = (typeof OUTCOMES)[number];
const MAX_TEXT = 512;

export interface AuditSearch {
  actor: string;
  action: string;
  target: string;
  outcome: Outcome | null;
  since: string | null;
  until: string | null;
}

export const EMPTY_SEARCH: AuditSearch = { actor: "", action: "", target: "", outcome: null, since: null, until: null };

function text(value: string | null): string {
  return (value ?? "").trim().slice(0, MAX_TEXT);
}

function instant(value: string | null): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function parseAuditSearch(params: URLSearchParams): AuditSearch {
  const outcome = params.get("outcome");
  return {
    actor: text(params.get("actor")),
    action: text(params.get("action")),
    target: text(params.get("target")),
    outcome: OUTCOMES.includes(outcome as Outcome) ? (outcome as Outcome) : null,
    since: instant(params.get("since")),
    until: instant(params.get("until")),
  };
}

export function auditSearchParams(search: AuditSearch): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ["actor", "action", "target"] as const) if (search[key]) params.set(key, search[key]);
  if (search.outcome) params.set("outcome", search.outcome);
  if (search.since) params.set("since", search.since);
  if (search.until) params.set("until", search.until);
  return params;
}

/** The search as the API's query parameters (shared by the list and the export). */
export function auditApiQuery(search: AuditSearch) {
  return {
    actor: search.actor || undefined,
    action: search.action || undefined,
    target: search.target || undefined,
    outcome: search.outcome ?? undefined,
    since: search.since ?? undefined,
    until: search.until ?? undefined,
  };
}

/** An ISO instant as the value of a `datetime-local` input (local time, minutes). */
export function toLocalInput(value: string | null): string {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A `datetime-local` value (local time) as an ISO instant, or null when empty or invalid. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Why the search cannot be sent, or null. */
export function searchProblem(search: AuditSearch): string | null {
  if (search.since && search.until && search.since >= search.until) return "'From' must be earlier than 'to'.";
  return null;
}
