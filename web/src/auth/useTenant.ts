import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";

export type Tenant = Schemas["TenantDetail"];
export type TenantUpdate = Schemas["TenantSettingsUpdate"];
export const tenantKey = ["auth", "tenant"] as const;

/** The signed-in user's tenant and its settings. */
export function useTenant() {
  const api = useApi();
  return useQuery({
    queryKey: tenantKey,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/tenant", { signal })),
  });
}

/** Rename the tenant or merge settings into it (admins). */
export function useUpdateTenant() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: TenantUpdate) => unwrap(api.PATCH("/api/v1/tenant", { body })),
    onSuccess: (tenant) => queryClient.setQueryData(tenantKey, tenant),
  });
}
