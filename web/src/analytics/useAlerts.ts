import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { useCursorList } from "../api/queries";
import type { AlertFilters } from "./alertsQuery";
import type { AlertStatus } from "./labels";
import type { DetectorInfo } from "./types";

export type Alert = Schemas["AlertOut"];
export type AlertDetail = Schemas["AlertDetail"];
export type ActivityEvent = Schemas["ActivityEventOut"];

export const analyticsKey = ["analytics"] as const;
const alertsKey = [...analyticsKey, "alerts"] as const;
const PAGE_SIZE = 50;

/** Alerts matching the filters, most recently seen first, page by page. */
export function useAlerts(filters: AlertFilters) {
  const api = useApi();
  return useCursorList([...alertsKey, "list", filters], (cursor, signal) =>
    unwrap(
      api.GET("/api/v1/alerts", {
        params: {
          query: {
            status: filters.status.length ? filters.status : undefined,
            severity: filters.severity.length ? filters.severity : undefined,
            detector: filters.detector || undefined,
            tactic_id: filters.tacticId ?? undefined,
            nhi_id: filters.nhiId ?? undefined,
            limit: PAGE_SIZE,
            cursor,
          },
        },
        signal,
      }),
    ),
  );
}

/** The newest alerts of one identity, whatever their status (its activity timeline). */
export function useNhiAlerts(nhiId: string, limit = 20) {
  const api = useApi();
  return useQuery({
    queryKey: [...alertsKey, "nhi", nhiId, limit],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts", { params: { query: { nhi_id: nhiId, limit } }, signal })),
  });
}

/** One alert with the stored records of its evidence. */
export function useAlert(id: string | null) {
  const api = useApi();
  return useQuery({
    enabled: id !== null,
    queryKey: [...alertsKey, "detail", id],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/alerts/{alert_id}", { params: { path: { alert_id: id ?? "" } }, signal })),
  });
}

/** Counts by status and the active ones by severity (the overview's tiles). */
export function useAlertSummary() {
  const api = useApi();
  return useQuery({
    queryKey: [...alertsKey, "summary"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts/summary", { signal })),
  });
}

// The catalogue is untyped in the API; an entry without an id and title cannot be offered as a suggestion.
function isDetectorInfo(entry: Record<string, unknown>): entry is Record<string, unknown> & DetectorInfo {
  return typeof entry.id === "string" && typeof entry.title === "string";
}

/** Every detector (id, title, ATT&CK mapping): suggestions for the detector filter. It changes with releases only. */
export function useDetectors() {
  const api = useApi();
  return useQuery({
    queryKey: [...analyticsKey, "detectors"],
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET("/api/v1/analytics/detectors", { signal }))).filter(isDetectorInfo),
    staleTime: 60 * 60_000,
  });
}

/** A new status for one alert (`id`, its own route) or for several (`ids`, one all-or-nothing request). */
export type StatusChange = ({ id: string } | { ids: string[] }) & { status: AlertStatus; note?: string };

/**
 * Acknowledge, resolve, reopen or mark alerts as false positives (analysts). Lists, counts and open
 * details are fetched again after.
 */
export function useChangeAlertStatus() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (change: StatusChange): Promise<Alert[]> => {
      const body = { status: change.status, note: change.note?.trim() || undefined };
      if ("id" in change) {
        const path = { alert_id: change.id };
        return [await unwrap(api.PATCH("/api/v1/alerts/{alert_id}", { params: { path }, body }))];
      }
      return unwrap(api.PATCH("/api/v1/alerts", { body: { ...body, ids: change.ids } }));
    },
    onSuccess: (changed) => {
      for (const alert of changed) {
        queryClient.setQueryData<AlertDetail>([...alertsKey, "detail", alert.id], (current) =>
          current ? { ...current, ...alert } : current,
        );
      }
      return queryClient.invalidateQueries({ queryKey: alertsKey });
    },
  });
}
