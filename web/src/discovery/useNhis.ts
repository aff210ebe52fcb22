import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type ApiClient, type Schemas } from "../api/client";
import { apiFilters, type InventoryQuery } from "./inventory/inventoryQuery";

export type Nhi = Schemas["NhiOut"];
export type NhiDetail = Schemas["NhiDetail"];
export type NhiGraph = Schemas["GraphOut"];
export type NhiChanges = Schemas["NhiUpdate"];

export const discoveryKey = ["discovery"] as const;
export const nhisKey = [...discoveryKey, "nhis"] as const;
const nhiKey = (id: string) => [...discoveryKey, "nhi", id] as const;

/** The query for one page of the inventory (shared by the page and the start-up prefetch). */
export function nhiPageQuery(api: ApiClient, query: InventoryQuery) {
  const filters = apiFilters(query);
  return queryOptions({
    queryKey: [...nhisKey, filters, query.sort, query.limit, query.cursor],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/nhis", {
          params: { query: { ...filters, sort: query.sort, limit: query.limit, cursor: query.cursor } },
          signal,
        }),
      ),
  });
}

/** One page of the inventory; the previous page stays on screen while the next one loads. */
export function useNhiPage(query: InventoryQuery) {
  const api = useApi();
  return useQuery({ ...nhiPageQuery(api, query), placeholderData: keepPreviousData });
}

/** Every identity matching the filters as CSV (the server streams it page by page). */
export async function exportNhis(api: ApiClient, query: InventoryQuery): Promise<Blob> {
  return unwrap(
    api.GET("/api/v1/nhis/export.csv", {
      params: { query: { ...apiFilters(query), sort: query.sort } },
      parseAs: "blob",
    }),
  ) as Promise<Blob>;
}

export function useNhi(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: nhiKey(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/nhis/{nhi_id}", { params: { path: { nhi_id: id } }, signal })),
  });
}

/** The relationship graph around an identity: blast radius to `depth` hops, owners and exposures. */
export function useNhiGraph(id: string, depth: number) {
  const api = useApi();
  return useQuery({
    queryKey: [...nhiKey(id), "graph", depth],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/nhis/{nhi_id}/graph", { params: { path: { nhi_id: id }, query: { depth } }, signal })),
    placeholderData: keepPreviousData,
  });
}

/** Override the owner and/or environment (null clears an override); the lists and overview refresh. */
export function useUpdateNhi(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NhiChanges) =>
      unwrap(api.PATCH("/api/v1/nhis/{nhi_id}", { params: { path: { nhi_id: id } }, body })),
    onSuccess: (detail) => {
      queryClient.setQueryData(nhiKey(id), detail);
      void queryClient.invalidateQueries({ queryKey: discoveryKey });
    },
  });
}
