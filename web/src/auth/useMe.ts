import { useQuery } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap } from "../api/client";

export const meKey = ["auth", "me"] as const;

/** Who is signed in (e-mail, tenant, roles). */
export function useMe() {
  const api = useApi();
  return useQuery({
    queryKey: meKey,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/auth/me", { signal })),
    staleTime: 5 * 60_000,
  });
}
