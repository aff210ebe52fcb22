import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type ApiClient, type Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useCursorList } from "../api/queries";
import { auditApiQuery, type AuditSearch } from "./auditQuery";

export type Entry = Schemas["EntryOut"];
export type TreeHead = Schemas["TreeHeadOut"];
export type Verification = Schemas["VerificationOut"];

const auditKey = ["audit"] as const;
const PAGE_SIZE = 50;

/** Entries matching the search, newest first, page by page. */
export function useEntries(search: AuditSearch) {
  const api = useApi();
  return useCursorList([...auditKey, "entries", search], (cursor, signal) =>
    unwrap(
      api.GET("/api/v1/audit/entries", {
        params: { query: { ...auditApiQuery(search), limit: PAGE_SIZE, cursor } },
        signal,
      }),
    ),
  );
}

/** The newest signed tree head, or null while the log has none. */
export function useLatestHead() {
  const api = useApi();
  return useQuery({
    queryKey: [...auditKey, "latest-head"],
    queryFn: async ({ signal }) => {
      try {
        return await unwrap(api.GET("/api/v1/audit/tree-heads/latest", { signal }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
}

/** Check the whole log now against its signed heads and keys (an action: it reads every entry). */
export function useVerify() {
  const api = useApi();
  return useMutation({ mutationFn: () => unwrap(api.GET("/api/v1/audit/verify")) });
}

/** Sign the log's current size now, so the newest entries are covered by a signature. */
export function useSignHead() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/audit/tree-heads")),
    onSuccess: (head) => queryClient.setQueryData([...auditKey, "latest-head"], head),
  });
}

/** Proof that entry `seq` is in the signed tree of `treeSize` entries. */
export function useInclusionProof() {
  const api = useApi();
  return useMutation({
    mutationFn: ({ seq, treeSize }: { seq: number; treeSize: number }) =>
      unwrap(
        api.GET("/api/v1/audit/entries/{seq}/proof", {
          params: { path: { seq }, query: { tree_size: treeSize } },
        }),
      ),
  });
}

/** Matching entries as NDJSON, oldest first. */
export async function exportEntries(api: ApiClient, search: AuditSearch): Promise<Blob> {
  return unwrap(
    api.GET("/api/v1/audit/export", { params: { query: auditApiQuery(search) }, parseAs: "blob" }),
  ) as Promise<Blob>;
}

/** The whole log as a bundle `nexora audit verify --bundle` checks offline. */
export async function downloadBundle(api: ApiClient): Promise<Blob> {
  return unwrap(api.GET("/api/v1/audit/bundle", { parseAs: "blob" })) as Promise<Blob>;
}
