/**
 * The inventory's filters, sort and page live in the URL, so a filtered view can be bookmarked, shared and
 * reloaded. Parsing is forgiving and safe: a hand-edited or hostile address drops what it cannot use (an
 * unknown sort, a non-numeric risk, an overlong text) instead of breaking the page or reaching the API.
 */

export const SORTS = [
  "-risk",
  "risk",
  "name",
  "-name",
  "last_used",
  "-last_used",
  "first_seen",
  "-first_seen",
] as const;
export type Sort = (typeof SORTS)[number];
export const DEFAULT_SORT: Sort = "-risk";
export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 50;
const MAX_TEXT = 200;
const MAX_VALUES = 30;
// Provider, kind and environment names: lower-case words (the server refuses unknown ones with a 422).
const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR = /^[A-Za-z0-9_=-]{1,512}$/;

export interface InventoryQuery {
  provider: string[];
  kind: string[];
  environment: string[];
  /** An owner, or "none" for identities nobody owns. */
  owner: string | null;
  riskMin: number | null;
  riskMax: number | null;
  stale: boolean | null;
  hasFindings: boolean | null;
  q: string;
  connectorId: string | null;
  sort: Sort;
  limit: number;
  cursor: string | null;
}

export const EMPTY_QUERY: InventoryQuery = {
  provider: [],
  kind: [],
  environment: [],
  owner: null,
  riskMin: null,
  riskMax: null,
  stale: null,
  hasFindings: null,
  q: "",
  connectorId: null,
  sort: DEFAULT_SORT,
  limit: DEFAULT_PAGE_SIZE,
  cursor: null,
};

function names(params: URLSearchParams, key: string): string[] {
  const values = params.getAll(key).flatMap((value) => value.split(","));
  return [...new Set(values.map((value) => value.trim()).filter((value) => NAME.test(value)))].slice(0, MAX_VALUES);
}

function score(value: string | null): number | null {
  if (value === null || !/^\d{1,3}$/.test(value)) return null;
  const number = Number(value);
  return number >= 0 && number <= 100 ? number : null;
}

function flag(value: string | null): boolean | null {
  if (value === "true") return true;
  if (value === "false") return false;
  return null;
}

function text(value: string | null): string {
  return (value ?? "").trim().slice(0, MAX_TEXT);
}

/** The query a URL describes; anything unusable is left out. */
export function parseInventoryQuery(params: URLSearchParams): InventoryQuery {
  const sort = params.get("sort");
  const limit = Number(params.get("limit"));
  const owner = text(params.get("owner"));
  const connector = params.get("connector");
  const cursor = params.get("cursor");
  let riskMin = score(params.get("risk_min"));
  let riskMax = score(params.get("risk_max"));
  if (riskMin !== null && riskMax !== null && riskMin > riskMax) [riskMin, riskMax] = [riskMax, riskMin];
  return {
    provider: names(params, "provider"),
    kind: names(params, "kind"),
    environment: names(params, "environment"),
    owner: owner || null,
    riskMin,
    riskMax,
    stale: flag(params.get("stale")),
    hasFindings: flag(params.get("has_findings")),
    q: text(params.get("q")),
    connectorId: connector && UUID.test(connector) ? connector.toLowerCase() : null,
    sort: SORTS.includes(sort as Sort) ? (sort as Sort) : DEFAULT_SORT,
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_PAGE_SIZE,
    cursor: cursor && CURSOR.test(cursor) ? cursor : null,
  };
}

/** The URL parameters of a query, defaults left out so plain views keep plain addresses. */
export function inventorySearchParams(query: InventoryQuery): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ["provider", "kind", "environment"] as const) {
    for (const value of query[key]) params.append(key, value);
  }
  if (query.owner) params.set("owner", query.owner);
  if (query.riskMin !== null) params.set("risk_min", String(query.riskMin));
  if (query.riskMax !== null) params.set("risk_max", String(query.riskMax));
  if (query.stale !== null) params.set("stale", String(query.stale));
  if (query.hasFindings !== null) params.set("has_findings", String(query.hasFindings));
  if (query.q) params.set("q", query.q);
  if (query.connectorId) params.set("connector", query.connectorId);
  if (query.sort !== DEFAULT_SORT) params.set("sort", query.sort);
  if (query.limit !== DEFAULT_PAGE_SIZE) params.set("limit", String(query.limit));
  if (query.cursor) params.set("cursor", query.cursor);
  return params;
}

/** The filters as the API's query parameters (shared by the list and the CSV export). */
export function apiFilters(query: InventoryQuery) {
  return {
    provider: query.provider.length ? query.provider : undefined,
    kind: query.kind.length ? query.kind : undefined,
    environment: query.environment.length ? query.environment : undefined,
    owner: query.owner ?? undefined,
    risk_min: query.riskMin ?? undefined,
    risk_max: query.riskMax ?? undefined,
    stale: query.stale ?? undefined,
    has_findings: query.hasFindings ?? undefined,
    q: query.q || undefined,
    connector_id: query.connectorId ?? undefined,
  };
}

/** How many filters narrow the list (the sort and the page do not count). */
export function activeFilterCount(query: InventoryQuery): number {
  return (
    query.provider.length +
    query.kind.length +
    query.environment.length +
    [query.owner, query.riskMin ?? query.riskMax, query.stale, query.hasFindings, query.connectorId].filter(
      (value) => value !== null,
    ).length +
    (query.q ? 1 : 0)
  );
}

/** A change of filters or sort starts again at the first page. */
export function withChanges(query: InventoryQuery, changes: Partial<InventoryQuery>): InventoryQuery {
  const pageOnly = Object.keys(changes).every((key) => key === "cursor");
  return { ...query, ...changes, cursor: pageOnly ? (changes.cursor ?? null) : null };
}
