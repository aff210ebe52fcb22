/**
 * Reading a behaviour profile defensively: the server's summary is free-form JSON that grows with the
 * detectors, so the console shows what it recognises (top-N lists, the hour-of-week histogram, numbers)
 * and skips the rest instead of failing on a shape it does not know.
 */
import { readable } from "./labels";

export interface TopItem {
  value: string;
  count: number;
}

export interface TopList {
  name: string;
  label: string;
  items: TopItem[];
}

export const HOURS_PER_WEEK = 168;
const SKIPPED_FACTS = ["hour_of_week", "hours", "first_seen", "last_seen"];

const LABELS: Record<string, string> = {
  actions: "Actions",
  services: "Services",
  resources: "Resources",
  ips: "Source addresses",
  networks: "Networks",
  countries: "Countries",
  asns: "Networks (ASN)",
  agents: "User agents",
  regions: "Regions",
  instance_types: "Instance types",
};
// The lists people look at first; the others follow in the order the server sent them.
const ORDER = ["actions", "services", "networks", "countries", "agents", "regions", "ips", "asns", "resources"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function topItem(entry: unknown): TopItem | null {
  if (Array.isArray(entry) && entry.length >= 2 && typeof entry[1] === "number") {
    return { value: String(entry[0]), count: entry[1] };
  }
  if (!isRecord(entry)) return null;
  const value = entry.value ?? entry.name ?? entry.key;
  const count = entry.count ?? entry.events ?? entry.n;
  if ((typeof value !== "string" && typeof value !== "number") || typeof count !== "number") return null;
  return { value: String(value), count };
}

function items(value: unknown): TopItem[] | null {
  if (Array.isArray(value)) {
    const parsed = value.map(topItem);
    return parsed.length > 0 && parsed.every((item) => item !== null) ? (parsed as TopItem[]) : null;
  }
  // {value: count} maps, as some summaries send them.
  if (isRecord(value)) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, count]) => typeof count === "number")) {
      return entries.map(([key, count]) => ({ value: key, count: count as number })).sort((a, b) => b.count - a.count);
    }
  }
  return null;
}

function nameOf(key: string): string {
  return key.replace(/^top_/, "");
}

/** Every non-empty top-N list in the profile: under `top` ({actions: [...]}) or as `top_actions: [...]`. */
export function topLists(profile: Record<string, unknown>): TopList[] {
  const found = new Map<string, TopItem[]>();
  if (isRecord(profile.top)) {
    for (const [key, value] of Object.entries(profile.top)) {
      const parsed = items(value);
      if (parsed?.length) found.set(key, parsed);
    }
  }
  for (const [key, value] of Object.entries(profile)) {
    if (!key.startsWith("top_") || found.has(nameOf(key))) continue;
    const parsed = items(value);
    if (parsed?.length) found.set(nameOf(key), parsed);
  }
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return [...found.entries()]
    .map(([name, list]) => ({ name, label: LABELS[name] ?? readable(name), items: list }))
    .sort((left, right) => rank(left.name) - rank(right.name));
}

/** The 168 hour-of-week buckets (Monday 00:00 UTC first), or null when the profile has none. */
export function hourOfWeek(profile: Record<string, unknown>): number[] | null {
  const value = profile.hour_of_week ?? profile.hours;
  if (!Array.isArray(value) || value.length !== HOURS_PER_WEEK) return null;
  return value.every((item) => typeof item === "number" && Number.isFinite(item)) ? (value as number[]) : null;
}

/** The profile's plain numbers and flags (rates, counts), for a facts list. */
export function profileFacts(profile: Record<string, unknown>): { name: string; value: number | boolean | string }[] {
  return Object.entries(profile)
    .filter(([key, value]) => {
      // The histogram is drawn; first and last sightings are the identity's own, shown above the facts.
      if (SKIPPED_FACTS.includes(key)) return false;
      return typeof value === "number" || typeof value === "boolean" || typeof value === "string";
    })
    .map(([name, value]) => ({ name, value: value as number | boolean | string }));
}
