import type { QueryClient } from "@tanstack/react-query";

import type { ApiClient } from "../api/client";
import { parseInventoryQuery } from "./inventory/inventoryQuery";
import { nhiPageQuery } from "./useNhis";

/**
 * Start the inventory's first request while the app is still booting (a reload or a shared link), so the
 * data arrives with the code instead of after the first render.
 */
export function prefetchInventory(
  queryClient: QueryClient,
  api: ApiClient,
  location: Pick<Location, "pathname" | "search">,
) {
  if (location.pathname !== "/inventory") return;
  void queryClient.prefetchQuery(nhiPageQuery(api, parseInventoryQuery(new URLSearchParams(location.search))));
}
