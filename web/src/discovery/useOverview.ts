import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { discoveryKey } from "./useNhis";

export type Overview = Schemas["Overview"];

/**
 * The tenant's counts: identities by provider/kind/environment, risk bands, open findings and their trend.
 * With `enabled: false` it only reads what is already cached (the inventory does not wait for the counts).
 */
export function useOverview(windowDays = 30, { enabled = true }: { enabled?: boolean } = {}) {
  const api = useApi();
  return useQuery({
    enabled,
    queryKey: [...discoveryKey, "overview", windowDays],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/overview", { params: { query: { window_days: windowDays } }, signal })),
    placeholderData: keepPreviousData,
  });
}

/** Fill the tenant with the demo environment (admins), as `nexora demo load` does. */
export function useLoadDemo() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/demo")),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: discoveryKey }),
  });
}

/** The value of a grouped count's label field (`provider`, `kind`, `environment`, `band`). */
export function countLabel(count: Schemas["Count"], field: string): string {
  const value = count[field];
  return typeof value === "string" ? value : "unknown";
}
