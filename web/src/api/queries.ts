/**
 * Query building blocks shared by every resource's hook file: cursor-paginated lists (`items` +
 * `next_cursor`, as every Nexora list endpoint returns) and mutations that refresh a list when they succeed.
 */
import { useInfiniteQuery, useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";

export interface CursorPage<Item> {
  items: Item[];
  next_cursor?: string | null;
}

/** Pages of a list endpoint; `fetchPage(null)` is the first page. */
export function useCursorList<Item>(
  queryKey: QueryKey,
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<CursorPage<Item>>,
) {
  return useInfiniteQuery({
    queryKey,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => fetchPage(pageParam, signal),
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

/** A mutation after which the queries under `invalidates` are fetched again. */
export function useChange<Variables, Result>(invalidates: QueryKey, change: (variables: Variables) => Promise<Result>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: invalidates }),
  });
}
