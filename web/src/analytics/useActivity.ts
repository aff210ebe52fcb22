import { useQuery } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { analyticsKey } from "./useAlerts";

export type ActivityIdentity = Schemas["IdentityOut"];

/** The behaviour profiles of the identities attributed to an NHI (its key, or its role's sessions). */
export function useNhiProfiles(nhiId: string) {
  const api = useApi();
  return useQuery({
    queryKey: [...analyticsKey, "profiles", nhiId],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/activity/nhis/{nhi_id}/profiles", { params: { path: { nhi_id: nhiId } }, signal })),
  });
}
