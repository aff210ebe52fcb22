import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { useCursorList } from "../api/queries";
import { discoveryKey } from "./useNhis";

export type Finding = Schemas["FindingOut"];

export interface FindingFilters {
  status: "open" | "resolved" | "all";
  category: string[];
  severity: string[];
  nhiId: string | null;
}

const PAGE_SIZE = 50;

/** Posture findings matching the filters, newest first, page by page. */
export function useFindings(filters: FindingFilters) {
  const api = useApi();
  return useCursorList([...discoveryKey, "findings", filters], (cursor, signal) =>
    unwrap(
      api.GET("/api/v1/findings", {
        params: {
          query: {
            status: filters.status,
            category: filters.category.length ? filters.category : undefined,
            severity: filters.severity.length ? filters.severity : undefined,
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
