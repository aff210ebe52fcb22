import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { useChange, useCursorList } from "../api/queries";

export type ApiKey = Schemas["ApiKeyOut"];
export const apiKeysKey = ["auth", "api-keys"] as const;
const PAGE_SIZE = 50;

/** API keys: the caller's own, or every key of the tenant for admins. Never the key itself. */
export function useApiKeys() {
  const api = useApi();
  return useCursorList(apiKeysKey, (cursor, signal) =>
    unwrap(api.GET("/api/v1/api-keys", { params: { query: { limit: PAGE_SIZE, cursor } }, signal })),
  );
}

/**
 * Create a key. The response holds the key once; it stays in this mutation's result (shown by the
 * dialog, dropped by `reset()` when the dialog closes) and never enters the query cache.
 */
export function useCreateApiKey() {
  const api = useApi();
  return useChange(apiKeysKey, (body: Schemas["ApiKeyCreate"]) => unwrap(api.POST("/api/v1/api-keys", { body })));
}

export function useRevokeApiKey() {
  const api = useApi();
  return useChange(apiKeysKey, (id: string) =>
    unwrap(api.DELETE("/api/v1/api-keys/{api_key_id}", { params: { path: { api_key_id: id } } })),
  );
}
