import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { discoveryKey } from "./useNhis";

export type Connector = Schemas["ConnectorOut"];
export type ConnectorCreate = Schemas["ConnectorCreate"];
export type Run = Schemas["RunOut"];

const connectorsKey = [...discoveryKey, "connectors"] as const;
const runsKey = [...discoveryKey, "runs"] as const;
const RUN_PAGE_SIZE = 25;
const POLL_MS = 1500;

/** The tenant's connectors (never their credentials). */
export function useConnectors() {
  const api = useApi();
  return useQuery({
    queryKey: connectorsKey,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/connectors", { signal })),
  });
}

/** Recent runs, newest first, refreshed while one is still running. */
export function useRuns(connectorId: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: [...runsKey, connectorId],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/runs", {
          params: { query: { connector_id: connectorId ?? undefined, limit: RUN_PAGE_SIZE } },
          signal,
        }),
      ),
    refetchInterval: (query) => (query.state.data?.items.some((run) => run.status === "running") ? POLL_MS : false),
  });
}

function useDiscoveryChange<Variables, Result>(change: (variables: Variables) => Promise<Result>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: discoveryKey }),
  });
}

export function useCreateConnector() {
  const api = useApi();
  return useDiscoveryChange((body: ConnectorCreate) => unwrap(api.POST("/api/v1/connectors", { body })));
}

export function useUpdateConnector() {
  const api = useApi();
  return useDiscoveryChange(({ id, ...body }: Schemas["ConnectorUpdate"] & { id: string }) =>
    unwrap(api.PATCH("/api/v1/connectors/{connector_id}", { params: { path: { connector_id: id } }, body })),
  );
}

export function useDeleteConnector() {
  const api = useApi();
  return useDiscoveryChange((id: string) =>
    unwrap(api.DELETE("/api/v1/connectors/{connector_id}", { params: { path: { connector_id: id } } })),
  );
}

/** Try a connector's stored settings; the answer says whether it connected and why not. */
export function useTestConnector() {
  const api = useApi();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/connectors/{connector_id}/test", { params: { path: { connector_id: id } } })),
  });
}

/** Start a run now; the run list then polls until it finishes. */
export function useRunConnector() {
  const api = useApi();
  return useDiscoveryChange((id: string) =>
    unwrap(api.POST("/api/v1/connectors/{connector_id}/runs", { params: { path: { connector_id: id } } })),
  );
}
